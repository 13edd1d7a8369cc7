/**
 * Generates the MIPS step fixtures: one-step witnesses computed by the TypeScript VM (core/vm)
 * that `contracts/test/Fixtures.t.sol` feeds to `MIPS.step`, asserting the TypeScript VM's
 * post-state hash (or, for states the TypeScript VM rejects, the contract's revert).
 *
 *   deno run -A tasks/gen_fixtures.ts                  # write contracts/test/fixtures/*.bin
 *   deno run -A tasks/gen_fixtures.ts --check          # regenerate in memory; exit 1 if the
 *                                                      # committed files differ
 *   deno run -A tasks/gen_fixtures.ts --update-guests  # refresh the guest ELFs first: copy them
 *                                                      # from build/corpus (building what is
 *                                                      # missing) and rebuild preimage.elf
 *
 * Four files (format: contracts/test/fixtures/README.md):
 * - `edge.bin`: hand-built states for every opcode class, syscall, preimage key type, fault and
 *   malformed-input rule of docs/VM.md (delay slots, sign extension, overflow, division by zero,
 *   unaligned lwl/lwr/swl/swr, writes at page and leaf boundaries, a 64 MiB Merkle-data item).
 * - `random.bin`: random states (seeded): random instruction words, registers, fields, memory.
 * - `corpus.bin`: windows of consecutive steps sampled from whole runs of C corpus programs
 *   (tests/vm/corpus) and of the soft-float workloads (float32, matvec).
 * - `fpu.bin`: FPU instructions on seeded random and edge binary32 operands (every rounding,
 *   subnormal, infinity and NaN rule), compares, moves, FCSR, bc1 branches, lwc1/swc1, faults.
 * - `preimage.bin`: every syscall step of a guest that reads local, keccak256 and Merkle-data
 *   preimages (guests/preimage.c), plus windows of its other steps.
 *
 * The guests are committed ELFs (`contracts/test/fixtures/guests/`), so the fixtures depend on
 * the VM's semantics only, not on the compiler or on runtime changes.
 * @module
 */

import {
  execute,
  Fd,
  keccak256,
  keccakKey,
  loadElf,
  localKey,
  MapSource,
  Memory,
  MEMORY_PROOF_SIZE,
  merkleDataKey,
  merkleDataKeyOf,
  PreimageOracle,
  STATE_SIZE,
  stepWithWitness,
  type StepWitness,
  Syscall,
  UnprovablePreimageError,
  type VmHost,
  VmState,
} from "../core/vm/mod.ts";
import { decodeState } from "../core/vm/state.ts";
import { type MerkleDataTree, sparseMerkleDataTree } from "../core/chain/merkle_data.ts";
import { type PartLoad, partLoadFor } from "../core/chain/preimage_load.ts";

const root = new URL("../", import.meta.url).pathname;
/** Where the fixtures live, relative to the repository root. */
export const FIXTURE_DIR = "contracts/test/fixtures";
const GUEST_DIR = `${FIXTURE_DIR}/guests`;

// ---------------------------------------------------------------------------------------------
// Fixtures and their binary encoding
// ---------------------------------------------------------------------------------------------

/** One call of `MIPS.step` and its expected outcome. */
export interface Fixture {
  /** Shown in failures; records without one are named after the last named record. */
  name?: string;
  stateData: Uint8Array;
  proof: Uint8Array;
  localContext: Uint8Array;
  /** The oracle part to load first (by the test contract, which then calls `step`). */
  load?: PartLoad;
  /** The post-state hash, or the 4-byte selector of the custom error `step` must revert with. */
  expect: { hash: Uint8Array } | { revert: Uint8Array };
}

const MAGIC = new TextEncoder().encode("OPMLFX2\n");
/** Every KEYFRAME-th record is stored whole, so a reader can start there. */
export const KEYFRAME = 32;
/** Offset of the proof in W: the state (358 bytes) padded to 384. */
const W_PROOF = 384;
const W_CHUNKS = 68; // W = state, padding, 1792-byte proof: 68 chunks of 32
const W_SIZE = 32 * W_CHUNKS;
const F_NAME = 1, F_CONTEXT = 2, F_REVERT = 4;
const KIND = { none: 0, local: 1, keccak: 2, merkle: 3 } as const;

/** A growable big-endian byte writer. */
class Bytes {
  buf = new Uint8Array(1 << 16);
  len = 0;
  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  uint(v: number | bigint, size: number): void {
    this.#room(size);
    let x = BigInt(v);
    for (let i = size - 1; i >= 0; i--, x >>= 8n) this.buf[this.len + i] = Number(x & 0xffn);
    this.len += size;
  }
  hex(h: string, size: number): void {
    const b = hexBytes(h);
    if (b.length !== size) throw new Error(`expected ${size} bytes, got ${b.length}`);
    this.bytes(b);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function hexBytes(h: string): Uint8Array {
  const s = h.startsWith("0x") ? h.slice(2) : h;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Encodes fixtures (contracts/test/fixtures/README.md): each record stores only the 32-byte
 * chunks of `state || pad || proof` that differ from the previous record, so consecutive steps
 * of one run cost a few hundred bytes; keccak256 preimages are stored once in a blob table.
 */
export function encodeFixtures(fixtures: Fixture[]): Uint8Array {
  const blobs: Uint8Array[] = [];
  const blobIndex = new Map<string, number>();
  const blobOf = (data: Uint8Array): number => {
    const id = Array.from(keccak256(data)).join(",") + `/${data.length}`;
    let i = blobIndex.get(id);
    if (i === undefined) {
      i = blobs.length;
      blobs.push(data);
      blobIndex.set(id, i);
    }
    return i;
  };
  const records = new Bytes();
  let prev = new Uint8Array(W_SIZE);
  let prevCtx: Uint8Array = new Uint8Array(32);
  fixtures.forEach((f, n) => {
    if (f.stateData.length !== STATE_SIZE || f.proof.length !== 2 * MEMORY_PROOF_SIZE) {
      throw new Error(`fixture ${f.name}: bad state or proof size`);
    }
    const w = new Uint8Array(W_SIZE);
    w.set(f.stateData, 0);
    w.set(f.proof, W_PROOF);
    // An all-zero data proof is one the step does not read (docs/VM.md: its bytes may be
    // anything): keep the previous record's, which costs nothing to store.
    if (f.proof.subarray(MEMORY_PROOF_SIZE).every((b) => b === 0)) {
      w.set(prev.subarray(W_PROOF + MEMORY_PROOF_SIZE), W_PROOF + MEMORY_PROOF_SIZE);
    }
    const key = n % KEYFRAME === 0;
    let mask = 0n;
    for (let c = 0; c < W_CHUNKS; c++) {
      if (key || !equalBytes(w.subarray(32 * c, 32 * c + 32), prev.subarray(32 * c, 32 * c + 32))) {
        mask |= 1n << BigInt(c);
      }
    }
    const withCtx = key || !equalBytes(f.localContext, prevCtx);
    const kind = KIND[f.load?.kind ?? "none"];
    const revert = "revert" in f.expect;
    const name = f.name === undefined ? undefined : new TextEncoder().encode(f.name).slice(0, 255);
    records.uint((name ? F_NAME : 0) | (withCtx ? F_CONTEXT : 0) | (revert ? F_REVERT : 0) | (kind << 4), 1);
    if (name) {
      records.uint(name.length, 1);
      records.bytes(name);
    }
    if (withCtx) records.bytes(f.localContext);
    records.uint(mask, 16);
    for (let c = 0; c < W_CHUNKS; c++) {
      if (mask & (1n << BigInt(c))) records.bytes(w.subarray(32 * c, 32 * c + 32));
    }
    const l = f.load;
    if (l?.kind === "local") {
      records.uint(l.ident, 32);
      records.hex(l.word, 32);
      records.uint(l.size, 1);
      records.uint(l.partOffset, 4);
    } else if (l?.kind === "keccak") {
      records.uint(l.partOffset, 4);
      records.uint(blobOf(l.data), 2);
    } else if (l?.kind === "merkle") {
      records.hex(l.root, 32);
      records.uint(l.length, 8);
      records.uint(l.partOffset, 4);
      records.uint(l.proof.length, 2);
      for (const p of l.proof) records.hex(p, 32);
    }
    if ("revert" in f.expect) {
      if (f.expect.revert.length !== 4) throw new Error(`fixture ${f.name}: selector must be 4 bytes`);
      records.bytes(f.expect.revert);
    } else records.bytes(f.expect.hash);
    prev = w;
    prevCtx = f.localContext;
  });
  const out = new Bytes();
  out.bytes(MAGIC);
  out.uint(blobs.length, 2);
  for (const b of blobs) {
    out.uint(b.length, 4);
    out.bytes(b);
  }
  out.uint(fixtures.length, 4);
  out.bytes(records.result());
  return out.result();
}

// ---------------------------------------------------------------------------------------------
// Witnesses -> fixtures
// ---------------------------------------------------------------------------------------------

/** The 4-byte selector of a custom error, e.g. `InvalidRegisterZero()`. */
export function selector(signature: string): Uint8Array {
  return keccak256(new TextEncoder().encode(signature)).slice(0, 4);
}

/** Contract errors for the TypeScript VM's rejections. */
export const Revert = {
  registerZero: selector("InvalidRegisterZero()"),
  exitedFlag: selector("InvalidExitedFlag()"),
  memoryProof: selector("InvalidMemoryProof()"),
  partNotLoaded: selector("PartNotLoaded(bytes32,uint256)"),
} as const;

/** Merkle trees of large items, by key, so their parts are proven without rehashing. */
const bigTrees = new Map<string, MerkleDataTree>();

function fixtureOf(w: StepWitness, localContext: Uint8Array, name?: string): Fixture {
  const load = w.preimage
    ? partLoadFor(w.preimage, w.preimage.kind === "merkle" ? bigTrees.get(hexOf(w.preimage.key)) : undefined)
    : undefined;
  return {
    name,
    stateData: w.stateData,
    proof: w.proof,
    localContext,
    load,
    expect: { hash: w.postStateHash },
  };
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * The fixture of the next step of `st` (which advances), judged by the TypeScript VM: its
 * post-state hash; or a revert when the TypeScript VM refuses the state (malformed) or the read
 * (unprovable preimage). Returns undefined when the host lacks a preimage (no verdict).
 */
function judge(st: VmState, host: VmHost, localContext: Uint8Array, name?: string): Fixture | undefined {
  const stateData = st.encode();
  try {
    decodeState(stateData);
  } catch (e) {
    const msg = (e as Error).message;
    const revert = msg.includes("r0")
      ? Revert.registerZero
      : msg.includes("exited")
      ? Revert.exitedFlag
      : undefined;
    if (!revert) throw e;
    return { name, stateData, proof: rawProof(st), localContext, expect: { revert } };
  }
  try {
    return fixtureOf(stepWithWitness(st, host), localContext, name);
  } catch (e) {
    if (e instanceof UnprovablePreimageError) {
      return { name, stateData, proof: rawProof(st), localContext, expect: { revert: Revert.partNotLoaded } };
    }
    if ((e as Error).name === "PreimageMissingError") return undefined;
    throw e;
  }
}

/** Instruction proof and, for a syscall on fds 5/6, the proof of the word at a1 (a state that
 * the TypeScript VM does not step: the contract must reject it for another reason). */
function rawProof(st: VmState): Uint8Array {
  const proof = new Uint8Array(2 * MEMORY_PROOF_SIZE);
  proof.set(st.memory.proof(st.pc & ~3), 0);
  proof.set(st.memory.proof(st.regs[5] & ~3), MEMORY_PROOF_SIZE);
  return proof;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG (the fixtures must be reproducible). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function ctxOf(label: string): Uint8Array {
  return keccak256(new TextEncoder().encode(label));
}

// ---------------------------------------------------------------------------------------------
// Instruction encoders
// ---------------------------------------------------------------------------------------------

const R = (funct: number, rs: number, rt: number, rd: number, sa = 0) =>
  ((rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct) >>> 0;
const I = (op: number, rs: number, rt: number, imm: number) =>
  ((op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)) >>> 0;
const J = (op: number, target: number) => ((op << 26) | ((target >>> 2) & 0x03ffffff)) >>> 0;
const RI = (rt: number, rs: number, imm: number) => I(0x01, rs, rt, imm);
const S2 = (funct: number, rs: number, rt: number, rd: number) => ((0x1c << 26) | R(funct, rs, rt, rd)) >>> 0;
const SYSCALL = 0x0000000c;
const NOP = 0;
const T0 = 8, T1 = 9, T2 = 10, T3 = 11, V0 = 2, A0 = 4, A1 = 5, A2 = 6, A3 = 7, RA = 31;

// ---------------------------------------------------------------------------------------------
// edge.bin: hand-built cases
// ---------------------------------------------------------------------------------------------

const BASE = 0x00400000;
const DATA = 0x00410000;
const EDGE_CTX = ctxOf("opml fixtures: edge");

interface Machine {
  /** instruction words from `at` (default BASE) */
  code: number[];
  at?: number;
  regs?: Record<number, number>;
  /** aligned words to store */
  mem?: [number, number][];
  hi?: number;
  lo?: number;
  nextPC?: number;
  heap?: number;
  step?: number;
  stepBase?: bigint;
  key?: Uint8Array;
  offset?: number;
}

function machine(m: Machine): VmState {
  const st = new VmState(new Memory());
  const at = m.at ?? BASE;
  m.code.forEach((w, i) => st.memory.writeWord((at + 4 * i) >>> 0, w >>> 0));
  for (const [a, v] of m.mem ?? []) st.memory.writeWord(a >>> 0, v >>> 0);
  st.pc = at >>> 0;
  st.nextPC = (m.nextPC ?? at + 4) >>> 0;
  st.heap = m.heap ?? 0x20000000;
  st.regs[29] = 0x7ffff000;
  for (const [r, v] of Object.entries(m.regs ?? {})) st.regs[Number(r)] = v | 0;
  st.hi = (m.hi ?? 0) | 0;
  st.lo = (m.lo ?? 0) | 0;
  st.step = m.step ?? 1000;
  st.stepBase = m.stepBase ?? 0n;
  if (m.key) st.preimageKey = m.key.slice();
  st.preimageOffset = m.offset ?? 0;
  return st;
}

/** Runs `steps` steps of a machine, one fixture each (named `name`, `name #2`, ...). */
function cases(
  out: Fixture[],
  name: string,
  m: Machine,
  steps = 1,
  host: VmHost = { oracle: new PreimageOracle(new MapSource()) },
  ctx = EDGE_CTX,
): VmState {
  const st = machine(m);
  for (let i = 0; i < steps; i++) {
    const f = judge(st, host, ctx, i === 0 ? name : `${name} #${i + 1}`);
    if (!f) throw new Error(`edge case ${name}: a preimage is missing`);
    out.push(f);
  }
  return st;
}

const INT_MIN = 0x80000000 | 0, INT_MAX = 0x7fffffff, M1 = -1;

function edgeFixtures(): Fixture[] {
  const out: Fixture[] = [];
  const one = (name: string, m: Machine) => cases(out, name, m);
  const rr = (name: string, insn: number, a: number, b: number, extra: Partial<Machine> = {}) =>
    one(name, { code: [insn], regs: { [T0]: a, [T1]: b }, ...extra });

  // --- SPECIAL ALU, with sign cases and overflow
  const alu: [string, number][] = [
    ["addu", 0x21],
    ["add", 0x20],
    ["subu", 0x23],
    ["sub", 0x22],
    ["and", 0x24],
    ["or", 0x25],
    ["xor", 0x26],
    ["nor", 0x27],
    ["slt", 0x2a],
    ["sltu", 0x2b],
  ];
  const pairs: [number, number][] = [
    [5, 7],
    [M1, 1],
    [INT_MAX, 1],
    [INT_MIN, M1],
    [INT_MIN, 1],
    [0, 0],
    [0x12345678, 0x9abcdef0 | 0],
  ];
  for (const [n, f] of alu) for (const [a, b] of pairs) rr(`${n} ${a} ${b}`, R(f, T0, T1, T2), a, b);
  rr("addu into r0 is discarded", R(0x21, T0, T1, 0), 5, 7);
  rr("addu with sa != 0 (ignored)", R(0x21, T0, T1, T2, 5), 5, 7);

  // --- shifts, including the reserved srl/srlv encodings
  for (const sa of [0, 1, 4, 31]) {
    rr(`sll ${sa}`, R(0x00, 0, T1, T2, sa), 0, 0x8000000f);
    rr(`srl ${sa}`, R(0x02, 0, T1, T2, sa), 0, 0x8000000f);
    rr(`sra ${sa}`, R(0x03, 0, T1, T2, sa), 0, 0x8000000f);
  }
  rr("sll with rs != 0 (ignored)", R(0x00, 7, T1, T2, 3), 0, 0x8000000f);
  for (const rs of [1, 2, 16, 31]) rr(`srl with rs = ${rs} faults`, R(0x02, rs, T1, T2, 4), 0, 0x8000000f);
  for (const s of [0, 4, 31, 32, 36, -1]) {
    rr(`sllv ${s}`, R(0x04, T0, T1, T2), s, 0x8000000f);
    rr(`srlv ${s}`, R(0x06, T0, T1, T2), s, 0x8000000f);
    rr(`srav ${s}`, R(0x07, T0, T1, T2), s, 0x8000000f);
  }
  for (const sa of [1, 2, 31]) rr(`srlv with sa = ${sa} faults`, R(0x06, T0, T1, T2, sa), 4, 0x8000000f);
  rr("srav with sa != 0 (ignored)", R(0x07, T0, T1, T2, 1), 4, 0x8000000f);

  // --- hi/lo, multiply, divide
  rr("mfhi", R(0x10, 0, 0, T2), 0, 0, { hi: 0xdeadbeef });
  rr("mflo", R(0x12, 0, 0, T2), 0, 0, { lo: 0xcafef00d });
  rr("mthi", R(0x11, T0, 0, 0), 0x1234, 0);
  rr("mtlo", R(0x13, T0, 0, 0), 0x1234, 0);
  const mpairs: [number, number][] = [[3, 5], [M1, M1], [M1, 1], [INT_MIN, INT_MIN], [INT_MIN, M1], [
    0x12345678,
    0x9abcdef0 | 0,
  ], [INT_MAX, INT_MAX]];
  for (const [a, b] of mpairs) {
    rr(`mult ${a} ${b}`, R(0x18, T0, T1, 0), a, b);
    rr(`multu ${a} ${b}`, R(0x19, T0, T1, 0), a, b);
    rr(`mul ${a} ${b}`, S2(0x02, T0, T1, T2), a, b);
  }
  const dpairs: [number, number][] = [
    [7, 2],
    [-7, 2],
    [7, -2],
    [-7, -2],
    [INT_MIN, M1],
    [INT_MIN, 1],
    [
      0,
      5,
    ],
    [5, 0],
    [M1, 0],
    [INT_MIN, 0],
    [M1, 7],
  ];
  for (const [a, b] of dpairs) {
    rr(`div ${a} ${b}`, R(0x1a, T0, T1, 0), a, b);
    rr(`divu ${a} ${b}`, R(0x1b, T0, T1, 0), a, b);
  }
  for (const [n, f] of [["madd", 0], ["maddu", 1], ["msub", 4], ["msubu", 5]] as const) {
    for (const [a, b] of [[3, 5], [M1, M1], [INT_MIN, 2], [0x7fff0000, 0x10000]]) {
      rr(`${n} ${a} ${b} hi:lo 0xffffffff:0xffffffff`, S2(f, T0, T1, 0), a, b, { hi: M1, lo: M1 });
      rr(`${n} ${a} ${b} hi:lo 0:1`, S2(f, T0, T1, 0), a, b, { hi: 0, lo: 1 });
    }
  }
  for (const a of [0, 1, M1, INT_MIN, 0x00010000, 0x7fffffff, 0xfffe0000 | 0]) {
    rr(`clz ${a}`, S2(0x20, T0, 0, T2), a, 0);
    rr(`clo ${a}`, S2(0x21, T0, 0, T2), a, 0);
  }
  for (const f of [0x03, 0x06, 0x10, 0x22, 0x3f]) rr(`SPECIAL2 funct ${f} faults`, S2(f, T0, T1, T2), 1, 2);

  // --- movz/movn, sync, break, reserved SPECIAL functs, traps
  rr("movz taken", R(0x0a, T0, T1, T2), 11, 0);
  rr("movz not taken", R(0x0a, T0, T1, T2), 11, 1);
  rr("movn taken", R(0x0b, T0, T1, T2), 11, 1);
  rr("movn not taken", R(0x0b, T0, T1, T2), 11, 0);
  rr("sync", R(0x0f, 0, 0, 0), 0, 0);
  rr("break faults", R(0x0d, 0, 0, 0), 0, 0);
  for (
    const f of [
      0x01,
      0x05,
      0x0e,
      0x14,
      0x15,
      0x16,
      0x17,
      0x1c,
      0x1d,
      0x1e,
      0x1f,
      0x28,
      0x29,
      0x2c,
      0x2d,
      0x2e,
      0x2f,
      0x35,
      0x37,
      0x38,
      0x3f,
    ]
  ) {
    rr(`SPECIAL funct ${f} faults`, R(f, T0, T1, T2), 1, 2);
  }
  for (
    const [n, f] of [["tge", 0x30], ["tgeu", 0x31], ["tlt", 0x32], ["tltu", 0x33], ["teq", 0x34], [
      "tne",
      0x36,
    ]] as const
  ) {
    for (const [a, b] of [[1, 1], [M1, 1], [1, M1]]) rr(`${n} ${a} ${b}`, R(f, T0, T1, 0), a, b);
  }

  // --- immediates, sign and zero extension
  const imms = [0, 1, 0x7fff, 0x8000, 0xffff];
  const ops: [string, number][] = [["addi", 0x08], ["addiu", 0x09], ["slti", 0x0a], ["sltiu", 0x0b], [
    "andi",
    0x0c,
  ], [
    "ori",
    0x0d,
  ], ["xori", 0x0e]];
  for (const [n, op] of ops) {
    for (const a of [0, M1, INT_MAX, INT_MIN, 0x12345678]) {
      for (const imm of imms) rr(`${n} ${a} ${imm}`, I(op, T0, T1, imm), a, 0);
    }
  }
  for (const imm of imms) rr(`lui ${imm}`, I(0x0f, 0, T1, imm), 0, 0);
  rr("addiu into r0 is discarded", I(0x09, T0, 0, 5), 1, 0);

  // --- REGIMM: branches (taken, not taken, likely), links, traps, reserved rt
  const regimm: [string, number][] = [
    ["bltz", 0],
    ["bgez", 1],
    ["bltzl", 2],
    ["bgezl", 3],
    ["bltzal", 0x10],
    [
      "bgezal",
      0x11,
    ],
    ["bltzall", 0x12],
    ["bgezall", 0x13],
  ];
  for (const [n, rt] of regimm) {
    for (const a of [M1, 0, 1]) {
      one(`${n} ${a}`, { code: [RI(rt, T0, 0x10), I(0x09, 0, T3, 1), NOP], regs: { [T0]: a } });
      cases(out, `${n} ${a} then delay slot`, {
        code: [RI(rt, T0, 0xfff0), I(0x09, 0, T3, 1), NOP],
        regs: { [T0]: a },
      }, 2);
    }
  }
  one("bgezal rs = ra reads rs before linking", { code: [RI(0x11, RA, 4)], regs: { [RA]: M1 } });
  const trapsI: [string, number][] = [["tgei", 8], ["tgeiu", 9], ["tlti", 10], ["tltiu", 11], ["teqi", 12], [
    "tnei",
    14,
  ]];
  for (const [n, rt] of trapsI) {
    for (const [a, imm] of [[5, 5], [M1, 0xffff], [0, 0x8000], [5, 3]]) {
      one(`${n} ${a} ${imm}`, { code: [RI(rt, T0, imm)], regs: { [T0]: a } });
    }
  }
  for (const rt of [4, 5, 6, 7, 0x0d, 0x0f, 0x14, 0x1f]) {
    one(`REGIMM rt ${rt} faults`, { code: [RI(rt, T0, 4)], regs: { [T0]: 1 } });
  }

  // --- branches on two registers, likely forms, rt != 0 faults, backwards, wrap
  const br: [string, number][] = [["beq", 4], ["bne", 5], ["blez", 6], ["bgtz", 7], ["beql", 0x14], [
    "bnel",
    0x15,
  ], [
    "blezl",
    0x16,
  ], ["bgtzl", 0x17]];
  for (const [n, op] of br) {
    const two = op === 4 || op === 5 || op === 0x14 || op === 0x15;
    for (const [a, b] of [[1, 1], [1, 2], [M1, 0], [0, 0], [INT_MIN, 0]]) {
      cases(out, `${n} ${a} ${b}`, {
        code: [I(op, T0, two ? T1 : 0, 0x20), I(0x09, 0, T3, 1)],
        regs: { [T0]: a, [T1]: b },
      }, 2);
    }
    if (!two) one(`${n} with rt != 0 faults`, { code: [I(op, T0, T1, 4)], regs: { [T0]: 1, [T1]: 1 } });
  }
  cases(out, "beq backwards", { code: [NOP, NOP, I(4, 0, 0, 0xfffd), NOP], at: BASE, nextPC: BASE + 4 }, 4);
  cases(out, "branch wraps around 2^32", { code: [I(4, 0, 0, 2), NOP], at: 0xfffffff8 }, 3);
  cases(out, "pc wraps around 2^32", { code: [NOP], at: 0xfffffffc }, 2);

  // --- jumps and delay slots
  cases(out, "j", { code: [J(2, BASE + 0x100), I(0x09, 0, T3, 1)] }, 2);
  cases(out, "jal", { code: [J(3, BASE + 0x100), I(0x09, 0, T3, 1)] }, 2);
  cases(out, "j uses the region of pc + 4", { code: [J(2, 0x40), NOP], at: 0x0ffffffc }, 2);
  cases(out, "jr", { code: [R(0x08, T0, 0, 0), I(0x09, 0, T3, 1)], regs: { [T0]: BASE + 0x80 } }, 2);
  cases(out, "jalr rd = rs reads the target first", {
    code: [R(0x09, T0, 0, T0), NOP],
    regs: { [T0]: BASE + 0x80 },
  }, 2);
  cases(out, "jalr into r31", { code: [R(0x09, T0, 0, RA), NOP], regs: { [T0]: BASE + 0x40 } }, 2);
  cases(out, "jr to a misaligned target faults at the fetch", {
    code: [R(0x08, T0, 0, 0), I(0x09, 0, T3, 1)],
    regs: { [T0]: BASE + 0x82 },
  }, 3);
  cases(out, "branch in a delay slot", {
    code: [I(4, 0, 0, 4), I(4, 0, 0, 8), NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP],
  }, 4);
  cases(out, "jump in a delay slot", { code: [J(2, BASE + 0x40), J(2, BASE + 0x80)] }, 3);
  cases(out, "likely not taken skips a branch in its slot", {
    code: [I(0x14, 0, T0, 4), I(4, 0, 0, 8), NOP, NOP],
    regs: { [T0]: 1 },
  }, 2);
  cases(out, "misaligned pc faults without reading the instruction", { code: [NOP], at: BASE + 2 }, 1);
  cases(out, "nextPC not pc + 4 (in a delay slot)", { code: [I(0x09, 0, T3, 1)], nextPC: 0x00500000 }, 1);

  // --- loads: sign/zero extension, alignment, lwl/lwr at every offset, address wrap
  const word = 0x8192a3b4 | 0;
  const ld = (n: string, op: number, addr: number, rt0 = 0x11223344, base = DATA) =>
    one(n, {
      code: [I(op, T0, T1, (addr - base) & 0xffff)],
      regs: { [T0]: base, [T1]: rt0 },
      mem: [[addr & ~3, word], [(addr & ~3) + 4, 0x05060708]],
    });
  for (let k = 0; k < 4; k++) {
    ld(`lb +${k}`, 0x20, DATA + k);
    ld(`lbu +${k}`, 0x24, DATA + k);
    ld(`lh +${k}`, 0x21, DATA + k);
    ld(`lhu +${k}`, 0x25, DATA + k);
    ld(`lw +${k}`, 0x23, DATA + k);
    ld(`ll +${k}`, 0x30, DATA + k);
    ld(`lwl +${k}`, 0x22, DATA + k);
    ld(`lwr +${k}`, 0x26, DATA + k);
  }
  ld("lw with a negative offset", 0x23, DATA - 8, 0, DATA);
  one("lw address wraps around 2^32", {
    code: [I(0x23, T0, T1, 8)],
    regs: { [T0]: 0xfffffffc },
    mem: [[4, 0x01020304]],
  });
  one("lw from never-written memory", { code: [I(0x23, T0, T1, 0)], regs: { [T0]: 0x30000000 } });
  one("lw of the last word of memory", {
    code: [I(0x23, T0, T1, 0)],
    regs: { [T0]: 0xfffffffc },
    mem: [[0xfffffffc, 0xabcdef01]],
  });
  one("lw of its own instruction", { code: [I(0x23, T0, T1, 0)], regs: { [T0]: BASE } });
  one("lw into r0 is discarded", { code: [I(0x23, T0, 0, 0)], regs: { [T0]: DATA }, mem: [[DATA, 7]] });
  cases(out, "lwl then lwr: an unaligned word", {
    code: [I(0x22, T0, T1, 1), I(0x26, T0, T1, 4)],
    regs: { [T0]: DATA },
    mem: [[DATA, 0x11223344], [DATA + 4, 0x55667788]],
  }, 2);
  cases(out, "misaligned lw faults before reading proof 1", {
    code: [I(0x23, T0, T1, 2)],
    regs: { [T0]: DATA },
  }, 1);
  out[out.length - 1].proof.fill(0x5a, MEMORY_PROOF_SIZE); // garbage: must not be read

  // --- stores at every offset, at leaf and page boundaries
  const store = (n: string, op: number, addr: number, x = 0xa1b2c3d4 | 0) =>
    one(n, {
      code: [I(op, T0, T1, (addr - DATA) & 0xffff)],
      regs: { [T0]: DATA, [T1]: x },
      mem: [[addr & ~3, 0x11223344], [(addr & ~3) ^ 4, 0x55667788]],
    });
  for (let k = 0; k < 4; k++) {
    store(`sb +${k}`, 0x28, DATA + k);
    store(`sh +${k}`, 0x29, DATA + k);
    store(`sw +${k}`, 0x2b, DATA + k);
    store(`sc +${k}`, 0x38, DATA + k);
    store(`swl +${k}`, 0x2a, DATA + k);
    store(`swr +${k}`, 0x2e, DATA + k);
  }
  for (
    const a of [
      DATA + 0x1c,
      DATA + 0x20,
      DATA + 0xffc,
      DATA + 0x1000,
      DATA + 0xfff,
      DATA + 0xffd,
      DATA + 0x1001,
    ]
  ) {
    const h = a.toString(16);
    store(`sw at 0x${(a & ~3).toString(16)} (leaf/page boundary)`, 0x2b, a & ~3);
    store(`sb at 0x${h}`, 0x28, a);
    store(`swl at 0x${h}`, 0x2a, a);
    store(`swr at 0x${h}`, 0x2e, a);
  }
  one("sw into a fresh page", { code: [I(0x2b, T0, T1, 0)], regs: { [T0]: 0x30001000, [T1]: 1 } });
  one("sw to address 0", { code: [I(0x2b, 0, T1, 0)], regs: { [T1]: 0x12345678 } });
  one("sw to the last word of memory", { code: [I(0x2b, T0, T1, 0)], regs: { [T0]: 0xfffffffc, [T1]: 9 } });
  one("sw into the instruction's leaf", {
    code: [I(0x2b, T0, T1, 0x10)],
    regs: { [T0]: BASE, [T1]: 0x0badf00d },
  });
  cases(out, "sw overwrites the next instruction", {
    code: [I(0x2b, T0, T1, 4), NOP],
    regs: { [T0]: BASE, [T1]: 0x24030007 },
  }, 2);
  cases(out, "sw overwrites its own instruction", {
    code: [I(0x2b, T0, T1, 0)],
    regs: { [T0]: BASE, [T1]: 0 },
  }, 1);
  one("sc stores, then rt = 1", { code: [I(0x38, T0, T1, 0)], regs: { [T0]: DATA, [T1]: 0x77 } });
  one("sc with rt = r0", { code: [I(0x38, T0, 0, 0)], regs: { [T0]: DATA } });
  cases(out, "misaligned sw faults before reading proof 1", {
    code: [I(0x2b, T0, T1, 1)],
    regs: { [T0]: DATA },
  }, 1);
  out[out.length - 1].proof.fill(0x5a, MEMORY_PROOF_SIZE); // garbage: must not be read
  cases(out, "misaligned sh faults before reading proof 1", {
    code: [I(0x29, T0, T1, 3)],
    regs: { [T0]: DATA },
  }, 1);
  out[out.length - 1].proof.fill(0x5a, MEMORY_PROOF_SIZE); // garbage: must not be read
  one("pref is a no-op", { code: [I(0x33, T0, 0, 0)], regs: { [T0]: DATA } });

  // --- reserved opcodes
  for (
    const op of [
      0x10,
      0x11,
      0x12,
      0x13,
      0x18,
      0x19,
      0x1a,
      0x1b,
      0x1d,
      0x1e,
      0x1f,
      0x27,
      0x2c,
      0x2d,
      0x2f,
      0x31,
      0x32,
      0x34,
      0x35,
      0x36,
      0x37,
      0x39,
      0x3a,
      0x3b,
      0x3c,
      0x3d,
      0x3e,
      0x3f,
    ]
  ) {
    one(`opcode ${op} faults`, { code: [I(op, T0, T1, 0)], regs: { [T0]: DATA } });
  }

  // --- syscalls
  const sys = (
    n: string,
    regs: Record<number, number>,
    mem: [number, number][] = [],
    extra: Partial<Machine> = {},
  ) => one(n, { code: [SYSCALL], regs: { [A3]: 0x5555, ...regs }, mem, ...extra });
  sys("mmap size rounded up", { [V0]: Syscall.mmap, [A0]: 0, [A1]: 5000 });
  sys("mmap page-sized", { [V0]: Syscall.mmap, [A0]: 0, [A1]: 8192 });
  sys("mmap size 0", { [V0]: Syscall.mmap, [A0]: 0, [A1]: 0 });
  sys("mmap heap wraps", { [V0]: Syscall.mmap, [A0]: 0, [A1]: 0x2000 }, [], { heap: 0xfffff000 });
  sys("mmap size wraps", { [V0]: Syscall.mmap, [A0]: 0, [A1]: 0xfffffff0 });
  sys("mmap with an address", { [V0]: Syscall.mmap, [A0]: 0x30000000, [A1]: 4096 });
  sys("brk", { [V0]: Syscall.brk, [A0]: 0x1234 });
  sys("clone", { [V0]: Syscall.clone });
  for (const code of [0, 1, 2, 42, 0xff, 0x1ff, -1]) {
    sys(`exit_group ${code}`, { [V0]: Syscall.exitGroup, [A0]: code });
  }
  for (const fd of [0, 3, 8, 1, 2, 4, -1]) {
    sys(`read fd ${fd}`, { [V0]: Syscall.read, [A0]: fd, [A1]: DATA, [A2]: 12 });
  }
  for (const fd of [1, 2, 4, 0, 3, 5, 9]) {
    sys(`write fd ${fd}`, { [V0]: Syscall.write, [A0]: fd, [A1]: DATA, [A2]: 12 });
  }
  for (const fd of [0, 1, 2, 3, 4, 5, 6, 7, 8, -1]) {
    sys(`fcntl F_GETFL fd ${fd}`, { [V0]: Syscall.fcntl, [A0]: fd, [A1]: 3 });
  }
  sys("fcntl other command", { [V0]: Syscall.fcntl, [A0]: 1, [A1]: 1 });
  for (const n of [0, 4000, 4005, 4089, 4091, 4245, 4247, 0xffffffff]) {
    sys(`unknown syscall ${n}`, { [V0]: n, [A0]: 1 });
  }
  // preimage key writes: every alignment and count
  const key0 = hexBytes("0x" + "ab".repeat(31) + "02");
  for (let k = 0; k < 4; k++) {
    for (const cnt of [0, 1, 3, 4, 32]) {
      sys(`key write +${k} count ${cnt}`, {
        [V0]: Syscall.write,
        [A0]: Fd.preimageWrite,
        [A1]: DATA + k,
        [A2]: cnt,
      }, [[
        DATA,
        0x0102a3f4,
      ]], { key: key0, offset: 77 });
    }
  }

  // --- preimage reads of each key type
  const src = new MapSource();
  const local = new Uint8Array([...new TextEncoder().encode("opml local data, 29 bytes...")]).slice(0, 29);
  const lkey = localKey(7);
  src.set(lkey, local);
  const full = new Uint8Array(32).map((_, i) => 0xc0 + i);
  const lkeyFull = localKey(8);
  src.set(lkeyFull, full);
  const lkeyEmpty = localKey(9);
  src.set(lkeyEmpty, new Uint8Array(0));
  const item = new Uint8Array(100).map((_, i) => (i * 37 + 11) & 0xff);
  const kkey = src.add(item, "keccak");
  const kkeyEmpty = src.add(new Uint8Array(0), "keccak");
  const mitem = new Uint8Array(200).map((_, i) => (i * 13 + 5) & 0xff);
  const mkey = src.add(mitem, "merkle");
  const mkeyEmpty = src.add(new Uint8Array(0), "merkle");
  // a 64 MiB item, zero but for a few leaves: its tree is built sparsely
  const big = new Uint8Array(64 << 20);
  for (let i = 0; i < 64; i++) big[1000 * 32 + i] = (i * 7 + 1) & 0xff;
  big.set([1, 2, 3], big.length - 3);
  big.set([9, 8, 7, 6], 5);
  const bigTree = sparseMerkleDataTree(big);
  const bigKey = merkleDataKeyOf(hexBytes(bigTree.root), big.length);
  bigTrees.set(hexOf(bigKey), bigTree);
  src.set(bigKey, big);
  const bigSrc = new MapSource();
  bigSrc.set(bigKey, big);
  const keyTooLong = localKey(10);
  src.set(keyTooLong, new Uint8Array(33));
  const host = { oracle: new PreimageOracle(src) };
  // the leaf around the address holds distinct words: a read must change only its own bytes
  const leafWords = (addr: number): [number, number][] =>
    Array.from({ length: 8 }, (_, i) => [(addr & ~31) + 4 * i, (0xaabbcc00 | (i * 0x11)) >>> 0]);
  const read = (
    n: string,
    key: Uint8Array,
    offset: number,
    addr: number,
    count: number,
    h: VmHost = host,
    fd: number = Fd.preimageRead,
  ) =>
    cases(
      out,
      fd === Fd.preimageRead ? n : `${n} (fd ${fd}, little-endian words)`,
      {
        code: [SYSCALL],
        regs: { [V0]: Syscall.read, [A0]: fd, [A1]: addr, [A2]: count, [A3]: 0x5555 },
        mem: leafWords(addr),
        key,
        offset,
      },
      1,
      h,
    );
  const offsets = (len: number) =>
    [0, 3, 7, 8, 9, 8 + 31, 8 + 32, len + 8 - 4, len + 8 - 1, len + 8, len + 100].filter((o) => o >= 0);
  for (
    const [n, key, len] of [
      ["local", lkey, 29],
      ["local 32 bytes", lkeyFull, 32],
      ["local empty", lkeyEmpty, 0],
      ["keccak", kkey, 100],
      ["keccak empty", kkeyEmpty, 0],
      ["merkle", mkey, 200],
      ["merkle empty", mkeyEmpty, 0],
    ] as const
  ) {
    for (const o of new Set(offsets(len))) {
      for (
        const [k, cnt] of [[0, 4], [1, 4], [3, 4], [0, 2], [2, 1], [0, 32], [0, 100], [5, 100], [29, 8], [
          31,
          2,
        ]]
      ) {
        read(`${n} read offset ${o} +${k} count ${cnt}`, key, o, DATA + k, cnt);
        if (cnt > 2) {
          read(`${n} read offset ${o} +${k} count ${cnt}`, key, o, DATA + k, cnt, host, Fd.preimageReadLe);
        }
      }
    }
  }
  const bigHost = { oracle: new PreimageOracle(bigSrc) };
  for (
    const o of [
      0,
      5,
      8 + 1000 * 32,
      8 + 1000 * 32 + 17,
      8 + 1000 * 32 + 60,
      big.length + 8 - 3,
      big.length + 8 - 1,
      big.length + 8,
      2 ** 32 - 1,
    ]
  ) {
    read(`merkle 64 MiB read offset ${o}`, bigKey, o, DATA + 1, 3, bigHost);
    read(`merkle 64 MiB read offset ${o} +8 count 64`, bigKey, o, DATA + 8, 64, bigHost);
    read(`merkle 64 MiB read offset ${o} +8 count 64`, bigKey, o, DATA + 8, 64, bigHost, Fd.preimageReadLe);
  }
  read("read of 0 bytes asks no oracle (key unknown)", keccakKey(new Uint8Array([1])), 0, DATA, 0);
  read("read of 0 bytes asks no oracle (type 7)", hexBytes("0x07" + "00".repeat(31)), 0, DATA, 0);
  for (const t of [0, 4, 7, 0xff]) {
    read(
      `key type ${t} is unprovable`,
      hexBytes("0x" + t.toString(16).padStart(2, "0") + "5a".repeat(31)),
      0,
      DATA,
      4,
    );
  }
  read("key type 5 is unprovable", hexBytes("0x05" + "5a".repeat(31)), 0, DATA, 4, host, Fd.preimageReadLe);
  read("local data over 32 bytes is unprovable", keyTooLong, 0, DATA, 4);

  // --- malformed states and the rules of docs/VM.md
  const r0 = machine({ code: [NOP] });
  r0.regs[0] = 5;
  out.push(judge(r0, host, EDGE_CTX, "state with r0 != 0 is malformed")!);
  const ex = machine({ code: [NOP] });
  const exData = ex.encode();
  exData[89] = 2;
  out.push({
    name: "state with exited = 2 is malformed",
    stateData: exData,
    proof: rawProof(ex),
    localContext: EDGE_CTX,
    expect: {
      revert: (() => {
        try {
          decodeState(exData);
        } catch (e) {
          if ((e as Error).message.includes("exited")) return Revert.exitedFlag;
        }
        throw new Error("decodeState accepted exited = 2");
      })(),
    },
  });
  cases(out, "step counter wraps at 2^64", { code: [NOP], step: 0, stepBase: 2n ** 64n - 1n }, 2);
  cases(out, "a fault counts a step", { code: [R(0x0d, 0, 0, 0)], step: 41 }, 2); // second: exited, unchanged
  const done = machine({ code: [NOP] });
  done.exited = true;
  done.exitCode = 3;
  const f = judge(done, host, EDGE_CTX, "an exited state is unchanged, its proofs unread")!;
  f.proof = f.proof.map((_, i) => (i * 31 + 7) & 0xff); // garbage: never read
  out.push(f);
  for (const code of [0, 1, 0xff]) {
    const d = machine({ code: [NOP] });
    d.exited = true;
    d.exitCode = code;
    out.push(judge(d, host, EDGE_CTX, `status byte of exit code ${code}`)!);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// random.bin: random states
// ---------------------------------------------------------------------------------------------

/** Instruction templates, so that random words hit every class (and fully random words the
 * reserved encodings). */
function randomInsn(rnd: () => number): number {
  const f = (n: number) => rnd() % n;
  const reg = () => (f(4) === 0 ? 0 : 8 + f(8));
  const sa = () => (f(3) === 0 ? f(32) : 0);
  switch (f(12)) {
    case 0:
      return rnd(); // anything
    case 1:
    case 2: // SPECIAL
      return R(rnd() & 63, reg(), reg(), reg(), sa());
    case 3: // REGIMM
      return RI(f(32), reg(), rnd() & 0xffff);
    case 4: // immediates
      return I(8 + f(8), reg(), reg(), rnd() & 0xffff);
    case 5: // branches and jumps
      return f(4) === 0
        ? J(2 + f(2), rnd())
        : I([4, 5, 6, 7, 0x14, 0x15, 0x16, 0x17][f(8)], reg(), f(2) ? 0 : reg(), rnd() & 0xffff);
    case 6:
      return S2(rnd() & 63, reg(), reg(), reg());
    case 7:
    case 8: // loads and stores (small offsets)
      return I(0x20 + f(32), reg(), reg(), f(16) - 8);
    case 9:
    case 10:
      return SYSCALL;
    default:
      return (f(64) << 26 | (rnd() & 0x03ffffff)) >>> 0;
  }
}

function randomValue(rnd: () => number): number {
  const edges = [
    0,
    1,
    2,
    3,
    4,
    M1,
    INT_MIN,
    INT_MAX,
    0xffff,
    0x8000,
    0x7fff,
    0x10000,
    DATA,
    DATA + 1,
    DATA + 2,
    DATA + 3,
  ];
  return (rnd() % 3 === 0 ? edges[rnd() % edges.length] : rnd()) | 0;
}

/** `count` fixtures of random states from a seeded generator (see the module comment). */
export function randomFixtures(count: number, seed: number): Fixture[] {
  const rnd = prng(seed);
  const f = (n: number) => rnd() % n;
  const src = new MapSource();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const len = [0, 5, 31, 32, 33, 64, 100, 257][f(8)];
    const d = new Uint8Array(len).map(() => rnd() & 0xff);
    keys.push(src.add(d, i % 2 ? "keccak" : "merkle"));
    const l = localKey(100 + i);
    src.set(l, d.slice(0, Math.min(len, 32)));
    keys.push(l);
  }
  const host = { oracle: new PreimageOracle(src) };
  const out: Fixture[] = [];
  let i = 0;
  while (out.length < count) {
    i++;
    const insn = randomInsn(rnd);
    const pc = f(8) === 0 ? (rnd() & ~3) >>> 0 : BASE + 4 * f(1024);
    const st = machine({ code: [insn], at: pc, nextPC: f(6) === 0 ? rnd() : pc + 4 });
    if (f(20) === 0) st.pc = (st.pc + 1 + f(3)) >>> 0; // misaligned pc
    for (let r = 1; r < 32; r++) st.regs[r] = randomValue(rnd);
    st.hi = randomValue(rnd);
    st.lo = randomValue(rnd);
    st.heap = rnd() >>> 0;
    st.step = f(1000000);
    if (f(10) === 0) st.stepBase = BigInt(rnd()) << 32n | BigInt(rnd());
    st.preimageKey = f(4) === 0 ? new Uint8Array(32).map(() => rnd() & 0xff) : keys[f(keys.length)].slice();
    st.preimageOffset = f(3) === 0 ? rnd() >>> 0 : f(300);
    if ((insn >>> 26) === 0 && (insn & 63) === 0x0c) {
      // syscalls: mostly known numbers, the fds of interest
      st.regs[V0] = f(5)
        ? [
          Syscall.mmap,
          Syscall.brk,
          Syscall.clone,
          Syscall.exitGroup,
          Syscall.read,
          Syscall.read,
          Syscall.write,
          Syscall.write,
          Syscall.fcntl,
        ][f(9)]
        : rnd();
      st.regs[A0] = f(5) ? f(8) : rnd();
      st.regs[A1] = f(4) ? DATA + f(64) : rnd();
      st.regs[A2] = f(4) ? f(6) : rnd();
    }
    // memory: the data word an access may touch, and some other words
    const base = st.regs[(insn >>> 21) & 31];
    const ea = (base + ((insn << 16) >> 16)) >>> 0;
    st.memory.writeWord((ea & ~3) >>> 0, rnd());
    st.memory.writeWord((st.regs[A1] & ~3) >>> 0, rnd());
    for (let k = f(4); k > 0; k--) st.memory.writeWord((rnd() & ~3) >>> 0, rnd());
    if (f(25) === 0) {
      st.exited = true;
      st.exitCode = f(3) ? f(3) : rnd() & 0xff;
    }
    if (f(40) === 0) st.regs[0] = rnd() | 1; // malformed
    for (let r = 0; r < 32; r++) st.fpr[r] = f32Operand(rnd);
    st.fcsr = f(4) === 0 ? rnd() | 0 : rnd() & 0xfe800000;
    const fx = judge(st, host, ctxOf(`opml fixtures: random ${f(4)}`), `random #${i}`);
    if (fx) out.push(fx);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// fpu.bin: the floating-point unit on many operand pairs
// ---------------------------------------------------------------------------------------------

/**
 * binary32 operands that exercise every rule: zeros, subnormals, limits, infinities, quiet and
 * signalling NaNs with payloads, halfway and int32-range values (also the FPU tests' operands,
 * tests/vm/fpu_qemu.test.ts and fpu_native.test.ts).
 */
export const F32_EDGES: readonly number[] = [
  0x00000000,
  0x80000000,
  0x3f800000,
  0xbf800000,
  0x00000001,
  0x80000001,
  0x007fffff,
  0x807fffff,
  0x00800000,
  0x00800001,
  0x7f7fffff,
  0xff7fffff,
  0x7f800000,
  0xff800000,
  0x7fc00000,
  0xffc00000,
  0x7f800001,
  0xff800001,
  0x7fa12345,
  0x7fbfffff,
  0x3f000000,
  0x3fc00000,
  0x40200000,
  0xbfc00000,
  0x4b800000,
  0x4b7fffff,
  0x4f000000,
  0xcf000000,
  0x4effffff,
  0xcf000001,
  0x34000000,
  0x33800000,
  0x3f800001,
  0x3f7fffff,
  0x40000000,
  0x40400000,
  0x00400000,
  0x00000002,
  0x7effffff,
  0x3effffff,
  0xff812345,
  0xbf000000,
]; // deno-fmt-ignore

/**
 * A binary32 operand (as int32) drawn from `rnd`: an edge value, an extreme or near-1 exponent,
 * a short significand, a value around int32's range, or random bits.
 */
export function f32Operand(rnd: () => number): number {
  const k = rnd() % 8;
  if (k < 2) return F32_EDGES[rnd() % F32_EDGES.length] | 0;
  if (k === 2) return (rnd() & 0x807fffff) | (((rnd() % 6) + (rnd() % 2 ? 0 : 248)) << 23); // tiny/huge
  if (k === 3) return (rnd() & 0xfffff000) | 0; // short significands: exact and halfway results
  if (k === 4) return ((rnd() & 0x80ffffff) | ((120 + (rnd() % 16)) << 23)) | 0; // near 1
  if (k === 5) return (rnd() & 0x807fffff) | ((126 + (rnd() % 34)) << 23); // around int32's range
  return rnd() | 0;
}

const COP1 = 0x11;
const FMT_S = 16, FMT_W = 20;
/** fmt S or W instruction `funct fd, fs, ft`; cc goes in fd's low bits for compares. */
const FR = (fmt: number, ft: number, fs: number, fd: number, funct: number) =>
  ((COP1 << 26) | (fmt << 21) | (ft << 16) | (fs << 11) | (fd << 6) | funct) >>> 0;
const F1 = 4, F2 = 6, F3 = 9; // fs, ft, fd

/**
 * `count` steps of FPU instructions on random and edge operands (seeded): arithmetic,
 * conversions, compares into every condition code, conditional moves, moves, FCSR, bc1
 * branches, lwc1/swc1 and unimplemented COP1 encodings (faults).
 */
export function fpuFixtures(count: number, seed: number): Fixture[] {
  const rnd = prng(seed);
  const f = (n: number) => rnd() % n;
  const host = { oracle: new PreimageOracle(new MapSource()) };
  const ctx = ctxOf("opml fixtures: fpu");
  const out: Fixture[] = [];
  const arith = [0x00, 0x01, 0x02, 0x03]; // add sub mul div: most of the records
  let i = 0;
  while (out.length < count) {
    i++;
    const k = f(40);
    let insn: number;
    let name: string;
    if (k < 24) {
      const funct = arith[k & 3];
      insn = FR(FMT_S, F2, F1, F3, funct);
      name = ["add.s", "sub.s", "mul.s", "div.s"][k & 3];
    } else if (k < 26) {
      insn = FR(FMT_S, 0, F1, F3, 0x04);
      name = "sqrt.s";
    } else if (k < 30) {
      const funct = [0x0c, 0x0d, 0x0e, 0x0f, 0x24][f(5)];
      insn = FR(FMT_S, 0, F1, F3, funct);
      name = `cvt funct ${funct}`;
    } else if (k < 31) {
      insn = FR(FMT_W, 0, F1, F3, 0x20);
      name = "cvt.s.w";
    } else if (k < 34) {
      insn = FR(FMT_S, F2, F1, f(8) << 2, 0x30 | f(16));
      name = "c.cond.s";
    } else if (k < 35) {
      insn = FR(FMT_S, [0, 8][f(2)] | (f(8) << 2) | f(2), F1, F3, 0x11); // movf.s/movt.s; ft = cc<<2|tf
      if (f(2)) insn = FR(FMT_S, T0, F1, F3, 0x12 + f(2)); // movz.s/movn.s
      name = "conditional move";
    } else if (k < 36) {
      insn = [
        FR(FMT_S, 0, F1, F3, 0x05),
        FR(FMT_S, 0, F1, F3, 0x06),
        FR(FMT_S, 0, F1, F3, 0x07),
        ((COP1 << 26) | (0 << 21) | (T0 << 16) | (F1 << 11)) >>> 0, // mfc1
        ((COP1 << 26) | (4 << 21) | (T0 << 16) | (F1 << 11)) >>> 0, // mtc1
        ((COP1 << 26) | (2 << 21) | (T0 << 16) | ([31, 31, 0, 25][f(4)] << 11)) >>> 0, // cfc1
        ((COP1 << 26) | (6 << 21) | (T0 << 16) | ([31, 31, 0, 26][f(4)] << 11)) >>> 0, // ctc1
        R(0x01, T1, (f(8) << 2) | f(2), T2), // movf/movt
      ][f(8)];
      name = "move";
    } else if (k < 37) {
      insn = ((COP1 << 26) | (8 << 21) | (f(8) << 18) | (f(4) << 16) | (f(65536))) >>> 0; // bc1
      name = "bc1";
    } else if (k < 38) {
      insn = I([0x31, 0x39][f(2)], T1, F1, f(4) === 0 ? f(16) - 8 : 4 * (f(16) - 8));
      name = "lwc1/swc1";
    } else {
      // unimplemented: fmt D and L, recip/rsqrt/cvt.d.s, ldc1/sdc1, other fields
      insn = [
        FR(17, F2, F1, F3, f(64)),
        FR(21, F2, F1, F3, 0x20),
        FR(FMT_S, F2, F1, F3, [0x15, 0x16, 0x21, 0x08, 0x10, 0x25][f(6)]),
        FR(FMT_W, F2, F1, F3, f(64)),
        I([0x35, 0x3d][f(2)], T1, F1, 8),
        ((COP1 << 26) | (rnd() & 0x03ffffff)) >>> 0,
      ][f(6)];
      name = "unimplemented";
    }
    const st = machine({ code: [insn] });
    // only the registers the instructions name: records then differ in few state chunks
    for (const r of [F1, F2, F3]) st.fpr[r] = f32Operand(rnd);
    if (name === "cvt.s.w") st.fpr[F1] = randomValue(rnd);
    st.fcsr = f(8) === 0 ? rnd() | 0 : rnd() & 0xfe800000;
    for (const r of [T0, T1, T2]) st.regs[r] = randomValue(rnd);
    if (f(3) === 0) st.regs[T0] = f(2) ? 0 : rnd() & 0xfe800000; // ctc1 values that pass
    st.regs[T1] = DATA + 4 * f(64);
    // memory only for loads and stores: other records then share all but two proof chunks
    if (name === "lwc1/swc1") {
      for (let w = 0; w < 8; w++) st.memory.writeWord(DATA - 32 + 4 * f(80), f32Operand(rnd));
    }
    const fx = judge(st, host, ctx, `fpu ${name} #${i}`);
    if (fx) out.push(fx);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// corpus.bin and preimage.bin: real runs
// ---------------------------------------------------------------------------------------------

/** Corpus programs (flag set, program) whose committed ELFs are sampled, and windows each. */
export const CORPUS_GUESTS: [flagset: string, program: string, windows: number][] = [
  ["O2", "alu", 16],
  ["O0", "memory", 24],
  ["O2", "muldiv", 16],
  ["O2-imadd", "madd", 16],
  ["mips32-O2", "branches", 20],
  ["O2", "llsc", 12],
  ["O2", "syscalls", 16],
  ["O2", "heap", 16],
  ["O2", "dispatch", 12],
  ["Os", "int64", 16],
  ["O2", "keccak", 16],
  ["O2", "sort", 16],
  ["O2", "bits", 12],
  ["mips1-O2", "strings", 12],
  ["O2", "float32", 30],
  ["O2", "matvec", 30],
];
/** Consecutive steps per window. */
export const WINDOW = 20;

/** Path of a committed guest ELF. */
export function guestElf(name: string): string {
  return `${root}${GUEST_DIR}/${name}.elf`;
}

const CORPUS_CTX = ctxOf("opml fixtures: corpus");

/**
 * Witnesses of `windows` windows of `len` consecutive steps spread over the whole run of an
 * ELF (the last window ends with its exit), in one pass.
 */
export function sampleRun(
  elf: Uint8Array,
  host: VmHost,
  windows: number,
  len: number,
  seed: number,
  keep?: (st: VmState) => boolean,
): { witnesses: StepWitness[]; starts: number[]; total: number; exitCode: number } {
  const probe = loadElf(elf);
  while (!probe.exited) execute(probe, host, 1 << 24);
  const total = probe.step;
  const rnd = prng(seed);
  const starts = new Set<number>();
  for (let k = 0; k < windows - 1; k++) {
    const span = Math.max(1, Math.floor((total - len) / (windows - 1)));
    starts.add(Math.min(total - len, k * span + (rnd() % span)));
  }
  starts.add(Math.max(0, total - len));
  const sorted = [...starts].sort((a, b) => a - b);
  const st = loadElf(elf);
  const witnesses: StepWitness[] = [];
  const windowStart: number[] = [];
  let next = 0;
  while (!st.exited) {
    while (next < sorted.length && sorted[next] + len <= st.step) next++;
    const inWindow = next < sorted.length && st.step >= sorted[next];
    if (inWindow || keep?.(st)) {
      if (inWindow && st.step === sorted[next]) windowStart.push(witnesses.length);
      witnesses.push(stepWithWitness(st, host));
    } else {
      const target = next < sorted.length ? sorted[next] : Infinity;
      execute(st, host, keep ? 1 : Math.min(target - st.step, 1 << 24));
    }
  }
  return { witnesses, starts: windowStart, total, exitCode: st.exitCode };
}

/**
 * Fixtures of `windows` windows of `len` steps of the committed corpus guest `name`
 * (`<flagset>-<program>`); the first record of each window is named after its step.
 */
export function guestFixtures(
  name: string,
  windows: number,
  len: number,
  seed: number,
  ctx = CORPUS_CTX,
): Fixture[] {
  const elf = Deno.readFileSync(guestElf(name));
  const host = { oracle: new PreimageOracle(new MapSource()) };
  const { witnesses, starts } = sampleRun(elf, host, windows, len, seed);
  const first = new Set(starts);
  return witnesses.map((w, i) => fixtureOf(w, ctx, first.has(i) ? `${name} step ${w.step + 1}` : undefined));
}

function corpusFixtures(): Fixture[] {
  return CORPUS_GUESTS.flatMap(([flagset, program, windows], g) =>
    guestFixtures(`${flagset}-${program}`, windows, WINDOW, 1000 + g)
  );
}

/** The preimages the preimage guest reads (guests/preimage.c), served by raw keys. */
export function preimageGuestSource(): MapSource {
  const src = new MapSource();
  const a = new Uint8Array(100).map((_, i) => (i * 29 + 3) & 0xff);
  const b = new Uint8Array(300).map((_, i) => (i * 53 + 17) & 0xff);
  src.set(localKey(1), keccakKey(a));
  src.set(localKey(2), merkleDataKey(b));
  src.set(localKey(3), new TextEncoder().encode("local: 13 by."));
  src.add(a, "keccak");
  src.add(b, "merkle");
  return src;
}

const PREIMAGE_CTX = ctxOf("opml fixtures: preimage guest");

function isSyscall(st: VmState): boolean {
  return (st.pc & 3) === 0 && st.memory.readWord(st.pc) === SYSCALL;
}

/**
 * Fixtures of every syscall step of the preimage guest (guests/preimage.c) and of `windows`
 * windows of its other steps.
 */
export function preimageFixtures(windows = 8, ctx = PREIMAGE_CTX): Fixture[] {
  const elf = Deno.readFileSync(guestElf("preimage"));
  const host = { oracle: new PreimageOracle(preimageGuestSource()) };
  const { witnesses, exitCode } = sampleRun(elf, host, windows, WINDOW, 7, isSyscall);
  if (exitCode !== 0) throw new Error(`the preimage guest exited with ${exitCode}: its preimages are wrong`);
  let lastPc = -1;
  return witnesses.map((w) => {
    const pc = new DataView(w.stateData.buffer).getUint32(68);
    const named = pc !== lastPc + 4;
    lastPc = pc;
    return fixtureOf(w, ctx, named ? `preimage step ${w.step + 1}` : undefined);
  });
}

// ---------------------------------------------------------------------------------------------
// Guests
// ---------------------------------------------------------------------------------------------

async function updateGuests(): Promise<void> {
  const { buildMips } = await import("../core/toolchain/mod.ts");
  await Deno.mkdir(`${root}${GUEST_DIR}`, { recursive: true });
  for (const [flagset, program] of CORPUS_GUESTS) {
    const built = `${root}build/corpus/${flagset}/${program}.elf`;
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}tasks/build_corpus.ts`, "--flagset", flagset, "--program", program],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) throw new Error(`build_corpus failed for ${flagset}/${program}`);
    await Deno.copyFile(built, guestElf(`${flagset}-${program}`));
  }
  await buildMips([`${root}${GUEST_DIR}/preimage.c`], guestElf("preimage"));
  console.error(`gen_fixtures: updated the guest ELFs in ${GUEST_DIR}`);
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

/** Every fixture file, generated in memory: name -> bytes. */
export function generateAll(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const timed = (name: string, make: () => Fixture[]) => {
    const t = performance.now();
    const fixtures = make();
    files.set(name, encodeFixtures(fixtures));
    console.error(
      `gen_fixtures: ${name}: ${fixtures.length} steps (${Math.round(performance.now() - t)} ms)`,
    );
  };
  timed("edge.bin", edgeFixtures);
  timed("random.bin", () => randomFixtures(800, 0x0b5e55ed));
  timed("corpus.bin", corpusFixtures);
  timed("preimage.bin", preimageFixtures);
  timed("fpu.bin", () => fpuFixtures(10000, 0xf10a7));
  return files;
}

async function main(): Promise<void> {
  const args = new Set(Deno.args);
  const check = args.delete("--check");
  const update = args.delete("--update-guests");
  if (args.size > 0) {
    console.error(`gen_fixtures: unknown arguments: ${[...args].join(" ")}`);
    Deno.exit(2);
  }
  if (update) await updateGuests();
  const files = generateAll();
  let stale = 0;
  for (const [name, bytes] of files) {
    const path = `${root}${FIXTURE_DIR}/${name}`;
    let current: Uint8Array | undefined;
    try {
      current = Deno.readFileSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const same = current !== undefined && equalBytes(current, bytes);
    if (check) {
      if (!same) {
        console.error(
          `gen_fixtures: ${FIXTURE_DIR}/${name} differs from what the TypeScript VM generates now`,
        );
        stale++;
      }
    } else if (!same) {
      Deno.writeFileSync(path, bytes);
      console.error(`gen_fixtures: wrote ${FIXTURE_DIR}/${name} (${bytes.length} bytes)`);
    }
  }
  if (stale > 0) {
    console.error("gen_fixtures: regenerate with `deno run -A tasks/gen_fixtures.ts` and review the change");
    Deno.exit(1);
  }
  if (check) console.error(`gen_fixtures: ${files.size} fixture files are up to date`);
}

if (import.meta.main) await main();
