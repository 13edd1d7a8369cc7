/**
 * Test helpers: building MIPS programs from assembly with the cross toolchain, running them
 * under qemu-mips and in our VM.
 * @module
 */
import { loadElf, MapSource, PreimageOracle, runToExit, type VmState } from "../../core/vm/mod.ts";

const root = new URL("../..", import.meta.url).pathname;
/** Scratch folder for test builds (gitignored). */
export const BUILD = `${root}build/tests`;

/** Flags for freestanding big-endian MIPS32 images (../shared/TOOLCHAIN.md). */
export const MIPS_CFLAGS = [
  "-EB",
  "-march=mips32",
  "-mabi=32",
  "-msoft-float",
  "-mno-abicalls",
  "-fno-pic",
  "-G0",
  "-ffreestanding",
  "-fno-builtin",
  "-nostdlib",
  "-static",
  "-Wl,--build-id=none",
  "-Wl,-z,max-page-size=4096",
  "-Wl,--no-warn-rwx-segments",
];

/** Compiles (or assembles) `sources` to a static MIPS ELF at `out`; throws with gcc's output. */
export async function mipsGcc(sources: string[], out: string, extra: string[] = []): Promise<string> {
  Deno.mkdirSync(out.slice(0, out.lastIndexOf("/")), { recursive: true });
  const r = await new Deno.Command("mips-linux-gnu-gcc", {
    args: [...MIPS_CFLAGS, ...extra, ...sources, "-o", out],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.code !== 0) throw new Error(`mips-linux-gnu-gcc failed:\n${new TextDecoder().decode(r.stderr)}`);
  return out;
}

/** The result of running a program. */
export interface Outcome {
  stdout: Uint8Array;
  stderr: Uint8Array;
  exitCode: number;
}

/** Bytes as text, for messages and text comparisons. */
export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/**
 * Runs an ELF under `qemu-mips` (the independent reference), stdin /dev/null; the CPU is the
 * 24Kc (integer only) unless `cpu` names another, e.g. the 24Kf with its hardware FPU.
 */
export async function runQemuElf(elf: string, extra: string[] = [], cpu = "24Kc"): Promise<Outcome> {
  const r = await new Deno.Command("qemu-mips", {
    args: ["-cpu", cpu, ...extra, elf],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.code };
}

/** Runs an ELF in our VM to its exit, collecting output. */
export function runVmElf(elf: string, maxSteps = 2e9): Outcome & { state: VmState; steps: number } {
  const state = loadElf(Deno.readFileSync(elf));
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const res = runToExit(state, {
    oracle: new PreimageOracle(new MapSource()),
    output: (fd, d) => (fd === 1 ? out : err).push(d.slice()),
  }, { maxSteps });
  if (res.reason !== "exited") {
    throw new Error(`${elf}: VM stopped: ${res.reason} at pc ${state.pc.toString(16)}`);
  }
  const cat = (parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
  return { stdout: cat(out), stderr: cat(err), exitCode: state.exitCode, state, steps: res.steps };
}

/** Deterministic xorshift32 PRNG, so failures reproduce from the seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

/** Assembles a tiny program; `body` runs after _start. */
export async function asmElf(name: string, body: string): Promise<string> {
  Deno.mkdirSync(BUILD, { recursive: true });
  const src = `${BUILD}/${name}.S`;
  Deno.writeTextFileSync(src, `  .set noreorder\n  .text\n  .globl _start\n_start:\n${body}\n`);
  return await mipsGcc([src], `${BUILD}/${name}.elf`, ["-Wl,-e,_start"]);
}

/**
 * A program that runs `cases` (assembly lines storing result words through `$s7`; `$s6` points
 * at `data`), then writes the results to stdout and exits 0: the shape of the differential ISA
 * tests, whose stdout is compared word for word between qemu-mips and the VM.
 */
export function resultDumpProgram(cases: string[], data: string, opts: { hardFloat?: boolean } = {}): string {
  return `  .set noreorder
  .set noat
${opts.hardFloat ? "  .set hardfloat\n" : ""}  .text
  .globl _start
_start:
  la $s7, results
  la $s6, data
${cases.join("\n")}
  la $a1, results
  subu $a2, $s7, $a1
  li $a0, 1
  li $v0, 4004
  syscall
  nop
  li $a0, 0
  li $v0, 4246
  syscall
  nop
  .data
  .align 4
data:
${data}
  .bss
  .align 4
results:
  .space 65536
`;
}
