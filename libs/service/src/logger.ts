import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Service name, on every line as `service`. */
  name: string;
  level?: LevelWithSilent;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/**
 * Structured JSON lines (one object per line, ISO time, level as text) for log collectors.
 * Credentials are masked wherever they appear under these keys.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
      redact: {
        paths: ['password', '*.password', 'secretKey', '*.secretKey', 'accessKey', '*.accessKey', 'token', '*.token', 'authorization', '*.authorization', '*.headers.authorization'],
        censor: '[redacted]',
      },
    },
    // Synchronous writes: the last lines before an exit are never lost.
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
