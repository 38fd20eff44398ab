/** Why a packet could not be decoded. */
export type DecodeErrorCode =
  | "truncated"
  | "overrun"
  | "bad-hlen"
  | "bad-cookie"
  | "bad-op"
  | "bad-duid"
  | "duid-too-long"
  | "too-deep"
  | "empty-relay-message"
  | "bad-option";

/** The only error decoding throws: a code, the byte offset where decoding stopped, and a message. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
  constructor(
    readonly code: DecodeErrorCode,
    readonly offset: number,
    detail: string,
  ) {
    super(`${code} at byte ${offset}: ${detail}`);
  }
}

/** Why a value could not be encoded. */
export type EncodeErrorCode = "too-long" | "bad-value";

/** Encoding refuses values that break the RFCs (an option over its size, a message over its maximum). */
export class EncodeError extends Error {
  override readonly name = "EncodeError";
  constructor(
    readonly code: EncodeErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}
