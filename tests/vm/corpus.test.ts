/**
 * Differential test against qemu-mips: every C program of tests/vm/corpus, built in every flag
 * set, prints the same stdout and stderr and exits with the same code in our VM as under
 * `qemu-mips -cpu 24Kc`. So do the layout programs (tests/vm/corpus/layouts/), linked into the
 * ELF shapes gcc and ld produce (bss-only and several writable segments, no writable segment,
 * segments starting mid-page, ld's default layouts); each is first checked to have its shape,
 * and to pass its own checks under qemu.
 *
 * The builds are made on first use, so `--filter layout` builds only the layout programs.
 */
import { assert, assertEquals } from "../_assert.ts";
import {
  buildCorpus,
  buildLayouts,
  type CorpusEntry,
  LAYOUTS,
  listPrograms,
} from "../../tasks/build_corpus.ts";
import { runQemu } from "../../tasks/qemu.ts";
import { runVmElf, text } from "./_mips.ts";

let corpus: Promise<CorpusEntry[]> | undefined;
const builds = async (name: string) =>
  (await (corpus ??= buildCorpus({ log: () => {} }))).filter((e) => e.name === name);

for (const name of listPrograms().filter((n) => n !== "matvec_bench")) {
  Deno.test(`corpus ${name}: VM equals qemu-mips in every flag set`, async () => {
    const entries = await builds(name);
    assert(entries.length > 0, `${name}: nothing built`);
    for (const b of entries) {
      const q = await runQemu(b.elf);
      const v = runVmElf(b.elf);
      const where = `${name} [${b.flagset}]`;
      assertEquals(text(v.stdout), text(q.stdout), `${where}: stdout`);
      assertEquals(text(v.stderr), text(q.stderr), `${where}: stderr`);
      assertEquals(v.exitCode, q.exitCode, `${where}: exit code`);
    }
  });
}

// ---- layout programs ----

const PT_LOAD = 1, PT_NOTE = 4, PT_GNU_STACK = 0x6474e551;
const PT_MIPS_REGINFO = 0x70000000, PT_MIPS_ABIFLAGS = 0x70000003;
const PF_X = 1, PF_W = 2, PF_R = 4;

interface Phdr {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

/** The program headers and section names of an ELF32 big-endian file (for shape checks). */
function shape(bytes: Uint8Array): { phdrs: Phdr[]; loads: Phdr[]; sections: string[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const phoff = v.getUint32(28), phnum = v.getUint16(44);
  const phdrs = Array.from({ length: phnum }, (_, i) => {
    const h = phoff + 32 * i;
    return {
      type: v.getUint32(h),
      offset: v.getUint32(h + 4),
      vaddr: v.getUint32(h + 8),
      filesz: v.getUint32(h + 16),
      memsz: v.getUint32(h + 20),
      flags: v.getUint32(h + 24),
    };
  });
  const shoff = v.getUint32(32), shnum = v.getUint16(48), shstrndx = v.getUint16(50);
  const strtab = v.getUint32(shoff + 40 * shstrndx + 16);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const start = strtab + v.getUint32(shoff + 40 * i);
    return text(bytes.subarray(start, bytes.indexOf(0, start)));
  });
  return { phdrs, loads: phdrs.filter((p) => p.type === PT_LOAD), sections };
}

const midPage = (p: Phdr) => p.vaddr % 4096 !== 0;
const writable = (p: Phdr) => (p.flags & PF_W) !== 0;
const noSection = (sections: string[], prefix: string) => !sections.some((s) => s.startsWith(prefix));

/** Per layout: the shape its ELF must have, as [what, holds] pairs. */
const SHAPES: Record<string, (elf: Uint8Array) => [string, boolean][]> = {
  bss_only: (elf) => {
    const { loads, sections } = shape(elf);
    const w = loads.filter(writable);
    return [
      ["one writable PT_LOAD", w.length === 1],
      ["with p_filesz 0", w[0]?.filesz === 0 && w[0]?.memsz > 0],
      ["and p_offset past the end of the file", w[0]?.offset >= elf.length],
      ["no .data", noSection(sections, ".data")],
    ];
  },
  bss_only_ld: (elf) => {
    const { loads, sections } = shape(elf);
    const w = loads.filter(writable);
    return [
      ["one writable PT_LOAD with p_filesz 0", w.length === 1 && w[0].filesz === 0 && w[0].memsz > 0],
      ["no .data", noSection(sections, ".data")],
    ];
  },
  text_only: (elf) => {
    const { loads, sections } = shape(elf);
    return [
      ["a single PT_LOAD, R E", loads.length === 1 && loads[0].flags === (PF_R | PF_X)],
      ["no .rodata, .data or .bss", [".rodata", ".data", ".bss"].every((p) => noSection(sections, p))],
    ];
  },
  default: (elf) => {
    const { loads } = shape(elf);
    const [t, d] = loads;
    return [
      ["two PT_LOADs", loads.length === 2],
      ["text holds the ELF header", t.offset === 0 && t.vaddr % 4096 === 0],
      ["data starts mid-page, file bytes then zero fill", midPage(d) && d.filesz > 0 && d.memsz > d.filesz],
    ];
  },
  separate_code: (elf) => {
    const { loads } = shape(elf);
    return [
      ["four PT_LOADs: R, R E, R, RW", loads.map((p) => p.flags).join() === "4,5,4,6"],
      ["data starts mid-page", midPage(loads[3])],
    ];
  },
  omagic: (elf) => {
    const { loads } = shape(elf);
    return [
      ["one RWX PT_LOAD", loads.length === 1 && loads[0].flags === 7],
      ["starting mid-page, with zero fill", midPage(loads[0]) && loads[0].memsz > loads[0].filesz],
    ];
  },
  segments: (elf) => {
    const { phdrs, loads } = shape(elf);
    const [_text, ro, d1, d2, bss] = loads;
    const page = (a: number) => Math.floor(a / 4096);
    return [
      ["five PT_LOADs: R E, R, RW, RW, RW", loads.map((p) => p.flags).join() === "5,4,6,6,6"],
      ["rodata and data start mid-page", midPage(ro) && midPage(d1) && midPage(d2)],
      ["data2's file bytes cross a page", page(d2.vaddr) !== page(d2.vaddr + d2.filesz - 1)],
      ["data2's zero fill spans pages", page(d2.vaddr + d2.filesz) + 2 <= page(d2.vaddr + d2.memsz - 1)],
      ["bss segment has no file bytes", bss.filesz === 0 && bss.memsz > 0],
      [
        "ABIFLAGS, REGINFO, NOTE and GNU_STACK headers",
        [PT_MIPS_ABIFLAGS, PT_MIPS_REGINFO, PT_NOTE, PT_GNU_STACK].every((t) =>
          phdrs.some((p) => p.type === t)
        ),
      ],
    ];
  },
};

let layouts: ReturnType<typeof buildLayouts> | undefined;

for (const l of LAYOUTS) {
  Deno.test(`corpus layout ${l.name}: VM equals qemu-mips`, async () => {
    const built = (await (layouts ??= buildLayouts({ log: () => {} }))).find((e) => e.name === l.name)!;
    const elf = Deno.readFileSync(built.elf);
    const check = SHAPES[l.name];
    assert(check, `no shape check for layout ${l.name}`);
    for (const [what, holds] of check(elf)) assert(holds, `${l.name}: not the intended shape: ${what}`);
    const q = await runQemu(built.elf);
    assertEquals(
      q.exitCode,
      l.exitCode,
      `${l.name}: exit code under qemu\n${text(q.stdout)}${text(q.stderr)}`,
    );
    const v = runVmElf(built.elf);
    assertEquals(text(v.stdout), text(q.stdout), `${l.name}: stdout`);
    assertEquals(text(v.stderr), text(q.stderr), `${l.name}: stderr`);
    assertEquals(v.exitCode, q.exitCode, `${l.name}: exit code`);
  });
}
