import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.ts';
import { startTftpServer, type TftpServer } from '../../../services/netboot/tftp/server.ts';
import { RawTftp } from './tftp-client.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('TFTP server', () => {
  let dir: string;
  let server: TftpServer;
  const big = randomBytes(512 * 2048); // an exact multiple of 512: the last DATA block is empty
  const small = randomBytes(70_000);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-tftp-'));
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'sub'), { recursive: true });
    writeFileSync(path.join(root, 'big.bin'), big);
    writeFileSync(path.join(root, 'sub', 'small.bin'), small);
    writeFileSync(path.join(dir, 'secret'), 'outside the root');
    symlinkSync(path.join(dir, 'secret'), path.join(root, 'escape'));
    server = await startTftpServer({
      host: '127.0.0.1', port: 0, root, timeoutSec: 1, retries: 3, logger: silentLogger,
      render: async (p) => (p === 'pxelinux.cfg/01-52-54-00-00-00-01' ? Buffer.from('default anvil\n') : undefined),
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves tftp-hpa with 512-byte blocks, including an empty last block', async () => {
    const out = path.join(dir, 'hpa.bin');
    await execa('tftp', ['-m', 'binary', '127.0.0.1', String(server.port), '-c', 'get', 'big.bin', out]);
    expect(sha(readFileSync(out))).toBe(sha(big));
  });

  it('negotiates blksize and tsize with atftp', async () => {
    const out = path.join(dir, 'atftp.bin');
    await execa('atftp', ['--get', '-r', 'sub/small.bin', '-l', out, '--option', 'blksize 1428', '--option', 'tsize 0', '127.0.0.1', String(server.port)]);
    expect(sha(readFileSync(out))).toBe(sha(small));
  });

  it('answers options with an OACK of the values it uses, and ignores unknown ones', async () => {
    const c = await RawTftp.open();
    const { data, oack } = await c.fetch(server.port, '/sub/small.bin', { blksize: '99999', tsize: '0', timeout: '2', windowsize: '8' });
    c.close();
    expect(data).toEqual(small);
    expect(oack).toBe(`blksize\x0065464\x00timeout\x002\x00tsize\x00${small.length}\x00`);
  });

  it('renders per-node files on demand', async () => {
    const c = await RawTftp.open();
    const { data } = await c.fetch(server.port, 'pxelinux.cfg/01-52-54-00-00-00-01');
    c.close();
    expect(data.toString()).toBe('default anvil\n');
  });

  it('refuses path traversal, symbolic links out of the root, writes and missing files', async () => {
    const c = await RawTftp.open();
    for (const [file, op, code, text] of [
      ['../secret', 1, 2, 'climbs out of the root'],
      ['sub\\..\\..\\secret', 1, 2, 'climbs out of the root'],
      ['escape', 1, 2, 'outside the root'],
      ['big.bin', 2, 2, 'read-only'],
      ['/etc/passwd', 1, 1, 'File not found: etc/passwd'],
      ['sub', 1, 1, 'Not a file'],
    ] as const) {
      c.rrq(server.port, file, {}, op);
      const r = await c.next();
      expect([r.op, r.code]).toEqual([5, code]);
      expect(r.text).toContain(text);
    }
    c.close();
  });

  it('retransmits an unacknowledged block, ignores duplicate ACKs, and rejects strangers with error 5', async () => {
    const c = await RawTftp.open();
    c.rrq(server.port, 'sub/small.bin', { blksize: '1024' });
    const oack = await c.next();
    expect(oack.op).toBe(6);
    expect((await c.next()).op).toBe(6); // not acknowledged: sent again after the timeout
    c.ack(oack.from, 0);
    const first = await c.next();
    expect([first.op, first.block]).toEqual([3, 1]);
    const again = await c.next();
    expect([again.op, again.block]).toEqual([3, 1]);
    c.ack(first.from, 1);
    c.ack(first.from, 1); // a duplicate: must not make block 2 go out twice
    const second = await c.next();
    expect(second.block).toBe(2);
    const stranger = await RawTftp.open();
    stranger.ack(first.from, 2);
    const refused = await stranger.next();
    expect([refused.op, refused.code]).toEqual([5, 5]);
    stranger.close();
    c.ack(first.from, 2);
    expect((await c.next()).block).toBe(3);
    c.close();
  });

  it('serves many transfers at once', async () => {
    const clients = await Promise.all(Array.from({ length: 25 }, () => RawTftp.open()));
    const results = await Promise.all(clients.map((c, i) => c.fetch(server.port, 'sub/small.bin', { blksize: String(512 + i * 64) })));
    clients.forEach((c) => c.close());
    results.forEach((r) => expect(sha(r.data)).toBe(sha(small)));
  });
});
