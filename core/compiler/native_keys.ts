/**
 * Merkle-data keys of large data in native code: the C of core/runtime/keccak.c (64-bit
 * permutation, threads over subtrees) built as a shared library and called through Deno FFI,
 * installed as the accelerator of core/vm/oracle.ts's merkleDataRoot. TypeScript hashes about
 * 2 MB/s; this 70-150 MB/s, which is what makes a 500 MB model practical to compile and load.
 * Without FFI permission or a C compiler everything still works, in TypeScript.
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { setMerkleRootAccelerator } from "../vm/oracle.ts";

const runtimeDir = new URL("../runtime/", import.meta.url).pathname;
const repoDir = new URL("../../", import.meta.url).pathname;
const FLAGS = ["-O3", "-shared", "-fPIC", "-pthread", "-std=gnu11"];

type Lib = Deno.DynamicLibrary<{
  opml_merkle_data_root: { parameters: ["buffer", "usize", "buffer"]; result: "void" };
}>;

let lib: Lib | undefined;
let tried = false;

function granted(name: "ffi" | "run" | "write"): boolean {
  try {
    return Deno.permissions.querySync({ name }).state === "granted";
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}

/** The shared library's path, named by a hash of its sources and flags. */
function libraryPath(): string {
  const h = sha256.create();
  // keccak.c and every header it may include (keccak*.h)
  const files = [...Deno.readDirSync(runtimeDir)].map((e) => e.name).filter((f) =>
    /^keccak.*\.[ch]$/.test(f)
  );
  for (const f of files.sort()) h.update(Deno.readFileSync(runtimeDir + f));
  h.update(new TextEncoder().encode(FLAGS.join(" ")));
  const id = [...h.digest().slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${repoDir}build/runtime/keys-${id}/libopml-keys.so`;
}

/** Builds the library (synchronously: callers of merkleDataKey are synchronous). */
function build(path: string): void {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const tmp = `${path}.${Deno.pid}`;
  const r = new Deno.Command("gcc", {
    args: [...FLAGS, "-ffp-contract=off", `-I${runtimeDir}`, `${runtimeDir}keccak.c`, "-o", tmp],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stderr));
  Deno.renameSync(tmp, path); // atomic: a parallel process sees the old or the whole new file
}

/**
 * Installs native Merkle-data roots for large data, building the library on first use. Returns
 * whether they are in use; false (TypeScript stays) without `--allow-ffi`, or if the library
 * cannot be built or loaded. Idempotent and cheap after the first call.
 *
 * @example
 * ```ts
 * enableNativeKeys();
 * merkleDataKey(weights); // native for data of 64 KiB and more
 * ```
 */
export function enableNativeKeys(): boolean {
  if (!tried) {
    tried = true;
    lib = load();
  }
  if (lib) setMerkleRootAccelerator(nativeMerkleRoot);
  return lib !== undefined;
}

function load(): Lib | undefined {
  if (!granted("ffi") || Deno.env.get("OPML_NATIVE_KEYS") === "0") return undefined;
  try {
    const path = libraryPath();
    if (!exists(path)) {
      if (!granted("run") || !granted("write")) return undefined;
      build(path);
    }
    return Deno.dlopen(path, {
      opml_merkle_data_root: { parameters: ["buffer", "usize", "buffer"], result: "void" },
    });
  } catch {
    return undefined;
  }
}

/**
 * The Merkle-data root of `data` computed by the C library (requires {@link enableNativeKeys}
 * to have returned true).
 *
 * @example
 * ```ts
 * if (enableNativeKeys()) nativeMerkleRoot(new Uint8Array(1 << 20));
 * ```
 */
export function nativeMerkleRoot(data: Uint8Array): Uint8Array {
  if (!lib) throw new Error("native Merkle-data keys are not enabled (enableNativeKeys)");
  const out = new Uint8Array(32);
  // an empty view may have no backing store: hand the C code a 1-byte buffer for n = 0
  lib.symbols.opml_merkle_data_root(data.length ? data : new Uint8Array(1), BigInt(data.length), out);
  return out;
}

/** Removes the native accelerator again (tests compare both paths). */
export function disableNativeKeys(): void {
  setMerkleRootAccelerator(undefined);
}
