/**
 * Block compiler of the fast mode. A hot path of instructions becomes one JavaScript function
 * over register locals, so that the path costs one call instead of one fetch, decode and
 * dispatch per instruction. A path runs straight on, through direct jumps and calls, through a
 * return to a link it wrote, and through each conditional branch the way it likely goes (back
 * for a backward branch, on for a forward one); the other way leaves the block after the delay
 * slot. At most {@link MAX_BLOCK} steps.
 *
 * The interpreter in step.ts stays the definition of every instruction. A block holds only
 * instructions whose effect it states exactly, mirroring the interpreter case by case, and
 * hands anything else back to it *before* the instruction, with the state exactly as the
 * interpreter would have it there: a fault or trap, an overflow, a misaligned access, a store
 * into a page that is not `writable` (the first since the last root or snapshot, or a page
 * holding code), a division by zero, a syscall. FPU instructions (COP1, lwc1, swc1, the FPU
 * branches, movf/movt) call the interpreter's own binary32 functions (fpu.ts) on the FPU
 * register file; the rare encodings _cop1.ts rejects are handed back.
 *
 * Code does not change under a block: each page a block was compiled from carries a stamp (a
 * code generation, `Memory.codeGenerations`) that any write clears, since stamped pages are
 * kept non-writable and every write to them goes through `Memory.touch`. A block runs only
 * while the stamps of its pages are the ones it was compiled under. A generation stands for the
 * page's content (a copy is kept), so a page with the same code in another memory (a clone, a
 * checkpoint, the same program loaded again) is re-stamped after one comparison, and blocks are
 * shared by all VM states, keyed by address. Unmapped pages are never stamped: blocks never run
 * there.
 * @module
 */
import type { Memory } from "./memory.ts";
import { mulHiS, mulHiU } from "./step.ts";
import { CTC1_FAULT_BITS, FCC_MASK, fccBit } from "./state.ts";
import { cvtSW, cvtWS, fadd, fcompare, fdiv, fmul, fsqrt, fsub, RoundTo } from "./fpu.ts";

/**
 * A compiled block: `(r, io, slots, store, writable, gens, f) => steps`, over the register file,
 * the page table and the code generation stamps of a memory, and the FPU registers `f`. `io`
 * carries [pc, nextPC, dataAddr, lo, hi, fcsr] out (and dataAddr, lo, hi, fcsr in). Returns the steps taken, plus
 * {@link HANDBACK} if it stopped before an instruction for the interpreter; or -1, without a
 * step, if a page of it does not carry the stamp it was compiled under.
 */
export type Block = (
  r: Int32Array,
  io: Int32Array,
  slots: Int32Array,
  store: Uint32Array[],
  writable: Uint8Array,
  gens: Int32Array,
  f: Int32Array,
) => number;

/** `BlockPage.visits` of a word where a block starts. */
export const COMPILED = 0xffff;

/** Added to the steps a block returns when it hands back to the interpreter before an instruction. */
export const HANDBACK = 256;

/** Indices into a block's `io` array. */
export const IO_PC = 0, IO_NPC = 1, IO_DATA = 2, IO_LO = 3, IO_HI = 4, IO_FCSR = 5;

/** The compiled blocks of one 4 KiB page, by word index of their first instruction. */
export interface BlockPage {
  readonly fns: (Block | undefined)[];
  /** The most steps each block takes. */
  readonly len: Uint8Array;
  /**
   * Per word: {@link COMPILED} if a block starts there, else its visits as a block start so
   * far (one typed array for the interpreter to look at each step).
   */
  readonly visits: Uint16Array;
  /** For each block: the pages it was compiled from and their generations, in pairs. */
  readonly stamps: (number[] | undefined)[];
}

/**
 * Most steps in one block. Longer paths leave early more often, and V8 optimises big functions
 * late: 32 measured best on the matvec bench (16: -15%, 64: -3%, 128: -7%).
 */
export const MAX_BLOCK = 32;

/** Blocks by page index, in two levels of 1024 (a flat array this sparse would be slow). */
const directory: (BlockPage | undefined)[][] = [];

/** The blocks of page `pi`, or {@link NO_BLOCKS} if none was made yet. */
export function blockPage(pi: number): BlockPage {
  const d = directory[pi >>> 10];
  return (d === undefined ? undefined : d[pi & 1023]) ?? NO_BLOCKS;
}

/**
 * Stands for a page without blocks: never holds one. Its visit counts are shared by all such
 * pages; they only decide when to make the page's own.
 */
export const NO_BLOCKS: BlockPage = newBlockPage();

function newBlockPage(): BlockPage {
  return {
    fns: new Array<Block | undefined>(1024).fill(undefined),
    len: new Uint8Array(1024),
    visits: new Uint16Array(1024),
    stamps: new Array<number[] | undefined>(1024).fill(undefined),
  };
}

/** The blocks of page `pi`, made if needed. */
export function makeBlockPage(pi: number): BlockPage {
  let d = directory[pi >>> 10];
  if (d === undefined) {
    d = new Array<BlockPage | undefined>(1024).fill(undefined);
    directory[pi >>> 10] = d;
  }
  let bp = d[pi & 1023];
  if (bp === undefined) {
    bp = newBlockPage();
    d[pi & 1023] = bp;
  }
  return bp;
}

/** A code generation: a page's content when blocks were first compiled from it. */
interface Generation {
  gen: number;
  copy: Uint32Array;
}
/** The latest few generations of each page index, newest last. */
const generations = new Map<number, Generation[]>();
/** Most generations kept per page index. */
const MAX_GENERATIONS = 4;
let lastGeneration = 0;
/** Stamps with a new generation given so far, per memory and page index. */
const stampsGiven = new WeakMap<Memory, Map<number, number>>();
/** Stamps with a generation the page held before, per memory and page index. */
const restampsGiven = new WeakMap<Memory, Map<number, number>>();
/**
 * Most stamps with a new generation one page of one memory gets. Past this, the page is taken
 * for one that holds data beside code, written all the time (each write would cost a
 * recompilation): only the interpreter runs it.
 */
const MAX_STAMPS = 32;
/**
 * Most stamps with a generation the page held before (its blocks are ready: one comparison of
 * the page, no compiling). A page whose code goes back and forth between a few versions, as a
 * `break` put in and taken out at every stop of a simulated `--tamper` run (core/dispute), gets
 * this many before the interpreter takes it over; 32 made such a run interpret its hottest page
 * after 16 stops (stories260K's lying server: 3x slower).
 */
const MAX_RESTAMPS = 1 << 16;

/** Counts a stamp for page `pi` of `mem` (`known`: a generation it held before); false if it had its share. */
function mayStamp(mem: Memory, pi: number, known: boolean): boolean {
  const counts = known ? restampsGiven : stampsGiven;
  let given = counts.get(mem);
  if (given === undefined) {
    given = new Map();
    counts.set(mem, given);
  }
  const n = given.get(pi) ?? 0;
  if (n >= (known ? MAX_RESTAMPS : MAX_STAMPS)) return false;
  given.set(pi, n + 1);
  return true;
}

function equalWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < 1024; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Stamps page `pi` of `mem` with the generation of its content (made if new) unless it is
 * stamped already, and returns the stamp; 0 if the page is not mapped, or gets no blocks.
 */
function stampPage(mem: Memory, pi: number): number {
  const gens = mem.codeGenerations();
  if (gens[pi] !== 0) return gens[pi];
  const slot = mem.slots[pi];
  if (slot === 0) return 0;
  const page = mem.store[slot];
  const list = generations.get(pi) ?? [];
  let g = list.find((x) => equalWords(x.copy, page));
  if (!mayStamp(mem, pi, g !== undefined)) return 0;
  if (g === undefined) {
    g = { gen: ++lastGeneration, copy: page.slice() };
    list.push(g);
    if (list.length > MAX_GENERATIONS) list.shift();
    generations.set(pi, list);
  }
  gens[pi] = g.gen;
  mem.writable[pi] = 0; // every write now goes through touch(), which clears the stamp
  return g.gen;
}

/**
 * After the block at word `w` of `bp` refused to run in `mem` (-1): re-stamps its pages where
 * they hold the content it was compiled from, and says whether it may run now.
 */
export function restamp(bp: BlockPage, w: number, mem: Memory): boolean {
  const stamps = bp.stamps[w];
  if (stamps === undefined) return false;
  const gens = mem.codeGenerations();
  for (let i = 0; i < stamps.length; i += 2) {
    const pi = stamps[i], want = stamps[i + 1];
    if (gens[pi] === want) continue;
    if (gens[pi] !== 0 || mem.slots[pi] === 0) return false; // other code there, or none
    const g = generations.get(pi)?.find((x) => x.gen === want);
    if (g === undefined || !equalWords(g.copy, mem.store[mem.slots[pi]]) || !mayStamp(mem, pi, true)) {
      return false;
    }
    gens[pi] = want;
    mem.writable[pi] = 0;
  }
  return true;
}

/** The functions compiled blocks call: the interpreter's own. */
const BLOCK_SCOPE = { mulHiU, mulHiS, fadd, fsub, fmul, fdiv, fsqrt, fcompare, cvtWS, cvtSW };

/** What kind of instruction a word is, for block building. */
const PLAIN = 0, CONTROL = 1, NONE = 2;

/**
 * Compiles the block that starts at `pc` in `mem` into `bp` (the block page of `pc`), stamping
 * the pages it reads. Leaves nothing if the first instruction cannot start a block. Only mapped
 * pages go into a block (the interpreter alone handles unmapped ones).
 */
export function compileBlock(bp: BlockPage, mem: Memory, pc: number): void {
  const body: string[] = [];
  const used = new Set<number>();
  const written = new Set<number>();
  let loHi = false;
  /** The pages the block's words lie in: page index to generation. */
  const pages = new Map<number, number>();
  /** What r31 is known to hold here (a link written by this block), or undefined. */
  let ra: number | undefined;
  // register expressions: r0 reads as 0, writes to it vanish
  const R = (n: number) => {
    if (n === 0) return "0";
    used.add(n);
    return `r${n}`;
  };
  const W = (n: number, e: string) => {
    if (n === 0) return "";
    if (n === 31) ra = undefined;
    used.add(n);
    written.add(n);
    return `r${n} = ${e};`;
  };
  /** The word at `at` (its page stamped and noted), or undefined if its page gets no blocks. */
  const fetch = (at: number): number | undefined => {
    const pi = at >>> 12;
    let gen = pages.get(pi);
    if (gen === undefined) {
      gen = stampPage(mem, pi);
      if (gen === 0) return undefined;
      pages.set(pi, gen);
    }
    return mem.store[mem.slots[pi]][(at & 0xfff) >>> 2];
  };
  /** Hands back to the interpreter before step `s`, at address `at` with nextPC `npc`. */
  const back = (s: number, at: number, npc: string) =>
    `{ @WB@ io[0] = ${at}; io[1] = ${npc}; return ${s + HANDBACK}; }`;

  /**
   * Code for a non-control instruction taken as step `i` at address `at`, or undefined if a
   * block cannot hold it. `npc` is its nextPC (an expression).
   */
  function plain(insn: number, i: number, at: number, npc: string): string | undefined {
    const op = insn >>> 26;
    const rs = (insn >>> 21) & 31, rt = (insn >>> 16) & 31, rd = (insn >>> 11) & 31;
    const sa = (insn >>> 6) & 31;
    const imm = (insn << 16) >> 16, uimm = insn & 0xffff;
    const s = R(rs), t = R(rt);
    if (op === 0) {
      switch (insn & 63) {
        case 0x00:
          return W(rd, `${t} << ${sa}`);
        case 0x02:
          return rs === 0 ? W(rd, `(${t} >>> ${sa}) | 0`) : undefined;
        case 0x03:
          return W(rd, `${t} >> ${sa}`);
        case 0x04:
          return W(rd, `${t} << (${s} & 31)`);
        case 0x06:
          return sa === 0 ? W(rd, `(${t} >>> (${s} & 31)) | 0`) : undefined;
        case 0x07:
          return W(rd, `${t} >> (${s} & 31)`);
        case 0x01: // movf, movt
          return rd === 0
            ? ""
            : `if (((io[5] >>> ${fccBit((insn >>> 18) & 7)}) & 1) === ${(insn >>> 16) & 1}) ${W(rd, s)}`;
        case 0x0a:
          return rd === 0 ? "" : `if (${t} === 0) ${W(rd, s)}`;
        case 0x0b:
          return rd === 0 ? "" : `if (${t} !== 0) ${W(rd, s)}`;
        case 0x10:
          loHi = true;
          return W(rd, "hi");
        case 0x11:
          loHi = true;
          return `hi = ${s};`;
        case 0x12:
          loHi = true;
          return W(rd, "lo");
        case 0x13:
          loHi = true;
          return `lo = ${s};`;
        case 0x18:
          loHi = true;
          return `lo = Math.imul(${s}, ${t}); hi = mulHiS(${s}, ${t});`;
        case 0x19:
          loHi = true;
          return `lo = Math.imul(${s}, ${t}); hi = mulHiU(${s} >>> 0, ${t} >>> 0);`;
        case 0x1a:
          loHi = true;
          return `if (${t} === 0) ${back(i, at, npc)} lo = (${s} / ${t}) | 0; hi = (${s} % ${t}) | 0;`;
        case 0x1b:
          loHi = true;
          return `if (${t} === 0) ${back(i, at, npc)} ` +
            `lo = Math.floor((${s} >>> 0) / (${t} >>> 0)) | 0; hi = ((${s} >>> 0) % (${t} >>> 0)) | 0;`;
        case 0x20:
          return `{ const v = ${s} + ${t}; if (v > 0x7fffffff || v < -0x80000000) ${back(i, at, npc)} ${
            W(rd, "v")
          } }`;
        case 0x21:
          return W(rd, `(${s} + ${t}) | 0`);
        case 0x22:
          return `{ const v = ${s} - ${t}; if (v > 0x7fffffff || v < -0x80000000) ${back(i, at, npc)} ${
            W(rd, "v")
          } }`;
        case 0x23:
          return W(rd, `(${s} - ${t}) | 0`);
        case 0x24:
          return W(rd, `${s} & ${t}`);
        case 0x25:
          return W(rd, `${s} | ${t}`);
        case 0x26:
          return W(rd, `${s} ^ ${t}`);
        case 0x27:
          return W(rd, `~(${s} | ${t})`);
        case 0x2a:
          return W(rd, `${s} < ${t} ? 1 : 0`);
        case 0x2b:
          return W(rd, `(${s} >>> 0) < (${t} >>> 0) ? 1 : 0`);
        default:
          return undefined; // syscall, break, sync, traps, jumps, reserved
      }
    }
    switch (op) {
      case 0x08:
        return `{ const v = ${s} + ${imm}; if (v > 0x7fffffff || v < -0x80000000) ${back(i, at, npc)} ${
          W(rt, "v")
        } }`;
      case 0x09:
        return W(rt, `(${s} + ${imm}) | 0`);
      case 0x0a:
        return W(rt, `${s} < ${imm} ? 1 : 0`);
      case 0x0b:
        return W(rt, `(${s} >>> 0) < ${imm >>> 0} ? 1 : 0`);
      case 0x0c:
        return W(rt, `${s} & ${uimm}`);
      case 0x0d:
        return W(rt, `${s} | ${uimm}`);
      case 0x0e:
        return W(rt, `${s} ^ ${uimm}`);
      case 0x0f:
        return W(rt, `${insn << 16}`);
      case 0x1c: // SPECIAL2
        return special2(insn, s, t, rd);
      case 0x11: // COP1 (not a branch: those are CONTROL)
        return cop1(insn, t, i, at, npc);
      case 0x31: // lwc1
        return `{ const a = (${s} + ${imm}) | 0; if (a & 3) ${back(i, at, npc)} io[2] = a; ` +
          `f[${rt}] = store[slots[a >>> 12]][(a & 0xfff) >>> 2]; }`;
      case 0x39: // swc1
        return `{ const a = (${s} + ${imm}) | 0; if (a & 3) ${back(i, at, npc)} const pi = a >>> 12; ` +
          `if (writable[pi] === 0) ${
            back(i, at, npc)
          } io[2] = a; store[slots[pi]][(a & 0xfff) >>> 2] = f[${rt}]; }`;
      case 0x23: // lw
      case 0x30: // ll
        return `{ const a = (${s} + ${imm}) | 0; if (a & 3) ${back(i, at, npc)} io[2] = a; ` +
          `${W(rt, "store[slots[a >>> 12]][(a & 0xfff) >>> 2] | 0")} }`;
      case 0x20: // lb
      case 0x21: // lh
      case 0x22: // lwl
      case 0x24: // lbu
      case 0x25: // lhu
      case 0x26: { // lwr
        const align = op === 0x21 || op === 0x25 ? `if (a & 1) ${back(i, at, npc)} ` : "";
        let v: string;
        if (op === 0x20) v = "(w << (8 * (a & 3))) >> 24";
        else if (op === 0x21) v = "(w << (8 * (a & 2))) >> 16";
        else if (op === 0x22) v = `(w << (8 * (a & 3))) | (${t} & ((1 << (8 * (a & 3))) - 1))`;
        else if (op === 0x24) v = "(w >>> (24 - 8 * (a & 3))) & 0xff";
        else if (op === 0x25) v = "(w >>> (16 - 8 * (a & 2))) & 0xffff";
        else v = `((w >>> (8 * (3 - (a & 3)))) | (${t} & ~(0xffffffff >>> (8 * (3 - (a & 3)))))) | 0`;
        return `{ const a = (${s} + ${imm}) | 0; ${align}io[2] = a & ~3; ` +
          `const w = store[slots[a >>> 12]][(a & 0xfff) >>> 2]; ${W(rt, v)} }`;
      }
      case 0x33: // pref
        return "io[2] = -1;";
      case 0x28: // sb
      case 0x29: // sh
      case 0x2a: // swl
      case 0x2b: // sw
      case 0x2e: // swr
      case 0x38: { // sc
        let align = "";
        if (op === 0x29) align = `if (a & 1) ${back(i, at, npc)} `;
        if (op === 0x2b || op === 0x38) align = `if (a & 3) ${back(i, at, npc)} `;
        let v: string;
        if (op === 0x28) {
          v = `(w & ~(0xff << (24 - 8 * (a & 3)))) | ((${t} & 0xff) << (24 - 8 * (a & 3)))`;
        } else if (op === 0x29) {
          v = `(w & ~(0xffff << (16 - 8 * (a & 2)))) | ((${t} & 0xffff) << (16 - 8 * (a & 2)))`;
        } else if (op === 0x2a) v = `(${t} >>> (8 * (a & 3))) | (w & ~(0xffffffff >>> (8 * (a & 3))))`;
        else if (op === 0x2e) v = `(${t} << (8 * (3 - (a & 3)))) | (w & ((1 << (8 * (3 - (a & 3)))) - 1))`;
        else v = t;
        const needW = op !== 0x2b && op !== 0x38;
        return `{ const a = (${s} + ${imm}) | 0; ${align}const pi = a >>> 12; ` +
          `if (writable[pi] === 0) ${back(i, at, npc)} io[2] = a & ~3; const p = store[slots[pi]]; ` +
          (needW ? `const w = p[(a & 0xfff) >>> 2]; ` : "") +
          `p[(a & 0xfff) >>> 2] = ${v}; ` +
          (op === 0x38 ? W(rt, "1") : "") + "}";
      }
      default:
        return undefined;
    }
  }

  /** Code for a SPECIAL2 instruction (madd, maddu, mul, msub, msubu, clz, clo), or undefined. */
  function special2(insn: number, s: string, t: string, rd: number): string | undefined {
    switch (insn & 63) {
      case 0x00:
      case 0x01:
      case 0x04:
      case 0x05: {
        loHi = true;
        const f = insn & 63;
        const phi = f & 1 ? `mulHiU(${s} >>> 0, ${t} >>> 0)` : `mulHiS(${s}, ${t})`;
        return f & 4
          ? `{ const plo = Math.imul(${s}, ${t}) >>> 0, ph = ${phi}, olo = lo >>> 0; ` +
            `const nlo = (olo - plo) >>> 0; hi = (hi - ph - (olo < plo ? 1 : 0)) | 0; lo = nlo | 0; }`
          : `{ const plo = Math.imul(${s}, ${t}) >>> 0, ph = ${phi}, olo = lo >>> 0; ` +
            `const nlo = (olo + plo) >>> 0; hi = (hi + ph + (nlo < olo ? 1 : 0)) | 0; lo = nlo | 0; }`;
      }
      case 0x02:
        return W(rd, `Math.imul(${s}, ${t})`);
      case 0x20:
        return W(rd, `Math.clz32(${s})`);
      case 0x21:
        return W(rd, `Math.clz32(~${s})`);
      default:
        return undefined;
    }
  }

  /**
   * Code for a COP1 instruction other than a branch, mirroring core/vm/_cop1.ts (the same
   * arithmetic functions), or undefined for one the interpreter takes (its faults included).
   */
  function cop1(insn: number, t: string, i: number, at: number, npc: string): string | undefined {
    const fmt = (insn >>> 21) & 31, ft = (insn >>> 16) & 31, fs = (insn >>> 11) & 31, fd = (insn >>> 6) & 31;
    const funct = insn & 63;
    if (fmt === 0) return W(ft, `f[${fs}]`); // mfc1
    if (fmt === 2) return fs === 31 ? W(ft, "io[5]") : undefined; // cfc1
    if (fmt === 4) return `f[${fs}] = ${t};`; // mtc1
    if (fmt === 6) { // ctc1
      return fs === 31
        ? `if ((${t} & ${CTC1_FAULT_BITS}) !== 0) ${back(i, at, npc)} io[5] = ${t} & ${FCC_MASK};`
        : undefined;
    }
    if (fmt === 20) return funct === 0x20 ? `f[${fd}] = cvtSW(f[${fs}]);` : undefined; // cvt.s.w
    if (fmt !== 16) return undefined;
    if (funct >= 0x30) { // c.cond.s
      const bit = 1 << fccBit((insn >>> 8) & 7);
      return `if (fcompare(f[${fs}], f[${ft}], ${funct & 15})) io[5] |= ${bit}; else io[5] &= ${~bit};`;
    }
    const bin = ["fadd", "fsub", "fmul", "fdiv"][funct];
    if (bin !== undefined) return `f[${fd}] = ${bin}(f[${fs}], f[${ft}]);`;
    const round: Record<number, number> = {
      0x0c: RoundTo.nearest,
      0x24: RoundTo.nearest,
      0x0d: RoundTo.zero,
      0x0e: RoundTo.up,
      0x0f: RoundTo.down,
    };
    if (round[funct] !== undefined) return `f[${fd}] = cvtWS(f[${fs}], ${round[funct]});`;
    switch (funct) {
      case 0x04:
        return `f[${fd}] = fsqrt(f[${fs}]);`;
      case 0x05:
        return `f[${fd}] = f[${fs}] & 0x7fffffff;`;
      case 0x06:
        return `f[${fd}] = f[${fs}];`;
      case 0x07:
        return `f[${fd}] = f[${fs}] ^ 0x80000000;`;
      case 0x11: // movf.s, movt.s
        return `if (((io[5] >>> ${fccBit((insn >>> 18) & 7)}) & 1) === ${ft & 1}) f[${fd}] = f[${fs}];`;
      case 0x12:
        return `if (${R(ft)} === 0) f[${fd}] = f[${fs}];`;
      case 0x13:
        return `if (${R(ft)} !== 0) f[${fd}] = f[${fs}];`;
      default:
        return undefined;
    }
  }

  function kind(insn: number): number {
    const op = insn >>> 26;
    if (op === 0x11) return ((insn >>> 21) & 31) === 8 ? CONTROL : PLAIN; // bc1f/t(l): a branch
    if (op === 0) {
      const f = insn & 63;
      return f === 0x08 || f === 0x09 ? CONTROL : PLAIN;
    }
    if (op === 0x01) return ((insn >>> 16) & 0x0c) === 0 ? CONTROL : NONE; // branches; traps are the interpreter's
    if (op === 0x02 || op === 0x03) return CONTROL;
    if ((op >= 0x04 && op <= 0x07) || (op >= 0x14 && op <= 0x17)) {
      // blez/bgtz with rt != 0 fault: the interpreter's
      return (op & 3) >= 2 && ((insn >>> 16) & 31) !== 0 ? NONE : CONTROL;
    }
    return PLAIN;
  }

  // Follow one path: straight on, through direct jumps and calls, through returns to a link
  // this block wrote, and through conditional branches, the way they are likely to go (back for
  // a backward branch: a loop; on for a forward one); the other way leaves the block after the
  // delay slot. Every path to an exit takes the same steps, so exits return constants.
  let s = 0;
  let at = pc | 0;
  let end = "";
  const exitTo = (to: number, steps: number) =>
    `@WB@ io[0] = ${to | 0}; io[1] = ${(to + 4) | 0}; return ${steps};`;
  for (;;) {
    const insn = s < MAX_BLOCK ? fetch(at) : undefined;
    if (insn === undefined) {
      end = exitTo(at, s);
      break;
    }
    const k = kind(insn);
    if (k === PLAIN) {
      const code = plain(insn, s, at, `${(at + 4) | 0}`);
      if (code === undefined) {
        end = exitTo(at, s);
        break;
      }
      body.push(code);
      s++;
      at = (at + 4) | 0;
      continue;
    }
    // a control transfer and its delay slot (which must be plain)
    const slot = k === CONTROL && s + 1 < MAX_BLOCK ? fetch((at + 4) | 0) : undefined;
    if (slot === undefined || kind(slot) !== PLAIN) {
      end = exitTo(at, s);
      break;
    }
    const link = (at + 8) | 0;
    const op = insn >>> 26;
    const rs = (insn >>> 21) & 31, rt = (insn >>> 16) & 31;
    const target = (at + 4 + (((insn << 16) >> 16) << 2)) | 0;
    const nxt = `nxt${s}`;
    let ctl: string;
    /** Where the path goes on after the delay slot, or undefined to leave via `nxt`. */
    let onward: number | undefined;
    /** Leaves the block after the delay slot when the path does not go on (a branch). */
    let sideExit = "";
    let newRa: number | undefined = ra;
    if (op === 0) { // jr, jalr
      ctl = `const ${nxt} = ${R(rs)};`;
      if ((insn & 63) === 0x09) {
        const rd = (insn >>> 11) & 31;
        ctl += W(rd, `${link}`);
        if (rd === 31) newRa = link;
      } else if (rs === 31 && ra !== undefined) {
        // a return to the link this block wrote: go on there (checked all the same)
        onward = ra;
        sideExit = `if (${nxt} !== ${ra}) { @WB@ io[0] = ${nxt}; io[1] = (${nxt} + 4) | 0; return ${
          s + 2
        }; }`;
      }
    } else if (op === 0x02 || op === 0x03) { // j, jal
      const jt = ((at + 4) & 0xf0000000) | ((insn & 0x03ffffff) << 2);
      ctl = `const ${nxt} = ${jt};`;
      if (op === 0x03) {
        ctl += W(31, `${link}`);
        newRa = link;
      }
      onward = jt;
    } else if ((op === 0x04 && rs === rt) || (op === 0x01 && rs === 0 && (rt === 0x01 || rt === 0x11))) {
      // b, bal: beq with equal registers, bgez(al) on r0: always taken
      ctl = `const ${nxt} = ${target};`;
      if (op === 0x01 && rt === 0x11) {
        ctl += W(31, `${link}`);
        newRa = link;
      }
      onward = target;
    } else {
      let cond: string;
      let likely: boolean;
      let linkCode = "";
      if (op === 0x11) { // bc1f, bc1t, bc1fl, bc1tl on condition code cc
        cond = `((io[5] >>> ${fccBit((insn >>> 18) & 7)}) & 1) === ${(insn >>> 16) & 1}`;
        likely = (insn & 0x20000) !== 0;
      } else if (op === 0x01) {
        const x = R(rs);
        cond = rt & 1 ? `${x} >= 0` : `${x} < 0`;
        likely = (rt & 2) !== 0;
        if (rt & 0x10) {
          linkCode = W(31, `${link}`);
          newRa = link;
        }
      } else {
        const x = R(rs), y = R(rt);
        const c = op & 3;
        cond = c === 0 ? `${x} === ${y}` : c === 1 ? `${x} !== ${y}` : c === 2 ? `${x} <= 0` : `${x} > 0`;
        likely = (op & 0x10) !== 0;
      }
      // the condition reads rs before a link overwrites r31
      ctl = `const taken${s} = ${cond}; ${linkCode}`;
      if (likely) { // not taken: the delay slot is skipped, and the block ends
        ctl += `if (!taken${s}) { ${exitTo(link, s + 1)} } const ${nxt} = ${target};`;
      } else {
        ctl += `const ${nxt} = taken${s} ? ${target} : ${link};`;
        if (target - at < 0) { // backward: a loop, go on back
          sideExit = `if (!taken${s}) { ${exitTo(link, s + 2)} }`;
          onward = target;
        } else {
          sideExit = `if (taken${s}) { ${exitTo(target, s + 2)} }`;
          onward = link;
        }
      }
    }
    ra = newRa; // (and the delay slot may overwrite r31 in turn)
    const slotCode = plain(slot, s + 1, (at + 4) | 0, nxt);
    if (slotCode === undefined) {
      end = exitTo(at, s);
      break;
    }
    body.push(ctl, slotCode, sideExit);
    s += 2;
    if (onward === undefined) {
      end = `@WB@ io[0] = ${nxt}; io[1] = (${nxt} + 4) | 0; return ${s};`;
      break;
    }
    at = onward | 0;
  }
  if (s === 0) return;
  body.push(end);

  const regs = [...used].sort((a, b) => a - b);
  const wb = [...written].sort((a, b) => a - b).map((n) => `r[${n}] = r${n};`).join(" ") +
    (loHi ? " io[3] = lo; io[4] = hi;" : "");
  const src = [
    `if (${[...pages].map(([pi, gen]) => `gens[${pi}] !== ${gen}`).join(" || ")}) return -1;`,
    regs.length > 0 ? `let ${regs.map((n) => `r${n} = r[${n}]`).join(", ")};` : "",
    loHi ? "let lo = io[3], hi = io[4];" : "",
    ...body,
  ].join("\n").replaceAll("@WB@", wb);
  const make = new Function(
    ...Object.keys(BLOCK_SCOPE),
    `return function block_${(pc >>> 0).toString(16)}(r, io, slots, store, writable, gens, f) {\n${src}\n};`,
  );
  const w0 = (pc & 0xfff) >>> 2;
  bp.fns[w0] = make(...Object.values(BLOCK_SCOPE)) as Block;
  bp.visits[w0] = COMPILED;
  bp.len[w0] = s;
  bp.stamps[w0] = [...pages].flat();
}
