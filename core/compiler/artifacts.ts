/**
 * What `opml compile` writes: the encoded program, the weights file, the data keys, and the
 * manifest that names every commitment (docs/IR.md).
 * @module
 */
import { keyHex, merkleDataKey } from "../vm/oracle.ts";
import { encodeProgram } from "../ir/encode.ts";
import { dtypeName, type Program } from "../ir/types.ts";

/** A program with its bytes and commitments. */
export interface AssembledProgram {
  program: Program;
  /** The `.opir` encoding. */
  bytes: Uint8Array;
  /** Merkle-data key of `bytes`: the model's commitment. */
  key: Uint8Array;
  /** The constants' bytes, each padded to 64 bytes, in tensor order (WEIGHTS.bin). */
  weights: Uint8Array;
  /**
   * Files on disk holding exactly `bytes` and `weights` (a loaded model directory): the native
   * engine then runs them in place instead of writing copies.
   */
  files?: { program: string; weights: string };
}

/**
 * Encodes a program and lays out its weights file.
 *
 * @example
 * ```ts
 * const { bytes, key, weights } = assemble(compileGraph(model));
 * ```
 */
export function assemble(program: Program): AssembledProgram {
  const bytes = encodeProgram(program);
  let size = 0;
  for (const t of program.tensors) if (t.kind === "constant") size += (t.data!.length + 63) & ~63;
  const weights = new Uint8Array(size);
  let off = 0;
  for (const t of program.tensors) {
    if (t.kind !== "constant") continue;
    weights.set(t.data!, off);
    off += (t.data!.length + 63) & ~63;
  }
  return { program, bytes, key: merkleDataKey(bytes), weights };
}

/** One tensor in a manifest. */
export interface ManifestTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Data key (hex) for constants. */
  key?: string;
}

/** The manifest of a compiled model directory (`manifest.json`). */
export interface Manifest {
  format: "opml-model/1";
  source: { file: string; sha256: string };
  /** The program's data key: commits to the graph, every attribute and every weight's key. */
  modelCommitment: string;
  runtime: { id: string; native: string; mips: string; check: string };
  /** VM state hash of the MIPS image before its first step. */
  initialStateHash: string;
  /** VM state hash of the transition checker before its first step: where phase 2 starts. */
  checkerInitialStateHash: string;
  files: { program: string; weights: string };
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
  /** Every constant tensor with its data key. */
  constants: ManifestTensor[];
  /** Kernel calls N: phase-1 states run S_0 .. S_(N+1) (docs/MULTIPHASE.md). */
  nodes: number;
  fidelity?: unknown;
}

/** Describes tensors of a program for a manifest. */
export function manifestTensors(p: Program, ids: number[]): ManifestTensor[] {
  return ids.map((i) => {
    const t = p.tensors[i];
    const m: ManifestTensor = { name: t.name, dtype: dtypeName(t.dtype), shape: t.shape };
    if (t.kind === "constant") m.key = keyHex(merkleDataKey(t.data!));
    return m;
  });
}
