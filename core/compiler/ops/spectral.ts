/**
 * The spectral family (op codes 750-799, docs/IR.md; kernels in core/kernels/spectral.c): DFT
 * (opsets 17 and 20: real or complex input, dft_length, forward and inverse, onesided, the
 * inverse of a onesided spectrum as a real signal) and STFT. The twiddle factors are computed
 * here once, in binary64, and rounded to float32 into the program; the kernels only multiply and
 * add them in one order. (The windows are the signal family, signal.ts.)
 * @module
 */
import { DType, dtypeName, shapeSize } from "../../ir/types.ts";
import type { Lowered, NodeContext, OpDef, ValueInfo } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { normAxis } from "./nn.ts";

/** Op codes of the spectral kernels, from the operator schema (schema.ts documents each attribute layout). */
export const SPECTRAL_OPS: OpCodes<"spectral"> = opCodes("spectral");

/** cos(2 pi m / N) for m < N, then sin(2 pi m / N). */
function twiddles(N: number): number[] {
  const c: number[] = [], s: number[] = [];
  for (let m = 0; m < N; m++) {
    const a = (2 * Math.PI * m) / N;
    c.push(Math.cos(a)), s.push(Math.sin(a));
  }
  return [...c, ...s];
}

/** A scalar integer input known at compile time, or undefined when absent. */
function scalarInt(ctx: NodeContext, i: number, what: string): number | undefined {
  const v = ctx.inputs[i];
  if (!v || shapeSize(v.shape) === 0) return undefined;
  if (v.dtype !== DType.int64 && v.dtype !== DType.int32) ctx.fail(`input '${what}' must be an integer`);
  if (!v.value) ctx.fail(`input '${what}' must be known at compile time`);
  if (shapeSize(v.shape) !== 1) ctx.fail(`input '${what}' must be a scalar`);
  return Number(v.value.data[0]);
}

function floatSignal(ctx: NodeContext, what: string): ValueInfo {
  const x = ctx.inputs[0];
  if (!x) return ctx.fail(`input 0 (${what}) is required`);
  if (x.dtype !== DType.float32) {
    ctx.fail(`input ${what} has type ${dtypeName(x.dtype)}; only float is supported`);
  }
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || (c !== 1 && c !== 2)) {
    ctx.fail(`input ${what} [${x.shape}] must end in 1 (real) or 2 (complex)`);
  }
  return x;
}

function lowerDft(ctx: NodeContext): Lowered {
  const x = floatSignal(ctx, "input");
  const r = x.shape.length;
  const axisIn = ctx.opset >= 20 ? scalarInt(ctx, 2, "axis") ?? -2 : ctx.attrs.int("axis", 1);
  const axis = normAxis(ctx, axisIn, r);
  if (axis === r - 1) ctx.fail(`axis ${axisIn} is the complex axis`);
  const inverse = ctx.attrs.int("inverse", 0) !== 0, onesided = ctx.attrs.int("onesided", 0) !== 0;
  const complexIn = x.shape[r - 1] === 2;
  const L = x.shape[axis];
  if (onesided && inverse && !complexIn) ctx.fail("the inverse of a onesided spectrum needs a complex input");
  if (onesided && !inverse && complexIn) ctx.fail("a onesided transform needs a real input");
  const N = scalarInt(ctx, 1, "dft_length") ?? (onesided && inverse ? 2 * (L - 1) : L);
  if (!(N >= 1)) ctx.fail(`dft_length ${N} must be positive`);
  const K = onesided && !inverse ? Math.floor(N / 2) + 1 : N;
  const shape = [...x.shape];
  shape[axis] = K, shape[r - 1] = onesided && inverse ? 1 : 2;
  return {
    op: SPECTRAL_OPS.DFT,
    ints: [
      shapeSize(x.shape.slice(0, axis)),
      L,
      shapeSize(x.shape.slice(axis + 1, r - 1)),
      complexIn ? 1 : 0,
      N,
      K,
      inverse ? 1 : 0,
      onesided ? 1 : 0,
    ],
    floats: twiddles(N),
    outputs: [{ dtype: DType.float32, shape }],
    keepInputs: [0],
  }; // deno-fmt-ignore
}

function lowerStft(ctx: NodeContext): Lowered {
  const x = floatSignal(ctx, "signal");
  if (x.shape.length !== 3) ctx.fail(`signal [${x.shape}] must be [batch, length, 1 or 2]`);
  const [B, L, c] = x.shape;
  const step = scalarInt(ctx, 1, "frame_step");
  if (step === undefined || !(step >= 1)) ctx.fail("frame_step must be a positive constant");
  const win = ctx.inputs[2];
  if (win && (win.dtype !== DType.float32 || win.shape.length !== 1)) {
    ctx.fail(`window must be a float vector`);
  }
  const N = scalarInt(ctx, 3, "frame_length") ?? win?.shape[0];
  if (N === undefined || !(N >= 1) || N > L) {
    ctx.fail("frame_length (or the window's length) must fit the signal");
  }
  if (win && win.shape[0] !== N) ctx.fail(`window [${win.shape}] must have frame_length ${N} values`);
  const onesided = ctx.attrs.int("onesided", 1) !== 0;
  if (onesided && c === 2) ctx.fail("a onesided transform needs a real signal");
  const frames = Math.floor((L - N) / step) + 1, K = onesided ? Math.floor(N / 2) + 1 : N;
  return {
    op: SPECTRAL_OPS.STFT,
    ints: [B, L, c === 2 ? 1 : 0, step, N, frames, K],
    floats: twiddles(N),
    outputs: [{ dtype: DType.float32, shape: [B, frames, K, 2] }],
    keepInputs: win ? [0, 2] : [0],
  };
}

/** Every spectral operator. */
export const OPS: readonly OpDef[] = [
  { opType: "DFT", lower: lowerDft },
  { opType: "STFT", lower: lowerStft },
];
