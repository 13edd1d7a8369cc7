/**
 * The one-step proof of a disputed VM step, in the exact ABI encoding of the contracts: the call
 * that loads the oracle part the step reads (`PreimageOracle.loadLocalData`,
 * `loadKeccak256PreimagePart` or `loadMerkleDataPart`, with its Merkle proof) and the call of
 * `MIPS.step(stateData, proof, localContext)`.
 * @module
 */
import { bytesToHex, encodeFunctionData, type Hex, keccak256 } from "viem";
import { preimageOracleAbi } from "../chain/abi/preimage_oracle.ts";
import { type PartLoad, partLoadFor } from "../chain/preimage_load.ts";
import { stepCalldata } from "../chain/step.ts";
import type { StepWitness } from "../vm/mod.ts";
import { type Hash, hashBytes, toHash } from "./hash.ts";

/** One oracle call a step needs first, as data and as calldata. */
export type OracleLoad =
  | {
    function: "loadLocalData";
    ident: Hex;
    localContext: Hex;
    word: Hex;
    size: number;
    partOffset: number;
    calldata: Hex;
  }
  | { function: "loadKeccak256PreimagePart"; partOffset: number; preimage: Hex; calldata: Hex }
  | {
    function: "loadMerkleDataPart";
    root: Hex;
    length: number;
    partOffset: number;
    proof: Hex[];
    calldata: Hex;
  };

/** Everything the contracts need to execute one step, with the hashes it must produce. */
export interface OneStepProof {
  /** The pre-state's step counter: this proves the transition `step -> step + 1`. */
  step: number;
  preStateHash: Hash;
  /** The post-state the step must return (the honest one). */
  postStateHash: Hash;
  /** The packed pre-state (358 bytes). */
  stateData: Hex;
  /** Instruction then data memory proof (2 x 896 bytes). */
  proof: Hex;
  localContext: Hash;
  /** The preimage the step reads, if any: its key, kind and stream offset. */
  preimage?: { kind: "local" | "keccak" | "merkle"; key: Hash; offset: number };
  /** Calls to the PreimageOracle before `step` (from the same account: local data is the caller's). */
  oracle: OracleLoad[];
  /** `MIPS.step(stateData, proof, localContext)` calldata. */
  stepCalldata: Hex;
}

/**
 * The local context of a phase-2 dispute: `keccak256(S_(K-1) || claimed S_K || u32be(K))`, which
 * binds the checker's local data (docs/MULTIPHASE.md) to this dispute.
 *
 * @example
 * ```ts
 * const ctx = disputeContext(pre, claim, 7);
 * ```
 */
export function disputeContext(pre: Hash, claim: Hash, node: number): Hash {
  const b = new Uint8Array(68);
  b.set(hashBytes(pre), 0);
  b.set(hashBytes(claim), 32);
  new DataView(b.buffer).setUint32(64, node);
  return keccak256(b) as Hash;
}

function encodeLoad(load: PartLoad, localContext: Hash): OracleLoad {
  switch (load.kind) {
    case "local":
      return {
        function: "loadLocalData",
        ident: `0x${load.ident.toString(16).padStart(64, "0")}`,
        localContext,
        word: load.word,
        size: load.size,
        partOffset: load.partOffset,
        calldata: encodeFunctionData({
          abi: preimageOracleAbi,
          functionName: "loadLocalData",
          args: [load.ident, localContext, load.word, BigInt(load.size), BigInt(load.partOffset)],
        }),
      };
    case "keccak":
      return {
        function: "loadKeccak256PreimagePart",
        partOffset: load.partOffset,
        preimage: bytesToHex(load.data),
        calldata: encodeFunctionData({
          abi: preimageOracleAbi,
          functionName: "loadKeccak256PreimagePart",
          args: [BigInt(load.partOffset), bytesToHex(load.data)],
        }),
      };
    case "merkle":
      return {
        function: "loadMerkleDataPart",
        root: load.root,
        length: Number(load.length),
        partOffset: load.partOffset,
        proof: load.proof,
        calldata: encodeFunctionData({
          abi: preimageOracleAbi,
          functionName: "loadMerkleDataPart",
          args: [load.root, load.length, BigInt(load.partOffset), load.proof],
        }),
      };
  }
}

/**
 * The one-step proof of a witness (from an honest run's `witnessAt`).
 *
 * @example
 * ```ts
 * const p = oneStepProof(run.witnessAt!(t), disputeContext(pre, claim, k));
 * // send p.oracle[i].calldata to the oracle, then eth_call p.stepCalldata on MIPS
 * ```
 */
export function oneStepProof(w: StepWitness, localContext: Hash): OneStepProof {
  const pre = w.preimage;
  return {
    step: w.step,
    preStateHash: toHash(w.preStateHash),
    postStateHash: toHash(w.postStateHash),
    stateData: bytesToHex(w.stateData),
    proof: bytesToHex(w.proof),
    localContext,
    preimage: pre && { kind: pre.kind, key: toHash(pre.key), offset: pre.offset },
    oracle: pre ? [encodeLoad(partLoadFor(pre), localContext)] : [],
    stepCalldata: stepCalldata({ stateData: w.stateData, proof: w.proof, localContext }),
  };
}
