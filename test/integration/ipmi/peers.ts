// BMCs written by others, for the driver's tests: OpenIPMI's ipmi_sim (config written to a temp
// dir, a shell chassis-control script keeping power and boot device in files) and a pyghmi BMC.
import { mkdtemp, readFile, rm, writeFile, chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import { execa, type ResultPromise } from 'execa';
import { encodeFullSensor, type FullSensor } from '../../../drivers/ipmi/protocol/sdr.ts';

export interface Peer {
  port: number;
  close(): Promise<void>;
}

export const PEER_USER = 'admin';
export const PEER_PASSWORD = 'password';

/** A UDP port nobody uses right now on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function stop(proc: ResultPromise, dir?: string): Promise<void> {
  proc.kill('SIGTERM');
  await proc.catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Waits until `ready()` holds, polling. */
async function until(ready: () => Promise<boolean>, what: string, proc: ResultPromise): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ready()) return;
    if (proc.exitCode !== null && proc.exitCode !== undefined) throw new Error(`${what} exited early`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start`);
}

const CHASSIS_SCRIPT = `#!/bin/sh
# ipmi_sim chassis control: MC get|set PARAM [VALUE]..., state kept in files beside this script
dir=$(dirname "$0"); shift; op=$1; shift
if [ "$op" = get ]; then
  for p in "$@"; do
    case $p in
      power) echo "power:$(cat "$dir/power" 2>/dev/null || echo 0)";;
      boot) echo "boot:$(cat "$dir/boot" 2>/dev/null || echo default)";;
    esac
  done
else
  while [ $# -gt 1 ]; do
    case $1 in power) echo "$2" > "$dir/power";; boot) echo "$2" > "$dir/boot";; esac
    shift 2
  done
fi
`;

export interface IpmiSimPeer extends Peer {
  /** What the chassis script was last told ("1"/"0" for power, "pxe"/"default"... for boot). */
  chassis(param: 'power' | 'boot'): Promise<string | null>;
}

/** The threshold sensor `temperature` adds: its SDR in the main repository (thresholds 0, 5, 10, 85, 90, 95 °C). */
const TEMPERATURE_SENSOR: FullSensor = { recordId: 1, sensorNumber: 1, entityId: 3, sensorType: 0x01, unit: 1, m: 1, b: 0, bExp: 0, rExp: 0, thresholds: [0, 5, 10, 85, 90, 95], name: 'CPU Temp' };

/** The emulator commands for that sensor reading `value` (ipmi_sim_cmd(5)): thresholds are given from upper non-recoverable down. */
function temperatureSensor(value: number): string[] {
  const sdr = [...encodeFullSensor(TEMPERATURE_SENSOR)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
  const n = TEMPERATURE_SENSOR.sensorNumber;
  return [
    `main_sdr_add 0x20 ${sdr}`,
    `sensor_add 0x20 0 ${n} 0x01 0x01`,
    `sensor_set_threshold 0x20 0 ${n} settable 111111 ${[...TEMPERATURE_SENSOR.thresholds].reverse().join(' ')}`,
    `sensor_set_value 0x20 0 ${n} ${value} 0`,
  ];
}

/**
 * `sol`: a TCP address (HOST:PORT) ipmi_sim connects to as the serial line that Serial over LAN
 * serves; `temperature`: a CPU temperature threshold sensor in its SDR repository, reading this.
 */
export async function startIpmiSim(opts: { sol?: string; temperature?: number } = {}): Promise<IpmiSimPeer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'anvil-ipmi-sim-'));
  const port = await freeUdpPort();
  const script = path.join(dir, 'chassis.sh');
  await writeFile(script, CHASSIS_SCRIPT);
  await chmod(script, 0o755);
  await mkdir(path.join(dir, 'state'));
  await writeFile(path.join(dir, 'lan.conf'), [
    'name "anvil"',
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr 127.0.0.1 ${port}`,
    '    priv_limit admin',
    '    allowed_auths_callback none md2 md5 straight',
    '    allowed_auths_user none md2 md5 straight',
    '    allowed_auths_operator none md2 md5 straight',
    '    allowed_auths_admin none md2 md5 straight',
    '    guid a123456789abcdefa123456789abcdef',
    '  endlan',
    `  chassis_control "${script} 0x20"`,
    ...(opts.sol ? [`  sol "tcp:${opts.sol}" 115200`] : []),
    `  user 2 true "${PEER_USER}" "${PEER_PASSWORD}" admin 10 none md2 md5 straight`,
    '',
  ].join('\n'));
  await writeFile(path.join(dir, 'sim.emu'), [
    'mc_setbmc 0x20',
    'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr',
    ...(opts.temperature === undefined ? [] : temperatureSensor(opts.temperature)),
    'mc_enable 0x20',
    '',
  ].join('\n'));
  const proc = execa('ipmi_sim', ['-c', path.join(dir, 'lan.conf'), '-f', path.join(dir, 'sim.emu'), '-s', path.join(dir, 'state'), '-n'], { reject: false, stdin: 'ignore' });
  // ready once it holds its UDP port
  await until(async () => {
    try {
      const probe = dgram.createSocket('udp4');
      const taken = await new Promise<boolean>((resolve) => {
        probe.once('error', () => resolve(true));
        probe.bind(port, '127.0.0.1', () => resolve(false));
      });
      probe.close();
      return taken;
    } catch {
      return false;
    }
  }, 'ipmi_sim', proc);
  return {
    port,
    close: () => stop(proc, dir),
    async chassis(param) {
      try {
        return (await readFile(path.join(dir, param), 'utf8')).trim();
      } catch {
        return null;
      }
    },
  };
}

export async function startPyghmiBmc(): Promise<Peer> {
  const port = await freeUdpPort();
  const proc = execa('/usr/bin/python3', [path.join(import.meta.dirname, 'pyghmi_bmc.py'), String(port), PEER_USER, PEER_PASSWORD], { reject: false, stdin: 'ignore', buffer: false });
  let ready = false;
  proc.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('ready')) ready = true;
  });
  await until(async () => ready, 'pyghmi BMC', proc);
  return { port, close: () => stop(proc) };
}
