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
  /** Data key of each constant, by tensor index (when assembled here: computed once). */
  keys?: (Uint8Array | undefined)[];
  /**
   * Files on disk holding exactly `bytes` and `weights` (a loaded model directory): the native
   * engine then runs them in place instead of writing copies.
   */
  files?: { program: string; weights: string };
}

/** Options of {@link assemble}. */
export interface AssembleOptions {
  /**
   * Write the weights to this file, one constant at a time, instead of holding them in memory:
   * `weights` then reads the file when used. Each constant's data is read once, so constants
   * read lazily from a model's external data are never all in memory.
   */
  weightsFile?: string;
}

/** Bytes of a constant in the weights file: its data padded with zeros to a multiple of 64. */
function padded(n: number): number {
  return (n + 63) & ~63;
}

/**
 * Encodes a program and lays out its weights file, computing each constant's data key once.
 *
 * @example
 * ```ts
 * const { bytes, key, weights } = assemble(compileGraph(model));
 * ```
 */
export function assemble(program: Program, opts: AssembleOptions = {}): AssembledProgram {
  const keys: (Uint8Array | undefined)[] = [];
  const held: Uint8Array[] = [];
  let size = 0;
  const file = opts.weightsFile
    ? Deno.openSync(opts.weightsFile, { write: true, create: true, truncate: true })
    : undefined;
  try {
    for (const [i, t] of program.tensors.entries()) {
      if (t.kind !== "constant") continue;
      const data = t.data!;
      keys[i] = merkleDataKey(data);
      size += padded(data.length);
      if (!file) {
        held.push(data);
        continue;
      }
      writeAll(file, data);
      if (padded(data.length) > data.length) {
        writeAll(file, new Uint8Array(padded(data.length) - data.length));
      }
    }
  } finally {
    file?.close();
  }
  const bytes = encodeProgram(program, keys);
  const base = { program, bytes, key: merkleDataKey(bytes), keys };
  if (opts.weightsFile) {
    const path = opts.weightsFile;
    return {
      ...base,
      get weights() {
        return Deno.readFileSync(path);
      },
    };
  }
  const weights = new Uint8Array(size);
  let off = 0;
  for (const data of held) {
    weights.set(data, off);
    off += padded(data.length);
  }
  return { ...base, weights };
}

function writeAll(file: Deno.FsFile, data: Uint8Array): void {
  for (let o = 0; o < data.length;) o += file.writeSync(data.subarray(o));
}

/** One tensor in a manifest. */
export interface ManifestTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Data key (hex) for constants. */
  key?: string;
}

/** An external data file of the source model, as the manifest records it. */
export interface ExternalDataDigest {
  /** Its `location` in the model: a path relative to the model file's folder. */
  name: string;
  size: number;
  sha256: string;
}

/** The manifest of a compiled model directory (`manifest.json`). */
export interface Manifest {
  format: "opml-model/1";
  /**
   * The source ONNX file (absolute path) and its sha256; for a model with external data, each
   * data file too (`name`: its location, relative to the model's folder; size in bytes; sha256).
   */
  source: { file: string; sha256: string; externalData?: ExternalDataDigest[] };
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

/** Describes tensors of a program for a manifest (constants' keys from `keys` when given). */
export function manifestTensors(
  p: Program,
  ids: number[],
  keys?: readonly (Uint8Array | undefined)[],
): ManifestTensor[] {
  return ids.map((i) => {
    const t = p.tensors[i];
    const m: ManifestTensor = { name: t.name, dtype: dtypeName(t.dtype), shape: t.shape };
    if (t.kind === "constant") m.key = keyHex(keys?.[i] ?? merkleDataKey(t.data!));
    return m;
  });
}
