// Serial over LAN of the simulated BMC: the link an activated SOL payload makes between the
// console's session and the machine's serial port. Characters from the serial port go to the
// console one packet at a time, each sent again until the console acknowledges it; characters
// from the console are written to the serial port and acknowledged at once. The link dials the
// serial port again when it closes (a QEMU machine's port goes away while it is powered off).
import type { Duplex } from 'node:stream';
import { decodeSol, encodeSol, SOL_MAX_CHARACTERS, SolOperation, SolStatus } from '../../drivers/ipmi/protocol/sol.ts';

export interface SolLinkOptions {
  /** Connects to the machine's serial port. */
  openSerial(): Promise<Duplex>;
  /** Sends one SOL payload to the console (the BMC wraps it in the session's packet). */
  send(payload: Buffer): void;
  /** How long an unacknowledged packet waits before it is sent again. */
  retransmitMs?: number;
}

/** Characters kept for a console that does not acknowledge them; older ones are dropped, as a UART's FIFO overruns. */
const MAX_PENDING = 64 * 1024;
const REDIAL_MS = 1000;

export class SolLink {
  private serial?: Duplex;
  private pending = Buffer.alloc(0);
  private inFlight?: { seq: number; data: Buffer; flags: number; timer?: NodeJS.Timeout };
  private nextSeq = 1;
  private lastInbound = 0;
  private redial?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: SolLinkOptions) {
    this.dial();
  }

  private dial(): void {
    this.redial = undefined;
    if (this.closed) return;
    const again = () => {
      if (!this.closed && !this.redial) this.redial = setTimeout(() => this.dial(), REDIAL_MS);
    };
    this.opts.openSerial().then((serial) => {
      if (this.closed) {
        serial.destroy();
        return;
      }
      this.serial = serial;
      serial.on('data', (chunk: Buffer) => this.fromSerial(chunk));
      serial.on('error', () => undefined);
      serial.once('close', () => {
        if (this.serial === serial) this.serial = undefined;
        again();
      });
    }, again);
  }

  private fromSerial(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (this.pending.length > MAX_PENDING) this.pending = this.pending.subarray(this.pending.length - MAX_PENDING);
    this.flush();
  }

  /** Sends the next packet of pending characters when none waits for its acknowledgement. */
  private flush(): void {
    if (this.closed || this.inFlight || this.pending.length === 0) return;
    const data = this.pending.subarray(0, SOL_MAX_CHARACTERS - 4);
    this.pending = this.pending.subarray(data.length);
    this.transmit({ seq: this.takeSeq(), data, flags: 0 });
  }

  private takeSeq(): number {
    const seq = this.nextSeq;
    this.nextSeq = (seq % 15) + 1;
    return seq;
  }

  private transmit(packet: NonNullable<SolLink['inFlight']>): void {
    this.inFlight = packet;
    this.opts.send(encodeSol({ seq: packet.seq, ack: 0, accepted: 0, flags: packet.flags, data: packet.data }));
    packet.timer = setTimeout(() => this.transmit(packet), this.opts.retransmitMs ?? 500);
  }

  /** A SOL payload from the console: its acknowledgement of ours, its characters. Answers the ACK to send back, if any. */
  receive(payload: Buffer): Buffer | null {
    const p = decodeSol(payload);
    if (!p || this.closed) return null;
    const sent = this.inFlight;
    if (sent && p.ack === sent.seq && !(p.flags & SolOperation.nack)) {
      clearTimeout(sent.timer);
      this.inFlight = undefined;
      // A partial acceptance: what the console did not take goes first in the next packet.
      this.pending = Buffer.concat([sent.data.subarray(Math.min(p.accepted, sent.data.length)), this.pending]);
      this.flush();
    }
    if (p.seq === 0) return null;
    // The same packet again (our ACK was lost): acknowledged again, written once.
    if (p.seq !== this.lastInbound) {
      this.lastInbound = p.seq;
      if (p.data.length && this.serial) this.serial.write(p.data);
      if (p.flags & SolOperation.flushOutbound) this.pending = Buffer.alloc(0);
    }
    // Characters typed while no serial port is connected are not accepted (the console may send them again).
    const accepted = this.serial ? p.data.length : 0;
    return encodeSol({ seq: 0, ack: p.seq, accepted, flags: this.serial ? 0 : SolStatus.characterTransferUnavailable, data: Buffer.alloc(0) });
  }

  /** Ends the link; `tellConsole` sends the console a last packet saying SOL is deactivating (its ipmitool then exits). */
  close(tellConsole: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.inFlight?.timer);
    clearTimeout(this.redial);
    this.inFlight = undefined;
    if (tellConsole) this.opts.send(encodeSol({ seq: this.takeSeq(), ack: 0, accepted: 0, flags: SolStatus.deactivating, data: Buffer.alloc(0) }));
    this.serial?.destroy();
    this.serial = undefined;
  }
}
