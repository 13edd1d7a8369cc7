/**
 * Loads a static big-endian MIPS32 ELF executable into an initial VM state (docs/VM.md,
 * Initial state).
 *
 * The rules follow the System V gABI and what Linux and `qemu-mips` accept: only `PT_LOAD`
 * segments are read (every other program header is ignored); a segment's file bytes are the
 * `p_filesz` bytes at `p_offset`, the rest up to `p_memsz` is zero, so a segment with
 * `p_filesz == 0` (a bss-only segment) reads nothing from the file, wherever `p_offset` points.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { Memory, PAGE_SIZE } from "./memory.ts";
import { Reg, VmState } from "./state.ts";

/** Where the mmap heap starts. Program segments must end below it. */
export const HEAP_START = 0x20000000;
/** The initial stack pointer; the stack grows down from here. */
export const STACK_TOP = 0x7ffff000;

/** The file is not an ELF the VM can run; the message says why. */
export class ElfError extends OpmlError {
  override name = "ElfError";
}

const PT_LOAD = 1;
const EM_MIPS = 8;
const ET_EXEC = 2;
/** The size of an Elf32_Phdr; Linux and qemu refuse any other e_phentsize. */
const PHDR_SIZE = 32;
/** e_flags: the n32 ABI (64-bit registers), which neither o32 Linux nor qemu-mips runs. */
const EF_MIPS_ABI2 = 0x20;
const ADDRESS_SPACE = 2 ** 32;

/** One PT_LOAD program header. */
interface Segment {
  /** Index in the program header table, for messages. */
  index: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const describe = (s: Segment) => `segment ${s.index} (vaddr ${hex(s.vaddr)})`;

/**
 * Parses `bytes` as a static 32-bit big-endian MIPS executable and returns the initial state:
 * every PT_LOAD segment in memory, pc at the entry point, sp at {@link STACK_TOP}, heap at
 * {@link HEAP_START}. Throws {@link ElfError} with a one-line reason on anything else
 * (docs/VM.md lists the rules).
 *
 * @example
 * ```ts
 * const state = loadElf(Deno.readFileSync("build/corpus/O2/hello.elf"));
 * state.pc; // the entry point
 * ```
 */
export function loadElf(bytes: Uint8Array): VmState {
  if (bytes.length < 52) {
    if (bytes.length >= 4 && isElfMagic(bytes)) {
      throw new ElfError(`truncated ELF header (${bytes.length} bytes)`);
    }
    throw new ElfError("not an ELF file (no ELF magic)");
  }
  if (!isElfMagic(bytes)) throw new ElfError("not an ELF file (no ELF magic)");
  if (bytes[4] !== 1) throw new ElfError(`64-bit ELF: the VM runs 32-bit MIPS executables only`);
  if (bytes[5] !== 2) throw new ElfError(`little-endian ELF: the VM runs big-endian MIPS (build with -EB)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const machine = v.getUint16(18);
  if (machine !== EM_MIPS) throw new ElfError(`ELF machine is ${machine}, not MIPS (8)`);
  const type = v.getUint16(16);
  if (type !== ET_EXEC) throw new ElfError(`ELF type is ${type}, not a static executable (2)`);
  const flags = v.getUint32(36);
  if (flags & EF_MIPS_ABI2) {
    throw new ElfError(`ELF uses the n32 ABI (e_flags ${hex(flags)}): the VM runs o32 (build with -mabi=32)`);
  }
  const entry = v.getUint32(24);
  const phoff = v.getUint32(28);
  const phentsize = v.getUint16(42);
  const phnum = v.getUint16(44);
  if (phnum === 0) throw new ElfError("ELF has no program headers");
  if (phentsize !== PHDR_SIZE) {
    throw new ElfError(`ELF program header size is ${phentsize}, not ${PHDR_SIZE}`);
  }
  if (phoff + phnum * phentsize > bytes.length) {
    throw new ElfError(
      `truncated ELF: program headers end at ${phoff + phnum * phentsize}, file is ${bytes.length} bytes`,
    );
  }
  if (entry & 3) throw new ElfError(`ELF entry point ${hex(entry)} is not word-aligned`);

  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    // other program headers (PT_NOTE, PT_GNU_STACK, PT_MIPS_ABIFLAGS, ...) do not affect memory
    if (v.getUint32(h) !== PT_LOAD) continue;
    const s: Segment = {
      index: i,
      offset: v.getUint32(h + 4),
      vaddr: v.getUint32(h + 8),
      filesz: v.getUint32(h + 16),
      memsz: v.getUint32(h + 20),
    };
    checkSegment(s, bytes.length);
    segments.push(s);
  }
  if (segments.length === 0) throw new ElfError("ELF has no PT_LOAD segment");
  checkOverlaps(segments, bytes);
  if (!segments.some((s) => entry - s.vaddr >= 0 && entry - s.vaddr < s.memsz)) {
    throw new ElfError(`ELF entry point ${hex(entry)} is outside every PT_LOAD segment`);
  }

  const mem = new Memory();
  for (const s of segments) {
    mem.writeBytes(s.vaddr, bytes.subarray(s.offset, s.offset + s.filesz));
    // the zero-filled rest (bss) is zero already; map its pages for diagnostics
    const last = Math.ceil((s.vaddr + s.memsz) / PAGE_SIZE);
    for (let p = Math.floor((s.vaddr + s.filesz) / PAGE_SIZE); p < last; p++) mem.touch(p);
  }

  const st = new VmState(mem);
  st.pc = entry;
  st.nextPC = entry + 4;
  st.heap = HEAP_START;
  st.regs[Reg.sp] = STACK_TOP;
  // map the initial stack pages (zero) so that stack use is not reported as unmapped
  for (let p = STACK_TOP - 0x10000; p <= STACK_TOP; p += 0x1000) mem.touch(p >>> 12);
  return st;
}

/** The rules for one PT_LOAD segment on its own. */
function checkSegment(s: Segment, fileSize: number): void {
  const where = describe(s);
  if (s.filesz > s.memsz) {
    throw new ElfError(`${where}: file size ${s.filesz} exceeds memory size ${s.memsz}`);
  }
  if (s.vaddr + s.memsz > ADDRESS_SPACE) {
    throw new ElfError(`${where}: memory size ${s.memsz} wraps around the 32-bit address space`);
  }
  // only the p_filesz bytes at p_offset are read: a segment without file bytes reads nothing
  if (s.filesz > 0) {
    if (s.offset + s.filesz > fileSize) {
      throw new ElfError(
        `truncated ELF: ${where} needs bytes up to ${s.offset + s.filesz}, file is ${fileSize} bytes`,
      );
    }
    if ((s.offset - s.vaddr) % PAGE_SIZE !== 0) {
      throw new ElfError(
        `${where}: file offset ${hex(s.offset)} and address are not congruent modulo the ` +
          `${PAGE_SIZE}-byte page (Linux and qemu cannot map it)`,
      );
    }
  }
  if (s.memsz > 0 && s.vaddr + s.memsz > HEAP_START) {
    throw new ElfError(`${where} ends at ${hex(s.vaddr + s.memsz)}, above the heap start ${hex(HEAP_START)}`);
  }
}

/**
 * Segments may overlap only where they give every byte the same value (file bytes or zero), as
 * a duplicated segment does: elsewhere the memory image would depend on the loading order.
 */
function checkOverlaps(segments: Segment[], bytes: Uint8Array): void {
  const sorted = segments.filter((s) => s.memsz > 0).sort((a, b) => a.vaddr - b.vaddr);
  const byteAt = (s: Segment, addr: number) =>
    addr - s.vaddr < s.filesz ? bytes[s.offset + addr - s.vaddr] : 0;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    const aEnd = a.vaddr + a.memsz;
    for (let j = i + 1; j < sorted.length && sorted[j].vaddr < aEnd; j++) {
      const b = sorted[j];
      const hi = Math.min(aEnd, b.vaddr + b.memsz);
      // past both segments' file bytes, both are zero
      const stop = Math.min(hi, Math.max(a.vaddr + a.filesz, b.vaddr + b.filesz));
      for (let addr = b.vaddr; addr < stop; addr++) {
        if (byteAt(a, addr) !== byteAt(b, addr)) {
          const [first, second] = a.index < b.index ? [a, b] : [b, a];
          throw new ElfError(
            `segments ${first.index} and ${second.index} overlap with different contents at ${hex(addr)}`,
          );
        }
      }
    }
  }
}

function isElfMagic(b: Uint8Array): boolean {
  return b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}
