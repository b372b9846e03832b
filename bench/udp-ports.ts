// Free UDP ports for the IPMI simulator, whose BMC k listens on FIRST+k.
import dgram from 'node:dgram';

/** A first UDP port with `n` free ports after it on loopback (IPMI BMC k listens on FIRST+k). */
export async function freeUdpRun(n: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const sockets: dgram.Socket[] = [];
    let ok = true;
    for (let k = 0; k < n && ok; k++) {
      const s = dgram.createSocket('udp4');
      ok = await new Promise<boolean>((resolve) => { s.once('error', () => resolve(false)); s.bind(base + k, '127.0.0.1', () => resolve(true)); });
      sockets.push(s);
    }
    sockets.forEach((s) => { try { s.close(); } catch { /* never bound */ } });
    if (ok) return base;
  }
}
