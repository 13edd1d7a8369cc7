/**
 * Compiled blocks (core/vm/jit.ts) against the interpreter (`VmHost.interpretOnly`): the corpus
 * programs in every flag set, the runtime's hard-float image (real FPU code), and random
 * instruction streams with faults, traps, overflows, misaligned and first-touch stores,
 * self-modifying code, hashes and clones between calls. Both run in lockstep with irregular step budgets and must agree on the whole state after every call.
 */
import { assertEquals } from "../_assert.ts";
import { buildCorpus } from "../../tasks/build_corpus.ts";
import { execute, loadElf, MapSource, PreimageOracle, type VmHost, VmState } from "../../core/vm/mod.ts";
import { rng } from "./_mips.ts";
import { assemble, buildRuntime, compileGraph } from "../../core/compiler/mod.ts";
import { programPreimages } from "../../core/engine/vm.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { makeModel } from "../onnx/_make_model.ts";

/** Everything a step can change, except memory (compared by the state hash). */
function fields(st: VmState): string {
  return JSON.stringify({
    pc: st.pc,
    nextPC: st.nextPC,
    lo: st.lo >>> 0,
    hi: st.hi >>> 0,
    heap: st.heap,
    exited: st.exited,
    exitCode: st.exitCode,
    step: st.step,
    lastDataAddr: st.lastDataAddr,
    regs: Array.from(st.regs),
    fpr: Array.from(st.fpr),
    fcsr: st.fcsr >>> 0,
    preimageOffset: st.preimageOffset,
    preimageKey: Array.from(st.preimageKey),
  });
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * Runs `a` (interpreter only) and `b` (blocks, compiled after `compileAfter` visits: few, so
 * that short programs run in blocks) in lockstep; budgets from `next`.
 */
function lockstep(
  a: VmState,
  b: VmState,
  next: () => number,
  label: string,
  rounds = Infinity,
  compileAfter = 2,
  host: VmHost = { oracle: new PreimageOracle(new MapSource()) },
) {
  const quiet = host;
  const hostA: VmHost = { ...quiet, interpretOnly: true };
  const hostB: VmHost = { ...quiet, compileAfter };
  for (let i = 0; i < rounds && !a.exited; i++) {
    const k = next();
    let ea = "", eb = "";
    let na = -1, nb = -1;
    try {
      na = execute(a, hostA, k);
    } catch (e) {
      ea = String(e);
    }
    try {
      nb = execute(b, hostB, k);
    } catch (e) {
      eb = String(e);
    }
    const where = `${label}, call ${i} (${k} steps)`;
    assertEquals([nb, eb], [na, ea], `${where}: steps taken`);
    assertEquals(fields(b), fields(a), `${where}: state`);
    if (ea !== "") break;
    if (i % 16 === 0) assertEquals(hex(b.hash()), hex(a.hash()), `${where}: state hash`);
  }
  assertEquals(hex(b.hash()), hex(a.hash()), `${label}: final state hash`);
}

Deno.test("compiled blocks equal the interpreter on the corpus programs, in every flag set", async () => {
  const entries = (await buildCorpus({ log: () => {} })).filter((e) => e.name !== "matvec_bench");
  for (const e of entries) {
    const elf = Deno.readFileSync(e.elf);
    const rnd = rng(0x5eed ^ e.name.length);
    const budgets = [1, 2, 3, 7, 31, 32, 33, 100, 4096, 65537, 1 << 20];
    const label = `${e.name} [${e.flagset}]`;
    lockstep(loadElf(elf), loadElf(elf), () => budgets[rnd() % budgets.length], label, Infinity, 16);
  }
});

const CODE = 0x00400000, DATA = 0x10000000;
const REGS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 17, 29, 31];

/**
 * A random instruction word: mostly well-behaved ALU, branch, jump, load and store instructions
 * over a few registers (so values flow and loops form), with some that fault, trap or need the
 * interpreter. Bases r16, r17, r29 point at data; r17 sometimes at the code itself.
 */
function randomWord(rnd: () => number): number {
  const pick = <T>(xs: T[]) => xs[rnd() % xs.length];
  const rs = pick(REGS), rt = pick(REGS), rd = pick(REGS);
  const k = rnd() % 100;
  if (k < 3) return 0;
  if (k < 5) {
    return pick([0x0000000d, 0x0000000c, 0x00000034 | (rs << 21) | (rt << 16), 0x44000000, 0xbc000000]);
  }
  if (k < 20) return randomFpuWord(rnd, rs, rt, rd);
  if (k < 45) {
    const f = pick([
      0x00,
      0x02,
      0x03,
      0x04,
      0x06,
      0x07,
      0x0a,
      0x0b,
      0x10,
      0x11,
      0x12,
      0x13,
      0x18,
      0x19,
      0x1a,
      0x1b,
      0x20,
      0x21,
      0x22,
      0x23,
      0x24,
      0x25,
      0x26,
      0x27,
      0x2a,
      0x2b,
      0x08,
      0x09,
    ]);
    if (f === 0x08 || f === 0x09) return ((pick([4, 5, 31]) << 21) | (rd << 11) | f) >>> 0;
    const sa = f === 0x06 && rnd() % 8 !== 0 ? 0 : rnd() & 31;
    const s = f === 0x02 && rnd() % 8 !== 0 ? 0 : rs;
    return ((s << 21) | (rt << 16) | (rd << 11) | (sa << 6) | f) >>> 0;
  }
  const op = pick([
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    0x08,
    0x09,
    0x0a,
    0x0b,
    0x0c,
    0x0d,
    0x0e,
    0x0f,
    0x14,
    0x15,
    0x16,
    0x17,
    0x1c,
    0x20,
    0x21,
    0x22,
    0x23,
    0x24,
    0x25,
    0x26,
    0x28,
    0x29,
    0x2a,
    0x2b,
    0x2e,
    0x30,
    0x33,
    0x38,
  ]);
  if (op >= 0x20) {
    const imm = (rnd() % 16) * 4 + (rnd() % 8 === 0 ? rnd() % 4 : 0);
    return ((op << 26) | (pick([16, 17, 29]) << 21) | (rt << 16) | imm) >>> 0;
  }
  if (op === 0x02 || op === 0x03) return ((op << 26) | (((CODE >>> 2) + (rnd() % 256)) & 0x3ffffff)) >>> 0;
  if (op === 0x1c) {
    return ((0x1c << 26) | (rs << 21) | (rt << 16) | (rd << 11) | pick([0, 1, 2, 4, 5, 0x20, 0x21])) >>> 0;
  }
  let imm = rnd() & 0xffff;
  if (op <= 0x07 || op >= 0x14) imm = ((rnd() % 24) - 16) & 0xffff; // branches: loops, mostly
  if (op === 0x01) {
    return ((1 << 26) | (rs << 21) | (pick([0, 1, 2, 3, 0x10, 0x11, 0x12, 0x13, 8, 12]) << 16) | imm) >>> 0;
  }
  const t = (op & 3) >= 2 && (op <= 0x07 || op >= 0x14) && rnd() % 8 !== 0 ? 0 : rt;
  return ((op << 26) | (rs << 21) | (t << 16) | imm) >>> 0;
}

/** FPU registers the random FPU words use (few, so values flow). */
const FREGS = [0, 1, 2, 3, 12, 31];

/**
 * A random FPU word: loads and stores, moves, binary32 arithmetic, conversions, compares on
 * every condition code and predicate, conditional moves, FPU branches (likely ones too), and
 * encodings the VM rejects (double precision, other control registers, a ctc1 that faults).
 */
function randomFpuWord(rnd: () => number, rs: number, rt: number, rd: number): number {
  const pick = <T>(xs: T[]) => xs[rnd() % xs.length];
  const ft = pick(FREGS), fs = pick(FREGS), fd = pick(FREGS), cc = rnd() % 8;
  const cop1 = (fmt: number, t: number, s: number, d: number, funct: number) =>
    ((0x11 << 26) | (fmt << 21) | (t << 16) | (s << 11) | (d << 6) | funct) >>> 0;
  const k = rnd() % 14;
  if (k === 0) { // lwc1, swc1
    const imm = (rnd() % 16) * 4 + (rnd() % 8 === 0 ? rnd() % 4 : 0);
    return ((pick([0x31, 0x39]) << 26) | (pick([16, 17, 29]) << 21) | (ft << 16) | imm) >>> 0;
  }
  if (k === 1) return cop1(pick([0, 4]), rt, fs, 0, 0); // mfc1, mtc1
  if (k === 2) return cop1(pick([2, 6]), rt, pick([31, 31, 31, 0]), 0, 0); // cfc1, ctc1
  if (k === 3) { // bc1f, bc1t, bc1fl, bc1tl
    return ((0x11 << 26) | (8 << 21) | (cc << 18) | ((rnd() & 3) << 16) | (((rnd() % 24) - 16) & 0xffff)) >>>
      0;
  }
  if (k === 4) return cop1(16, ft, fs, cc << 2, 0x30 | (rnd() & 15)); // c.cond.s
  if (k === 5) return cop1(16, (cc << 2) | (rnd() & 1), fs, fd, 0x11); // movf.s, movt.s
  if (k === 6) return cop1(16, rt, fs, fd, pick([0x12, 0x13])); // movz.s, movn.s
  if (k === 7) return ((rs << 21) | (cc << 18) | ((rnd() & 1) << 16) | (rd << 11) | 0x01) >>> 0; // movf, movt
  if (k === 8) return cop1(20, 0, fs, fd, pick([0x20, 0x20, 0x21])); // cvt.s.w (cvt.d.w: rejected)
  if (k === 9) return cop1(17, ft, fs, fd, pick([0, 2])); // add.d, mul.d: rejected
  return cop1(16, ft, fs, fd, pick([0, 1, 2, 3, 4, 5, 6, 7, 0x0c, 0x0d, 0x0e, 0x0f, 0x24, 0x15, 0x21]));
}

/** Binary32 operands: zeros, subnormals, infinities, NaNs (quiet, signalling), integers, halves. */
const FLOAT_BITS = [
  0,
  0x80000000,
  1,
  0x807fffff,
  0x7f800000,
  0xff800000,
  0x7fc00000,
  0x7f800001,
  0xffc00001,
  0x3f800000,
  0xbfc00000,
  0x4b000001,
  0x7f7fffff,
  0x4f000000,
  0xcf000001,
  0x3f000000,
];

function randomMachine(seed: number): VmState {
  const rnd = rng(seed);
  const st = new VmState();
  const len = 32 + (rnd() % 200);
  for (let i = 0; i < len; i++) st.memory.writeWord(CODE + 4 * i, randomWord(rnd));
  st.memory.writeWord(DATA, 0x12345678);
  st.pc = CODE;
  st.nextPC = CODE + 4;
  st.heap = 0x20000000;
  for (let i = 1; i < 32; i++) st.regs[i] = rnd() % 4 === 0 ? (rnd() % 16) - 8 : rnd() | 0;
  st.regs[4] = CODE + 4 * (rnd() % len);
  st.regs[5] = CODE + 4 * (rnd() % len) + (rnd() % 16 === 0 ? 2 : 0);
  st.regs[31] = CODE + 4 * (rnd() % len);
  st.regs[16] = DATA + 4 * (rnd() % 64);
  st.regs[17] = rnd() % 3 === 0 ? CODE + 4 * (rnd() % len) : DATA + 0x1ff0;
  st.regs[29] = 0x7fff0000 + 4 * (rnd() % 256);
  st.regs[2] = [4090, 4045, 4120, 4003, 4004, 4055, 1][rnd() % 7];
  for (const i of FREGS) st.fpr[i] = rnd() % 2 === 0 ? FLOAT_BITS[rnd() % FLOAT_BITS.length] : rnd() | 0;
  st.fcsr = (rnd() & 0xfe800000) | 0;
  return st;
}

Deno.test("compiled blocks equal the interpreter on random instruction streams", () => {
  for (let seed = 1; seed <= 300; seed++) {
    let a = randomMachine(seed), b = randomMachine(seed);
    const rnd = rng(seed * 7919);
    const budgets = [1, 2, 5, 13, 32, 64, 100, 1000, 5000];
    for (let round = 0; round < 8 && !a.exited; round++) {
      lockstep(a, b, () => budgets[rnd() % budgets.length], `seed ${seed}`, 40);
      // between runs: a root (clears the fast-write flags) or clones (copy-on-write pages)
      if (round % 2 === 0) {
        a.hash();
        b.hash();
      } else {
        a = a.clone();
        b = b.clone();
      }
    }
  }
});

/** Encodes an I-type instruction. */
const itype = (op: number, rs: number, rt: number, imm: number) =>
  ((op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)) >>> 0;

Deno.test("compiled blocks see code that changes under them: stores by the guest and by the host", () => {
  const ADDIU = 0x09, BNE = 0x05, SW = 0x2b, J = 0x02;
  const T0 = 8, T1 = 9, T2 = 10, T3 = 11, T4 = 12;
  // a hot loop t0 += 1, t1 += 3 up to t2; then the guest patches the loop's second instruction
  // to t1 += 5 (from t3), raises the bound by 100 and jumps back to the loop
  const code = [
    itype(ADDIU, T0, T0, 1),
    itype(ADDIU, T1, T1, 3),
    itype(BNE, T0, T2, -3),
    0,
    itype(SW, T4, T3, 4),
    itype(ADDIU, T2, T2, 100),
    ((J << 26) | ((CODE >>> 2) & 0x3ffffff)) >>> 0,
    0,
  ];
  const make = () => {
    const st = new VmState();
    code.forEach((w, i) => st.memory.writeWord(CODE + 4 * i, w));
    st.pc = CODE;
    st.nextPC = CODE + 4;
    st.regs[T2] = 100;
    st.regs[T3] = itype(ADDIU, T1, T1, 5);
    st.regs[T4] = CODE;
    return st;
  };
  const a = make(), b = make();
  const budgets = [1000, 37, 5000, 3, 20000];
  let i = 0;
  lockstep(a, b, () => budgets[i++ % budgets.length], "guest patch", 20);
  // t1 grew by 5 a step once patched: the block compiled before the patch did not run on
  assertEquals(b.regs[T1] > 3 * 100 + 5 * 100, true, "patched code ran");
  // the host patches the loop (t1 += 7) between two runs
  for (const st of [a, b]) st.memory.writeWord(CODE + 4, itype(ADDIU, T1, T1, 7));
  for (const st of [a, b]) st.regs[T3] = itype(ADDIU, T1, T1, 7);
  lockstep(a, b, () => budgets[i++ % budgets.length], "host patch", 20);
  // a clone of a state whose code pages are stamped, patched before it runs
  const ca = a.clone(), cb = b.clone();
  for (const st of [ca, cb]) st.memory.writeWord(CODE + 4, itype(ADDIU, T1, T1, 11));
  for (const st of [ca, cb]) st.regs[T3] = itype(ADDIU, T1, T1, 11);
  lockstep(ca, cb, () => budgets[i++ % budgets.length], "clone patch", 20);
  lockstep(a, b, () => budgets[i++ % budgets.length], "original after clone", 20);
});

Deno.test("compiled blocks and a loop that stores into its own code page", () => {
  const ADDIU = 0x09, BNE = 0x05, SW = 0x2b;
  const T0 = 8, T2 = 10, T4 = 12;
  // t0 += 1; store t0 into the loop's own page; until t0 = t2: each store makes the page's code
  // generation stale (a data word beside the code), until the page is left to the interpreter
  const code = [itype(ADDIU, T0, T0, 1), itype(SW, T4, T0, 0x800), itype(BNE, T0, T2, -3), 0, 0x0000000d];
  const make = () => {
    const st = new VmState();
    code.forEach((w, i) => st.memory.writeWord(CODE + 4 * i, w));
    st.pc = CODE;
    st.nextPC = CODE + 4;
    st.regs[T2] = 200_000;
    st.regs[T4] = CODE;
    return st;
  };
  const budgets = [4096, 999, 65536, 7];
  let i = 0;
  lockstep(make(), make(), () => budgets[i++ % budgets.length], "self-storing loop");
});

Deno.test("compiled blocks keep running on a page whose code goes back and forth (a break put in and taken out)", () => {
  const ADDIU = 0x09, BNE = 0x05;
  const T0 = 8, T1 = 9, T2 = 10;
  // a hot loop t0 += 1, t1 += 3 up to t2, then a word that the host turns into `break` and back
  // between runs, 200 times, as the simulated --tamper run does at every stop (core/dispute)
  const code = [itype(ADDIU, T0, T0, 1), itype(ADDIU, T1, T1, 3), itype(BNE, T0, T2, -3), 0, 0];
  const make = () => {
    const st = new VmState();
    code.forEach((w, i) => st.memory.writeWord(CODE + 4 * i, w));
    st.pc = CODE;
    st.nextPC = CODE + 4;
    st.regs[T2] = 0x7fffffff;
    return st;
  };
  const a = make(), b = make();
  let i = 0;
  for (let round = 0; round < 200; round++) {
    for (const st of [a, b]) st.memory.writeWord(CODE + 16, round % 2 ? 0 : 0x0000000d);
    lockstep(a, b, () => [999, 4096, 37][i++ % 3], `round ${round}`, 2);
  }
  // the page is still stamped (its blocks run), not left to the interpreter after 32 stamps
  assertEquals(b.memory.codeGenerations()[CODE >>> 12] !== 0, true, "the page still runs in blocks");
});

Deno.test("compiled blocks equal the interpreter on the runtime's hard-float image running float kernels", async () => {
  // real compiler output for the FPU: products, softmax (exp), normalisation (sqrt, div), compares
  const onnx = makeModel({
    nodes: [
      { op: "MatMul", inputs: ["a", "b"], outputs: ["p"] },
      { op: "Softmax", inputs: ["p"], outputs: ["s"], attrs: { axis: -1 } },
      { op: "LayerNormalization", inputs: ["s", "g", "h"], outputs: ["n"], attrs: { axis: -1 } },
      { op: "Relu", inputs: ["n"], outputs: ["y"] },
    ],
    inputs: { a: [3, 16], b: [16, 12], g: [12], h: [12] },
    outputs: { y: [3, 12] },
  });
  const prog = assemble(compileGraph(decodeModel(onnx, "blocks"), { shapes: {} }));
  const val = (shape: number[], seed: number): TensorValue => ({
    dtype: DType.float32,
    shape,
    data: Float32Array.from(
      { length: shape.reduce((x, y) => x * y, 1) },
      (_, i) => Math.sin(i * 0.7 + seed) * 3,
    ),
  });
  const inputs = [val([3, 16], 1), val([16, 12], 2), val([12], 3), val([12], 4)];
  const source = new MapSource();
  for (const [k, d] of programPreimages(prog, inputs)) source.set(k, d);
  const elf = Deno.readFileSync((await buildRuntime()).mips);
  const rnd = rng(0xf10a7);
  const budgets = [1, 3, 32, 33, 100, 4096, 65537];
  const host = { oracle: new PreimageOracle(source) };
  const a = loadElf(elf), b = loadElf(elf);
  lockstep(a, b, () => budgets[rnd() % budgets.length], "hard-float runtime", Infinity, 16, host);
  assertEquals([a.exited, a.exitCode], [true, 0], "the program ran to its end");
});
