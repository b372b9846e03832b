// A private OpenSSH server (Debian's openssh-server) on 127.0.0.1 and a free port, with generated
// host and client keys and its own configuration: the test logs in as root with its key only,
// as a switch's automation account would. stop() ends it and removes its files.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { freeTcpPort } from './ports.ts';

export interface TestSshd {
  port: number;
  /** The private key that is let in. */
  keyFile: string;
  /** A key that is not. */
  strangerKeyFile: string;
  /** The host key's SHA256 fingerprint, as hostKeySha256 takes it. */
  hostKeySha256: string;
  stop(): Promise<void>;
}

async function keygen(file: string): Promise<void> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
}

export async function startSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nt-sshd-'));
  for (const k of ['host', 'client', 'stranger']) await keygen(path.join(dir, k));
  copyFileSync(path.join(dir, 'client.pub'), path.join(dir, 'authorized_keys'));
  const port = await freeTcpPort();
  writeFileSync(path.join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/host`, `PidFile ${dir}/sshd.pid`, `AuthorizedKeysFile ${dir}/authorized_keys`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', 'AllowUsers root', 'LogLevel ERROR',
  ].join('\n') + '\n');
  // sshd's privilege separation directory, which Debian's init script makes at boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (i > 200 || child.exitCode !== null) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const fp = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'host.pub')])).stdout.split(' ')[1];
  return {
    port,
    keyFile: path.join(dir, 'client'),
    strangerKeyFile: path.join(dir, 'stranger'),
    hostKeySha256: fp.replace(/^SHA256:/, ''),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

