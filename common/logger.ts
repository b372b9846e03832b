// pino everywhere; secret-looking keys and URL passwords are masked in every log object and
// message so a BMC password never reaches a log line. Errors are turned into {type, message,
// stack, ...} by the masking itself, so pino's own err serializer is left out.
import { pino, type DestinationStream, type Logger } from 'pino';
import { maskSecrets, maskUrlPasswords } from './secrets.ts';

export type { Logger };

/** `destination`: where lines go instead of stdout (tests read them). */
export function createLogger(opts: { level?: string; pretty?: boolean; name?: string; destination?: DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    name: opts.name ?? 'anvil',
    level: opts.level ?? process.env.ANVIL_LOG_LEVEL ?? 'info',
    formatters: { log: (obj) => maskSecrets(obj) },
    serializers: { err: (err: unknown) => err },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskUrlPasswords(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  if (opts.destination) return pino(options, opts.destination);
  return pino({ ...options, transport: opts.pretty ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } : undefined });
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
