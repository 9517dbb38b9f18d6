import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { currentRequest } from './request-context.js';

export type { Logger };

/**
 * Structured JSON logs on stdout, one object a line. A line written while an RPC is served
 * carries its `requestId` (and `clientId`, when the caller named itself).
 */
export function createLogger(level: LogLevel, name = 'tally'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // A new object each line: pino merges the line's own fields into what mixin returns.
    mixin: () => {
      const request = currentRequest();
      if (request === undefined) return {};
      return request.clientId === undefined ? { requestId: request.requestId } : { requestId: request.requestId, clientId: request.clientId };
    },
  });
}
