/**
 * What the on-chain PreimageOracle must hold before `MIPS.step` executes a preimage read: the
 * one 32-byte part the step reads, as the arguments of the oracle's load function for the key's
 * type (docs/VM.md, "Preimage keys"), and a helper that sends it.
 *
 * @module
 */

import {
  type Account,
  type Address,
  bytesToHex,
  type Chain,
  type Hex,
  publicActions,
  type Transport,
  type WalletClient,
} from "viem";
import { merkleDataPartArgs, type MerkleDataTree, merkleDataTree } from "./merkle_data.ts";
import { preimageOracleAbi } from "./abi/preimage_oracle.ts";

/** The preimage a step reads, as `core/vm` witnesses describe it (`WitnessPreimage`). */
export interface StepPreimage {
  kind: "local" | "keccak" | "merkle";
  /** The key as the VM state holds it (a local key not yet localized). */
  key: Uint8Array;
  /** The stream offset the step reads. */
  offset: number;
  /** The whole preimage, without the length prefix. */
  data: Uint8Array;
}

/** `loadLocalData(ident, localContext, word, size, partOffset)` (the context is the caller's). */
export interface LocalPartLoad {
  kind: "local";
  /** The raw local key (its type byte is ignored by the oracle). */
  ident: bigint;
  /** The data, left-aligned and zero-padded to 32 bytes. */
  word: Hex;
  size: number;
  partOffset: number;
}

/** `loadKeccak256PreimagePart(partOffset, data)`. */
export interface KeccakPartLoad {
  kind: "keccak";
  partOffset: number;
  data: Uint8Array;
}

/** `loadMerkleDataPart(root, length, partOffset, proof)`. */
export interface MerklePartLoad {
  kind: "merkle";
  root: Hex;
  length: bigint;
  partOffset: number;
  proof: Hex[];
}

/** The call that loads the part a step reads. */
export type PartLoad = LocalPartLoad | KeccakPartLoad | MerklePartLoad;

/**
 * The stream offset of the part to load for a read at `offset` of data of `length` bytes: the
 * offset itself, or 0 when it is at or past the end of the stream (the step then only needs the
 * key's length to be known, which loading any part achieves).
 */
export function partOffsetFor(offset: number, length: number): number {
  return offset < length + 8 ? offset : 0;
}

/**
 * The load call for the part that a step reading `p` needs.
 *
 * @param tree For Merkle data, the item's tree if already built (large items: build it with
 *   `sparseMerkleDataTree`); otherwise it is built from `p.data`.
 * @throws {RangeError} for local data over 32 bytes (the oracle cannot hold it).
 */
export function partLoadFor(p: StepPreimage, tree?: MerkleDataTree): PartLoad {
  const partOffset = partOffsetFor(p.offset, p.data.length);
  switch (p.kind) {
    case "local": {
      if (p.data.length > 32) throw new RangeError(`local data is ${p.data.length} bytes, at most 32`);
      const word = new Uint8Array(32);
      word.set(p.data);
      return {
        kind: "local",
        ident: BigInt(bytesToHex(p.key)),
        word: bytesToHex(word),
        size: p.data.length,
        partOffset,
      };
    }
    case "keccak":
      return { kind: "keccak", partOffset, data: p.data };
    case "merkle": {
      const args = merkleDataPartArgs(tree ?? merkleDataTree(p.data), partOffset);
      return { kind: "merkle", root: args.root, length: args.length, partOffset, proof: args.proof };
    }
  }
}

/**
 * Sends the load call to the oracle at `oracle` and waits for its receipt. Local data is
 * loaded for the wallet's account and `localContext`: the same account must call `step`.
 *
 * @returns The transaction hash and the gas it used.
 * @throws {Error} when the transaction reverts.
 */
export async function loadPart(
  client: WalletClient<Transport, Chain | undefined, Account>,
  oracle: Address,
  load: PartLoad,
  localContext: Hex,
): Promise<{ hash: Hex; gasUsed: bigint }> {
  const base = {
    address: oracle,
    abi: preimageOracleAbi,
    account: client.account,
    chain: client.chain ?? null,
  };
  let hash: Hex;
  switch (load.kind) {
    case "local":
      hash = await client.writeContract({
        ...base,
        functionName: "loadLocalData",
        args: [load.ident, localContext, load.word, BigInt(load.size), BigInt(load.partOffset)],
      });
      break;
    case "keccak":
      hash = await client.writeContract({
        ...base,
        functionName: "loadKeccak256PreimagePart",
        args: [BigInt(load.partOffset), bytesToHex(load.data)],
      });
      break;
    case "merkle":
      hash = await client.writeContract({
        ...base,
        functionName: "loadMerkleDataPart",
        args: [load.root, load.length, BigInt(load.partOffset), load.proof],
      });
      break;
  }
  const receipt = await client.extend(publicActions).waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`loading the ${load.kind} part reverted (tx ${hash})`);
  return { hash, gasUsed: receipt.gasUsed };
}
