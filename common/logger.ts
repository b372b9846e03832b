// pino everywhere; secret-looking keys are masked in every log object so a BMC password
// never reaches a log line.
import { pino, type Logger } from 'pino';
import { maskSecrets } from './secrets.ts';

export type { Logger };

export function createLogger(opts: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'anvil',
    level: opts.level ?? process.env.ANVIL_LOG_LEVEL ?? 'info',
    formatters: { log: (obj) => maskSecrets(obj) },
    transport: opts.pretty ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } : undefined,
  });
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
