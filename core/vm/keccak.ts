/**
 * Keccak-256 as the EVM defines it, with a fast path for the two-to-one hashing that
 * Merkle trees do. Wraps the keccak-f permutation of `@noble/hashes`.
 * @module
 */
import { keccakP } from "@noble/hashes/sha3.js";

const lanes = new Uint32Array(50);
const state = new Uint8Array(lanes.buffer);
const RATE = 136;

/**
 * keccak256 of any bytes.
 *
 * @example
 * ```ts
 * const h = keccak256(new Uint8Array()); // c5d2460186f7233c...
 * ```
 */
export function keccak256(data: Uint8Array): Uint8Array {
  lanes.fill(0);
  let off = 0;
  while (data.length - off >= RATE) {
    for (let i = 0; i < RATE; i++) state[i] ^= data[off + i];
    keccakP(lanes, 24);
    off += RATE;
  }
  const rest = data.length - off;
  for (let i = 0; i < rest; i++) state[i] ^= data[off + i];
  state[rest] ^= 0x01;
  state[RATE - 1] ^= 0x80;
  keccakP(lanes, 24);
  return state.slice(0, 32);
}

/**
 * keccak256 of the 64 bytes at `src[off..off+64)`, written to `out[outOff..outOff+32)`.
 * Allocation-free; the workhorse of the memory Merkle tree.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(32);
 * hash64(new Uint8Array(64), 0, out, 0); // keccak256 of 64 zero bytes
 * ```
 */
export function hash64(src: Uint8Array, off: number, out: Uint8Array, outOff: number): void {
  lanes.fill(0);
  state.set(src.subarray(off, off + 64), 0);
  state[64] = 0x01;
  state[RATE - 1] = 0x80;
  keccakP(lanes, 24);
  out.set(state.subarray(0, 32), outOff);
}

const pair = new Uint8Array(64);

/**
 * keccak256(left || right) for two 32-byte nodes.
 *
 * @example
 * ```ts
 * const parent = hashPair(new Uint8Array(32), new Uint8Array(32));
 * ```
 */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  pair.set(left, 0);
  pair.set(right, 32);
  const out = new Uint8Array(32);
  hash64(pair, 0, out, 0);
  return out;
}

/** `ZERO_HASHES[i]` is the root of a Merkle subtree of height i whose leaves are all zero. */
export const ZERO_HASHES: readonly Uint8Array[] = (() => {
  const z: Uint8Array[] = [new Uint8Array(32)];
  for (let i = 1; i <= 64; i++) z.push(hashPair(z[i - 1], z[i - 1]));
  return z;
})();
