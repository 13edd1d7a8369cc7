/**
 * The model-independent runtime (kernels + interpreter), built once natively and to MIPS and
 * cached by a hash of its sources and flags (docs/IR.md).
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { buildMips, buildNative, MIPS_CFLAGS, NATIVE_CFLAGS, RUNTIME_SOURCES } from "../toolchain/mod.ts";

const coreDir = new URL("../", import.meta.url).pathname;
const repoDir = new URL("../../", import.meta.url).pathname;

/** Native optimisation flags of the runtime (on top of the toolchain's bit-exactness flags). */
// -O3 gives the same bits: -ffp-contract=off stays, and GCC vectorises no float reduction
// without fast-math (the kernels pick AVX2 paths at run time, same bits: core/kernels/simd.h).
// -pthread: the kernels' worker threads (core/runtime/parallel.c).
export const RUNTIME_NATIVE_FLAGS: readonly string[] = ["-O3", "-pthread"];
/** MIPS optimisation flags of the runtime. */
export const RUNTIME_MIPS_FLAGS: readonly string[] = ["-O2"];
/**
 * Added to the MIPS flags for the soft-float build that benchmarks compare with: every float
 * operation in the runtime's soft-float C, as before the VM had an FPU (same outputs).
 */
export const SOFT_FLOAT_FLAGS: readonly string[] = ["-msoft-float"];

/** Options of {@link buildRuntime}. */
export interface RuntimeBuildOptions {
  /** Build the MIPS images with soft-float instead of the VM's FPU (benchmarks). */
  softFloat?: boolean;
}

/** Paths of the runtime builds. */
export interface RuntimeBuild {
  /**
   * Native runner (`opml-runtime PROGRAM WEIGHTS OUT [INPUT...]`), which also writes the phase-1
   * states (`--states FILE`) and the transition checker's data (`--checker-data A B DIR`).
   */
  native: string;
  /** Static big-endian MIPS32 ELF for the VM: runs a whole program (docs/IR.md). */
  mips: string;
  /** Static big-endian MIPS32 ELF of the transition checker (docs/MULTIPHASE.md). */
  check: string;
  /** The hash naming this build (of sources and flags). */
  id: string;
}

/** The C sources of the runtime: every kernel file, the interpreter and the phase-1 states. */
export function runtimeSources(): { native: string[]; mips: string[]; check: string[]; all: string[] } {
  const kernels = [...Deno.readDirSync(`${coreDir}kernels`)]
    .filter((e) => e.isFile && e.name.endsWith(".c"))
    .map((e) => `${coreDir}kernels/${e.name}`)
    .sort();
  const rt = (f: string) => `${coreDir}runtime/${f}`;
  const common = [rt("interp.c"), rt("phase1.c"), rt("parallel.c"), ...kernels];
  // keccak.c: linked by buildMips itself if the toolchain lists it among the guest runtime files
  const keccak = rt("keccak.c");
  const mipsKeccak = RUNTIME_SOURCES.includes(keccak) ? [] : [keccak];
  return {
    native: [...common, keccak, rt("main_native.c")],
    mips: [...common, ...mipsKeccak, rt("oracle_client.c"), rt("main_vm.c")],
    check: [...common, ...mipsKeccak, rt("oracle_client.c"), rt("main_check.c")],
    all: [
      ...common,
      keccak,
      rt("oracle_client.c"),
      rt("main_native.c"),
      rt("main_vm.c"),
      rt("main_check.c"),
      ...["start.S", "sys.c", "libc.c", "softfloat.c", "libgcc_int.c", "mips.ld"].map((f) =>
        `${coreDir}runtime/${f}`
      ),
    ],
  };
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

function buildId(mipsFlags: readonly string[]): string {
  const h = sha256.create();
  const files = new Set(runtimeSources().all);
  for (const dir of ["kernels", "runtime"]) {
    for (const e of Deno.readDirSync(`${coreDir}${dir}`)) {
      if (e.isFile && /\.(c|h|S|ld)$/.test(e.name)) files.add(`${coreDir}${dir}/${e.name}`);
    }
  }
  for (const f of [...files].sort()) {
    h.update(new TextEncoder().encode(f.slice(coreDir.length) + "\0"));
    h.update(Deno.readFileSync(f));
  }
  h.update(
    new TextEncoder().encode(
      [...MIPS_CFLAGS, ...mipsFlags, ...NATIVE_CFLAGS, ...RUNTIME_NATIVE_FLAGS].join(" "),
    ),
  );
  return [...h.digest().slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Builds the runtime (or returns the cached build under build/runtime/<id>/).
 *
 * @example
 * ```ts
 * const rt = await buildRuntime();
 * // rt.native, rt.mips
 * ```
 */
export async function buildRuntime(opts: RuntimeBuildOptions = {}): Promise<RuntimeBuild> {
  const mipsFlags = [...RUNTIME_MIPS_FLAGS, ...(opts.softFloat ? SOFT_FLOAT_FLAGS : [])];
  const id = buildId(mipsFlags);
  const dir = `${repoDir}build/runtime/${id}`;
  const native = `${dir}/opml-runtime`, mips = `${dir}/opml-runtime.elf`, check = `${dir}/opml-check.elf`;
  if (exists(native) && exists(mips) && exists(check)) return { native, mips, check, id };
  Deno.mkdirSync(dir, { recursive: true });
  const src = runtimeSources();
  const tag = `${Deno.pid}-${Math.random().toString(36).slice(2)}`;
  const inc = [`-I${coreDir}runtime`, `-I${coreDir}kernels`];
  // Built under temporary names and renamed, so parallel builds never see half a file.
  await Promise.all([
    buildNative(src.native, `${native}.${tag}`, [...RUNTIME_NATIVE_FLAGS, ...inc]),
    buildMips(src.mips, `${mips}.${tag}`, { flags: [...mipsFlags, ...inc] }),
    buildMips(src.check, `${check}.${tag}`, { flags: [...mipsFlags, ...inc] }),
  ]);
  for (const f of [native, mips, check]) Deno.renameSync(`${f}.${tag}`, f);
  return { native, mips, check, id };
}
