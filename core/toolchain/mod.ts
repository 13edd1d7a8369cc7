/**
 * The C toolchains: the freestanding big-endian MIPS32 build of guest programs (with the
 * project's runtime and soft-float from `core/runtime/`) and the native build of the same C,
 * with the flags of ../shared/TOOLCHAIN.md that make the two bit-identical.
 * @module
 */
import { OpmlError } from "../errors.ts";

const runtimeDir = new URL("../runtime/", import.meta.url).pathname;

/**
 * Compiler flags of every MIPS guest (big-endian MIPS32, no PIC, freestanding). `float` code
 * uses the VM's binary32 FPU (`-mhard-float -msingle-float`: COP1 single precision, FR = 0);
 * `double` code, which has no instruction in the VM, calls the runtime's soft-float
 * (softfloat.c, under the libgcc names).
 */
export const MIPS_CFLAGS: readonly string[] = [
  "-EB",
  "-march=mips32",
  "-mabi=32",
  "-mhard-float",
  "-msingle-float",
  // gas refuses the GPR movf/movt (conditional move on an FPU condition) that GCC's
  // if-conversion emits under -msingle-float ("opcode not supported on this processor")
  "-fno-if-conversion",
  "-fno-if-conversion2",
  "-mno-abicalls",
  "-fno-pic",
  "-G0",
  "-mno-llsc",
  "-ffreestanding",
  "-fno-builtin",
  "-fno-asynchronous-unwind-tables",
  "-ffunction-sections",
  "-fdata-sections",
  "-ffp-contract=off",
]; // deno-fmt-ignore

/** Linker flags of every MIPS guest: static, no libgcc, our linker script. */
export const MIPS_LDFLAGS: readonly string[] = [
  "-nostdlib", "-static", "-Wl,--gc-sections", "-Wl,--build-id=none", "-Wl,-z,max-page-size=4096",
  `-T${runtimeDir}mips.ld`,
]; // deno-fmt-ignore

/** Native flags that give the same float bits as the MIPS build (SSE, no FMA contraction). */
export const NATIVE_CFLAGS: readonly string[] = ["-O2", "-ffp-contract=off", "-fno-fast-math", "-std=gnu11"];

/** The runtime's C sources linked into every MIPS guest. */
export const RUNTIME_SOURCES: readonly string[] = [
  "start.S",
  "sys.c",
  "libc.c",
  "softfloat.c",
  "libgcc_int.c",
]
  .map((f) => runtimeDir + f);

/** The folder holding the runtime's headers (`sys.h`, `libc.h`, `softfloat.h`). */
export const RUNTIME_INCLUDE = runtimeDir;

/** A compiler failed; the message holds its diagnostics. */
export class CompileError extends OpmlError {
  override name = "CompileError";
}

async function cc(tool: string, args: string[]): Promise<void> {
  let r;
  try {
    r = await new Deno.Command(tool, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CompileError(`${tool} is not installed: run deno task setup`);
    }
    throw e;
  }
  if (r.code !== 0) {
    throw new CompileError(`${tool} failed:\n${new TextDecoder().decode(r.stderr).trim()}`);
  }
}

/** Options of {@link buildMips}. */
export interface MipsBuildOptions {
  /** Optimisation and other flags (default `-O2`). */
  flags?: string[];
  /** Link the runtime (`_start`, syscalls, libc subset, soft-float); default true. */
  runtime?: boolean;
}

/**
 * Builds a static MIPS32 ELF for the VM from C (or assembly) sources.
 *
 * @example
 * ```ts
 * await buildMips(["prog.c"], "build/prog.elf");
 * ```
 */
export async function buildMips(
  sources: string[],
  out: string,
  opts: MipsBuildOptions = {},
): Promise<string> {
  const runtime = opts.runtime ?? true;
  await cc("mips-linux-gnu-gcc", [
    ...MIPS_CFLAGS,
    ...(opts.flags ?? ["-O2"]),
    `-I${RUNTIME_INCLUDE}`,
    ...(runtime ? RUNTIME_SOURCES : []),
    ...sources,
    ...MIPS_LDFLAGS,
    "-o",
    out,
  ]);
  return out;
}

/**
 * Builds a native x86-64 executable from the same C sources (hardware float, same bits).
 *
 * @example
 * ```ts
 * await buildNative(["prog.c"], "build/prog");
 * ```
 */
export async function buildNative(sources: string[], out: string, flags: string[] = []): Promise<string> {
  await cc("gcc", [...NATIVE_CFLAGS, ...flags, ...sources, "-o", out]);
  return out;
}
