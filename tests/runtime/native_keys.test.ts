/**
 * Native Merkle-data keys (core/compiler/native_keys.ts: core/runtime/keccak.c through FFI, the
 * 64-bit permutation and, from 1 MiB, threads over subtrees) are bit-identical to the
 * TypeScript ones (core/vm/oracle.ts) on random data of many sizes, non-multiples of 32 bytes,
 * powers of two and their neighbours included; and merkleDataKey uses them once enabled.
 */
import { assert, assertEquals } from "../_assert.ts";
import { disableNativeKeys, enableNativeKeys, nativeMerkleRoot } from "../../core/compiler/mod.ts";
import { ACCELERATE_MIN_BYTES, merkleDataKey, merkleDataRoot } from "../../core/vm/oracle.ts";

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13, x >>>= 0, x ^= x >>> 17, x ^= x << 5, x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

Deno.test("native Merkle-data roots equal the TypeScript ones (random sizes, threads from 1 MiB)", () => {
  assert(enableNativeKeys(), "native keys need --allow-ffi and gcc");
  disableNativeKeys(); // merkleDataRoot below is the TypeScript reference
  const sizes = [0, 1, 31, 32, 33, 63, 64, 65, 1000, 4096, 65535, 65536, 65537];
  const M = 1 << 20;
  // the threaded path: around its threshold, chunk boundaries (128 KiB subtrees) and odd sizes
  sizes.push(M - 1, M, M + 1, M + 31, 3 * M + 17, 5 * M - 32, 4 * M + (1 << 17) + 5);
  let seed = 11;
  for (let i = 0; i < 12; i++) {
    sizes.push(Math.floor(randomBytes(4, seed++).reduce((a, b) => a * 256 + b) % (6 * M)));
  }
  try {
    for (const n of sizes) {
      const data = randomBytes(n, seed++);
      assertEquals(hex(nativeMerkleRoot(data)), hex(merkleDataRoot(data)), `${n} bytes`);
    }
    // a view into a larger buffer (offset, not 8-byte aligned)
    const big = randomBytes(2 * M + 100, 99);
    const view = big.subarray(3, 3 + 2 * M + 7);
    assertEquals(hex(nativeMerkleRoot(view)), hex(merkleDataRoot(view)), "unaligned view");
    // zeros: every subtree is a zero subtree
    const zeros = new Uint8Array(3 * M);
    assertEquals(hex(nativeMerkleRoot(zeros)), hex(merkleDataRoot(zeros)), "zeros");
  } finally {
    enableNativeKeys();
  }
});

Deno.test("merkleDataKey goes native from ACCELERATE_MIN_BYTES on, with the same keys", () => {
  assert(enableNativeKeys());
  const data = randomBytes(ACCELERATE_MIN_BYTES + 5, 5);
  const fast = merkleDataKey(data), small = merkleDataKey(data.subarray(0, ACCELERATE_MIN_BYTES - 1));
  disableNativeKeys();
  try {
    assertEquals(hex(merkleDataKey(data)), hex(fast));
    assertEquals(hex(merkleDataKey(data.subarray(0, ACCELERATE_MIN_BYTES - 1))), hex(small));
  } finally {
    enableNativeKeys();
  }
});
