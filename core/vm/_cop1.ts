/**
 * The COP1 (FPU) instructions other than the branches, on a state (docs/VM.md, Floating
 * point): moves to and from the FPU, the control register, binary32 arithmetic, conversions,
 * compares and conditional moves. Called by step.ts's interpreter.
 * @module
 */
import { CTC1_FAULT_BITS, FCC_MASK, fccBit, type VmState } from "./state.ts";
import { cvtSW, cvtWS, fadd, fcompare, fdiv, fmul, fsqrt, fsub, RoundTo } from "./fpu.ts";

/**
 * Executes the COP1 word `insn` (opcode 0x11, not a branch) on `st`. Returns false, with the
 * state unchanged, for an encoding the VM does not implement (the step faults).
 */
export function cop1(st: VmState, insn: number): boolean {
  const fmt = (insn >>> 21) & 31;
  const ft = (insn >>> 16) & 31; // rt for the moves
  const fs = (insn >>> 11) & 31;
  const fd = (insn >>> 6) & 31;
  const f = st.fpr, r = st.regs;
  switch (fmt) {
    case 0: // mfc1
      r[ft] = f[fs];
      return true;
    case 2: // cfc1: only FCSR (31)
      if (fs !== 31) return false;
      r[ft] = st.fcsr;
      return true;
    case 4: // mtc1
      f[fs] = r[ft];
      return true;
    case 6: { // ctc1: only FCSR, only round-to-nearest with no exceptions enabled
      if (fs !== 31 || (r[ft] & CTC1_FAULT_BITS) !== 0) return false;
      st.fcsr = r[ft] & FCC_MASK;
      return true;
    }
    case 16: // fmt S
      return single(st, insn, ft, fs, fd);
    case 20: // fmt W: cvt.s.w
      if ((insn & 63) !== 0x20) return false;
      f[fd] = cvtSW(f[fs]);
      return true;
    default: // fmt D, L, PS and the rest: no double precision in the VM
      return false;
  }
}

function single(st: VmState, insn: number, ft: number, fs: number, fd: number): boolean {
  const f = st.fpr;
  const funct = insn & 63;
  if (funct >= 0x30) { // c.cond.s
    const bit = fccBit((insn >>> 8) & 7);
    if (fcompare(f[fs], f[ft], funct & 15)) st.fcsr |= 1 << bit;
    else st.fcsr &= ~(1 << bit);
    return true;
  }
  switch (funct) {
    case 0x00:
      f[fd] = fadd(f[fs], f[ft]);
      return true;
    case 0x01:
      f[fd] = fsub(f[fs], f[ft]);
      return true;
    case 0x02:
      f[fd] = fmul(f[fs], f[ft]);
      return true;
    case 0x03:
      f[fd] = fdiv(f[fs], f[ft]);
      return true;
    case 0x04:
      f[fd] = fsqrt(f[fs]);
      return true;
    case 0x05: // abs.s: the sign bit only, also for NaNs
      f[fd] = f[fs] & 0x7fffffff;
      return true;
    case 0x06: // mov.s
      f[fd] = f[fs];
      return true;
    case 0x07: // neg.s: the sign bit only
      f[fd] = f[fs] ^ 0x80000000;
      return true;
    case 0x0c: // round.w.s
    case 0x24: // cvt.w.s (FCSR's rounding mode is always nearest)
      f[fd] = cvtWS(f[fs], RoundTo.nearest);
      return true;
    case 0x0d: // trunc.w.s
      f[fd] = cvtWS(f[fs], RoundTo.zero);
      return true;
    case 0x0e: // ceil.w.s
      f[fd] = cvtWS(f[fs], RoundTo.up);
      return true;
    case 0x0f: // floor.w.s
      f[fd] = cvtWS(f[fs], RoundTo.down);
      return true;
    case 0x11: // movf.s, movt.s
      if (((st.fcsr >>> fccBit((insn >>> 18) & 7)) & 1) === ((insn >>> 16) & 1)) f[fd] = f[fs];
      return true;
    case 0x12: // movz.s
      if (st.regs[ft] === 0) f[fd] = f[fs];
      return true;
    case 0x13: // movn.s
      if (st.regs[ft] !== 0) f[fd] = f[fs];
      return true;
    default: // recip, rsqrt (release 2), cvt.d.s, ...
      return false;
  }
}
