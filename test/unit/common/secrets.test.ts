import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/logger.ts';
import { hasSecret, MASK, maskSecrets, maskUrlPasswords } from '../../../common/secrets.ts';

function capture(): { lines: () => any[]; destination: Writable } {
  const chunks: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return { destination, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('secret masking', () => {
  it('masks the password of a URL, wherever the string holds one', () => {
    expect(maskUrlPasswords('http://admin:hunter2@10.0.0.1/redfish/v1')).toBe(`http://admin:${MASK}@10.0.0.1/redfish/v1`);
    expect(maskUrlPasswords('see https://u:p%40ss:w@host:8443/x and ftp://a:b@c')).toBe(`see https://u:${MASK}@host:8443/x and ftp://a:${MASK}@c`);
    for (const clean of ['http://host/a@b', 'http://user@host/', 'mailto:a@b', 'http://host:8080/', 'no url']) expect(maskUrlPasswords(clean)).toBe(clean);
    // On JSON text a match stays inside one string.
    const json = JSON.stringify({ a: 'x://u:', b: 'p@h', c: 'http://u:p@h' });
    expect(maskUrlPasswords(json)).toBe(JSON.stringify({ a: 'x://u:', b: 'p@h', c: `http://u:${MASK}@h` }));
  });

  it('masks secret keys and URL passwords in nested values, and reports whether there was any', () => {
    const info = { redfish_address: 'https://root:calvin@bmc', redfish_username: 'root', redfish_password: 'calvin', deep: [{ token: 't' }], empty_password: '' };
    expect(maskSecrets(info)).toEqual({ redfish_address: `https://root:${MASK}@bmc`, redfish_username: 'root', redfish_password: MASK, deep: [{ token: MASK }], empty_password: '' });
    expect(info.redfish_password).toBe('calvin');
    expect(hasSecret(info)).toBe(true);
    expect(hasSecret({ deep: [{ url: 'http://a:b@c' }] })).toBe(true);
    expect(hasSecret({ redfish_username: 'root', list: [1, 'http://c/'], empty_password: '' })).toBe(false);
  });

  it('copies a stored __proto__ key as a key, never as the prototype of the copy', () => {
    const stored = JSON.parse('{"__proto__": {"password": "x", "polluted": 1}, "a": 1}');
    const out = maskSecrets(stored) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe(`{"__proto__":{"password":"${MASK}","polluted":1},"a":1}`);
  });

  it('copies cycles as [Circular], shared values in full', () => {
    const shared = { password: 'x', n: 1 };
    const loop: Record<string, unknown> = { a: shared, b: shared };
    loop.self = loop;
    const err = Object.assign(new Error('boom'), { request: { socket: {} as Record<string, unknown> } });
    (err.request.socket as Record<string, unknown>).owner = err;
    expect(maskSecrets(loop)).toEqual({ a: { password: MASK, n: 1 }, b: { password: MASK, n: 1 }, self: '[Circular]' });
    expect((maskSecrets(err) as any).request.socket.owner).toBe('[Circular]');
  });

  it('logs an Error with its message and stack, masked', () => {
    const { destination, lines } = capture();
    const log = createLogger({ destination, level: 'info' });
    const err = Object.assign(new Error('connect to http://admin:hunter2@bmc failed'), { code: 'ECONNREFUSED', password: 'hunter2' });
    log.error({ err, driver_info: { ipmi_password: 'hunter2' } }, 'calling http://u:secret@host');
    const [line] = lines();
    expect(line.err.type).toBe('Error');
    expect(line.err.message).toBe(`connect to http://admin:${MASK}@bmc failed`);
    expect(line.err.stack).toContain('secrets.test.ts');
    expect(line.err.code).toBe('ECONNREFUSED');
    expect(line.err.password).toBe(MASK);
    expect(line.driver_info.ipmi_password).toBe(MASK);
    expect(line.msg).toBe(`calling http://u:${MASK}@host`);
    expect(JSON.stringify(line)).not.toContain('hunter2');
    expect(JSON.stringify(line)).not.toContain('secret@');
  });
});
