/** The ELF loader and runaway guests: bad input gives one clear error or a stop reason. */
import { assertEquals, assertThrows } from "../_assert.ts";
import {
  ElfError,
  HEAP_START,
  loadElf,
  MapSource,
  PreimageOracle,
  runToExit,
  STACK_TOP,
} from "../../core/vm/mod.ts";
import { asmElf, BUILD, runQemuElf, runVmElf, text } from "./_mips.ts";

const EXIT7 = "  li $a0, 7\n  li $v0, 4246\n  syscall\n  nop";
const host = () => ({ oracle: new PreimageOracle(new MapSource()) });

Deno.test("a valid ELF loads with the documented initial state", async () => {
  const elf = Deno.readFileSync(await asmElf("exit7", EXIT7));
  const st = loadElf(elf);
  const entry = new DataView(elf.buffer).getUint32(24);
  assertEquals([st.pc, st.nextPC, st.heap, st.regs[29], st.step, st.exited], [
    entry,
    entry + 4,
    HEAP_START,
    STACK_TOP,
    0,
    false,
  ]);
  const res = runToExit(st, host());
  assertEquals([res.reason, res.exitCode, res.steps], ["exited", 7, 3]);
});

Deno.test("malformed ELF files are rejected with a reason", async () => {
  const elf = Deno.readFileSync(await asmElf("exit7b", EXIT7));
  assertThrows(() => loadElf(elf.slice(0, 30)), ElfError, /truncated ELF header/);
  assertThrows(() => loadElf(elf.slice(0, 120)), ElfError, /truncated ELF/);
  const le = elf.slice();
  le[5] = 1;
  assertThrows(() => loadElf(le), ElfError, /little-endian/);
  const b64 = elf.slice();
  b64[4] = 2;
  assertThrows(() => loadElf(b64), ElfError, /64-bit/);
  assertThrows(
    () => loadElf(new TextEncoder().encode("#!/bin/sh\necho this is not an ELF file at all, no sir\n")),
    ElfError,
    /not an ELF/,
  );
  assertThrows(() => loadElf(new Uint8Array()), ElfError, /not an ELF/);
  assertThrows(() => loadElf(Deno.readFileSync("/bin/true")), ElfError, /64-bit/);
  const arm = elf.slice();
  arm[19] = 40; // EM_ARM
  assertThrows(() => loadElf(arm), ElfError, /machine is 40/);
  const dyn = elf.slice();
  dyn[17] = 3; // ET_DYN
  assertThrows(() => loadElf(dyn), ElfError, /not a static executable/);
});

Deno.test("a guest that jumps into unmapped memory stops with that reason", async () => {
  const st = loadElf(Deno.readFileSync(await asmElf("wild", "  li $t0, 0x10000000\n  jr $t0\n  nop")));
  const res = runToExit(st, host(), { maxSteps: 1e7 });
  assertEquals([res.reason, st.pc, st.exited], ["unmapped-pc", 0x10000000, false]);
});

Deno.test("a guest that loops forever stops at the step limit, state intact", async () => {
  const st = loadElf(Deno.readFileSync(await asmElf("spin", "1:\n  b 1b\n  nop")));
  const res = runToExit(st, host(), { maxSteps: 100_001 });
  assertEquals([res.reason, res.steps, st.step, st.exited], ["step-limit", 100_001, 100_001, false]);
});

// ---- the loader's rules, on hand-built ELF files (docs/VM.md, Initial state) ----
// Valid files also run under qemu-mips, which must give the same exit code; for files the
// loader rejects, the test records whether qemu refuses them too.

const PT_NULL = 0, PT_LOAD = 1, PT_NOTE = 4, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;
const PT_MIPS_REGINFO = 0x70000000, PT_MIPS_ABIFLAGS = 0x70000003;
const R_X = 5, R_W = 6, R = 4;
const [zero, v0, a0, t0, t1, t2] = [0, 2, 4, 8, 9, 10];
const I = (op: number, rs: number, rt: number, imm: number) =>
  ((op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)) >>> 0;
const lui = (rt: number, imm: number) => I(0x0f, 0, rt, imm);
const lw = (rt: number, off: number, base: number) => I(0x23, base, rt, off);
const sw = (rt: number, off: number, base: number) => I(0x2b, base, rt, off);
const addiu = (rt: number, rs: number, imm: number) => I(0x09, rs, rt, imm);
const addu = (rd: number, rs: number, rt: number) => ((rs << 21) | (rt << 16) | (rd << 11) | 0x21) >>> 0;
const SYSCALL = 0x0c;
/** a0 = the sum of the words at `addrs`; t0 = `base` (for later stores); exit_group(a0). */
const sumAndExit = (base: number, addrs: number[]) => [
  addiu(a0, zero, 0),
  ...addrs.flatMap((a) => [lui(t1, (a + 0x8000) >>> 16), lw(t1, a & 0xffff, t1), addu(a0, a0, t1)]),
  lui(t0, base >>> 16),
  addiu(v0, zero, 4246),
  SYSCALL,
];
const words = (ws: number[]) => {
  const b = new Uint8Array(4 * ws.length);
  ws.forEach((w, i) => new DataView(b.buffer).setUint32(4 * i, w));
  return b;
};
/** A valid .MIPS.abiflags body (MIPS32r1, 32-bit registers, soft float), as gcc writes it. */
const ABIFLAGS = new Uint8Array([0, 0, 32, 1, 1, 0, 0, 3, ...new Array(16).fill(0)]);

interface Ph {
  type?: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags?: number;
  align?: number;
}

/** An ELF32 big-endian MIPS executable of `size` bytes: header, `phdrs` at 52, then `put`. */
function makeElf(o: {
  entry: number;
  phdrs: Ph[];
  size: number;
  put?: [number, Uint8Array][];
  eflags?: number;
  phentsize?: number;
}): Uint8Array {
  const b = new Uint8Array(o.size);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 2, 1]);
  v.setUint16(16, 2); // ET_EXEC
  v.setUint16(18, 8); // EM_MIPS
  v.setUint32(20, 1);
  v.setUint32(24, o.entry);
  v.setUint32(28, 52);
  v.setUint32(36, o.eflags ?? 0x50001001); // MIPS32, o32, noreorder
  v.setUint16(40, 52);
  v.setUint16(42, o.phentsize ?? 32);
  v.setUint16(44, o.phdrs.length);
  v.setUint16(46, 40);
  o.phdrs.forEach((p, i) => {
    const h = 52 + (o.phentsize ?? 32) * i;
    for (
      const [k, x] of [
        p.type ?? PT_LOAD,
        p.offset,
        p.vaddr,
        p.vaddr,
        p.filesz,
        p.memsz,
        p.flags ?? R_X,
        p.align ?? 0x1000,
      ]
        .entries()
    ) v.setUint32(h + 4 * k, x);
  });
  for (const [off, bytes] of o.put ?? []) b.set(bytes, off);
  return b;
}

/** Writes `bytes` to build/tests/elf_<name>.elf and runs it in the VM and under qemu-mips. */
async function runBoth(name: string, bytes: Uint8Array) {
  Deno.mkdirSync(BUILD, { recursive: true });
  const path = `${BUILD}/elf_${name}.elf`;
  Deno.writeFileSync(path, bytes, { mode: 0o755 }); // qemu-mips wants an executable file
  const q = await runQemuElf(path);
  const vm = runVmElf(path);
  assertEquals(text(q.stderr), "", `${name}: qemu-mips stderr`);
  return { vm: vm.exitCode, qemu: q.exitCode, state: vm.state };
}

/** True when qemu-mips refuses to load `bytes` (it exits 255 with its own message). */
async function qemuRefuses(name: string, bytes: Uint8Array): Promise<boolean> {
  Deno.mkdirSync(BUILD, { recursive: true });
  const path = `${BUILD}/elf_${name}.elf`;
  Deno.writeFileSync(path, bytes, { mode: 0o755 });
  const q = await runQemuElf(path);
  return q.exitCode === 255 && text(q.stderr).startsWith(`qemu-mips: ${path}: `);
}

/** The shape of issue 11: segment 3, bss only, p_filesz 0 and p_offset 4096 in a 3000-byte file. */
function issueElf(): Uint8Array {
  const code = words([
    ...sumAndExit(0x410000, [0x411000, 0x411ffc, 0x412ffc]).slice(0, -2),
    addiu(t1, zero, 7),
    sw(t1, 0x1800, t0),
    lw(t2, 0x1800, t0),
    addu(a0, a0, t2),
    addiu(v0, zero, 4246),
    SYSCALL,
  ]);
  return makeElf({
    entry: 0x400100,
    size: 3000,
    phdrs: [
      { type: PT_MIPS_ABIFLAGS, offset: 0xc0, vaddr: 0x4000c0, filesz: 24, memsz: 24, flags: R, align: 8 },
      { type: PT_MIPS_REGINFO, offset: 0xd8, vaddr: 0x4000d8, filesz: 24, memsz: 24, flags: R, align: 4 },
      { offset: 0, vaddr: 0x400000, filesz: 0x200, memsz: 0x200 },
      { offset: 4096, vaddr: 0x411000, filesz: 0, memsz: 0x2000, flags: R_W },
    ],
    put: [[0xc0, ABIFLAGS], [0x100, code]],
  });
}

Deno.test("a bss-only segment with p_offset past the end of the file loads (issue 11)", async () => {
  const elf = issueElf();
  const st = loadElf(elf);
  assertEquals(st.memory.readBytes(0x400000, 0x200), elf.subarray(0, 0x200));
  assertEquals(st.memory.readBytes(0x411000, 0x2000), new Uint8Array(0x2000));
  const r = await runBoth("issue11", elf);
  assertEquals([r.vm, r.qemu], [7, 7]);
});

/**
 * Mid-page segments, several writable ones (file bytes crossing a page, zero fill spanning
 * pages), a bss-only one whose p_offset is past the end of the file and not congruent to its
 * address (nothing is read, so that does not matter), and other program headers with contents
 * the loader must not look at.
 */
function segmentsElf(): Uint8Array {
  const code = words(
    sumAndExit(0x420000, [
      0x411234,
      0x411238,
      0x41123c,
      0x422ff8,
      0x422ffc,
      0x423000,
      0x423004,
      0x424ff0,
      0x430ffc,
    ]),
  );
  return makeElf({
    entry: 0x400100,
    size: 0x3010,
    phdrs: [
      { type: PT_PHDR, offset: 52, vaddr: 0x400034, filesz: 7 * 32, memsz: 7 * 32, flags: R },
      { offset: 0x100, vaddr: 0x400100, filesz: 0x100, memsz: 0x100 },
      { offset: 0x234, vaddr: 0x411234, filesz: 8, memsz: 0x10, flags: R_W },
      { offset: 0x2ff8, vaddr: 0x422ff8, filesz: 0x10, memsz: 0x2000, flags: R_W },
      { offset: 0x7777, vaddr: 0x430000, filesz: 0, memsz: 0x1000, flags: R_W },
      { type: PT_NOTE, offset: 0x100000, vaddr: 0, filesz: 0x1000, memsz: 0x10, flags: R, align: 3 },
      { type: PT_GNU_STACK, offset: 0, vaddr: 0, filesz: 0, memsz: 0, flags: R_W, align: 16 },
    ],
    put: [[0x100, code], [0x234, words([0x11, 0x22, 0xdead])], [0x2ff8, words([3, 4, 5, 6, 0xbeef])]],
  });
}

Deno.test("mid-page segments and several writable segments load; other headers are ignored", async () => {
  const elf = segmentsElf();
  const st = loadElf(elf);
  // file bytes up to p_filesz, zeros after (the 0xdead and 0xbeef words beyond p_filesz are not loaded)
  assertEquals(st.memory.readBytes(0x411230, 0x14), words([0, 0x11, 0x22, 0, 0]));
  assertEquals(st.memory.readBytes(0x422ff4, 0x18), words([0, 3, 4, 5, 6, 0]));
  assertEquals(st.memory.readBytes(0x400100, 0x100), elf.subarray(0x100, 0x200));
  const r = await runBoth("segments", elf);
  assertEquals([r.vm, r.qemu], [69, 69]); // 0x11 + 0x22 + 3 + 4 + 5 + 6, the zero-filled words add 0
});

Deno.test("unsorted segments and segments that overlap with equal contents load", async () => {
  const elf = segmentsElf();
  const v = new DataView(elf.buffer);
  const ph = (i: number) => elf.slice(52 + 32 * i, 84 + 32 * i);
  const [text, d1, d2] = [ph(1), ph(2), ph(3)];
  elf.set(d2, 52 + 32); // d2, d1, text, then text again over the PT_NOTE
  elf.set(text, 52 + 96);
  elf.set(text, 52 + 160);
  elf.set(d1, 52 + 64);
  // a part of the text segment again: same file bytes at the same addresses
  v.setUint32(52 + 4, 0x140), v.setUint32(52 + 8, 0x400140), v.setUint32(52 + 16, 0x20);
  v.setUint32(52 + 20, 0x20), v.setUint32(52, PT_LOAD);
  const r = await runBoth("overlap_equal", elf);
  assertEquals([r.vm, r.qemu], [69, 69]);
});

Deno.test("the loader's rules: one ElfError line each", async () => {
  const base = () => segmentsElf();
  const ph = (elf: Uint8Array, i: number, field: number, value: number) => {
    new DataView(elf.buffer).setUint32(52 + 32 * i + 4 * field, value);
    return elf;
  };
  const OFFSET = 1, VADDR = 2, FILESZ = 4, MEMSZ = 5;
  const cases: [string, Uint8Array, RegExp, boolean][] = [
    // [name, file, message, qemu-mips refuses it too]
    [
      "filesz>memsz",
      ph(base(), 2, FILESZ, 0x20),
      /^segment 2 \(vaddr 0x411234\): file size 32 exceeds memory size 16$/,
      false,
    ],
    [
      "truncated",
      ph(base(), 3, FILESZ, 0x20),
      /^truncated ELF: segment 3 \(vaddr 0x422ff8\) needs bytes up to 12312, file is 12304 bytes$/,
      false, // qemu maps the file past its end: the missing bytes of the last page read as zero
    ],
    [
      "wrap",
      ph(ph(base(), 4, VADDR, 0xfffff000), 4, MEMSZ, 0x2000),
      /^segment 4 \(vaddr 0xfffff000\): memory size 8192 wraps around the 32-bit address space$/,
      true,
    ],
    [
      "above-heap",
      ph(base(), 4, VADDR, 0x1ffff800),
      /^segment 4 \(vaddr 0x1ffff800\) ends at 0x20000800, above the heap start 0x20000000$/,
      false,
    ],
    [
      "not-congruent",
      ph(base(), 2, OFFSET, 0x230),
      /^segment 2 \(vaddr 0x411234\): file offset 0x230 and address are not congruent modulo the 4096-byte page/,
      true,
    ],
    [
      "overlap-file-bytes",
      ph(ph(base(), 2, VADDR, 0x400134), 2, OFFSET, 0x2134), // zero file bytes where the text segment has code,
      /^segments 1 and 2 overlap with different contents at 0x400134$/,
      false,
    ],
    [
      "overlap-zero-fill",
      ph(base(), 4, VADDR, 0x400000),
      /^segments 1 and 4 overlap with different contents at 0x400100$/,
      false,
    ],
    [
      "entry-outside",
      (() => {
        const e = base();
        new DataView(e.buffer).setUint32(24, 0x500000);
        return e;
      })(),
      /^ELF entry point 0x500000 is outside every PT_LOAD segment$/,
      false,
    ],
    [
      "phentsize",
      (() => {
        const e = base();
        new DataView(e.buffer).setUint16(42, 40);
        return e;
      })(),
      /^ELF program header size is 40, not 32$/,
      true,
    ],
    [
      "n32",
      (() => {
        const e = base();
        new DataView(e.buffer).setUint32(36, 0x50001021);
        return e;
      })(),
      /^ELF uses the n32 ABI \(e_flags 0x50001021\): the VM runs o32 \(build with -mabi=32\)$/,
      true,
    ],
    [
      "no-load",
      [1, 2, 3, 4].reduce((e, i) => ph(e, i, 0, PT_NULL), base()),
      /^ELF has no PT_LOAD segment$/,
      true,
    ],
  ];
  for (const [name, elf, re, refused] of cases) {
    const err = assertThrows(() => loadElf(elf), ElfError, re);
    assertEquals(err.message.includes("\n"), false, `${name}: one line`);
    assertEquals(await qemuRefuses(name, elf), refused, `${name}: qemu-mips refuses it`);
  }
});
