import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; `LOG_PRETTY=1` pipes them through pino-pretty for humans. */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  if (process.env.LOG_PRETTY === '1') {
    return pino({
      name,
      level,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, ignore: 'pid,hostname', singleLine: true },
      },
    });
  }
  return pino({ name, level, base: { service: name } });
}

export type { Logger };
