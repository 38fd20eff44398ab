import { DecodeError } from "./errors.ts";

/** The DecodeError `fn` throws; fails when it throws anything else or nothing. For tests. */
export function catchDecode(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
  throw new Error("expected a DecodeError, none was thrown");
}
