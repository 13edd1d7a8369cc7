/**
 * Arguments of `PreimageOracle.loadMerkleDataPart` for Merkle-data preimages (key type 3,
 * docs/VM.md): the binary keccak256 Merkle tree of the data's 32-byte leaves and the proof of
 * the one or two leaves a 32-byte stream part covers.
 *
 * @module
 */

import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, type Hex } from "viem";

/** The Merkle tree of a data item, its padding subtrees left implicit (zero hashes). */
export interface MerkleDataTree {
  /** Data length in bytes. */
  length: number;
  /** `ceil(log2(max(1, ceil(length / 32))))`. */
  depth: number;
  /** The node of height `height` (0: leaves) at `index`; zero hashes for padding. */
  node(height: number, index: number): Uint8Array;
  /** The root the key commits to. */
  root: Hex;
}

/** Arguments of `loadMerkleDataPart(root, length, partOffset, proof)`. */
export interface MerkleDataPartArgs {
  root: Hex;
  length: bigint;
  partOffset: bigint;
  proof: Hex[];
}

const zeroHashes: Uint8Array[] = [new Uint8Array(32)];
function zeroHash(height: number): Uint8Array {
  while (zeroHashes.length <= height) {
    const z = zeroHashes[zeroHashes.length - 1];
    const pair = new Uint8Array(64);
    pair.set(z, 0);
    pair.set(z, 32);
    zeroHashes.push(keccak_256(pair));
  }
  return zeroHashes[height];
}

/** Builds the tree of `data`: leaves of 32 bytes (last one zero-padded; empty data is one zero
 * leaf), leaf count padded to a power of two with zero subtrees. */
export function merkleDataTree(data: Uint8Array): MerkleDataTree {
  const leafCount = Math.max(1, Math.ceil(data.length / 32));
  let depth = 0;
  while (2 ** depth < leafCount) depth++;
  const leaves = new Uint8Array(leafCount * 32);
  leaves.set(data);
  const levels = [leaves];
  const pair = new Uint8Array(64);
  for (let h = 0; h < depth; h++) {
    const below = levels[h];
    const n = below.length / 32;
    const next = new Uint8Array(Math.ceil(n / 2) * 32);
    for (let i = 0; i < n; i += 2) {
      let children: Uint8Array;
      if (i + 1 < n) children = below.subarray(32 * i, 32 * i + 64); // adjacent: no copy
      else {
        children = pair;
        pair.set(below.subarray(32 * i, 32 * i + 32), 0);
        pair.set(zeroHash(h), 32);
      }
      next.set(keccak_256(children), 16 * i);
    }
    levels.push(next);
  }
  const node = (height: number, index: number): Uint8Array => {
    const level = levels[height];
    return 32 * index < level.length ? level.subarray(32 * index, 32 * index + 32) : zeroHash(height);
  };
  return { length: data.length, depth, node, root: bytesToHex(levels[depth].subarray(0, 32)) };
}

/**
 * The same tree for large, mostly zero data (e.g. a 64 MiB tensor of which a few leaves are
 * set): only the paths to non-zero leaves are hashed, on demand; all-zero subtrees are zero
 * hashes. Cost: one pass over the data plus `depth` hashes per non-zero leaf.
 */
export function sparseMerkleDataTree(data: Uint8Array): MerkleDataTree {
  const leafCount = Math.max(1, Math.ceil(data.length / 32));
  let depth = 0;
  while (2 ** depth < leafCount) depth++;
  // indices of the non-zero leaves, ascending
  const nonZero: number[] = [];
  for (let i = 0; i < data.length; i += 32) {
    const end = Math.min(i + 32, data.length);
    for (let j = i; j < end; j++) {
      if (data[j] !== 0) {
        nonZero.push(i / 32);
        break;
      }
    }
  }
  /** whether a leaf index in [lo, hi) is non-zero (binary search) */
  const any = (lo: number, hi: number): boolean => {
    let a = 0, b = nonZero.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (nonZero[m] < lo) a = m + 1;
      else b = m;
    }
    return a < nonZero.length && nonZero[a] < hi;
  };
  const memo = new Map<string, Uint8Array>();
  const pair = new Uint8Array(64);
  const node = (height: number, index: number): Uint8Array => {
    const lo = index * 2 ** height;
    if (!any(lo, lo + 2 ** height)) return zeroHash(height);
    if (height === 0) {
      const leaf = new Uint8Array(32);
      leaf.set(data.subarray(32 * index, Math.min(32 * index + 32, data.length)));
      return leaf;
    }
    const id = `${height}:${index}`;
    let h = memo.get(id);
    if (h === undefined) {
      const left = node(height - 1, 2 * index), right = node(height - 1, 2 * index + 1);
      pair.set(left, 0);
      pair.set(right, 32);
      h = keccak_256(pair);
      memo.set(id, h);
    }
    return h;
  };
  return { length: data.length, depth, node, root: bytesToHex(node(depth, 0)) };
}

/** Leaf `index`, then its `depth` siblings from the bottom up. */
function leafProof(tree: MerkleDataTree, index: number): Hex[] {
  const proof = [bytesToHex(tree.node(0, index))];
  for (let h = 0; h < tree.depth; h++) proof.push(bytesToHex(tree.node(h, Math.floor(index / 2 ** h) ^ 1)));
  return proof;
}

/**
 * The arguments that load the 32-byte part at stream offset `partOffset` (stream =
 * `uint64_be(length) || data`) of the item of `tree`: for each data leaf the part covers, in
 * increasing index order, the leaf and its siblings from the bottom up.
 *
 * @throws {RangeError} if `partOffset` is at or past the end of the stream (`length + 8`).
 */
export function merkleDataPartArgs(tree: MerkleDataTree, partOffset: number): MerkleDataPartArgs {
  const len = tree.length;
  if (!Number.isSafeInteger(partOffset) || partOffset < 0 || partOffset >= len + 8) {
    throw new RangeError(`part offset ${partOffset} is outside the stream (length ${len + 8})`);
  }
  let proof: Hex[] = [];
  if (len > 0) {
    if (partOffset < 8) proof = leafProof(tree, 0);
    else {
      const d = partOffset - 8;
      const index = Math.floor(d / 32);
      proof = leafProof(tree, index);
      if (d % 32 !== 0 && (index + 1) * 32 < len) proof = proof.concat(leafProof(tree, index + 1));
    }
  }
  return { root: tree.root, length: BigInt(len), partOffset: BigInt(partOffset), proof };
}
