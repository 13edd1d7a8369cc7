/**
 * Loads a static big-endian MIPS32 ELF executable into an initial VM state (docs/VM.md,
 * Initial state).
 * @module
 */
import { OpmlError } from "../errors.ts";
import { Memory } from "./memory.ts";
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

/**
 * Parses `bytes` as a static 32-bit big-endian MIPS executable and returns the initial state:
 * every PT_LOAD segment in memory, pc at the entry point, sp at {@link STACK_TOP}, heap at
 * {@link HEAP_START}. Throws {@link ElfError} with a one-line reason on anything else.
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
  const entry = v.getUint32(24);
  const phoff = v.getUint32(28);
  const phentsize = v.getUint16(42);
  const phnum = v.getUint16(44);
  if (phnum === 0) throw new ElfError("ELF has no program headers");
  if (phentsize < 32) throw new ElfError(`ELF program header size ${phentsize} is too small`);
  if (phoff + phnum * phentsize > bytes.length) {
    throw new ElfError(
      `truncated ELF: program headers end at ${phoff + phnum * phentsize}, file is ${bytes.length} bytes`,
    );
  }
  if (entry & 3) throw new ElfError(`ELF entry point 0x${entry.toString(16)} is not word-aligned`);

  const mem = new Memory();
  let loaded = 0;
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    if (v.getUint32(h) !== PT_LOAD) continue;
    const offset = v.getUint32(h + 4);
    const vaddr = v.getUint32(h + 8);
    const filesz = v.getUint32(h + 16);
    const memsz = v.getUint32(h + 20);
    const where = `segment ${i} (vaddr 0x${vaddr.toString(16)})`;
    if (filesz > memsz) throw new ElfError(`${where}: file size ${filesz} exceeds memory size ${memsz}`);
    if (offset + filesz > bytes.length) {
      throw new ElfError(
        `truncated ELF: ${where} needs bytes up to ${offset + filesz}, file is ${bytes.length} bytes`,
      );
    }
    if (vaddr + memsz > HEAP_START) {
      throw new ElfError(
        `${where} ends at 0x${(vaddr + memsz).toString(16)}, above the heap start 0x${
          HEAP_START.toString(16)
        }`,
      );
    }
    mem.writeBytes(vaddr, bytes.subarray(offset, offset + filesz));
    // the zero-filled rest (bss) is zero already; map its pages for diagnostics
    for (let p = (vaddr + filesz) & ~0xfff; p < vaddr + memsz; p += 0x1000) mem.touch(p >>> 12);
    loaded++;
  }
  if (loaded === 0) throw new ElfError("ELF has no PT_LOAD segment");

  const st = new VmState(mem);
  st.pc = entry;
  st.nextPC = entry + 4;
  st.heap = HEAP_START;
  st.regs[Reg.sp] = STACK_TOP;
  // map the initial stack pages (zero) so that stack use is not reported as unmapped
  for (let p = STACK_TOP - 0x10000; p <= STACK_TOP; p += 0x1000) mem.touch(p >>> 12);
  return st;
}

function isElfMagic(b: Uint8Array): boolean {
  return b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}
