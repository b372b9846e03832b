// An Apache htpasswd file of bcrypt entries (`htpasswd -B`), as Ironic's http_basic_auth_user_file:
// re-read when it changes, checked in constant time, and each verified credential remembered as an
// HMAC under a per-process key, so bcrypt's cost is paid once per credential and the password is
// never kept.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { InvalidInput } from '../../../common/errors.ts';
import type { Logger } from '../../../common/logger.ts';

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

interface Remembered { hash: string; digest: Buffer }

/** Parses the file: `user:$2y$...` lines; blank lines and # comments skipped; other hashes refused. */
export function parseHtpasswd(text: string, file: string, logger?: Logger): Map<string, string> {
  const users = new Map<string, string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const user = colon > 0 ? line.slice(0, colon) : '';
    const hash = colon > 0 ? line.slice(colon + 1) : '';
    if (!user || !BCRYPT.test(hash)) {
      logger?.warn(`${file} line ${i + 1}: not a "user:bcrypt-hash" entry (htpasswd -B); ignored`);
      continue;
    }
    users.set(user, hash);
  }
  return users;
}

export class HtpasswdFile {
  private users = new Map<string, string>();
  private version = '';
  private checkedAt = 0;
  private reading: Promise<void> | undefined;
  /** bcrypt runs under way, by credential digest. */
  private readonly checking = new Map<string, Promise<boolean>>();
  private readonly key = randomBytes(32);
  private readonly remembered = new Map<string, Remembered>();
  /** A hash of the file's cost, to spend the same time on unknown users as on known ones. */
  private decoy: string | undefined;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly opts: { checkIntervalMs?: number; maxRemembered?: number } = {},
  ) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
      this.version = versionOf(statSync(file));
    } catch (err) {
      throw new InvalidInput(`Cannot read the HTTP basic user file ${file}: ${(err as Error).message}`);
    }
    this.users = parseHtpasswd(text, file, logger);
    if (this.users.size === 0) logger.warn(`HTTP basic user file ${file} has no bcrypt entries: every request will be refused`);
    this.checkedAt = Date.now();
  }

  get size(): number {
    return this.users.size;
  }

  /** True when `password` is `user`'s. */
  async verify(user: string, password: string): Promise<boolean> {
    await this.refresh();
    const hash = this.users.get(user);
    if (hash === undefined) {
      await bcrypt.compare(password, this.decoyHash());
      return false;
    }
    const digest = createHmac('sha256', this.key).update(hash).update('\0').update(password).digest();
    const known = this.remembered.get(user);
    if (known && known.hash === hash && timingSafeEqual(known.digest, digest)) return true;
    // Concurrent first requests with one credential (a client opening many connections) share one bcrypt run.
    const key = digest.toString('base64');
    let check = this.checking.get(key);
    if (!check) {
      check = bcrypt.compare(password, hash).finally(() => this.checking.delete(key));
      this.checking.set(key, check);
    }
    if (!(await check)) return false;
    // Only the latest verified password of each user is kept; a bound keeps memory flat.
    if (this.remembered.size >= (this.opts.maxRemembered ?? 10_000)) this.remembered.delete(this.remembered.keys().next().value as string);
    this.remembered.set(user, { hash, digest });
    return true;
  }

  private decoyHash(): string {
    const cost = Number(/^\$2.\$(\d\d)\$/.exec(this.users.values().next().value ?? '')?.[1] ?? 10);
    if (!this.decoy || bcrypt.getRounds(this.decoy) !== cost) this.decoy = bcrypt.hashSync(randomBytes(16).toString('hex'), cost);
    return this.decoy;
  }

  /** Re-reads the file when its size, time or inode changed (looked at once a second at most). */
  private async refresh(): Promise<void> {
    if (Date.now() - this.checkedAt < (this.opts.checkIntervalMs ?? 1000)) return;
    this.reading ??= this.reload().finally(() => {
      this.checkedAt = Date.now();
      this.reading = undefined;
    });
    await this.reading;
  }

  private async reload(): Promise<void> {
    try {
      const version = versionOf(await stat(this.file));
      if (version === this.version) return;
      this.users = parseHtpasswd(await readFile(this.file, 'utf8'), this.file, this.logger);
      this.version = version;
      this.remembered.clear();
      this.logger.info(`HTTP basic user file ${this.file} re-read: ${this.users.size} user(s)`);
    } catch (err) {
      // Fail closed: a file that went away lets nobody in until it is back.
      if (this.users.size > 0) this.logger.error(`Cannot read the HTTP basic user file ${this.file}: ${(err as Error).message}; refusing every user until it is readable`);
      this.users = new Map();
      this.version = '';
      this.remembered.clear();
    }
  }
}

function versionOf(s: { mtimeMs: number; size: number; ino: number }): string {
  return `${s.mtimeMs}:${s.size}:${s.ino}`;
}
