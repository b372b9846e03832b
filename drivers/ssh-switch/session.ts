// One SSH connection to a switch (ssh2), kept open between batches and opened again when it
// drops: runs a dialect's lines as exec commands (a shell) or typed into the CLI after its
// prompt, each with a deadline, and says which line the switch refused.
import { readFileSync } from 'node:fs';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKeyFile?: string;
  /** SHA256 fingerprint of the switch's host key (as ssh-keygen -l prints it, without "SHA256:"); unset: any key is accepted. */
  hostKeySha256?: string;
  timeoutMs: number;
}

export class LineFailed extends Error {
  constructor(readonly line: string, reason: string) {
    super(`refused "${line}": ${reason}`);
  }
}

export class SshSession {
  private client?: Client;
  private ready?: Promise<Client>;
  private shell?: { channel: ClientChannel; output: string; waiters: (() => void)[] };

  constructor(private readonly target: SshTarget) {}

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    // ssh2 is loaded by the first session: at load it reserves 16 MiB for its poly1305 code,
    // which a process with no SSH switch should not carry.
    this.ready ??= import('ssh2').then(({ Client: SshClient }) => new Promise<Client>((resolve, reject) => {
      const c = new SshClient();
      const config: ConnectConfig = {
        host: this.target.host, port: this.target.port, username: this.target.username, readyTimeout: this.target.timeoutMs,
        ...(this.target.password !== undefined ? { password: this.target.password } : {}),
        ...(this.target.privateKeyFile ? { privateKey: readFileSync(this.target.privateKeyFile) } : {}),
        ...(this.target.hostKeySha256 ? { hostHash: 'sha256', hostVerifier: (hash: string) => Buffer.from(hash, 'hex').toString('base64').replace(/=+$/, '') === this.target.hostKeySha256!.replace(/^SHA256:/, '') } : {}),
      } as ConnectConfig;
      c.once('ready', () => { this.client = c; resolve(c); });
      c.once('error', (err) => reject(new Error(`SSH to ${this.target.username}@${this.target.host}:${this.target.port} failed: ${err.message}`)));
      c.on('close', () => { if (this.client === c) this.drop(); });
      c.connect(config);
    })).finally(() => { this.ready = undefined; });
    return this.ready;
  }

  /** Forgets the connection (after a timeout, its state is unknown). */
  drop(): void {
    const c = this.client;
    this.client = undefined;
    this.shell = undefined;
    c?.end();
  }

  private deadline<T>(what: string, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout;
    return Promise.race([
      p,
      new Promise<T>((_, reject) => { timer = setTimeout(() => { this.drop(); reject(new LineFailed(what, `no answer within ${this.target.timeoutMs} ms`)); }, this.target.timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Runs one shell command; a non-zero exit is a refusal with its stderr. */
  async exec(line: string): Promise<string> {
    const c = await this.connect();
    return this.deadline(line, new Promise<string>((resolve, reject) => {
      c.exec(line, (err, stream) => {
        if (err) return reject(new LineFailed(line, err.message));
        let out = '';
        let errOut = '';
        stream.on('data', (d: Buffer) => { out += d.toString(); });
        stream.stderr.on('data', (d: Buffer) => { errOut += d.toString(); });
        stream.on('close', (code: number | null) => (code === 0 ? resolve(out) : reject(new LineFailed(line, (errOut || out).trim() || `exit status ${code}`))));
      });
    }));
  }

  private async openShell(prompt: RegExp): Promise<NonNullable<SshSession['shell']>> {
    if (this.shell) return this.shell;
    const c = await this.connect();
    const channel = await new Promise<ClientChannel>((resolve, reject) => c.shell({ term: 'vt100', cols: 500, rows: 50 }, (err, ch) => (err ? reject(err) : resolve(ch))));
    const shell = { channel, output: '', waiters: [] as (() => void)[] };
    channel.on('data', (d: Buffer) => {
      shell.output += d.toString().replace(/\r/g, '');
      for (const w of shell.waiters.splice(0)) w();
    });
    channel.on('close', () => { if (this.shell === shell) this.shell = undefined; });
    this.shell = shell;
    await this.deadline('(login prompt)', this.untilPrompt(shell, prompt));
    shell.output = '';
    return shell;
  }

  private async untilPrompt(shell: NonNullable<SshSession['shell']>, prompt: RegExp): Promise<void> {
    while (!prompt.test(shell.output)) await new Promise<void>((r) => shell.waiters.push(r));
  }

  /** Types one line into the CLI and returns what the switch printed before its next prompt; output matching `errors` is a refusal. */
  async type(line: string, prompt: RegExp, errors: readonly RegExp[]): Promise<string> {
    const shell = await this.openShell(prompt);
    shell.output = '';
    shell.channel.write(`${line}\n`);
    await this.deadline(line, this.untilPrompt(shell, prompt));
    const out = shell.output.replace(prompt, '');
    shell.output = '';
    const body = out.split('\n').slice(1).join('\n');
    if (errors.some((e) => e.test(body))) throw new LineFailed(line, body.trim().split('\n')[0]);
    return body;
  }

  close(): void {
    this.drop();
  }
}
