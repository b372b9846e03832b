// A minimal TFTP reader for tests that need to see every packet (options, retransmissions, TIDs).
import dgram from 'node:dgram';
import { once } from 'node:events';

export interface Received { op: number; block?: number; code?: number; text?: string; data?: Buffer; from: dgram.RemoteInfo }

export class RawTftp {
  readonly socket = dgram.createSocket('udp4');
  private queue: Received[] = [];
  private waiters: Array<(r: Received) => void> = [];

  static async open(): Promise<RawTftp> {
    const c = new RawTftp();
    c.socket.bind(0, '127.0.0.1');
    await once(c.socket, 'listening');
    c.socket.on('message', (msg, from) => {
      const op = msg.readUInt16BE(0);
      const r: Received = { op, from };
      if (op === 3 || op === 4) r.block = msg.readUInt16BE(2);
      if (op === 3) r.data = msg.subarray(4);
      if (op === 5) { r.code = msg.readUInt16BE(2); r.text = msg.subarray(4, msg.length - 1).toString(); }
      if (op === 6) r.text = msg.subarray(2).toString('latin1');
      const w = c.waiters.shift();
      if (w) w(r); else c.queue.push(r);
    });
    return c;
  }

  next(ms = 5000): Promise<Received> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no TFTP packet arrived')), ms);
      this.waiters.push((r) => { clearTimeout(timer); resolve(r); });
    });
  }

  rrq(port: number, file: string, options: Record<string, string> = {}, op = 1): void {
    const parts = [file, 'octet', ...Object.entries(options).flat()].map((s) => `${s}\0`).join('');
    this.socket.send(Buffer.concat([Buffer.from([0, op]), Buffer.from(parts, 'latin1')]), port, '127.0.0.1');
  }

  ack(to: dgram.RemoteInfo, block: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(4, 0);
    b.writeUInt16BE(block, 2);
    this.socket.send(b, to.port, to.address);
  }

  /** Reads a whole file; returns its bytes and the negotiated options. */
  async fetch(port: number, file: string, options: Record<string, string> = {}): Promise<{ data: Buffer; oack?: string }> {
    // The request is sent again while nothing answers, as real clients do (a datagram may be lost).
    let first: Received | undefined;
    for (let attempt = 0; !first; attempt++) {
      this.rrq(port, file, options);
      first = await this.next(1000).catch((err) => { if (attempt >= 9) throw err; return undefined; });
    }
    this.queue.unshift(first);
    const chunks: Buffer[] = [];
    let oack: string | undefined;
    let blksize = 512;
    for (;;) {
      const r = await this.next();
      if (r.op === 5) throw new Error(`TFTP error ${r.code}: ${r.text}`);
      if (r.op === 6) {
        oack = r.text;
        const m = /blksize\0(\d+)/.exec(oack!);
        if (m) blksize = Number(m[1]);
        this.ack(r.from, 0);
        continue;
      }
      chunks.push(r.data!);
      this.ack(r.from, r.block!);
      if (r.data!.length < blksize) return { data: Buffer.concat(chunks), oack };
    }
  }

  close(): void {
    this.socket.close();
  }
}
