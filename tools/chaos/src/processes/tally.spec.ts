import { describe, expect, it } from 'vitest';
import { lastError } from './tally.js';

describe('why a Tally process ended', () => {
  it('its last error or fatal log line, with the error', () => {
    const lines = [
      '{"level":"info","msg":"tally is running"}',
      '{"level":"fatal","msg":"tally worker failed to start","err":{"type":"Error","message":"connect ECONNREFUSED 127.0.0.1:5432"}}',
      '{"level":"info","msg":"something after"}',
    ];
    expect(lastError(lines)).toBe('tally worker failed to start: connect ECONNREFUSED 127.0.0.1:5432');
  });

  it("or an uncaught exception's line when it logged no error", () => {
    expect(lastError(['{"level":"info","msg":"worker started"}', 'node:events:497', '      throw er; // Unhandled \'error\' event', "Error: Connection terminated unexpectedly", '    at Connection.<anonymous>'])).toBe(
      'Error: Connection terminated unexpectedly',
    );
    expect(lastError(['{"level":"info","msg":"fine"}'])).toBeUndefined();
  });
});
