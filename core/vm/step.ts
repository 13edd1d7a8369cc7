/**
 * The MIPS32 instruction semantics of docs/VM.md: one implementation, used both for long runs
 * (`execute` with a large step count) and for single steps whose witness is recorded.
 * Mirrored instruction by instruction by `contracts/src/MIPS.sol`.
 * @module
 */
import { FAULT_EXIT_CODE, fccBit, Reg, type VmState } from "./state.ts";
import { cop1 } from "./_cop1.ts";
import type { PreimageOracle } from "./oracle.ts";
import type { Memory } from "./memory.ts";

import {
  type Block,
  blockPage,
  compileBlock,
  COMPILED,
  HANDBACK,
  IO_DATA,
  IO_FCSR,
  IO_HI,
  IO_LO,
  IO_NPC,
  IO_PC,
  makeBlockPage,
  MAX_BLOCK,
  restamp,
} from "./jit.ts";

/** Scratch for one preimage part per read syscall (allocation-free: see PreimageOracle.readInto). */
const PART = new Uint8Array(32);

/** What the VM does outside its state: output, hints, preimages. None of it changes the state. */
export interface VmHost {
  oracle: PreimageOracle;
  /** Bytes the guest writes to fd 1 and 2. */
  output?: (fd: 1 | 2, data: Uint8Array) => void;
  /** Bytes the guest writes to the hint fd 4. */
  hint?: (data: Uint8Array) => void;
  /**
   * Diagnostics, not semantics: stop (without taking the step) before fetching an instruction
   * from a page never loaded or written, where a runaway guest would slide over zero words
   * (no-ops) forever. `runToExit` sets it; traces and witnesses do not.
   */
  stopOnUnmappedPc?: boolean;
  /**
   * Diagnostics, not semantics: take every step in the interpreter, never in compiled blocks
   * (jit.ts). The results are the same, only slower; for tests that compare the two.
   */
  interpretOnly?: boolean;
  /**
   * Tuning, not semantics: visits of a block start before it is compiled (default 4000, at
   * most 65534). Tests set it low so that short programs run in blocks too.
   */
  compileAfter?: number;
}

const EBADF = 9;
const EINVAL = 22;

/** Linux o32 syscall numbers the VM implements. */
export const Syscall = {
  mmap: 4090,
  brk: 4045,
  clone: 4120,
  exitGroup: 4246,
  read: 4003,
  write: 4004,
  fcntl: 4055,
} as const;

/** File descriptors with a meaning in the VM. */
export const Fd = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  hintRead: 3,
  hintWrite: 4,
  preimageRead: 5,
  preimageWrite: 6,
  /** As `preimageRead`, but each aligned word receives its bytes in little-endian order. */
  preimageReadLe: 7,
} as const;

/** High 32 bits of the unsigned 64-bit product of two u32 (as i32: values stay small ints). */
export function mulHiU(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** High 32 bits of the signed 64-bit product of two i32 (as i32). */
export function mulHiS(a: number, b: number): number {
  let hi = mulHiU(a >>> 0, b >>> 0);
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  return hi;
}

/** How {@link interpret} returned: it took all the steps it was given. */
const EXIT_DONE = 0;
/** How {@link interpret} returned: the step faulted; the state is final. */
const EXIT_FAULT = 1;
/** How {@link interpret} returned: the next step is a syscall, for {@link execute} to take. */
const EXIT_SYSCALL = 2;
/** How {@link interpret} returned: the pc is on a never-mapped page (`stopOnUnmappedPc`). */
const EXIT_UNMAPPED = 3;
/** How {@link interpret} returned: the next step starts a compiled block (jit.ts). */
const EXIT_BLOCK = 4;
/** How {@link interpret} returned: the next step starts a run hot enough to compile. */
const EXIT_COMPILE = 5;
/**
 * How {@link interpret} returned, plus a page index: the next step stores into a page that
 * needs `Memory.touch` first (allocation, copy-on-write, dirty tracking).
 */
const EXIT_TOUCH = 8;
/** Switch key of a SPECIAL (opcode 0) instruction in {@link interpret}: `SPECIAL | funct`. */
const SPECIAL = 0x40;
/**
 * Visits of a block start (a pc reached in sequence) before it is compiled (jit.ts). A block
 * pays back its compilation and V8's own warm-up of it only over thousands of runs: at 64, the
 * short corpus programs took 4x the CPU time of the interpreter alone, at 4000 1.4x, while the
 * matvec bench ran as fast (4000 is within the 16-bit visit counts).
 */
const HOT = 4000;
/**
 * Most steps per call of {@link interpret}: short enough that V8 optimises it as a called
 * function early (its on-stack-replacement code is slower), long enough to cost nothing.
 */
const SLICE = 1 << 16;

/**
 * Executes up to `maxSteps` instructions (fewer if the machine exits or faults) and returns
 * how many steps were taken. An exited state takes no step. If a host service fails (a missing
 * preimage), the error is thrown with the state exactly as before the failing step.
 *
 * Steps run in {@link interpret}, or, once a path of code is hot, in blocks compiled from it
 * (jit.ts), which hand every case they do not cover back to the interpreter: the result is the
 * same step for step, whatever the budget (`VmHost.interpretOnly` turns blocks off).
 *
 * @example
 * ```ts
 * const { state } = loadElf(Deno.readFileSync("prog.elf"));
 * const host = { oracle: new PreimageOracle(new MapSource()) };
 * while (!state.exited) execute(state, host, 1_000_000);
 * ```
 */
export function execute(st: VmState, host: VmHost, maxSteps: number): number {
  if (st.exited) return 0;
  const start = st.step;
  const prior = st.lastDataAddr;
  const stopOnUnmapped = host.stopOnUnmappedPc === true;
  let blocks = host.interpretOnly !== true && canCompile;
  const hot = Math.min(Math.max((host.compileAfter ?? HOT) | 0, 1), COMPILED - 1);
  st.lastDataAddr = -1;
  for (;;) {
    const left = maxSteps - (st.step - start);
    // a fractional budget takes the step it began, as `n < maxSteps` would; NaN takes none
    const exit = interpret(st, left > SLICE ? SLICE : Math.ceil(left) | 0, stopOnUnmapped, blocks, hot);
    if (exit === EXIT_DONE) {
      if (!(left > SLICE)) break;
    } else if (exit === EXIT_SYSCALL) {
      // the state is the syscall's pre-step state: if the host fails, it stays so
      st.lastDataAddr = prior;
      const dataAddr = syscall(st, host);
      st.step++;
      st.lastDataAddr = dataAddr;
      if (st.exited) break;
      st.pc = st.nextPC;
      st.nextPC = (st.nextPC + 4) >>> 0;
    } else if (exit === EXIT_BLOCK) {
      runBlocks(st, maxSteps - (st.step - start));
    } else if (exit === EXIT_COMPILE) {
      try {
        compileBlock(makeBlockPage(st.pc >>> 12), st.memory, st.pc);
      } catch {
        // no code from strings here (a locked-down runtime): interpret from now on
        canCompile = blocks = false;
        continue;
      }
      runBlocks(st, maxSteps - (st.step - start));
    } else if (exit >= EXIT_TOUCH) st.memory.touch(exit - EXIT_TOUCH);
    else break;
  }
  return st.step - start;
}

/** Whether blocks can be compiled: false once `new Function` failed. */
let canCompile = true;

/** The registers a block reads and writes besides `regs`: pc, nextPC, dataAddr, lo, hi. */
const io = new Int32Array(6);

/**
 * A direct-mapped cache of the blocks by start address, in front of the block pages of jit.ts,
 * so that going from block to block needs no page lookup: 2^14 lines by word address.
 */
const CACHE_BITS = 14;
const CACHE_MASK = (1 << CACHE_BITS) - 1;
/** Start address of the block in each line; line i initially holds one that maps elsewhere. */
const cachePc = Int32Array.from({ length: 1 << CACHE_BITS }, (_, i) => ((i + 1) & CACHE_MASK) << 2);
const cacheFn: Block[] = new Array<Block>(1 << CACHE_BITS).fill(() => -1);
const cacheLen = new Uint8Array(1 << CACHE_BITS);

/**
 * Runs compiled blocks back to back from `st.pc` (whose nextPC is pc + 4) while the next pc
 * starts one that fits in `maxSteps`; returns to the interpreter at anything else, including
 * a block that handed back before an instruction.
 */
function runBlocks(st: VmState, maxSteps: number): void {
  const r = st.regs;
  const mem = st.memory;
  const slots = mem.slots;
  const store = mem.store;
  const writable = mem.writable;
  const gens = mem.codeGenerations();
  io[IO_DATA] = st.lastDataAddr | 0;
  io[IO_LO] = st.lo;
  io[IO_HI] = st.hi;
  io[IO_FCSR] = st.fcsr;
  const f = st.fpr;
  let pc = st.pc | 0;
  let npc = 0; // pc + 4, unless a block handed back
  let handedBack = false;
  let n = 0;
  const roomy = maxSteps - MAX_BLOCK; // up to here, any block fits
  for (;;) {
    const line = (pc >>> 2) & CACHE_MASK;
    if (cachePc[line] !== pc && !fillCache(pc, line)) break;
    if (n > roomy && n + cacheLen[line] > maxSteps) break;
    const k = cacheFn[line](r, io, slots, store, writable, gens, f);
    if (k < 0) { // a page of it was written, or is another memory's: run it if the code is the same
      if (restamp(blockPage(pc >>> 12), (pc & 0xfff) >>> 2, mem)) continue;
      dropBlock(pc, line);
      break;
    }
    if (k >= HANDBACK) { // the next instruction is the interpreter's
      n += k - HANDBACK;
      pc = io[IO_PC];
      npc = io[IO_NPC];
      handedBack = true;
      break;
    }
    n += k;
    pc = io[IO_PC];
  }
  if (!handedBack) npc = (pc + 4) | 0;
  st.pc = pc >>> 0;
  st.nextPC = npc >>> 0;
  st.step += n;
  const d = io[IO_DATA];
  st.lastDataAddr = d === -1 ? -1 : d >>> 0;
  // (a value equal mod 2^32 keeps its representation)
  if (io[IO_LO] !== (st.lo | 0)) st.lo = io[IO_LO];
  if (io[IO_HI] !== (st.hi | 0)) st.hi = io[IO_HI];
  if (io[IO_FCSR] !== (st.fcsr | 0)) st.fcsr = io[IO_FCSR];
}

/** Puts the block that starts at `pc` into its cache line; false if there is none. */
function fillCache(pc: number, line: number): boolean {
  if (pc & 3) return false; // a misaligned pc faults, in the interpreter
  const w = (pc & 0xfff) >>> 2;
  const bp = blockPage(pc >>> 12);
  const fn = bp.fns[w];
  if (fn === undefined) return false;
  cachePc[line] = pc;
  cacheFn[line] = fn;
  cacheLen[line] = bp.len[w];
  return true;
}

/** Forgets the block that starts at `pc` (its code is not in this memory). */
function dropBlock(pc: number, line: number): void {
  const bp = blockPage(pc >>> 12);
  bp.fns[(pc & 0xfff) >>> 2] = undefined;
  bp.visits[(pc & 0xfff) >>> 2] = 0;
  cachePc[line] = ((line + 1) & CACHE_MASK) << 2;
}

/**
 * The instruction loop of {@link execute}: runs up to `maxSteps` steps on locals and writes
 * them back on return. It calls nothing, so that V8 keeps the register file, the page table
 * and the current code page in machine registers; whatever needs a call (a syscall, the first
 * store into a page since the last root or snapshot, a compiled block or one to compile after
 * `hot` visits, if `blocks`) returns to `execute` before the step, which takes it and comes
 * back. Returns an `EXIT_*` code.
 */
function interpret(
  st: VmState,
  maxSteps: number,
  stopOnUnmapped: boolean,
  blocks: boolean,
  hot: number,
): number {
  const r = st.regs;
  const mem = st.memory;
  const slots = mem.slots;
  const store = mem.store;
  const writable = mem.writable;
  // pc, npc and dataAddr live as int32 (one machine representation for V8), u32 outside
  let pc = st.pc | 0, npc = st.nextPC | 0, lo = st.lo, hi = st.hi;
  let dataAddr = st.lastDataAddr | 0; // -1 or an aligned address: never -1 by accident
  let n = 0;
  /** Why the loop stops: a fault, or a return to `execute` before the step (`EXIT_*`). */
  let exit = EXIT_DONE;
  // the fetched code page: `codeTag` is its base address, and never matches a misaligned pc
  // (bits 0-1) nor the invalid tag 4 (bit 2)
  let code = store[0];
  let codeTag = 4;
  let bp = blockPage(0);
  const limit = maxSteps | 0; // at most SLICE
  while (n < limit) {
    n++;
    const curPC = pc;
    if ((pc & 0xfffff003) !== codeTag) {
      if (pc & 3) {
        exit = EXIT_FAULT;
        break;
      }
      const islot = slots[pc >>> 12];
      if (islot === 0 && stopOnUnmapped) {
        exit = EXIT_UNMAPPED;
        break;
      }
      code = store[islot];
      codeTag = pc & 0xfffff000;
      bp = blockPage(pc >>> 12);
    }
    if (npc === ((pc + 4) | 0) && blocks) {
      // a block start: leave to run its block (if it fits, and not as the first step here:
      // a block may hand its first instruction back), or to compile one when it is hot
      const w = (pc & 0xfff) >>> 2;
      const visits = bp.visits[w];
      if (visits === COMPILED) {
        if (n > 1 && n - 1 + bp.len[w] <= limit) {
          exit = EXIT_BLOCK;
          break;
        }
      } else if (visits < hot) bp.visits[w] = visits + 1;
      else {
        bp.visits[w] = 0;
        exit = EXIT_COMPILE;
        break;
      }
    }
    const insn = code[(pc & 0xfff) >>> 2];
    pc = npc;
    npc = (npc + 4) | 0;
    const op = insn >>> 26;
    const rs = (insn >>> 21) & 31;
    const rt = (insn >>> 16) & 31;
    const rd = (insn >>> 11) & 31;
    const sa = (insn >>> 6) & 31;
    const imm = (insn << 16) >> 16; // se(imm)
    // One jump table for all: the opcode, or SPECIAL | funct for opcode 0 (the mask
    // `(op - 1) >> 31` is all ones only for op = 0). Unused fields cost nothing: V8 computes
    // them only in the cases that use them.
    switch (op | (((op - 1) >> 31) & (SPECIAL | (insn & 63)))) {
      case SPECIAL | 0x00: // sll
        r[rd] = r[rt] << sa;
        break;
      case SPECIAL | 0x01: // movf, movt: move if the FPU condition code cc is tf
        if (((st.fcsr >>> fccBit((insn >>> 18) & 7)) & 1) === ((insn >>> 16) & 1)) r[rd] = r[rs];
        break;
      case SPECIAL | 0x02: // srl: rs must be 0 (rs = 1 is MIPS32r2 rotr, others reserved)
        if (rs !== 0) exit = EXIT_FAULT;
        else r[rd] = r[rt] >>> sa;
        break;
      case SPECIAL | 0x03: // sra
        r[rd] = r[rt] >> sa;
        break;
      case SPECIAL | 0x04: // sllv
        r[rd] = r[rt] << (r[rs] & 31);
        break;
      case SPECIAL | 0x06: // srlv: sa must be 0 (sa = 1 is MIPS32r2 rotrv, others reserved)
        if (sa !== 0) exit = EXIT_FAULT;
        else r[rd] = r[rt] >>> (r[rs] & 31);
        break;
      case SPECIAL | 0x07: // srav
        r[rd] = r[rt] >> (r[rs] & 31);
        break;
      case SPECIAL | 0x08: // jr
        npc = r[rs];
        break;
      case SPECIAL | 0x09: { // jalr
        const target = r[rs];
        r[rd] = curPC + 8;
        npc = target;
        break;
      }
      case SPECIAL | 0x0a: // movz
        if (r[rt] === 0) r[rd] = r[rs];
        break;
      case SPECIAL | 0x0b: // movn
        if (r[rt] !== 0) r[rd] = r[rs];
        break;
      case SPECIAL | 0x0c: // syscall: taken by `execute`
        exit = EXIT_SYSCALL;
        break;
      case SPECIAL | 0x0f: // sync
        break;
      case SPECIAL | 0x10: // mfhi
        r[rd] = hi;
        break;
      case SPECIAL | 0x11: // mthi
        hi = r[rs];
        break;
      case SPECIAL | 0x12: // mflo
        r[rd] = lo;
        break;
      case SPECIAL | 0x13: // mtlo
        lo = r[rs];
        break;
      case SPECIAL | 0x18: // mult
        lo = Math.imul(r[rs], r[rt]);
        hi = mulHiS(r[rs], r[rt]);
        break;
      case SPECIAL | 0x19: // multu
        lo = Math.imul(r[rs], r[rt]);
        hi = mulHiU(r[rs] >>> 0, r[rt] >>> 0);
        break;
      case SPECIAL | 0x1a: // div
        if (r[rt] === 0) exit = EXIT_FAULT;
        else {
          lo = (r[rs] / r[rt]) | 0;
          hi = (r[rs] % r[rt]) | 0;
        }
        break;
      case SPECIAL | 0x1b: // divu
        if (r[rt] === 0) exit = EXIT_FAULT;
        else {
          const a = r[rs] >>> 0, b = r[rt] >>> 0;
          lo = Math.floor(a / b) | 0;
          hi = (a % b) | 0;
        }
        break;
      case SPECIAL | 0x20: { // add
        const s = r[rs] + r[rt];
        if (s > 0x7fffffff || s < -0x80000000) exit = EXIT_FAULT;
        else r[rd] = s;
        break;
      }
      case SPECIAL | 0x21: // addu
        r[rd] = r[rs] + r[rt];
        break;
      case SPECIAL | 0x22: { // sub
        const s = r[rs] - r[rt];
        if (s > 0x7fffffff || s < -0x80000000) exit = EXIT_FAULT;
        else r[rd] = s;
        break;
      }
      case SPECIAL | 0x23: // subu
        r[rd] = r[rs] - r[rt];
        break;
      case SPECIAL | 0x24: // and
        r[rd] = r[rs] & r[rt];
        break;
      case SPECIAL | 0x25: // or
        r[rd] = r[rs] | r[rt];
        break;
      case SPECIAL | 0x26: // xor
        r[rd] = r[rs] ^ r[rt];
        break;
      case SPECIAL | 0x27: // nor
        r[rd] = ~(r[rs] | r[rt]);
        break;
      case SPECIAL | 0x2a: // slt
        r[rd] = r[rs] < r[rt] ? 1 : 0;
        break;
      case SPECIAL | 0x2b: // sltu
        r[rd] = (r[rs] >>> 0) < (r[rt] >>> 0) ? 1 : 0;
        break;
      case SPECIAL | 0x30: // tge
        if (r[rs] >= r[rt]) exit = EXIT_FAULT;
        break;
      case SPECIAL | 0x31: // tgeu
        if ((r[rs] >>> 0) >= (r[rt] >>> 0)) exit = EXIT_FAULT;
        break;
      case SPECIAL | 0x32: // tlt
        if (r[rs] < r[rt]) exit = EXIT_FAULT;
        break;
      case SPECIAL | 0x33: // tltu
        if ((r[rs] >>> 0) < (r[rt] >>> 0)) exit = EXIT_FAULT;
        break;
      case SPECIAL | 0x34: // teq
        if (r[rs] === r[rt]) exit = EXIT_FAULT;
        break;
      case SPECIAL | 0x36: // tne
        if (r[rs] !== r[rt]) exit = EXIT_FAULT;
        break;
      case 0x01: { // REGIMM
        const x = r[rs];
        switch (rt) {
          case 0x00: // bltz
          case 0x02: // bltzl
          case 0x10: // bltzal
          case 0x12: // bltzall
          case 0x01: // bgez
          case 0x03: // bgezl
          case 0x11: // bgezal
          case 0x13: { // bgezall
            const taken = rt & 1 ? x >= 0 : x < 0;
            if (rt & 0x10) r[31] = curPC + 8;
            if (taken) npc = (curPC + 4 + (imm << 2)) | 0;
            else if (rt & 2) { // likely: skip the delay slot
              pc = npc;
              npc = (npc + 4) | 0;
            }
            break;
          }
          case 0x08: // tgei
            if (x >= imm) exit = EXIT_FAULT;
            break;
          case 0x09: // tgeiu
            if ((x >>> 0) >= (imm >>> 0)) exit = EXIT_FAULT;
            break;
          case 0x0a: // tlti
            if (x < imm) exit = EXIT_FAULT;
            break;
          case 0x0b: // tltiu
            if ((x >>> 0) < (imm >>> 0)) exit = EXIT_FAULT;
            break;
          case 0x0c: // teqi
            if (x === imm) exit = EXIT_FAULT;
            break;
          case 0x0e: // tnei
            if (x !== imm) exit = EXIT_FAULT;
            break;
          default:
            exit = EXIT_FAULT;
        }
        break;
      }
      case 0x02: // j
        npc = ((curPC + 4) & 0xf0000000) | ((insn & 0x03ffffff) << 2);
        break;
      case 0x03: // jal
        r[31] = curPC + 8;
        npc = ((curPC + 4) & 0xf0000000) | ((insn & 0x03ffffff) << 2);
        break;
      case 0x04: // beq (the common branches get their own cases)
        if (r[rs] === r[rt]) npc = (curPC + 4 + (imm << 2)) | 0;
        break;
      case 0x05: // bne
        if (r[rs] !== r[rt]) npc = (curPC + 4 + (imm << 2)) | 0;
        break;
      case 0x06: // blez
      case 0x07: // bgtz
      case 0x14: // beql
      case 0x15: // bnel
      case 0x16: // blezl
      case 0x17: { // bgtzl
        let taken: boolean;
        switch (op & 3) {
          case 0:
            taken = r[rs] === r[rt];
            break;
          case 1:
            taken = r[rs] !== r[rt];
            break;
          case 2:
            taken = r[rs] <= 0;
            break;
          default:
            taken = r[rs] > 0;
        }
        if ((op & 3) >= 2 && rt !== 0) exit = EXIT_FAULT; // blez/bgtz need rt = 0
        else if (taken) npc = (curPC + 4 + (imm << 2)) | 0;
        else if (op & 0x10) {
          pc = npc;
          npc = (npc + 4) | 0;
        }
        break;
      }
      case 0x08: { // addi
        const s = r[rs] + imm;
        if (s > 0x7fffffff || s < -0x80000000) exit = EXIT_FAULT;
        else r[rt] = s;
        break;
      }
      case 0x09: // addiu
        r[rt] = r[rs] + imm;
        break;
      case 0x0a: // slti
        r[rt] = r[rs] < imm ? 1 : 0;
        break;
      case 0x0b: // sltiu
        r[rt] = (r[rs] >>> 0) < (imm >>> 0) ? 1 : 0;
        break;
      case 0x0c: // andi
        r[rt] = r[rs] & (insn & 0xffff);
        break;
      case 0x0d: // ori
        r[rt] = r[rs] | (insn & 0xffff);
        break;
      case 0x0e: // xori
        r[rt] = r[rs] ^ (insn & 0xffff);
        break;
      case 0x0f: // lui
        r[rt] = insn << 16;
        break;
      case 0x11: // COP1: the FPU (docs/VM.md, Floating point)
        if (rs === 8) { // bc1f, bc1t, bc1fl, bc1tl
          if (((st.fcsr >>> fccBit((insn >>> 18) & 7)) & 1) === ((insn >>> 16) & 1)) {
            npc = (curPC + 4 + (imm << 2)) | 0;
          } else if (insn & 0x20000) { // likely: the delay slot is skipped
            pc = npc;
            npc = (npc + 4) | 0;
          }
        } else if (!cop1(st, insn)) exit = EXIT_FAULT;
        break;
      case 0x31: { // lwc1
        const a = (r[rs] + imm) | 0;
        dataAddr = a & ~3;
        if (a & 3) exit = EXIT_FAULT;
        else st.fpr[rt] = store[slots[a >>> 12]][(a & 0xfff) >>> 2];
        break;
      }
      case 0x39: { // swc1
        const a = (r[rs] + imm) | 0;
        dataAddr = a & ~3;
        if (a & 3) {
          exit = EXIT_FAULT;
          break;
        }
        const pi = a >>> 12;
        if (writable[pi] === 0) { // `execute` touches the page, then the step runs again
          exit = EXIT_TOUCH + pi;
          break;
        }
        store[slots[pi]][(a & 0xfff) >>> 2] = st.fpr[rt];
        break;
      }
      case 0x1c: { // SPECIAL2
        switch (insn & 63) {
          case 0x00: // madd
          case 0x01: // maddu
          case 0x04: // msub
          case 0x05: { // msubu
            const f = insn & 63;
            const plo = Math.imul(r[rs], r[rt]) >>> 0;
            const phi = f & 1 ? mulHiU(r[rs] >>> 0, r[rt] >>> 0) : mulHiS(r[rs], r[rt]);
            const olo = lo >>> 0;
            if (f & 4) {
              const nlo = (olo - plo) >>> 0;
              hi = (hi - phi - (olo < plo ? 1 : 0)) | 0;
              lo = nlo | 0;
            } else {
              const nlo = (olo + plo) >>> 0;
              hi = (hi + phi + (nlo < olo ? 1 : 0)) | 0;
              lo = nlo | 0;
            }
            break;
          }
          case 0x02: // mul
            r[rd] = Math.imul(r[rs], r[rt]);
            break;
          case 0x20: // clz
            r[rd] = Math.clz32(r[rs]);
            break;
          case 0x21: // clo
            r[rd] = Math.clz32(~r[rs]);
            break;
          default:
            exit = EXIT_FAULT;
        }
        break;
      }
      case 0x23: // lw
      case 0x30: { // ll
        const a = (r[rs] + imm) | 0;
        dataAddr = a & ~3;
        if (a & 3) exit = EXIT_FAULT;
        else r[rt] = store[slots[a >>> 12]][(a & 0xfff) >>> 2];
        break;
      }
      case 0x20: // lb
      case 0x21: // lh
      case 0x22: // lwl
      case 0x24: // lbu
      case 0x25: // lhu
      case 0x26: { // lwr
        const a = (r[rs] + imm) | 0;
        dataAddr = a & ~3;
        const w = store[slots[a >>> 12]][(a & 0xfff) >>> 2];
        switch (op) {
          case 0x20: // lb
            r[rt] = (w << (8 * (a & 3))) >> 24;
            break;
          case 0x21: // lh
            if (a & 1) exit = EXIT_FAULT;
            else r[rt] = (w << (8 * (a & 2))) >> 16;
            break;
          case 0x22: { // lwl
            const k = 8 * (a & 3);
            r[rt] = (w << k) | (r[rt] & ((1 << k) - 1));
            break;
          }
          case 0x24: // lbu
            r[rt] = (w >>> (24 - 8 * (a & 3))) & 0xff;
            break;
          case 0x25: // lhu
            if (a & 1) exit = EXIT_FAULT;
            else r[rt] = (w >>> (16 - 8 * (a & 2))) & 0xffff;
            break;
          default: { // lwr
            const k = 8 * (3 - (a & 3));
            r[rt] = (w >>> k) | (r[rt] & ~(0xffffffff >>> k));
          }
        }
        break;
      }
      case 0x33: // pref: no-op, no data word
        dataAddr = -1;
        break;
      case 0x2b: // sw
      case 0x38: { // sc
        const a = (r[rs] + imm) | 0;
        dataAddr = a & ~3;
        if (a & 3) {
          exit = EXIT_FAULT;
          break;
        }
        const pi = a >>> 12;
        if (writable[pi] === 0) { // `execute` touches the page, then the step runs again
          exit = EXIT_TOUCH + pi;
          break;
        }
        store[slots[pi]][(a & 0xfff) >>> 2] = r[rt];
        if (op === 0x38) r[rt] = 1;
        break;
      }
      case 0x28: // sb
      case 0x29: // sh
      case 0x2a: // swl
      case 0x2e: { // swr
        const a = (r[rs] + imm) | 0;
        dataAddr = a & ~3;
        const pi = a >>> 12;
        const page = store[slots[pi]];
        const w = page[(a & 0xfff) >>> 2];
        const x = r[rt];
        let v: number;
        switch (op) {
          case 0x28: { // sb
            const sh = 24 - 8 * (a & 3);
            v = (w & ~(0xff << sh)) | ((x & 0xff) << sh);
            break;
          }
          case 0x29: { // sh
            if (a & 1) {
              exit = EXIT_FAULT;
              v = 0;
              break;
            }
            const sh = 16 - 8 * (a & 2);
            v = (w & ~(0xffff << sh)) | ((x & 0xffff) << sh);
            break;
          }
          case 0x2a: { // swl
            const k = 8 * (a & 3);
            v = (x >>> k) | (w & ~(0xffffffff >>> k));
            break;
          }
          default: { // swr
            const k = 8 * (3 - (a & 3));
            v = (x << k) | (w & ((1 << k) - 1));
          }
        }
        if (exit !== EXIT_DONE) break;
        if (writable[pi] === 0) { // `execute` touches the page, then the step runs again
          exit = EXIT_TOUCH + pi;
          break;
        }
        page[(a & 0xfff) >>> 2] = v;
        break;
      }
      default: // break (SPECIAL 0x0d) and reserved
        if (op >= 0x20) dataAddr = (r[rs] + imm) & ~3; // a reserved load/store names its word
        exit = EXIT_FAULT;
    }
    if (exit !== EXIT_DONE) {
      npc = pc; // no instruction that stops the loop moves pc past its npc
      pc = curPC;
      break;
    }
    r[0] = 0;
  }

  r[0] = 0;
  if (exit === EXIT_FAULT) {
    st.exited = true;
    st.exitCode = FAULT_EXIT_CODE;
  } else if (exit !== EXIT_DONE) n--; // not taken here
  st.pc = pc >>> 0;
  st.nextPC = npc >>> 0;
  st.lo = lo;
  st.hi = hi;
  st.step += n;
  st.lastDataAddr = dataAddr === -1 ? -1 : dataAddr >>> 0;
  return exit;
}

/** Most bytes of one write(2) passed to the host's output (the VM's result is unaffected). */
const MAX_OUTPUT = 1 << 24;

/**
 * Executes the syscall in `v0` (docs/VM.md, Syscalls). Errors follow the Linux o32 convention:
 * `v0` = errno, `a3` = 1. on a state whose pc is the syscall's.
 * Returns the aligned data word address it accessed, or -1. Host lookups happen before any
 * change, so a failure leaves the state untouched.
 */
function syscall(st: VmState, host: VmHost): number {
  const r = st.regs;
  const mem = st.memory;
  const num = r[Reg.v0] >>> 0;
  const a0 = r[Reg.a0] >>> 0, a1 = r[Reg.a1] >>> 0, a2 = r[Reg.a2] >>> 0;
  let v0 = 0, v1 = 0;
  let dataAddr = -1;
  switch (num) {
    case Syscall.mmap: {
      let size = a1;
      if (size & 0xfff) size = (size + 0x1000 - (size & 0xfff)) >>> 0;
      if (a0 === 0) {
        v0 = st.heap;
        st.heap = (st.heap + size) >>> 0;
      } else v0 = a0;
      break;
    }
    case Syscall.brk:
      v0 = 0x40000000;
      break;
    case Syscall.clone:
      v0 = 1;
      break;
    case Syscall.exitGroup:
      st.exited = true;
      st.exitCode = a0 & 0xff;
      return -1;
    case Syscall.read:
      if (a0 === Fd.stdin) v0 = 0;
      else if (a0 === Fd.hintRead) v0 = a2;
      else if (a0 === Fd.preimageRead || a0 === Fd.preimageReadLe) {
        dataAddr = (a1 & ~3) >>> 0;
        if (a2 === 0) break; // reads nothing: the oracle is not asked (v0 = 0)
        const available = host.oracle.readInto(st.preimageKey, st.preimageOffset, PART);
        const n = Math.min(available, 32 - (a1 & 31), a2);
        if (n > 0) readIntoLeaf(mem, a1, n, a0 === Fd.preimageReadLe ? 3 : 0);
        st.preimageOffset = (st.preimageOffset + n) >>> 0;
        v0 = n;
      } else {
        v0 = EBADF;
        v1 = 1;
      }
      break;
    case Syscall.write:
      if (a0 === Fd.stdout || a0 === Fd.stderr) {
        host.output?.(a0, mem.readBytes(a1, Math.min(a2, MAX_OUTPUT)));
        v0 = a2;
      } else if (a0 === Fd.hintWrite) {
        host.hint?.(mem.readBytes(a1, Math.min(a2, MAX_OUTPUT)));
        v0 = a2;
      } else if (a0 === Fd.preimageWrite) {
        dataAddr = (a1 & ~3) >>> 0;
        const k = a1 & 3;
        const n = Math.min(a2, 4 - k);
        const w = mem.readWord(dataAddr);
        const key = st.preimageKey;
        key.copyWithin(0, n);
        for (let i = 0; i < n; i++) key[32 - n + i] = (w >>> (24 - 8 * (k + i))) & 0xff;
        st.preimageOffset = 0;
        v0 = n;
      } else {
        v0 = EBADF;
        v1 = 1;
      }
      break;
    case Syscall.fcntl:
      if (a1 !== 3) {
        v0 = EINVAL;
        v1 = 1;
      } else if (
        a0 === Fd.stdin || a0 === Fd.hintRead || a0 === Fd.preimageRead || a0 === Fd.preimageReadLe
      ) v0 = 0;
      else if (
        a0 === Fd.stdout || a0 === Fd.stderr || a0 === Fd.hintWrite || a0 === Fd.preimageWrite
      ) v0 = 1;
      else {
        v0 = EBADF;
        v1 = 1;
      }
      break;
  }
  r[Reg.v0] = v0;
  r[Reg.a3] = v1;
  return dataAddr;
}

/**
 * Writes the first `n` bytes of PART into the 32-byte leaf holding `addr` (docs/VM.md, preimage
 * read): byte j goes to `(addr + j) ^ flip` (flip 3: little-endian within each aligned word).
 */
function readIntoLeaf(mem: Memory, addr: number, n: number, flip: number): void {
  const leaf = (addr & ~31) >>> 0;
  const k = addr & 31;
  for (let wi = k >>> 2; wi <= (k + n - 1) >>> 2; wi++) {
    const wa = leaf + 4 * wi;
    let w = mem.readWord(wa);
    const lo = Math.max(k, 4 * wi), hi = Math.min(k + n, 4 * wi + 4);
    for (let p = lo; p < hi; p++) {
      const sh = 24 - 8 * ((p ^ flip) & 3);
      w = (w & ~(0xff << sh)) | (PART[p - k] << sh);
    }
    mem.writeWord(wa, w >>> 0);
  }
}
