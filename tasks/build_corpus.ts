/**
 * Build the VM test corpus: every `tests/vm/corpus/*.c` program, linked with the freestanding
 * guest runtime in `core/runtime/`, compiled with `mips-linux-gnu-gcc` in several flag sets, to
 * `build/corpus/<flagset>/<name>.elf`. The runtime is compiled once per flag set, to
 * `build/corpus/<flagset>/runtime/*.o`. The layout programs (`tests/vm/corpus/layouts/`, see
 * {@link LAYOUTS}) are linked into particular ELF shapes for the loader, with the O2 flags, to
 * `build/corpus/layouts/<name>.elf`.
 *
 * Up-to-date outputs are skipped: each output has a `.stamp` file holding a hash of the
 * compiler, the flags and the content of every input (for an ELF: the program, the corpus and
 * runtime headers, the runtime sources, the linker script). At most `jobs` (default 2)
 * compilers run at once.
 *
 * As a script:
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run --allow-env tasks/build_corpus.ts [options]
 *   --force              rebuild everything
 *   --jobs N             parallel compiler processes (default 2)
 *   --flagset NAME       only this flag set (repeatable)
 *   --program NAME       only this program (repeatable)
 *   --check              run every ELF under qemu; compare with tests/vm/corpus/expected/
 *                        (layout programs: their exit code)
 *   --update-expected    run under qemu (O2 build) and rewrite tests/vm/corpus/expected/
 *   --audit              disassemble every ELF: instruction coverage, no FPU/r2/trap
 *                        instructions, no undefined symbols
 * ```
 *
 * @module
 */

import { runQemu } from "./qemu.ts";

/** One built corpus program. */
export interface CorpusEntry {
  /** Program name: the source file name without `.c`. */
  name: string;
  /** Flag set name (see {@link FLAG_SETS}). */
  flagset: string;
  /** Path of the ELF (absolute). */
  elf: string;
}

/** A named set of compiler flags, added to {@link COMMON_FLAGS}. */
export interface FlagSet {
  name: string;
  flags: string[];
  description: string;
}

/** The flag sets every program is built with. */
export const FLAG_SETS: readonly FlagSet[] = [
  {
    name: "O0",
    flags: ["-march=mips32", "-mno-imadd", "-O0"],
    description: "no optimisation: stack-heavy code, unfilled delay slots",
  },
  {
    name: "O2",
    flags: ["-march=mips32", "-mno-imadd", "-O2"],
    description: "the project's release flags",
  },
  {
    name: "Os",
    flags: ["-march=mips32", "-mno-imadd", "-Os"],
    description: "size: calls the 64-bit shift helpers (__ashldi3 & co)",
  },
  {
    name: "mips32-O2",
    flags: ["-march=mips32", "-mno-imadd", "-mbranch-likely", "-O2"],
    description: "as O2 plus -mbranch-likely: GCC emits beql/bnel/... itself",
  },
  {
    name: "mips1-O2",
    flags: ["-march=mips1", "-O2"],
    description: "MIPS I: no mul/madd/clz/movn/ll/sc, mult+mflo, __clzsi2, load delay nops",
  },
  {
    name: "O2-imadd",
    flags: ["-march=mips32", "-mimadd", "-O2"],
    description: "-mimadd: GCC uses madd/maddu/msub for multiply-accumulate",
  },
];

/** Compiler flags shared by every flag set (TOOLCHAIN.md). */
export const COMMON_FLAGS: readonly string[] = [
  "-EB",
  "-mabi=32",
  "-msoft-float",
  "-mno-abicalls",
  "-fno-pic",
  "-G0",
  "-mno-llsc",
  "-mno-check-zero-division",
  "-ffreestanding",
  "-fno-builtin",
  "-fno-asynchronous-unwind-tables",
  "-ffunction-sections",
  "-fdata-sections",
  "-Wall",
];

/** Link flags shared by every flag set, besides `-T core/runtime/mips.ld`. No `-lgcc`. */
export const LINK_FLAGS: readonly string[] = [
  "-nostdlib",
  "-static",
  "-Wl,--gc-sections",
  "-Wl,--build-id=none",
  "-Wl,-z,max-page-size=4096",
];

/** Runtime sources linked into every program (relative to core/runtime). */
export const RUNTIME_SOURCES: readonly string[] = [
  "start.S",
  "sys.c",
  "libc.c",
  "libgcc_int.c",
  "softfloat.c",
];

/** Options for {@link buildCorpus}. */
export interface BuildOptions {
  /** Repository root (default: the parent of this file's folder). */
  root?: string;
  /** Output folder (default `<root>/build/corpus`). */
  outDir?: string;
  /** Parallel compiler processes (default 2). */
  jobs?: number;
  /** Only these flag sets (default all of {@link FLAG_SETS}). */
  flagsets?: string[];
  /** Only these programs (default every `tests/vm/corpus/*.c`). */
  programs?: string[];
  /** Rebuild even when up to date. */
  force?: boolean;
  /** C compiler (default `mips-linux-gnu-gcc`). */
  cc?: string;
  /** Progress messages (default: to stderr). */
  log?: (msg: string) => void;
}

const DEFAULT_ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Names of the corpus programs (`tests/vm/corpus/*.c` without the extension), sorted.
 *
 * @param root repository root
 */
export function listPrograms(root: string = DEFAULT_ROOT): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(`${root}/tests/vm/corpus`)) {
    if (e.isFile && e.name.endsWith(".c")) names.push(e.name.slice(0, -2));
  }
  return names.sort();
}

async function sha256Hex(parts: (string | Uint8Array)[]): Promise<string> {
  const enc = new TextEncoder();
  const chunks = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  let len = 0;
  for (const c of chunks) len += 4 + c.length;
  const all = new Uint8Array(len);
  let off = 0;
  for (const c of chunks) {
    new DataView(all.buffer).setUint32(off, c.length);
    all.set(c, off + 4);
    off += 4 + c.length;
  }
  const digest = await crypto.subtle.digest("SHA-256", all);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function readIfExists(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const msg = new TextDecoder().decode(out.stderr) +
    new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${msg}`);
  }
  if (msg.trim()) console.error(msg.trimEnd());
}

async function pool<T>(
  items: T[],
  jobs: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  if (errors.length) {
    throw errors.length === 1 ? errors[0] : new AggregateError(
      errors,
      errors.map((e) => e instanceof Error ? e.message : String(e)).join("\n"),
    );
  }
}

async function compilerId(cc: string): Promise<string> {
  const out = await new Deno.Command(cc, { args: ["--version"], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n")[0];
}

/** One compiler run: its arguments, its output and the hash of everything it depends on. */
type Job = { label: string; args: string[]; out: string; hash: string };

/**
 * Returns the function that runs one {@link Job} and stamps its output. Outputs are written
 * under a temporary name and renamed into place, so concurrent builds (e.g. two test files
 * under `deno test --parallel`) never see a half-written file.
 */
function builder(cc: string, root: string, total: number, log: (msg: string) => void) {
  let done = 0;
  return async (j: Job) => {
    const tmp = `${j.out}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2)}`;
    const args = [...j.args];
    args[args.lastIndexOf(j.out)] = tmp;
    try {
      await run(cc, args, root);
      Deno.renameSync(tmp, j.out);
    } finally {
      try {
        Deno.removeSync(tmp);
      } catch { /* renamed */ }
    }
    Deno.writeTextFileSync(`${j.out}.stamp`, j.hash);
    done++;
    log(`  [${done}/${total}] ${j.label}`);
  };
}

/**
 * Build every corpus program in every flag set (or the selected ones), skipping outputs that
 * are up to date.
 *
 * @param opts see {@link BuildOptions}
 * @returns one entry per ELF, in flag-set order then program order
 * @throws an Error (or AggregateError) carrying the compiler messages when a build fails
 */
export async function buildCorpus(
  opts: BuildOptions = {},
): Promise<CorpusEntry[]> {
  const root = opts.root ?? DEFAULT_ROOT;
  const outDir = opts.outDir ?? `${root}/build/corpus`;
  const cc = opts.cc ?? "mips-linux-gnu-gcc";
  const jobs = opts.jobs ?? 2;
  const log = opts.log ?? ((m: string) => console.error(m));
  const runtimeDir = `${root}/core/runtime`;
  const corpusDir = `${root}/tests/vm/corpus`;
  const flagsets = FLAG_SETS.filter((f) => !opts.flagsets || opts.flagsets.includes(f.name));
  if (opts.flagsets) {
    for (const f of opts.flagsets) {
      if (!FLAG_SETS.some((s) => s.name === f)) throw new Error(`unknown flag set ${f}`);
    }
  }
  const allPrograms = listPrograms(root);
  const programs = opts.programs ?? allPrograms;
  for (const p of programs) {
    if (!allPrograms.includes(p)) throw new Error(`unknown corpus program ${p}`);
  }

  // everything every program depends on, besides its own source
  const sharedInputs: (string | Uint8Array)[] = [await compilerId(cc)];
  const runtimeFiles = [...Deno.readDirSync(runtimeDir)]
    .map((e) => `${runtimeDir}/${e.name}`)
    .filter((p) => /\.(c|h|S|ld)$/.test(p))
    .sort();
  const runtimeHeaders = runtimeFiles.filter((p) => p.endsWith(".h"));
  const corpusHeaders = [...Deno.readDirSync(corpusDir)]
    .filter((e) => e.name.endsWith(".h"))
    .map((e) => `${corpusDir}/${e.name}`)
    .sort();
  for (const f of [...runtimeFiles, ...corpusHeaders]) {
    sharedInputs.push(f, Deno.readFileSync(f));
  }
  const headerInputs: (string | Uint8Array)[] = [sharedInputs[0]];
  for (const f of runtimeHeaders) headerInputs.push(f, Deno.readFileSync(f));

  const rtJobs: Job[] = [];
  const progJobs: Job[] = [];
  const entries: CorpusEntry[] = [];
  for (const fs of flagsets) {
    const dir = `${outDir}/${fs.name}`;
    Deno.mkdirSync(`${dir}/runtime`, { recursive: true });
    const objs: string[] = [];
    for (const src of RUNTIME_SOURCES) {
      const obj = `${dir}/runtime/${src.replace(/\.[cS]$/, ".o")}`;
      objs.push(obj);
      const args = [
        ...COMMON_FLAGS,
        ...fs.flags,
        `-I${runtimeDir}`,
        "-c",
        `${runtimeDir}/${src}`,
        "-o",
        obj,
      ];
      const hash = await sha256Hex([
        ...headerInputs,
        JSON.stringify(args),
        Deno.readFileSync(`${runtimeDir}/${src}`),
      ]);
      rtJobs.push({ label: `${fs.name}/runtime/${src}`, args, out: obj, hash });
    }
    for (const name of programs) {
      const elf = `${dir}/${name}.elf`;
      const src = `${corpusDir}/${name}.c`;
      const args = [
        ...COMMON_FLAGS,
        ...fs.flags,
        ...LINK_FLAGS,
        "-T",
        `${runtimeDir}/mips.ld`,
        `-I${runtimeDir}`,
        `-I${corpusDir}`,
        src,
        ...objs,
        "-o",
        elf,
      ];
      const hash = await sha256Hex([
        ...sharedInputs,
        JSON.stringify(args),
        Deno.readFileSync(src),
      ]);
      entries.push({ name, flagset: fs.name, elf });
      progJobs.push({ label: `${fs.name}/${name}.elf`, args, out: elf, hash });
    }
  }
  const stale = (j: Job) => opts.force || !exists(j.out) || readIfExists(`${j.out}.stamp`) !== j.hash;
  const rtTodo = rtJobs.filter(stale);
  const progTodo = progJobs.filter(stale);
  log(
    `corpus: ${entries.length} ELFs (${programs.length} programs x ${flagsets.length} flag sets); ` +
      `to build: ${rtTodo.length} runtime objects, ${progTodo.length} ELFs`,
  );
  const build = builder(cc, root, rtTodo.length + progTodo.length, log);
  await pool(rtTodo, jobs, build);
  await pool(progTodo, jobs, build);
  return entries;
}

/**
 * A program linked into a particular ELF shape, to test the loader: `tests/vm/corpus/layouts/`
 * (README "Layouts"). Built once, with the `O2` flag set, to `build/corpus/layouts/<name>.elf`.
 */
export interface Layout {
  /** ELF name. */
  name: string;
  /** C source in tests/vm/corpus/layouts/. */
  source: string;
  /** Link the guest runtime (core/runtime); without it the program brings its own `_start`. */
  runtime: boolean;
  /** Linker script (path from the repository root), or null for ld's default script. */
  script: string | null;
  /** Extra link flags. */
  ldflags: string[];
  /** The exit code of the program when all its checks pass. */
  exitCode: number;
  /** The ELF shape it gives. */
  description: string;
}

/** The layout programs (tests/vm/corpus/README.md, "Layouts"). */
export const LAYOUTS: readonly Layout[] = [
  {
    name: "bss_only",
    source: "bss_only.c",
    runtime: true,
    script: null,
    ldflags: [],
    exitCode: 21,
    description: "ld's default layout, no .data: the writable PT_LOAD has p_filesz 0 and p_offset past the " +
      "end of the file (issue 11)",
  },
  {
    name: "bss_only_ld",
    source: "bss_only.c",
    runtime: true,
    script: "core/runtime/mips.ld",
    ldflags: ["-Wl,--build-id=none", "-Wl,-z,max-page-size=4096"],
    exitCode: 21,
    description: "the project's linker script, no .data: the data PT_LOAD has p_filesz 0",
  },
  {
    name: "text_only",
    source: "text_only.c",
    runtime: false,
    script: null,
    ldflags: [],
    exitCode: 33,
    description: "one PT_LOAD (R E): no writable segment, no .rodata, .data or .bss",
  },
  {
    name: "default",
    source: "mixed.c",
    runtime: true,
    script: null,
    ldflags: [],
    exitCode: 55,
    description: "ld's default layout (64 KiB pages): text with the headers, data + bss starting mid-page",
  },
  {
    name: "separate_code",
    source: "mixed.c",
    runtime: true,
    script: null,
    ldflags: ["-Wl,-z,separate-code"],
    exitCode: 55,
    description: "-z separate-code: headers (R), text (R E), rodata (R), data + bss (RW, mid-page)",
  },
  {
    name: "omagic",
    source: "mixed.c",
    runtime: true,
    script: null,
    ldflags: ["-Wl,-N"],
    exitCode: 55,
    description: "-N: one RWX PT_LOAD starting mid-page, text, data and bss together",
  },
  {
    name: "segments",
    source: "segments.c",
    runtime: true,
    script: "tests/vm/corpus/layouts/segments.ld",
    ldflags: ["-Wl,-z,max-page-size=4096"],
    exitCode: 44,
    description: "five PT_LOADs, three writable (data and rodata mid-page, one crossing a page, one " +
      "bss-only) and PT_MIPS_ABIFLAGS, PT_MIPS_REGINFO, PT_NOTE, PT_GNU_STACK",
  },
];

/** One built layout program. */
export interface LayoutEntry extends Layout {
  /** Path of the ELF (absolute). */
  elf: string;
}

/**
 * Build the layout programs ({@link LAYOUTS}) with the `O2` flag set and its runtime objects
 * (built by {@link buildCorpus} if needed), skipping up-to-date outputs.
 *
 * @param opts see {@link BuildOptions} (`flagsets` and `programs` are ignored)
 * @returns one entry per layout, in {@link LAYOUTS} order
 */
export async function buildLayouts(opts: BuildOptions = {}): Promise<LayoutEntry[]> {
  const root = opts.root ?? DEFAULT_ROOT;
  const outDir = opts.outDir ?? `${root}/build/corpus`;
  const cc = opts.cc ?? "mips-linux-gnu-gcc";
  const log = opts.log ?? ((m: string) => console.error(m));
  await buildCorpus({ ...opts, flagsets: ["O2"], programs: [] });
  const fs = FLAG_SETS.find((f) => f.name === "O2")!;
  const runtimeDir = `${root}/core/runtime`;
  const corpusDir = `${root}/tests/vm/corpus`;
  const layoutDir = `${corpusDir}/layouts`;
  const dir = `${outDir}/layouts`;
  Deno.mkdirSync(dir, { recursive: true });
  const objs = RUNTIME_SOURCES.map((src) => `${outDir}/${fs.name}/runtime/${src.replace(/\.[cS]$/, ".o")}`);
  const headers = [
    ...[...Deno.readDirSync(runtimeDir)].filter((e) => e.name.endsWith(".h")).map((e) =>
      `${runtimeDir}/${e.name}`
    ),
    ...[...Deno.readDirSync(corpusDir)].filter((e) => e.name.endsWith(".h")).map((e) =>
      `${corpusDir}/${e.name}`
    ),
    ...[...Deno.readDirSync(layoutDir)].filter((e) => e.name.endsWith(".h")).map((e) =>
      `${layoutDir}/${e.name}`
    ),
  ].sort();
  const shared: (string | Uint8Array)[] = [await compilerId(cc)];
  for (const f of headers) shared.push(f, Deno.readFileSync(f));
  const jobs: Job[] = [];
  const entries: LayoutEntry[] = [];
  for (const l of LAYOUTS) {
    const elf = `${dir}/${l.name}.elf`;
    const src = `${layoutDir}/${l.source}`;
    const script = l.script === null ? [] : ["-T", `${root}/${l.script}`];
    const linked = l.runtime ? objs : [];
    const args = [
      ...COMMON_FLAGS,
      ...fs.flags,
      "-nostdlib",
      "-static",
      "-Wl,--gc-sections",
      "-Wl,-e,_start",
      ...l.ldflags,
      ...script,
      `-I${runtimeDir}`,
      `-I${corpusDir}`,
      src,
      ...linked,
      "-o",
      elf,
    ];
    const inputs = [src, ...(l.script === null ? [] : [`${root}/${l.script}`]), ...linked];
    const hash = await sha256Hex([
      ...shared,
      JSON.stringify(args),
      ...inputs.flatMap((f) => [f, Deno.readFileSync(f)]),
    ]);
    jobs.push({ label: `layouts/${l.name}.elf`, args, out: elf, hash });
    entries.push({ ...l, elf });
  }
  const todo = jobs.filter((j) => opts.force || !exists(j.out) || readIfExists(`${j.out}.stamp`) !== j.hash);
  log(`layouts: ${entries.length} ELFs; to build: ${todo.length}`);
  await pool(todo, opts.jobs ?? 2, builder(cc, root, todo.length, log));
  return entries;
}

/** Golden results of a corpus program (from qemu), stored in tests/vm/corpus/expected/. */
export interface Expected {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Read the expected stdout, stderr and exit code of a corpus program.
 *
 * @param name program name
 * @param root repository root
 * @returns the expectations, or null if none are stored
 */
export function readExpected(
  name: string,
  root: string = DEFAULT_ROOT,
): Expected | null {
  const dir = `${root}/tests/vm/corpus/expected`;
  const out = readIfExists(`${dir}/${name}.stdout`);
  const codes = readIfExists(`${dir}/exit_codes.json`);
  if (out === null || codes === null) return null;
  const code = (JSON.parse(codes) as Record<string, number>)[name];
  if (code === undefined) return null;
  return {
    stdout: out,
    stderr: readIfExists(`${dir}/${name}.stderr`) ?? "",
    exitCode: code,
  };
}

/**
 * Every mnemonic the opml VM executes (docs/VM.md), as `objdump -M no-aliases` spells them.
 * Traps and `break` are listed separately: the corpus must not contain them.
 */
export const VM_INSTRUCTIONS: readonly string[] = [
  // SPECIAL
  "sll",
  "srl",
  "sra",
  "sllv",
  "srlv",
  "srav",
  "jr",
  "jalr",
  "movz",
  "movn",
  "syscall",
  "sync",
  "mfhi",
  "mthi",
  "mflo",
  "mtlo",
  "mult",
  "multu",
  "div",
  "divu",
  "add",
  "addu",
  "sub",
  "subu",
  "and",
  "or",
  "xor",
  "nor",
  "slt",
  "sltu",
  // REGIMM and jumps/branches
  "bltz",
  "bgez",
  "bltzl",
  "bgezl",
  "bltzal",
  "bgezal",
  "bltzall",
  "bgezall",
  "j",
  "jal",
  "beq",
  "bne",
  "blez",
  "bgtz",
  "beql",
  "bnel",
  "blezl",
  "bgtzl",
  // immediates
  "addi",
  "addiu",
  "slti",
  "sltiu",
  "andi",
  "ori",
  "xori",
  "lui",
  // SPECIAL2
  "madd",
  "maddu",
  "mul",
  "msub",
  "msubu",
  "clz",
  "clo",
  // loads and stores
  "lb",
  "lh",
  "lwl",
  "lw",
  "lbu",
  "lhu",
  "lwr",
  "ll",
  "sb",
  "sh",
  "swl",
  "sw",
  "swr",
  "sc",
  "pref",
];

/** Trap instructions (and `break`): the VM faults when their condition holds. */
export const TRAP_INSTRUCTIONS: readonly string[] = [
  "break",
  "teq",
  "tne",
  "tge",
  "tgeu",
  "tlt",
  "tltu",
  "teqi",
  "tnei",
  "tgei",
  "tgeiu",
  "tlti",
  "tltiu",
  "sdbbp",
];

/** Result of {@link auditCorpus}. */
export interface AuditReport {
  /** mnemonic -> the ELFs (`flagset/name`) whose code contains it */
  coverage: Map<string, string[]>;
  /** problems found: FPU or other non-VM instructions, traps, undefined symbols */
  problems: string[];
}

/**
 * Disassemble every ELF (`mips-linux-gnu-objdump -d -M no-aliases`) and list its undefined
 * symbols (`mips-linux-gnu-nm -u`). Reports which VM instructions occur where, and as problems:
 * any instruction outside {@link VM_INSTRUCTIONS} (FPU, coprocessor, MIPS32r2-only, ...), any
 * trap from {@link TRAP_INSTRUCTIONS}, and any undefined symbol.
 *
 * @param entries the ELFs, as returned by {@link buildCorpus}
 * @param toolPrefix binutils prefix (default `mips-linux-gnu-`)
 */
export async function auditCorpus(
  entries: CorpusEntry[],
  toolPrefix = "mips-linux-gnu-",
): Promise<AuditReport> {
  const coverage = new Map<string, string[]>();
  const problems: string[] = [];
  const allowed = new Set(VM_INSTRUCTIONS);
  const traps = new Set(TRAP_INSTRUCTIONS);
  const dec = new TextDecoder();
  for (const e of entries) {
    const label = `${e.flagset}/${e.name}`;
    const dis = await new Deno.Command(`${toolPrefix}objdump`, {
      args: ["-d", "-M", "no-aliases", e.elf],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!dis.success) {
      problems.push(`${label}: objdump failed: ${dec.decode(dis.stderr)}`);
      continue;
    }
    const seen = new Set<string>();
    for (const line of dec.decode(dis.stdout).split("\n")) {
      const m = /^\s*[0-9a-f]+:\t[0-9a-f]{8}\s+\t?([a-z0-9.]+)/.exec(line);
      if (m) seen.add(m[1]);
    }
    for (const alias of seen) {
      // objdump keeps these aliases even with -M no-aliases
      const op = alias === "negu" ? "subu" : alias === "neg" ? "sub" : alias;
      if (traps.has(op)) problems.push(`${label}: trap instruction ${op}`);
      else if (!allowed.has(op)) problems.push(`${label}: non-VM instruction ${op}`);
      if (!coverage.has(op)) coverage.set(op, []);
      const list = coverage.get(op)!;
      if (list[list.length - 1] !== label) list.push(label);
    }
    const nm = await new Deno.Command(`${toolPrefix}nm`, {
      args: ["-u", e.elf],
      stdout: "piped",
    }).output();
    const undef = dec.decode(nm.stdout).trim();
    if (undef) problems.push(`${label}: undefined symbols: ${undef.replace(/\s+/g, " ")}`);
  }
  return { coverage, problems };
}

async function main(args: string[]): Promise<number> {
  const opts: BuildOptions = {};
  let check = false, update = false, audit = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--force") opts.force = true;
    else if (a === "--jobs") opts.jobs = Number(args[++i]);
    else if (a === "--flagset") (opts.flagsets ??= []).push(args[++i]);
    else if (a === "--program") (opts.programs ??= []).push(args[++i]);
    else if (a === "--check") check = true;
    else if (a === "--update-expected") update = true;
    else if (a === "--audit") audit = true;
    else {
      console.error(`unknown argument ${a}`);
      return 2;
    }
  }
  const entries = await buildCorpus(opts);
  // the layout programs, unless the build is restricted to some programs or flag sets
  const layouts = opts.programs || opts.flagsets ? [] : await buildLayouts(opts);
  if (update) {
    const dir = `${DEFAULT_ROOT}/tests/vm/corpus/expected`;
    Deno.mkdirSync(dir, { recursive: true });
    const codesPath = `${dir}/exit_codes.json`;
    const codes = JSON.parse(readIfExists(codesPath) ?? "{}") as Record<
      string,
      number
    >;
    for (const e of entries.filter((e) => e.flagset === "O2")) {
      const r = await runQemu(e.elf);
      Deno.writeFileSync(`${dir}/${e.name}.stdout`, r.stdout);
      const errPath = `${dir}/${e.name}.stderr`;
      if (r.stderr.length) Deno.writeFileSync(errPath, r.stderr);
      else if (exists(errPath)) Deno.removeSync(errPath);
      codes[e.name] = r.exitCode;
      console.error(`expected: ${e.name} exit ${r.exitCode}`);
    }
    const sorted = Object.fromEntries(Object.entries(codes).sort());
    Deno.writeTextFileSync(codesPath, JSON.stringify(sorted, null, 2) + "\n");
  }
  let status = 0;
  if (audit) {
    const report = await auditCorpus(entries);
    const names = [...new Set(entries.map((e) => e.name))];
    console.log("instruction  ELFs  programs (flag sets, when not all)");
    for (const op of new Set([...VM_INSTRUCTIONS, ...report.coverage.keys()])) {
      const where = report.coverage.get(op) ?? [];
      const byProgram = new Map<string, string[]>();
      for (const w of where) {
        const [fs, name] = w.split("/");
        if (!byProgram.has(name)) byProgram.set(name, []);
        byProgram.get(name)!.push(fs);
      }
      const nfs = new Set(entries.map((e) => e.flagset)).size;
      const progs = [...byProgram].map(([p, fss]) => fss.length === nfs ? p : `${p}(${fss.join(",")})`);
      const shown = progs.length > 8 ? `${progs.length} of ${names.length} programs` : progs.join(" ");
      console.log(
        `${op.padEnd(12)} ${String(where.length).padStart(4)}  ${where.length ? shown : "MISSING"}`,
      );
    }
    for (const p of report.problems) console.log(`PROBLEM ${p}`);
    const missing = VM_INSTRUCTIONS.filter((op) => !report.coverage.has(op));
    console.log(
      `audit: ${entries.length} ELFs, ${report.problems.length} problems, ` +
        `${VM_INSTRUCTIONS.length - missing.length}/${VM_INSTRUCTIONS.length} VM instructions present` +
        (missing.length ? ` (missing: ${missing.join(" ")})` : ""),
    );
    if (report.problems.length) status = 1;
  }
  if (check) {
    const dec = new TextDecoder();
    let pass = 0, fail = 0;
    for (const e of entries) {
      const exp = readExpected(e.name);
      const r = await runQemu(e.elf);
      const out = dec.decode(r.stdout), err = dec.decode(r.stderr);
      const problems: string[] = [];
      if (!exp) problems.push("no expected output");
      else {
        if (out !== exp.stdout) problems.push("stdout differs");
        if (err !== exp.stderr) problems.push("stderr differs");
        if (r.exitCode !== exp.exitCode) {
          problems.push(`exit ${r.exitCode}, expected ${exp.exitCode}`);
        }
      }
      if (problems.length) {
        fail++;
        console.log(`FAIL ${e.flagset}/${e.name}: ${problems.join(", ")}`);
      } else pass++;
    }
    for (const l of layouts) {
      const r = await runQemu(l.elf);
      if (r.exitCode === l.exitCode) pass++;
      else {
        fail++;
        console.log(`FAIL layouts/${l.name}: exit ${r.exitCode}, expected ${l.exitCode}`);
      }
    }
    console.log(`${pass} passed, ${fail} failed`);
    if (fail) status = 1;
  }
  return status;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
