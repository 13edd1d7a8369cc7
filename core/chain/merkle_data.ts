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
  /** levels[i]: the non-padding nodes of height i, 32 bytes each (levels[0]: the leaves). */
  levels: Uint8Array[];
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
  return { length: data.length, depth, levels, root: bytesToHex(levels[depth].subarray(0, 32)) };
}

function node(tree: MerkleDataTree, height: number, index: number): Uint8Array {
  const level = tree.levels[height];
  return 32 * index < level.length ? level.subarray(32 * index, 32 * index + 32) : zeroHash(height);
}

/** Leaf `index`, then its `depth` siblings from the bottom up. */
function leafProof(tree: MerkleDataTree, index: number): Hex[] {
  const proof = [bytesToHex(node(tree, 0, index))];
  for (let h = 0; h < tree.depth; h++) proof.push(bytesToHex(node(tree, h, Math.floor(index / 2 ** h) ^ 1)));
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
