/**
 * A compiled model directory (`opml compile -o DIR`): the native runner and the MIPS image of
 * the runtime, the program, its weights and `manifest.json` with every commitment.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeModel } from "../onnx/load.ts";
import { decodeProgram } from "../ir/encode.ts";
import { dtypeSize, type Program, shapeSize, type TensorValue } from "../ir/types.ts";
import { loadElf } from "../vm/elf.ts";
import { keyHex, merkleDataKey } from "../vm/oracle.ts";
import { compileGraph, type CompileOptions } from "./compile.ts";
import { assemble, type AssembledProgram, type Manifest, manifestTensors } from "./artifacts.ts";
import { buildRuntime } from "./runtime_build.ts";
import { enableNativeKeys } from "./native_keys.ts";

/** File names inside a model directory. */
export const MODEL_FILES = {
  manifest: "manifest.json",
  program: "program.opir",
  weights: "weights.bin",
  native: "model",
  mips: "model.elf",
  check: "check.elf",
} as const;

/** A model directory that cannot be used: the message names the file and the problem. */
export class ModelDirError extends OpmlError {
  override name = "ModelDirError";
}

/** A compiled model, loaded back from its directory. */
export interface ModelDir {
  dir: string;
  manifest: Manifest;
  prog: AssembledProgram;
  /** Path of the native runner. */
  native: string;
  /** Path of the MIPS image. */
  mips: string;
  /** Path of the transition checker's MIPS image (docs/MULTIPHASE.md). */
  check: string;
}

function hexOf(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Compiles an ONNX file into a model directory and returns its manifest.
 *
 * @example
 * ```ts
 * const manifest = await compileModelFile("mnist.onnx", "out/mnist");
 * ```
 */
export async function compileModelFile(
  modelPath: string,
  outDir: string,
  opts: CompileOptions = {},
): Promise<Manifest> {
  enableNativeKeys(); // every constant's data key: native for large ones when FFI is allowed
  const bytes = Deno.readFileSync(modelPath);
  const program = compileGraph(decodeModel(bytes, modelPath), opts);
  const prog = assemble(program);
  const rt = await buildRuntime();
  Deno.mkdirSync(outDir, { recursive: true });
  const image = Deno.readFileSync(rt.mips);
  const manifest: Manifest = {
    format: "opml-model/1",
    source: { file: modelPath, sha256: hexOf(sha256(bytes)) },
    modelCommitment: keyHex(prog.key),
    runtime: { id: rt.id, native: MODEL_FILES.native, mips: MODEL_FILES.mips, check: MODEL_FILES.check },
    initialStateHash: keyHex(loadElf(image).hash()),
    checkerInitialStateHash: keyHex(loadElf(Deno.readFileSync(rt.check)).hash()),
    files: { program: MODEL_FILES.program, weights: MODEL_FILES.weights },
    inputs: manifestTensors(program, program.inputs),
    outputs: manifestTensors(program, program.outputs),
    constants: manifestTensors(
      program,
      program.tensors.flatMap((t, i) => (t.kind === "constant" ? [i] : [])),
    ),
    nodes: program.nodes.length,
  };
  // Write everything, the manifest last: a directory with a manifest is complete.
  try {
    Deno.removeSync(`${outDir}/${MODEL_FILES.manifest}`);
  } catch { /* none yet */ }
  Deno.writeFileSync(`${outDir}/${MODEL_FILES.program}`, prog.bytes);
  Deno.writeFileSync(`${outDir}/${MODEL_FILES.weights}`, prog.weights);
  Deno.copyFileSync(rt.native, `${outDir}/${MODEL_FILES.native}`);
  Deno.copyFileSync(rt.mips, `${outDir}/${MODEL_FILES.mips}`);
  Deno.copyFileSync(rt.check, `${outDir}/${MODEL_FILES.check}`);
  Deno.writeTextFileSync(`${outDir}/${MODEL_FILES.manifest}`, JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

function read(path: string, what: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ModelDirError(`${path}: no such file (${what})`);
    throw new ModelDirError(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Loads a compiled model directory and checks it against its manifest (program commitment and
 * every constant's data key).
 *
 * @example
 * ```ts
 * const model = loadModelDir("out/mnist");
 * ```
 */
export function loadModelDir(dir: string): ModelDir {
  enableNativeKeys(); // checking every constant's data key: native for large ones when allowed
  const mpath = `${dir}/${MODEL_FILES.manifest}`;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(read(mpath, "not a compiled model directory?")));
  } catch (e) {
    if (e instanceof ModelDirError) throw e;
    throw new ModelDirError(`${mpath}: not valid JSON`);
  }
  if (manifest.format !== "opml-model/1") {
    throw new ModelDirError(`${mpath}: unknown format ${manifest.format}`);
  }
  const bytes = read(`${dir}/${manifest.files.program}`, "program");
  const key = merkleDataKey(bytes);
  if (keyHex(key) !== manifest.modelCommitment) {
    throw new ModelDirError(
      `${dir}/${manifest.files.program}: does not match the manifest's model commitment`,
    );
  }
  let decoded;
  try {
    decoded = decodeProgram(bytes);
  } catch (e) {
    throw new ModelDirError(`${dir}/${manifest.files.program}: ${(e as Error).message}`);
  }
  const weights = read(`${dir}/${manifest.files.weights}`, "weights");
  const program: Program = { ...decoded, tensors: [] };
  let off = 0;
  for (const t of decoded.tensors) {
    const { key: tkey, ...rest } = t;
    if (t.kind === "constant") {
      const n = tensorBytes(t.dtype, t.shape);
      if (off + n > weights.length) throw new ModelDirError(`${dir}/${manifest.files.weights}: truncated`);
      const data = weights.slice(off, off + n);
      if (keyHex(merkleDataKey(data)) !== keyHex(tkey!)) {
        throw new ModelDirError(
          `${dir}/${manifest.files.weights}: constant '${t.name}' does not match its data key`,
        );
      }
      off += (n + 63) & ~63;
      program.tensors.push({ ...rest, data });
    } else program.tensors.push(rest);
  }
  if (off !== weights.length) {
    throw new ModelDirError(`${dir}/${manifest.files.weights}: ${weights.length - off} extra bytes`);
  }
  return {
    dir,
    manifest,
    prog: { program, bytes, key, weights },
    native: `${dir}/${manifest.runtime.native}`,
    mips: `${dir}/${manifest.runtime.mips}`,
    check: `${dir}/${manifest.runtime.check}`,
  };
}

function tensorBytes(dtype: number, shape: number[]): number {
  return shapeSize(shape) * dtypeSize(dtype);
}

/** Values for the model's inputs from a fixed seed: floats in [0, 1), integers in [0, 10). */
export function sampleInputs(prog: AssembledProgram, seed = 1): TensorValue[] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
    return s / 4294967296;
  };
  return prog.program.inputs.map((i) => {
    const t = prog.program.tensors[i];
    const n = t.shape.reduce((a, b) => a * b, 1);
    switch (t.dtype) {
      case 1:
        return { dtype: 1, shape: t.shape, data: Float32Array.from({ length: n }, next) };
      case 7:
        return {
          dtype: 7,
          shape: t.shape,
          data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(next() * 10))),
        };
      case 6:
        return {
          dtype: 6,
          shape: t.shape,
          data: Int32Array.from({ length: n }, () => Math.floor(next() * 10)),
        };
      case 2:
        return {
          dtype: 2,
          shape: t.shape,
          data: Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
        };
      case 3:
        return {
          dtype: 3,
          shape: t.shape,
          data: Int8Array.from({ length: n }, () => Math.floor(next() * 256) - 128),
        };
      case 9:
        return {
          dtype: 9,
          shape: t.shape,
          data: Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0)),
        };
      default:
        throw new ModelDirError(`input '${t.name}': no sample generator for dtype ${t.dtype}; give --input`);
    }
  });
}
