// The htpasswd file of http_basic: entries made by Apache's own `htpasswd -B`, re-read when the
// file changes, bcrypt paid once per verified credential, unknown users and other hashes refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../../common/logger.ts';
import { parseBasic } from '../../../../services/api/auth/httpBasic.ts';
import { HtpasswdFile, parseHtpasswd } from '../../../../services/api/auth/htpasswd.ts';

/** A line as `htpasswd -nbB` writes it (cost 5 keeps the test quick). */
function entry(user: string, password: string): string {
  return execFileSync('htpasswd', ['-nbB', '-C', '5', user, password], { encoding: 'utf8' }).trim();
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-htpasswd-'));
afterEach(() => vi.restoreAllMocks());

describe('htpasswd file', () => {
  it('verifies the passwords of `htpasswd -B` entries and nothing else', async () => {
    const file = path.join(dir, 'users');
    writeFileSync(file, `# operators\n${entry('alice', 'wonder land')}\n\n${entry('bob', 'b:o:b')}\n`);
    const users = new HtpasswdFile(file, silentLogger);
    expect(users.size).toBe(2);
    expect(await users.verify('alice', 'wonder land')).toBe(true);
    expect(await users.verify('bob', 'b:o:b')).toBe(true);
    expect(await users.verify('alice', 'wonder')).toBe(false);
    expect(await users.verify('carol', 'wonder land')).toBe(false);
    expect(await users.verify('ALICE', 'wonder land')).toBe(false);
  });

  it('refuses MD5, SHA and plain entries (Ironic supports bcrypt only)', () => {
    const md5 = execFileSync('htpasswd', ['-nbm', 'm', 'pw'], { encoding: 'utf8' }).trim();
    const sha = execFileSync('htpasswd', ['-nbs', 's', 'pw'], { encoding: 'utf8' }).trim();
    const users = parseHtpasswd(`${md5}\n${sha}\nplain:pw\n${entry('ok', 'pw')}\n`, 'f');
    expect([...users.keys()]).toEqual(['ok']);
  });

  it('pays bcrypt once per credential: later checks of the same password are an HMAC compare', async () => {
    const file = path.join(dir, 'cached');
    writeFileSync(file, `${entry('alice', 'pw1')}\n`);
    const users = new HtpasswdFile(file, silentLogger);
    const compare = vi.spyOn(bcrypt, 'compare');
    for (let i = 0; i < 5; i++) expect(await users.verify('alice', 'pw1')).toBe(true);
    expect(compare).toHaveBeenCalledTimes(1);
    // A wrong password is never taken from the cache, and never cached.
    expect(await users.verify('alice', 'pw2')).toBe(false);
    expect(await users.verify('alice', 'pw2')).toBe(false);
    expect(compare).toHaveBeenCalledTimes(3);
    expect(await users.verify('alice', 'pw1')).toBe(true);
    expect(compare).toHaveBeenCalledTimes(3);
  });

  it('runs bcrypt once for many concurrent first checks of one credential', async () => {
    const file = path.join(dir, 'concurrent');
    writeFileSync(file, `${entry('alice', 'pw1')}\n`);
    const users = new HtpasswdFile(file, silentLogger);
    const compare = vi.spyOn(bcrypt, 'compare');
    expect(await Promise.all(Array.from({ length: 32 }, () => users.verify('alice', 'pw1')))).toEqual(Array(32).fill(true));
    expect(compare).toHaveBeenCalledTimes(1);
    expect(await Promise.all([users.verify('alice', 'bad'), users.verify('alice', 'bad')])).toEqual([false, false]);
    expect(compare).toHaveBeenCalledTimes(2);
  });

  it('re-reads the file when it changes: new users get in, removed ones and old passwords do not', async () => {
    const file = path.join(dir, 'changing');
    writeFileSync(file, `${entry('alice', 'old')}\n`);
    const users = new HtpasswdFile(file, silentLogger, { checkIntervalMs: 0 });
    expect(await users.verify('alice', 'old')).toBe(true);
    // Replaced atomically, as configuration tools do.
    writeFileSync(`${file}.new`, `${entry('alice', 'new')}\n${entry('dave', 'pw')}\n`);
    renameSync(`${file}.new`, file);
    expect(await users.verify('alice', 'old')).toBe(false);
    expect(await users.verify('alice', 'new')).toBe(true);
    expect(await users.verify('dave', 'pw')).toBe(true);
    rmSync(file);
    expect(await users.verify('alice', 'new')).toBe(false);
    writeFileSync(file, `${entry('alice', 'back')}\n`);
    expect(await users.verify('alice', 'back')).toBe(true);
  });

  it('refuses to start on a file it cannot read, naming it', () => {
    expect(() => new HtpasswdFile(path.join(dir, 'absent'), silentLogger)).toThrow(/Cannot read the HTTP basic user file .*absent/);
  });

  it('parses Authorization: Basic headers, passwords with colons included', () => {
    const h = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(parseBasic(h('alice:pa:ss'))).toEqual({ user: 'alice', password: 'pa:ss' });
    expect(parseBasic(h('alice:'))).toEqual({ user: 'alice', password: '' });
    expect(parseBasic(h(':pw'))).toBeUndefined();
    expect(parseBasic(h('nocolon'))).toBeUndefined();
    expect(parseBasic('Bearer abc')).toBeUndefined();
    expect(parseBasic(undefined)).toBeUndefined();
  });
});
