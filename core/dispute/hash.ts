/**
 * Commitments as the dispute code handles them: 32-byte hashes in `0x`-prefixed lowercase hex.
 * @module
 */

/** A 32-byte commitment (state hash or phase-1 state) as `0x` + 64 lowercase hex digits. */
export type Hash = `0x${string}`;

const HASH_RE = /^0x[0-9a-f]{64}$/;

/**
 * Whether `v` is a {@link Hash}: a string of `0x` and 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * isHash("0x" + "00".repeat(32)); // true
 * isHash("0xABC"); // false
 * ```
 */
export function isHash(v: unknown): v is Hash {
  return typeof v === "string" && HASH_RE.test(v);
}

/**
 * The hash form of 32 bytes.
 *
 * @example
 * ```ts
 * const h = toHash(state.hash());
 * ```
 */
export function toHash(bytes: Uint8Array): Hash {
  if (bytes.length !== 32) throw new RangeError(`a hash is 32 bytes, got ${bytes.length}`);
  let s = "0x";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s as Hash;
}

/**
 * The 32 bytes of a hash.
 *
 * @example
 * ```ts
 * const key = hashBytes(claim); // Uint8Array(32)
 * ```
 */
export function hashBytes(h: Hash): Uint8Array {
  if (!isHash(h)) throw new RangeError(`not a 32-byte hex hash: ${String(h).slice(0, 80)}`);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(h.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

/**
 * The VM status byte of a state hash (docs/VM.md): 0 valid, 1 invalid, 2 panic, 3 unfinished;
 * other values never come from a real state.
 *
 * @example
 * ```ts
 * if (statusOf(final) !== 0) throw new Error("the claimed final state is not exited-valid");
 * ```
 */
export function statusOf(h: Hash): number {
  return parseInt(h.slice(2, 4), 16);
}
