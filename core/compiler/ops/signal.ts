/**
 * The signal family (op codes 950-969, docs/IR.md; kernels in core/kernels/signal.c): the
 * HannWindow, HammingWindow and BlackmanWindow generators (size known at compile time,
 * float32 output) and MelWeightMatrix. Layouts in schema.ts.
 * @module
 */
import { DType, shapeSize } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { input, typeName } from "./elementwise.ts";
import { constInts } from "./movement.ts";

/** Op codes of the signal kernels, from the operator schema (schema.ts documents each attribute layout). */
export const SIGNAL_OPS: OpCodes<"signal"> = opCodes("signal");

function windowOp(opType: "HannWindow" | "HammingWindow" | "BlackmanWindow"): OpDef {
  return {
    opType,
    lower(ctx: NodeContext) {
      const size = input(ctx, 0);
      const v = constInts(ctx, 0, "size") ?? ctx.fail("input 'size' is required");
      if (v.length !== 1 || size.shape.length !== 0) ctx.fail("size must be a scalar");
      const n = v[0];
      if (n < 0) ctx.fail(`size ${n} is negative`);
      const dtype = ctx.attrs.int("output_datatype", DType.float32);
      if (dtype !== DType.float32) ctx.fail(`output_datatype ${typeName(dtype)} is not supported (float)`);
      return {
        op: SIGNAL_OPS[opType],
        ints: [n, ctx.attrs.int("periodic", 1) ? 1 : 0],
        outputs: [{ dtype, shape: [n] }],
        keepInputs: [],
      };
    },
  };
}

/** A compile-time scalar input of any numeric dtype, as a number. */
function scalarValue(ctx: NodeContext, i: number, what: string): number {
  const v = input(ctx, i);
  if (shapeSize(v.shape) !== 1) ctx.fail(`${what} must be a scalar`);
  if (!v.value) return ctx.fail(`input '${ctx.inputNames[i]}' (${what}) must be known at compile time`);
  return Number(v.value.data[0]);
}

/**
 * MelWeightMatrix: the band edges are the ONNX reference's, computed here in binary64 (mel =
 * 2595 log10(1 + f / 700), M + 2 points spaced by (high - low) / (M + 2), back to hertz, then
 * floor((dft_length + 1) f / sample_rate)); the kernel fills the triangles.
 */
const melWeightMatrix: OpDef = {
  opType: "MelWeightMatrix",
  lower(ctx: NodeContext) {
    const [M, dft, rate] = ["num_mel_bins", "dft_length", "sample_rate"].map((w, i) =>
      scalarValue(ctx, i, w)
    );
    const [lo, hi] = ["lower_edge_hertz", "upper_edge_hertz"].map((w, i) => scalarValue(ctx, 3 + i, w));
    const dtype = ctx.attrs.int("output_datatype", DType.float32);
    if (dtype !== DType.float32) ctx.fail(`output_datatype ${typeName(dtype)} is not supported (float)`);
    if (!(M >= 1) || !(dft >= 1) || !(rate >= 1)) {
      ctx.fail("num_mel_bins, dft_length and sample_rate must be positive");
    }
    const S = Math.floor(dft / 2) + 1;
    const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
    const low = mel(lo), step = (mel(hi) - low) / (M + 2);
    const bins = Array.from({ length: M + 2 }, (_, k) => {
      const hz = 700 * (Math.pow(10, (k * step + low) / 2595) - 1);
      return Math.floor(((dft + 1) * hz) / rate);
    });
    if (bins.some((b) => !(b >= 0 && b < S))) {
      ctx.fail(`the bands [${lo}, ${hi}] Hz fall outside the ${S} spectrogram bins`);
    }
    return {
      op: SIGNAL_OPS.MelWeightMatrix,
      ints: [S, M, ...bins],
      outputs: [{ dtype, shape: [S, M] }],
      keepInputs: [],
    };
  },
};

/** Every signal operator. */
export const OPS: readonly OpDef[] = [
  windowOp("HannWindow"),
  windowOp("HammingWindow"),
  windowOp("BlackmanWindow"),
  melWeightMatrix,
];
