// A switch CLI over SSH for the vendor dialects' tests (ssh2's server on 127.0.0.1): it lets in
// one user by password, prints a prompt, echoes each line typed and answers it, and keeps the
// transcript. Lines matching `reject` get a vendor-style error; lines matching `hang` no answer.
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';

export interface FakeCliSwitch {
  port: number;
  /** Every line typed, in order, over all connections. */
  lines: string[];
  /** How many SSH connections were made. */
  connections: number;
  reject?: RegExp;
  hang?: RegExp;
  close(): Promise<void>;
}

export async function startFakeCliSwitch(opts: { prompt: string; error: string; user?: string; password?: string }): Promise<FakeCliSwitch> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  const state: FakeCliSwitch = { port: 0, lines: [], connections: 0, close: async () => undefined };
  const server = new ssh2.Server({ hostKeys: [privateKey] }, (client) => {
    state.connections++;
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === (opts.user ?? 'anvil') && ctx.password === (opts.password ?? 'switch-pw')) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('pty', (ok) => ok?.());
        session.on('shell', (ok) => {
          const stream = ok();
          stream.write(`Welcome\r\n${opts.prompt}`);
          let pending = '';
          stream.on('data', (d: Buffer) => {
            pending += d.toString();
            let nl: number;
            while ((nl = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, nl).replace(/\r$/, '');
              pending = pending.slice(nl + 1);
              state.lines.push(line);
              stream.write(`${line}\r\n`);
              if (state.hang?.test(line)) continue;
              stream.write(state.reject?.test(line) ? `${opts.error}\r\n${opts.prompt}` : opts.prompt);
            }
          });
        });
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
