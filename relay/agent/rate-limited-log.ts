import type { Logger } from "pino";
import { DecodeError } from "../../lib/codec/errors.ts";

/** Logs at most one line per interval; the next line says how many were held back. */
export class RateLimitedLog {
  private last = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>, msg: string): void {
    const t = this.now();
    if (t - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.log.warn({ ...fields, suppressed: this.suppressed }, msg);
    this.last = t;
    this.suppressed = 0;
  }
}

/**
 * Runs a decoder. A DecodeError (bad input) becomes undefined after a rate-limited warning
 * naming its code and offset; any other error is a bug and propagates.
 */
export function decodeOrWarn<T>(
  log: RateLimitedLog,
  decode: () => T,
  fields: Record<string, unknown>,
  msg: string,
): T | undefined {
  try {
    return decode();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    log.warn({ ...fields, code: err.code, offset: err.offset }, msg);
    return undefined;
  }
}
