/**
 * The VM state of docs/VM.md: registers and control fields beside the memory, its 358-byte
 * packed encoding, and the state hash with the status byte.
 * @module
 */
import { keccak256 } from "./keccak.ts";
import { Memory, type MemorySnapshot } from "./memory.ts";

/** Bytes in a packed state. */
export const STATE_SIZE = 358;
/** Offset of the FPU registers f0..f31 in a packed state (then FCSR at 354). */
export const FPR_OFFSET = 226;
/** Offset of FCSR, the FPU control and status register, in a packed state. */
export const FCSR_OFFSET = 354;

/** The FCSR bits the VM keeps: the condition codes FCC0 (bit 23) and FCC1..7 (bits 25..31). */
export const FCC_MASK = 0xfe800000 | 0;
/**
 * FCSR bits whose being set makes `ctc1` fault: a rounding mode other than nearest (bits 0-1),
 * enabled exceptions (bits 7-11) and flush-to-zero (FS, bit 24).
 */
export const CTC1_FAULT_BITS = 0x01000f83;

/** The FCSR bit of FPU condition code `cc` (0-7). */
export function fccBit(cc: number): number {
  return cc === 0 ? 23 : 24 + cc;
}

/** The status byte that replaces the first byte of a state hash. */
export const VmStatus = {
  /** exited with code 0: the checked claim holds */
  Valid: 0,
  /** exited with code 1: the checked claim is false */
  Invalid: 1,
  /** exited with any other code, including a fault (0xFF) */
  Panic: 2,
  /** still running */
  Unfinished: 3,
} as const;
/** One of the {@link VmStatus} values. */
export type VmStatus = typeof VmStatus[keyof typeof VmStatus];

/** Exit code that a fault (unknown instruction, trap, overflow, misalignment) leaves. */
export const FAULT_EXIT_CODE = 0xff;

/** Register file indices used by the loader and syscalls. */
export const Reg = { v0: 2, a0: 4, a1: 5, a2: 6, a3: 7, sp: 29, ra: 31 } as const;

/** Every field of a VM state but its memory: what a checkpoint copies. */
export class StateFields {
  preimageKey: Uint8Array = new Uint8Array(32);
  preimageOffset = 0;
  pc = 0;
  nextPC = 4;
  lo = 0;
  hi = 0;
  heap = 0;
  exitCode = 0;
  exited = false;
  /** Steps taken: a JS number, exact below 2^53 (far more than any run takes). */
  step = 0;
  /**
   * Added to `step` in the committed counter, which is `(stepBase + step) mod 2^64` (the
   * contract's uint64 wraps). Zero for every state a run produces; it lets a state carry any
   * 64-bit counter, e.g. one about to wrap.
   */
  stepBase = 0n;
  /** General registers; `regs[0]` is always 0 between steps. */
  regs: Int32Array = new Int32Array(32);
  /** FPU registers f0..f31 (binary32 bit patterns; FR = 0, no doubles). */
  fpr: Int32Array = new Int32Array(32);
  /** FCSR: only the condition code bits ({@link FCC_MASK}) are ever set by a step. */
  fcsr = 0;
}

/**
 * The complete machine: control fields, registers and memory. `encode()` gives the packed
 * state that the step contract consumes.
 *
 * @example
 * ```ts
 * const st = new VmState();
 * st.pc = 0x400000; st.nextPC = 0x400004;
 * const hash = st.hash(); // status byte 3: unfinished
 * ```
 */
export class VmState extends StateFields {
  memory: Memory;
  /**
   * Not committed: the aligned address of the data word the last executed step read or wrote,
   * or -1 if it accessed none. Witness generation uses it.
   */
  lastDataAddr = -1;

  constructor(memory: Memory = new Memory()) {
    super();
    this.memory = memory;
  }

  /** The status byte of this state. */
  get status(): VmStatus {
    if (!this.exited) return VmStatus.Unfinished;
    return this.exitCode === 0 ? VmStatus.Valid : this.exitCode === 1 ? VmStatus.Invalid : VmStatus.Panic;
  }

  /** The 358-byte packed state (computes the memory root). */
  encode(): Uint8Array {
    return encodeState(this, this.memory.root());
  }

  /** The state hash: keccak256 of the packed state with the status as first byte. */
  hash(): Uint8Array {
    return stateHash(this.encode());
  }

  /** A copy sharing memory pages copy-on-write with this state. */
  clone(): VmState {
    return this.freeze().thaw();
  }

  /**
   * This state frozen (a checkpoint): registers copied, memory a snapshot that shares every
   * page with this state until this state writes it.
   */
  freeze(): FrozenState {
    const f = new FrozenState(this.memory.snapshot());
    copyFields(this, f);
    return f;
  }
}

function copyFields(from: StateFields, to: StateFields): void {
  to.preimageKey = from.preimageKey.slice();
  to.preimageOffset = from.preimageOffset;
  to.pc = from.pc;
  to.nextPC = from.nextPC;
  to.lo = from.lo;
  to.hi = from.hi;
  to.heap = from.heap;
  to.exitCode = from.exitCode;
  to.exited = from.exited;
  to.step = from.step;
  to.stepBase = from.stepBase;
  to.regs = from.regs.slice();
  to.fpr = from.fpr.slice();
  to.fcsr = from.fcsr;
}

function encodeState(c: StateFields, memRoot: Uint8Array): Uint8Array {
  const out = new Uint8Array(STATE_SIZE);
  const v = new DataView(out.buffer);
  out.set(memRoot, 0);
  out.set(c.preimageKey, 32);
  v.setUint32(64, c.preimageOffset);
  v.setUint32(68, c.pc);
  v.setUint32(72, c.nextPC);
  v.setUint32(76, c.lo);
  v.setUint32(80, c.hi);
  v.setUint32(84, c.heap);
  out[88] = c.exitCode;
  out[89] = c.exited ? 1 : 0;
  v.setBigUint64(90, BigInt.asUintN(64, c.stepBase + BigInt(c.step)));
  for (let i = 0; i < 32; i++) v.setUint32(98 + 4 * i, c.regs[i] >>> 0);
  for (let i = 0; i < 32; i++) v.setUint32(FPR_OFFSET + 4 * i, c.fpr[i] >>> 0);
  v.setUint32(FCSR_OFFSET, c.fcsr >>> 0);
  return out;
}

/**
 * A VM state frozen at one step (a checkpoint of a run): its registers and a snapshot of its
 * memory, which shares pages with the state it was frozen from and with other snapshots. Costs
 * the pages written since the previous snapshot, not the memory's size.
 *
 * @example
 * ```ts
 * const cp = state.freeze();
 * execute(state, host, 1000);
 * const again = cp.thaw(); // a live state as it was when frozen
 * cp.hash(); // the hash it had then
 * ```
 */
export class FrozenState extends StateFields {
  constructor(readonly memory: MemorySnapshot) {
    super();
  }

  /** A new live state equal to this one (sharing its pages copy-on-write). */
  thaw(): VmState {
    const st = new VmState(Memory.fromSnapshot(this.memory));
    copyFields(this, st);
    return st;
  }

  /** The state hash (as {@link VmState.hash}). */
  hash(): Uint8Array {
    return stateHash(encodeState(this, this.memory.root()));
  }
}

/** The fields of a packed state, decoded. */
export interface DecodedState {
  memRoot: Uint8Array;
  preimageKey: Uint8Array;
  preimageOffset: number;
  pc: number;
  nextPC: number;
  lo: number;
  hi: number;
  heap: number;
  exitCode: number;
  exited: boolean;
  step: bigint;
  registers: number[];
  /** f0..f31 as unsigned 32-bit bit patterns */
  fpr: number[];
  fcsr: number;
}

/**
 * Decodes a packed state. Throws a RangeError naming the problem on a malformed one.
 *
 * @example
 * ```ts
 * const fields = decodeState(new VmState().encode());
 * ```
 */
export function decodeState(data: Uint8Array): DecodedState {
  if (data.length !== STATE_SIZE) {
    throw new RangeError(`state must be ${STATE_SIZE} bytes, got ${data.length}`);
  }
  if (data[89] > 1) throw new RangeError(`state's exited flag must be 0 or 1, got ${data[89]}`);
  const v = new DataView(data.buffer, data.byteOffset, data.length);
  if (v.getUint32(98) !== 0) throw new RangeError(`state's register r0 must be 0, got ${v.getUint32(98)}`);
  return {
    memRoot: data.slice(0, 32),
    preimageKey: data.slice(32, 64),
    preimageOffset: v.getUint32(64),
    pc: v.getUint32(68),
    nextPC: v.getUint32(72),
    lo: v.getUint32(76),
    hi: v.getUint32(80),
    heap: v.getUint32(84),
    exitCode: data[88],
    exited: data[89] === 1,
    step: v.getBigUint64(90),
    registers: Array.from({ length: 32 }, (_, i) => v.getUint32(98 + 4 * i)),
    fpr: Array.from({ length: 32 }, (_, i) => v.getUint32(FPR_OFFSET + 4 * i)),
    fcsr: v.getUint32(FCSR_OFFSET),
  };
}

/**
 * The state hash of a packed state: keccak256 with the first byte replaced by the status.
 *
 * @example
 * ```ts
 * const h = stateHash(new VmState().encode());
 * h[0]; // 3 (unfinished)
 * ```
 */
export function stateHash(encoded: Uint8Array): Uint8Array {
  const h = keccak256(encoded);
  const exited = encoded[89] === 1;
  const code = encoded[88];
  h[0] = !exited
    ? VmStatus.Unfinished
    : code === 0
    ? VmStatus.Valid
    : code === 1
    ? VmStatus.Invalid
    : VmStatus.Panic;
  return h;
}
