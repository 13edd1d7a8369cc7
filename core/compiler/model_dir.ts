/**
 * A compiled model directory (`opml compile -o DIR`): the native runner and the MIPS image of
 * the runtime, the program, its weights and `manifest.json` with every commitment.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { createHash } from "node:crypto";
import { readModelFile } from "../onnx/load.ts";
import { decodeProgram } from "../ir/encode.ts";
import { dtypeSize, type Program, shapeSize, type TensorValue } from "../ir/types.ts";
import { loadElf } from "../vm/elf.ts";
import { keyHex, merkleDataKey } from "../vm/oracle.ts";
import { compileGraph, type CompileOptions } from "./compile.ts";
import {
  assemble,
  type AssembledProgram,
  type ExternalDataDigest,
  type Manifest,
  manifestTensors,
} from "./artifacts.ts";
import { buildRuntime } from "./runtime_build.ts";
import { type Fidelity, measureFidelity } from "./fidelity.ts";
import { enableNativeKeys } from "./native_keys.ts";

/** File names inside a model directory. */
export const MODEL_FILES = {
  manifest: "manifest.json",
  program: "program.opir",
  weights: "weights.bin",
  native: "model",
  mips: "model.elf",
  check: "check.elf",
  /** The digest cache of {@link loadModelDir} (hidden; safe to delete). */
  verified: ".verified.json",
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

/** Options of {@link compileModelFile}. */
export interface CompileFileOptions extends CompileOptions {
  /**
   * Sample inputs (fixed seeds 1..n) for the fidelity report against onnxruntime, measured
   * before anything is written and recorded in the manifest; 0 or absent: no report.
   */
  samples?: number;
  /** Progress for humans: called when a step (runtime build, fidelity) takes over a second. */
  onProgress?: (message: string) => void;
}

function absolutePath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.NotADirectory) {
      throw new ModelDirError(`${path}: a parent is not a directory`);
    }
    throw new ModelDirError(`${path}: ${(e as Error).message.split(": ")[0]}`);
  }
}

/**
 * Checks that `outDir` can be a model directory for `modelPath`: not an existing file, not a
 * directory where one of the written files would be the source model itself.
 */
function checkOutDir(modelPath: string, outDir: string): void {
  const st = statOrUndefined(outDir);
  if (st && !st.isDirectory) throw new ModelDirError(`-o ${outDir}: exists and is not a directory`);
  if (!st) {
    // the nearest existing ancestor must be a directory
    const parent = outDir.includes("/") ? outDir.slice(0, outDir.lastIndexOf("/")) || "/" : ".";
    const p = parent === outDir ? undefined : statOrUndefined(parent);
    if (p && !p.isDirectory) throw new ModelDirError(`-o ${outDir}: ${parent} is not a directory`);
  }
  if (!st) return;
  const src = Deno.statSync(modelPath);
  for (const name of Object.values(MODEL_FILES)) {
    const t = statOrUndefined(`${outDir}/${name}`);
    if (t && t.dev === src.dev && t.ino === src.ino) {
      throw new ModelDirError(
        `-o ${outDir}: opml compile writes ${outDir}/${name}, which is the source model ${modelPath}: choose another output directory`,
      );
    }
    if (t && t.isDirectory) throw new ModelDirError(`-o ${outDir}: ${outDir}/${name} is a directory`);
  }
}

/** Runs `fn`, saying `message` through `onProgress` if it is still running after a second. */
async function slowStep<T>(
  message: string,
  onProgress: ((m: string) => void) | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  let said = false;
  const timer = onProgress ? setTimeout(() => (said = true, onProgress(message)), 1000) : undefined;
  try {
    return await fn();
  } finally {
    clearTimeout(timer);
    if (said) {
      onProgress!(
        `${message.replace(/ \(.*$/, "").replace(/\.\.\.$/, "")}: done in ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`,
      );
    }
  }
}

/**
 * A model directory being written: every file under a temporary name first, then renamed, the
 * manifest last (a directory with a manifest is complete); on failure the temporaries go.
 */
class ModelDirWriter {
  readonly #tag = `${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly #names: string[] = [];

  constructor(readonly outDir: string) {
    try {
      Deno.mkdirSync(outDir, { recursive: true });
    } catch (e) {
      this.#fail(outDir, e);
    }
  }

  /** The temporary path of `name` (a file written by someone else: `claim` it first). */
  tmp(name: string): string {
    return `${this.outDir}/.${name}.${this.#tag}.tmp`;
  }

  /** `name` will be renamed from its temporary path (written by the caller) at commit. */
  claim(name: string): string {
    this.#names.push(name);
    return this.tmp(name);
  }

  /** Writes `data` (bytes, or the path of a file to copy) to `name`'s temporary path. */
  put(name: string, data: Uint8Array | string): void {
    const tmp = this.claim(name);
    try {
      if (typeof data === "string") Deno.copyFileSync(data, tmp);
      else Deno.writeFileSync(tmp, data);
    } catch (e) {
      this.#fail(`${this.outDir}/${name}`, e);
    }
  }

  /** Renames every file into place, the old manifest removed first and the new one last. */
  commit(): void {
    try {
      Deno.removeSync(`${this.outDir}/${MODEL_FILES.manifest}`);
    } catch { /* none yet */ }
    const names = [
      ...this.#names.filter((n) => n !== MODEL_FILES.manifest),
      ...this.#names.filter((n) => n === MODEL_FILES.manifest),
    ];
    for (const name of names) {
      try {
        Deno.renameSync(this.tmp(name), `${this.outDir}/${name}`);
      } catch (e) {
        this.#fail(`${this.outDir}/${name}`, e);
      }
    }
  }

  /** Removes the temporary files not renamed yet. */
  abort(): void {
    for (const name of this.#names) {
      try {
        Deno.removeSync(this.tmp(name));
      } catch { /* never written, or renamed */ }
    }
  }

  #fail(path: string, e: unknown): never {
    this.abort();
    const why = e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Deno.errors.NotFound
      ? "no such directory"
      : (e as Error).message;
    throw new ModelDirError(`cannot write ${path}: ${why}`);
  }
}

/**
 * Compiles an ONNX file into a model directory and returns its manifest. Everything that can
 * fail (decoding, lowering, size limits, the runtime build) happens before the first file is
 * written; the weights are then streamed to weights.bin one constant at a time (a model with
 * external data is never all in memory), the fidelity report runs on the written files, and the
 * files, written under temporary names, are renamed, the manifest last; a failure removes them.
 * The directory must not be one where a written file would be the source model. The weights'
 * keys were just computed from the bytes written, so the directory is recorded as verified
 * (`.verified.json`: the first load does not hash them again).
 *
 * @example
 * ```ts
 * const manifest = await compileModelFile("mnist.onnx", "out/mnist");
 * ```
 */
export async function compileModelFile(
  modelPath: string,
  outDir: string,
  opts: CompileFileOptions = {},
): Promise<Manifest> {
  enableNativeKeys(); // every constant's data key: native for large ones when FFI is allowed
  outDir = outDir.length > 1 ? outDir.replace(/\/+$/, "") : outDir;
  checkOutDir(modelPath, outDir);
  const { model, bytes, external } = readModelFile(modelPath);
  const program = compileGraph(model, opts);
  const externalBytes = external.reduce((n, { path }) => n + (statOrUndefined(path)?.size ?? 0), 0);
  if (externalBytes >= ANNOUNCE_BYTES) {
    opts.onProgress?.(`hashing ${(externalBytes / 2 ** 20).toFixed(0)} MiB of external data (sha256)...`);
  }
  const externalData = external.map(({ name, path }): ExternalDataDigest => ({ name, ...fileDigest(path) }));
  const rt = await slowStep(
    "building the runtime, natively and for MIPS (once per runtime version, cached in build/runtime/)...",
    opts.onProgress,
    () => buildRuntime(),
  );
  const out = new ModelDirWriter(outDir);
  try {
    let size = 0;
    for (const t of program.tensors) if (t.kind === "constant") size += tensorBytes(t.dtype, t.shape);
    const t0 = performance.now();
    if (size >= ANNOUNCE_BYTES) {
      opts.onProgress?.(`writing ${(size / 2 ** 20).toFixed(0)} MiB of weights with their data keys...`);
    }
    const weightsTmp = out.claim(MODEL_FILES.weights);
    let prog: AssembledProgram;
    try {
      prog = assemble(program, { weightsFile: weightsTmp });
    } catch (e) {
      if (e instanceof OpmlError) throw e;
      throw new ModelDirError(`cannot write ${outDir}/${MODEL_FILES.weights}: ${(e as Error).message}`);
    }
    if (size >= ANNOUNCE_BYTES) {
      opts.onProgress?.(`wrote the weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    out.put(MODEL_FILES.program, prog.bytes);
    prog.files = { program: out.tmp(MODEL_FILES.program), weights: weightsTmp };
    let fidelity: Fidelity | undefined;
    if (opts.samples) {
      const n = opts.samples;
      fidelity = await slowStep(
        `measuring fidelity against onnxruntime on ${n} sample${n === 1 ? "" : "s"}...`,
        opts.onProgress,
        () => {
          const samples = Array.from({ length: n }, (_, i) => sampleInputs(prog, i + 1));
          return measureFidelity(modelPath, rt.native, prog, samples);
        },
      );
    }
    const image = Deno.readFileSync(rt.mips);
    const manifest: Manifest = {
      format: "opml-model/1",
      source: {
        file: absolutePath(modelPath),
        sha256: hexOf(sha256(bytes)),
        ...(externalData.length ? { externalData } : {}),
      },
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
        prog.keys,
      ),
      nodes: program.nodes.length,
      ...(fidelity ? { fidelity } : {}),
    };
    out.put(MODEL_FILES.native, rt.native);
    out.put(MODEL_FILES.mips, rt.mips);
    out.put(MODEL_FILES.check, rt.check);
    out.put(MODEL_FILES.manifest, new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"));
    out.commit();
    const sig = fileSig(`${outDir}/${MODEL_FILES.weights}`);
    if (sig) writeVerification(outDir, manifest.modelCommitment, sig);
    return manifest;
  } catch (e) {
    out.abort();
    throw e;
  }
}

function read(path: string, what: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ModelDirError(`${path}: no such file (${what})`);
    throw new ModelDirError(`${path}: ${(e as Error).message}`);
  }
}

/** `n` bytes at `at` of the weights file, which must still be `size` bytes long. */
function readRange(path: string, at: number, n: number, size: number): Uint8Array {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path);
  } catch (e) {
    throw new ModelDirError(`${path}: ${(e as Error).message}`);
  }
  try {
    const now = f.statSync().size;
    if (now !== size) throw new ModelDirError(`${path}: changed while in use (${now} bytes, was ${size})`);
    f.seekSync(at, Deno.SeekMode.Start);
    const out = new Uint8Array(n);
    for (let got = 0; got < n;) {
      const k = f.readSync(out.subarray(got));
      if (k === null) throw new ModelDirError(`${path}: changed while in use (ends before ${at + n})`);
      got += k;
    }
    return out;
  } finally {
    f.close();
  }
}

/** What identifies a file's contents without reading it (the digest cache's trust rule). */
interface FileSig {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

function fileSig(path: string): FileSig | undefined {
  const st = statOrUndefined(path);
  if (!st || !st.isFile) return undefined;
  return {
    size: st.size,
    mtimeMs: st.mtime?.getTime() ?? -1,
    ctimeMs: st.ctime?.getTime() ?? -1,
    ino: st.ino ?? -1,
    dev: st.dev,
  };
}

/** The digest cache: the weights file as it was when every constant matched its data key. */
interface VerifiedCache {
  format: "opml-verified/1";
  modelCommitment: string;
  weights: FileSig;
}

function sameSig(a: FileSig, b: FileSig): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino &&
    a.dev === b.dev && a.mtimeMs >= 0 && a.ctimeMs >= 0 && a.ino >= 0;
}

function cachedVerification(dir: string, commitment: string, sig: FileSig | undefined): boolean {
  if (!sig) return false;
  try {
    const c = JSON.parse(Deno.readTextFileSync(`${dir}/${MODEL_FILES.verified}`)) as VerifiedCache;
    return c.format === "opml-verified/1" && c.modelCommitment === commitment && sameSig(c.weights, sig);
  } catch {
    return false; // no cache, or an unreadable one: verify
  }
}

function writeVerification(dir: string, commitment: string, sig: FileSig): void {
  const c: VerifiedCache = { format: "opml-verified/1", modelCommitment: commitment, weights: sig };
  const tmp = `${dir}/${MODEL_FILES.verified}.${Deno.pid}`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(c) + "\n");
    Deno.renameSync(tmp, `${dir}/${MODEL_FILES.verified}`);
  } catch {
    // a read-only directory: the next load verifies again
    try {
      Deno.removeSync(tmp);
    } catch { /* never written */ }
  }
}

/** Weights of at least this size say on stderr that they are being verified (over a second). */
const ANNOUNCE_BYTES = 64 * 1024 * 1024;

/** Options of {@link loadModelDir}. */
export interface LoadOptions {
  /** Progress lines for steps that take over a second (verifying large weights). */
  onProgress?: (message: string) => void;
}

/**
 * Loads a compiled model directory and checks it against its manifest (program commitment and
 * every constant's data key).
 *
 * The weights are verified once: after every constant matched its data key, the weights file's
 * size, mtime, ctime, inode and device are recorded in `.verified.json` beside the manifest,
 * with the model commitment. A later load whose weights file has the same five values (and
 * whose program still matches the commitment, always checked: it is small) skips the hashing and
 * reads the weights only when they are used (the native engine runs the files in place). Trust
 * rule: a file whose inode, size, mtime and ctime are unchanged was not rewritten (a program can
 * set mtime back, but any write or utime moves ctime to the present); whoever can write the
 * directory could also edit the cache, as they could the manifest: the cache guards against
 * changed files, not against the directory's owner. Delete `.verified.json` to force a check.
 *
 * @example
 * ```ts
 * const model = loadModelDir("out/mnist");
 * ```
 */
export function loadModelDir(dir: string, opts: LoadOptions = {}): ModelDir {
  enableNativeKeys(); // checking every constant's data key: native for large ones when allowed
  const mpath = `${dir}/${MODEL_FILES.manifest}`;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(read(mpath, "not a compiled model directory?")));
  } catch (e) {
    if (e instanceof ModelDirError) throw e;
    throw new ModelDirError(`${mpath}: not valid JSON`);
  }
  checkManifest(manifest, mpath);
  const programPath = `${dir}/${manifest.files.program}`;
  const bytes = read(programPath, "program");
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
  const weightsPath = `${dir}/${manifest.files.weights}`;
  const sig = fileSig(weightsPath);
  if (!sig) {
    read(weightsPath, "weights"); // says why: missing, a directory, unreadable
    throw new ModelDirError(`${weightsPath}: not a file (weights)`);
  }
  const size = sig.size;
  const cached = cachedVerification(dir, manifest.modelCommitment, sig);
  // read the whole file only when something asks for all of it
  let weightsBytes: Uint8Array | undefined;
  const weights = (): Uint8Array => {
    if (weightsBytes) return weightsBytes;
    weightsBytes = read(weightsPath, "weights");
    if (weightsBytes.length !== size) {
      throw new ModelDirError(
        `${weightsPath}: changed while in use (${weightsBytes.length} bytes, was ${size})`,
      );
    }
    return weightsBytes;
  };
  if (!cached && size >= ANNOUNCE_BYTES) {
    opts.onProgress?.(
      `verifying ${
        (size / 2 ** 20).toFixed(0)
      } MiB of weights against their data keys (once: cached in ${dir}/${MODEL_FILES.verified})...`,
    );
  }
  const t0 = performance.now();
  const program: Program = { ...decoded, tensors: [] };
  let off = 0;
  for (const t of decoded.tensors) {
    const { key: tkey, ...rest } = t;
    if (t.kind === "constant") {
      let n: number;
      try {
        n = tensorBytes(t.dtype, t.shape);
      } catch (e) {
        throw new ModelDirError(
          `${dir}/${manifest.files.program}: constant '${t.name}': ${(e as Error).message}`,
        );
      }
      if (!(off + ((n + 63) & ~63) <= size)) {
        throw new ModelDirError(
          `${weightsPath}: truncated (${size} bytes, constant '${t.name}' needs ${n} bytes at ${off})`,
        );
      }
      const at = off;
      // verified one constant at a time (memory holds the largest, not the file), unless cached
      if (!cached && keyHex(merkleDataKey(readRange(weightsPath, at, n, size))) !== keyHex(tkey!)) {
        throw new ModelDirError(`${weightsPath}: constant '${t.name}' does not match its data key`);
      }
      const tensor = { ...rest } as Program["tensors"][number];
      let data: Uint8Array | undefined;
      Object.defineProperty(tensor, "data", {
        enumerable: true,
        // one constant alone, unless the whole file is read already: a node's check needs
        // its own constants (the 124 M model's LM head: 147 of 472 MiB)
        get: () => (data ??= weightsBytes?.subarray(at, at + n) ?? readRange(weightsPath, at, n, size)),
        set: (v: Uint8Array) => (data = v),
      });
      program.tensors.push(tensor);
      off += (n + 63) & ~63;
    } else program.tensors.push(rest);
  }
  if (off !== size) {
    throw new ModelDirError(
      `${weightsPath}: ${size - off} extra bytes (the constants take ${off})`,
    );
  }
  if (!cached) {
    // the file still is what was hashed: then later loads may trust it
    const after = fileSig(weightsPath);
    if (after && sameSig(after, sig)) writeVerification(dir, manifest.modelCommitment, sig);
    if (size >= ANNOUNCE_BYTES) {
      opts.onProgress?.(`verified the weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  const files = {
    native: `${dir}/${manifest.runtime.native}`,
    mips: `${dir}/${manifest.runtime.mips}`,
    check: `${dir}/${manifest.runtime.check}`,
  };
  for (const [what, path] of Object.entries(files)) {
    if (what === "check" && manifest.runtime.check === undefined) continue; // older directories
    const st = statOrUndefined(path);
    if (!st) {
      throw new ModelDirError(`${path}: no such file (the ${RUNNER_NAMES[what]}); compile the model again`);
    }
    if (!st.isFile) throw new ModelDirError(`${path}: not a file (the ${RUNNER_NAMES[what]})`);
  }
  const prog: AssembledProgram = {
    program,
    bytes,
    key,
    get weights() {
      return weights();
    },
    files: { program: programPath, weights: weightsPath },
  };
  return { dir, manifest, prog, ...files };
}

const RUNNER_NAMES: Record<string, string> = {
  native: "native runner",
  mips: "MIPS image",
  check: "transition checker image",
};

/** Checks the fields of a manifest that loading and running rely on. */
function checkManifest(m: unknown, path: string): asserts m is Manifest {
  const fail = (why: string): never => {
    throw new ModelDirError(`${path}: ${why} (not written by opml compile? compile the model again)`);
  };
  if (!m || typeof m !== "object" || Array.isArray(m)) fail("not a JSON object");
  const d = m as Record<string, Record<string, unknown>>;
  if ((d.format as unknown) !== "opml-model/1") fail(`unknown format ${JSON.stringify(d.format)}`);
  const str = (v: unknown) => typeof v === "string" && v !== "" && !v.includes("/");
  if (!d.files || typeof d.files !== "object" || !str(d.files.program) || !str(d.files.weights)) {
    fail("no 'files' with the program and weights file names");
  }
  if (!d.runtime || typeof d.runtime !== "object" || !str(d.runtime.native) || !str(d.runtime.mips)) {
    fail("no 'runtime' with the native runner and MIPS image file names");
  }
  if (d.runtime.check !== undefined && !str(d.runtime.check)) fail("'runtime.check' is not a file name");
  for (const f of ["modelCommitment", "initialStateHash"]) {
    if (typeof d[f] !== "string" || !/^0x[0-9a-f]{64}$/.test(d[f] as unknown as string)) {
      fail(`'${f}' is not a 32-byte hex hash`);
    }
  }
  if (
    !d.source || typeof d.source !== "object" || typeof d.source.file !== "string" ||
    typeof d.source.sha256 !== "string"
  ) {
    fail("no 'source' with the ONNX file and its sha256");
  }
  const ext = d.source.externalData;
  if (
    ext !== undefined &&
    (!Array.isArray(ext) ||
      ext.some((e) =>
        !e || typeof e !== "object" || typeof e.name !== "string" || e.name === "" ||
        e.name.startsWith("/") || e.name.split("/").includes("..") || !Number.isSafeInteger(e.size) ||
        e.size < 0 || typeof e.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256)
      ))
  ) {
    fail("'source.externalData' is not a list of files (name inside the model's folder, size, sha256)");
  }
}

/** Read size of {@link fileDigest}: the file is hashed in chunks, never whole in memory. */
const DIGEST_CHUNK = 8 * 1024 * 1024;

/**
 * A file's size and sha256 (hex), streamed in 8 MiB chunks (an external data file may be
 * larger than memory); node:crypto's native hash, about 10x @noble/hashes here.
 *
 * @example
 * ```ts
 * const { size, sha256 } = fileDigest("build/big/gpt-1b.onnx.data");
 * ```
 * @throws {ModelDirError} naming the file when it cannot be read.
 */
export function fileDigest(path: string): { size: number; sha256: string } {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new ModelDirError(`${path}: ${why}`);
  }
  try {
    const h = createHash("sha256");
    const buf = new Uint8Array(DIGEST_CHUNK);
    let size = 0;
    for (;;) {
      const n = f.readSync(buf);
      if (n === null) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
    return { size, sha256: h.digest("hex") };
  } catch (e) {
    throw new ModelDirError(`${path}: ${(e as Error).message}`);
  } finally {
    f.close();
  }
}

/**
 * The MIPS image of a model directory, checked against the manifest's `initialStateHash`
 * before any VM run (a replaced `model.elf` would compute something else).
 *
 * @example
 * ```ts
 * const image = mipsImage(loadModelDir("out/mnist"));
 * ```
 * @throws {ModelDirError} naming the file.
 */
export function mipsImage(model: ModelDir): Uint8Array {
  const image = read(model.mips, "the MIPS image");
  let hash: string;
  try {
    hash = keyHex(loadElf(image).hash());
  } catch (e) {
    throw new ModelDirError(`${model.mips}: not a MIPS image the VM loads (${(e as Error).message})`);
  }
  if (hash !== model.manifest.initialStateHash) {
    throw new ModelDirError(
      `${model.mips}: initial VM state ${hash}, not the manifest's ${model.manifest.initialStateHash} (the image was replaced)`,
    );
  }
  return image;
}

/**
 * The source ONNX file of a model directory, checked against the sha256 the manifest recorded,
 * and each of its external data files against their recorded size and sha256 (streamed), for
 * onnxruntime, which runs the source model, not the program.
 *
 * @example
 * ```ts
 * const onnx = sourceModel(loadModelDir("out/mnist"));
 * ```
 * @throws {ModelDirError} naming the file (the model or a data file) when it is missing or not
 *   the compiled one.
 */
export function sourceModel(model: ModelDir): string {
  const file = model.manifest.source.file;
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(file);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new ModelDirError(
      `source model ${file} (recorded in ${model.dir}/${MODEL_FILES.manifest}): ${why}; it was moved or deleted since opml compile`,
    );
  }
  const got = hexOf(sha256(bytes));
  if (got !== model.manifest.source.sha256) {
    throw new ModelDirError(
      `source model ${file}: sha256 ${got}, not ${model.manifest.source.sha256} as compiled (${model.dir}/${MODEL_FILES.manifest}): it was replaced since opml compile`,
    );
  }
  const folder = file.slice(0, file.lastIndexOf("/")) || "/";
  for (const x of model.manifest.source.externalData ?? []) {
    const path = `${folder}/${x.name}`;
    const where =
      `the external data of source model ${file}, recorded in ${model.dir}/${MODEL_FILES.manifest}`;
    const st = statOrUndefined(path);
    if (!st?.isFile) {
      throw new ModelDirError(`${path} (${where}): no such file; it was moved or deleted since opml compile`);
    }
    // the size first: a truncated or extended file is named without reading it
    const d = st.size === x.size ? fileDigest(path) : { size: st.size, sha256: "" };
    if (d.size !== x.size || d.sha256 !== x.sha256) {
      const what = d.size !== x.size
        ? `${d.size} bytes, not ${x.size}`
        : `sha256 ${d.sha256}, not ${x.sha256}`;
      throw new ModelDirError(`${path} (${where}): ${what} as compiled: it was changed since opml compile`);
    }
  }
  return file;
}

function tensorBytes(dtype: number, shape: number[]): number {
  const n = shapeSize(shape) * dtypeSize(dtype);
  if (!Number.isSafeInteger(n)) throw new RangeError(`shape [${shape}] is too large`);
  return n;
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
      case 11:
        return { dtype: 11, shape: t.shape, data: Float64Array.from({ length: n }, next) };
      case 10: // float16 bits of k / 1024 (exact): 2^e <= k < 2^(e+1) has biased exponent e + 5
        return {
          dtype: 10,
          shape: t.shape,
          data: Uint16Array.from({ length: n }, () => {
            const k = Math.floor(next() * 1024), e = k ? 31 - Math.clz32(k) : 0;
            return k ? ((e + 5) << 10) | ((k - (1 << e)) << (10 - e)) : 0;
          }),
        };
      case 16: // bfloat16: the top half of k / 128 in float32 (exact)
        return {
          dtype: 16,
          shape: t.shape,
          data: Uint16Array.from(
            { length: n },
            () => new Uint32Array(Float32Array.of(Math.floor(next() * 128) / 128).buffer)[0] >>> 16,
          ),
        };
      default:
        throw new ModelDirError(`input '${t.name}': no sample generator for dtype ${t.dtype}; give --input`);
    }
  });
}
