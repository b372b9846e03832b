// The load generators' shared loop (dhcp-load.ts, dhcp6-load.ts): answers matched to questions by
// transaction id, sent again as RFC 2131 4.1 / RFC 8415 15 clients do when a datagram is lost, and
// many clients' exchanges run with a fixed number in flight.

export interface Answers<T> {
  /** Sends (and sends again every `retryMs`, `tries` times) until `id`'s answer arrives. */
  ask(id: number, send: () => void): Promise<T>;
  /** Hands an arrived answer to whoever asked `id`. */
  deliver(id: number, answer: T): void;
}

export function answers<T>(retryMs: number, tries = 4): Answers<T> {
  const waiting = new Map<number, (a: T) => void>();
  return {
    ask(id, send) {
      return new Promise((resolve, reject) => {
        let sent = 0;
        const timer = setInterval(() => {
          if (++sent > tries) {
            clearInterval(timer);
            waiting.delete(id);
            reject(new Error(`no answer to transaction ${id}`));
          } else send();
        }, retryMs);
        waiting.set(id, (a) => { clearInterval(timer); waiting.delete(id); resolve(a); });
        send();
      });
    },
    deliver(id, answer) {
      waiting.get(id)?.(answer);
    },
  };
}

/** Runs `exchange(i)` for every client i, `rounds` times over, `window` at a time: how many completed, in how long. */
export async function runExchanges(clients: number, rounds: number, window: number, exchange: (client: number) => Promise<void>): Promise<{ exchanges: number; seconds: number }> {
  const jobs: number[] = [];
  for (let r = 0; r < rounds; r++) for (let i = 0; i < clients; i++) jobs.push(i);
  const started = process.hrtime.bigint();
  let done = 0;
  await Promise.all(Array.from({ length: window }, async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      await exchange(job);
      done++;
    }
  }));
  return { exchanges: done, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
