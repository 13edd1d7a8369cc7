/**
 * The quantized operators (docs/IR.md, op codes 300-399; kernels in core/kernels/quant.c):
 * QuantizeLinear, DequantizeLinear, MatMulInteger, QLinearMatMul, QLinearConv and
 * com.microsoft::QLinearAdd. Scales and zero points stay runtime tensors (the conformance cases
 * feed them as graph inputs); `lower` fixes every shape and layout so the kernels see no ONNX
 * defaults.
 *
 * Requantisation (QLinearMatMul, QLinearConv) is exact: the int32 accumulator times the float32
 * multiplier (a_scale * b_scale) / y_scale, plus the zero point, rounded once half to even, as
 * the ONNX reference computes it. onnxruntime rounds the product to float32 first and adds the
 * zero point after rounding, so it may differ by one unit.
 * @module
 */
import { type OpCodes, opCodes } from "./schema.ts";
import { DType, dtypeName, shapeSize } from "../../ir/types.ts";
import type { NodeContext, OpDef, ValueInfo } from "./types.ts";

/** Op codes of the quantized kernels, from the operator schema (schema.ts documents each attribute layout). */
export const QUANT_OPS: OpCodes<"quant"> = opCodes("quant");

/** ONNX element types beyond the IR's, for precise messages. */
const EXOTIC: Record<number, string> = {
  10: "float16",
  16: "bfloat16",
  17: "float8e4m3fn",
  18: "float8e4m3fnuz",
  19: "float8e5m2",
  20: "float8e5m2fnuz",
  21: "uint4",
  22: "int4",
  23: "float4e2m1",
  24: "float8e8m0",
  25: "uint2",
  26: "int2",
};

function typeName(dtype: number): string {
  return EXOTIC[dtype] ?? dtypeName(dtype);
}

const EIGHT_BIT: readonly number[] = [DType.uint8, DType.int8];
const QUANTIZED: readonly number[] = [
  DType.uint8,
  DType.int8,
  DType.uint16,
  DType.int16,
  DType.uint4,
  DType.int4,
  DType.uint2,
  DType.int2,
];

/** The float8 and float4 formats QuantizeLinear/DequantizeLinear convert to and from. */
const SMALL_QUANTIZED: readonly number[] = [
  DType.float8e4m3fn,
  DType.float8e4m3fnuz,
  DType.float8e5m2,
  DType.float8e5m2fnuz,
  DType.float4e2m1,
];

function required(ctx: NodeContext, i: number, name: string): ValueInfo {
  return ctx.inputs[i] ?? ctx.fail(`input ${i} (${name}) is required`);
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(",")}]`;
}

/** Fails unless a scale is float32 (float16 and bfloat16 scales are not implemented). */
function checkScale(ctx: NodeContext, s: ValueInfo, name: string): void {
  if (s.dtype !== DType.float32) {
    ctx.fail(`${name} of type ${typeName(s.dtype)} is not supported (float only)`);
  }
}

/** Fails unless a zero point (when present) has the dtype of the tensor it belongs to. */
function checkZeroPoint(ctx: NodeContext, zp: ValueInfo | undefined, dtype: number, name: string): void {
  if (zp && zp.dtype !== dtype) {
    ctx.fail(`${name} has type ${typeName(zp.dtype)}, but its tensor has type ${typeName(dtype)}`);
  }
}

/** Fails unless a scale (or zero point) holds a single value. */
function checkPerTensor(ctx: NodeContext, v: ValueInfo | undefined, name: string): void {
  if (v && shapeSize(v.shape) !== 1) {
    ctx.fail(`${name} of shape ${shapeStr(v.shape)} is not supported (only per-tensor, one value)`);
  }
}

function normAxis(ctx: NodeContext, axis: number, rank: number): number {
  if (axis < -rank || axis >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/**
 * The QuantizeLinear/DequantizeLinear layout [outer, len, inner, block, s_outer, s_axis, s_inner]
 * (see quant.c): per-tensor, per-axis (1-D scale along `axis`) or blocked (`block_size` > 0,
 * scale of x's rank with ceil(len / block_size) entries along `axis`).
 */
function qdqLayout(
  ctx: NodeContext,
  x: ValueInfo,
  scale: ValueInfo,
  zp: ValueInfo | undefined,
  prefix: string,
): number[] {
  const block = ctx.attrs.int("block_size", 0);
  const n = shapeSize(x.shape);
  // one value each ([] and [1], as the ONNX v1.22 node tests pair them) is per-tensor either way
  const single = (v: ValueInfo) => v.shape.length <= 1 && shapeSize(v.shape) === 1;
  if (zp && shapeStr(zp.shape) !== shapeStr(scale.shape) && !(single(zp) && single(scale))) {
    ctx.fail(
      `${prefix}_zero_point shape ${shapeStr(zp.shape)} differs from ${prefix}_scale shape ${
        shapeStr(scale.shape)
      }`,
    );
  }
  if (block < 0) ctx.fail(`block_size ${block} must not be negative`);
  if (block === 0 && single(scale)) return [1, 1, n, 1, 0, 0, 0];
  const rank = x.shape.length;
  if (rank === 0) ctx.fail(`a scalar input needs a per-tensor ${prefix}_scale`);
  const axis = normAxis(ctx, ctx.attrs.int("axis", 1), rank);
  const outer = shapeSize(x.shape.slice(0, axis)),
    len = x.shape[axis],
    inner = shapeSize(x.shape.slice(axis + 1));
  if (block === 0) {
    if (scale.shape.length !== 1 || scale.shape[0] !== len) {
      ctx.fail(
        `per-axis ${prefix}_scale must have shape [${len}] (axis ${axis}), not ${shapeStr(scale.shape)}`,
      );
    }
    if (ctx.opset < 13) ctx.fail(`per-axis quantization needs opset 13`);
    return [outer, len, inner, 1, 0, 1, 0];
  }
  const blocks = Math.ceil(len / block);
  const want = x.shape.map((d, i) => (i === axis ? blocks : d));
  if (shapeStr(scale.shape) !== shapeStr(want)) {
    ctx.fail(
      `blocked ${prefix}_scale must have shape ${shapeStr(want)} (axis ${axis}, block_size ${block}), not ${
        shapeStr(scale.shape)
      }`,
    );
  }
  return [outer, len, inner, block, blocks * inner, inner, 1];
}

/**
 * QuantizeLinear (opsets 10-25): y = saturate(roundeven(x / y_scale) + y_zero_point), the
 * division in float32; NaN quantizes to the zero point. Inputs x (float), y_scale (float),
 * y_zero_point (optional); output uint8 (default), int8, uint16, int16, int4, uint4, int2 or
 * uint2; or a float8 format / float4e2m1: x / y_scale (+ the zero point for float4e2m1) rounded
 * once to it, float8 saturating unless saturate=0 (the ONNX reference).
 * ints: [outer, len, inner, block, s_outer, s_axis, s_inner] (per-tensor, per-axis, blocked),
 * then [saturate] for a float8/float4 output.
 */
const QuantizeLinear: OpDef = {
  opType: "QuantizeLinear",
  lower(ctx) {
    const x = required(ctx, 0, "x"), scale = required(ctx, 1, "y_scale"), zp = ctx.inputs[2];
    if (x.dtype !== DType.float32) {
      ctx.fail(`input x of type ${typeName(x.dtype)} is not supported (float only)`);
    }
    checkScale(ctx, scale, "y_scale");
    const precision = ctx.attrs.int("precision", 0);
    if (precision !== 0 && precision !== DType.float32) {
      ctx.fail(`precision ${typeName(precision)} is not supported (float only)`);
    }
    const attr = ctx.attrs.int("output_dtype", 0);
    if (attr && zp && attr !== zp.dtype) {
      ctx.fail(`output_dtype ${typeName(attr)} differs from y_zero_point's type ${typeName(zp.dtype)}`);
    }
    const out = zp?.dtype ?? (attr || DType.uint8);
    const small = SMALL_QUANTIZED.includes(out);
    if (!QUANTIZED.includes(out) && !small) ctx.fail(`QuantizeLinear to ${typeName(out)} is not supported`);
    const saturate = ctx.opset >= 19 ? ctx.attrs.int("saturate", 1) : 1;
    return {
      op: QUANT_OPS.QuantizeLinear,
      ints: [...qdqLayout(ctx, x, scale, zp, "y"), ...(small ? [saturate ? 1 : 0] : [])],
      outputs: [{ dtype: out, shape: [...x.shape] }],
      keepInputs: [0, 1, 2],
    };
  },
};

/**
 * DequantizeLinear (opsets 10-25): y = float(x - x_zero_point) * x_scale in float32. x is
 * uint8, int8, uint16, int16, int32, int4, uint4, int2, uint2, a float8 format or float4e2m1;
 * output float. ints as QuantizeLinear (without saturate).
 */
const DequantizeLinear: OpDef = {
  opType: "DequantizeLinear",
  lower(ctx) {
    const x = required(ctx, 0, "x"), scale = required(ctx, 1, "x_scale"), zp = ctx.inputs[2];
    if (!QUANTIZED.includes(x.dtype) && !SMALL_QUANTIZED.includes(x.dtype) && x.dtype !== DType.int32) {
      ctx.fail(`DequantizeLinear from ${typeName(x.dtype)} is not supported`);
    }
    checkScale(ctx, scale, "x_scale");
    checkZeroPoint(ctx, zp, x.dtype, "x_zero_point");
    const attr = ctx.attrs.int("output_dtype", 0);
    if (attr && attr !== DType.float32) {
      ctx.fail(`output_dtype ${typeName(attr)} is not supported (float only)`);
    }
    return {
      op: QUANT_OPS.DequantizeLinear,
      ints: qdqLayout(ctx, x, scale, zp, "x"),
      outputs: [{ dtype: DType.float32, shape: [...x.shape] }],
      keepInputs: [0, 1, 2],
    };
  },
};

/** Shapes of a numpy-style matmul: output shape and the kernel's ints (quant.c, mm_layout). */
function matmulLayout(
  ctx: NodeContext,
  a: ValueInfo,
  b: ValueInfo,
): { ints: number[]; shape: number[]; M: number; N: number } {
  if (a.shape.length === 0 || b.shape.length === 0) ctx.fail(`matmul operands must not be scalars`);
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const M = as[as.length - 2], K = as[as.length - 1], N = bs[bs.length - 1];
  if (bs[bs.length - 2] !== K) {
    ctx.fail(`inner dimensions differ: A ${shapeStr(a.shape)}, B ${shapeStr(b.shape)}`);
  }
  const ab = as.slice(0, -2), bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pa = [...Array(rank - ab.length).fill(1), ...ab], pb = [...Array(rank - bb.length).fill(1), ...bb];
  const dims: number[] = [], sa: number[] = [], sb: number[] = [];
  for (let d = 0; d < rank; d++) {
    if (pa[d] !== pb[d] && pa[d] !== 1 && pb[d] !== 1) {
      ctx.fail(`batch dimensions do not broadcast: A ${shapeStr(a.shape)}, B ${shapeStr(b.shape)}`);
    }
    dims.push(Math.max(pa[d], pb[d]));
    sa.push(pa[d] === 1 ? 0 : shapeSize(pa.slice(d + 1)));
    sb.push(pb[d] === 1 ? 0 : shapeSize(pb.slice(d + 1)));
  }
  const shape = [...dims, ...(a.shape.length > 1 ? [M] : []), ...(b.shape.length > 1 ? [N] : [])];
  return { ints: [M, K, N, rank, ...dims, ...sa, ...sb], shape, M, N };
}

/** A per-row zero point of A: one value, or M values shaped [M] or [..., M, 1]. */
function checkRowParam(ctx: NodeContext, v: ValueInfo | undefined, M: number, name: string): void {
  if (!v || shapeSize(v.shape) === 1) return;
  const s = v.shape;
  const perRow = shapeSize(s) === M && (s.length === 1 || (s[s.length - 1] === 1 && s[s.length - 2] === M));
  if (!perRow) {
    ctx.fail(`${name} of shape ${shapeStr(s)} is not supported (one value, or one per row: [${M}])`);
  }
}

/** A per-column parameter of B: one value, or N values shaped [N] or [..., 1, N]. */
function checkColumnParam(ctx: NodeContext, v: ValueInfo | undefined, N: number, name: string): void {
  if (!v || shapeSize(v.shape) === 1) return;
  const s = v.shape;
  if (shapeSize(s) !== N || s[s.length - 1] !== N) {
    ctx.fail(`${name} of shape ${shapeStr(s)} is not supported (one value, or one per column: [${N}])`);
  }
}

function check8bit(ctx: NodeContext, v: ValueInfo, name: string): void {
  if (!EIGHT_BIT.includes(v.dtype)) {
    ctx.fail(`${name} of type ${typeName(v.dtype)} is not supported (uint8 or int8)`);
  }
}

/**
 * MatMulInteger (opset 10): int32 Y = (A - a_zero_point) x (B - b_zero_point), numpy matmul
 * broadcasting. A and B uint8 or int8; a_zero_point per tensor or per row, b_zero_point per
 * tensor or per column. ints: [M, K, N, R, out_batch[R], a_batch_stride[R], b_batch_stride[R]].
 */
const MatMulInteger: OpDef = {
  opType: "MatMulInteger",
  lower(ctx) {
    const a = required(ctx, 0, "A"), b = required(ctx, 1, "B"), azp = ctx.inputs[2], bzp = ctx.inputs[3];
    check8bit(ctx, a, "A");
    check8bit(ctx, b, "B");
    checkZeroPoint(ctx, azp, a.dtype, "a_zero_point");
    checkZeroPoint(ctx, bzp, b.dtype, "b_zero_point");
    const mm = matmulLayout(ctx, a, b);
    checkRowParam(ctx, azp, mm.M, "a_zero_point");
    checkColumnParam(ctx, bzp, mm.N, "b_zero_point");
    return {
      op: QUANT_OPS.MatMulInteger,
      ints: mm.ints,
      outputs: [{ dtype: DType.int32, shape: mm.shape }],
      keepInputs: [0, 1, 2, 3],
    };
  },
};

/**
 * QLinearMatMul (opsets 10, 21): inputs a, a_scale, a_zero_point, b, b_scale, b_zero_point,
 * y_scale, y_zero_point; uint8/int8 operands, float scales. a and y per tensor, b per tensor or
 * per column. y = saturate(roundeven(acc * (a_scale * b_scale) / y_scale + y_zero_point)),
 * exact (see the module doc). ints as MatMulInteger.
 */
const QLinearMatMul: OpDef = {
  opType: "QLinearMatMul",
  lower(ctx) {
    const a = required(ctx, 0, "a"), as = required(ctx, 1, "a_scale"), azp = ctx.inputs[2];
    const b = required(ctx, 3, "b"), bs = required(ctx, 4, "b_scale"), bzp = ctx.inputs[5];
    const ys = required(ctx, 6, "y_scale"), yzp = ctx.inputs[7];
    check8bit(ctx, a, "a");
    check8bit(ctx, b, "b");
    for (const [s, name] of [[as, "a_scale"], [bs, "b_scale"], [ys, "y_scale"]] as const) {
      checkScale(ctx, s, name);
    }
    const out = yzp?.dtype ?? a.dtype;
    check8bit(ctx, { dtype: out, shape: [] }, "y");
    checkZeroPoint(ctx, azp, a.dtype, "a_zero_point");
    checkZeroPoint(ctx, bzp, b.dtype, "b_zero_point");
    const mm = matmulLayout(ctx, a, b);
    checkPerTensor(ctx, as, "a_scale");
    checkPerTensor(ctx, azp, "a_zero_point");
    checkColumnParam(ctx, bs, mm.N, "b_scale");
    checkColumnParam(ctx, bzp, mm.N, "b_zero_point");
    checkPerTensor(ctx, ys, "y_scale");
    checkPerTensor(ctx, yzp, "y_zero_point");
    return {
      op: QUANT_OPS.QLinearMatMul,
      ints: mm.ints,
      outputs: [{ dtype: out, shape: mm.shape }],
      keepInputs: [0, 1, 2, 3, 4, 5, 6, 7],
    };
  },
};

/** Begin and end padding of one spatial axis, `auto_pad` resolved. */
function convPads(
  ctx: NodeContext,
  inSize: number,
  k: number,
  s: number,
  d: number,
  explicit: [number, number],
): [number, number] {
  const autoPad = ctx.attrs.string("auto_pad", "NOTSET");
  if (autoPad === "NOTSET") return explicit;
  if (autoPad === "VALID") return [0, 0];
  if (autoPad !== "SAME_UPPER" && autoPad !== "SAME_LOWER") {
    ctx.fail(`auto_pad '${autoPad}' is not supported`);
  }
  const out = Math.ceil(inSize / s);
  const total = Math.max(0, (out - 1) * s + (k - 1) * d + 1 - inSize);
  const small = Math.floor(total / 2);
  return autoPad === "SAME_UPPER" ? [small, total - small] : [total - small, small];
}

/**
 * QLinearConv (opset 10): 1-D and 2-D convolution of uint8/int8 x and w with int32
 * accumulation (group, pads, strides, dilations, auto_pad), optional int32 bias B, per-tensor
 * x/y and per-tensor or per-output-channel w scales and zero points; requantised exactly with
 * (x_scale * w_scale[m]) / y_scale. Inputs x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B.
 * ints: [N, C, H, W, M, OH, OW, KH, KW, group, pad_top, pad_left, stride_h, stride_w,
 * dilation_h, dilation_w] (1-D: H = OH = KH = 1).
 */
const QLinearConv: OpDef = {
  opType: "QLinearConv",
  lower(ctx) {
    const x = required(ctx, 0, "x"), xs = required(ctx, 1, "x_scale"), xzp = ctx.inputs[2];
    const w = required(ctx, 3, "w"), ws = required(ctx, 4, "w_scale"), wzp = ctx.inputs[5];
    const ys = required(ctx, 6, "y_scale"), yzp = ctx.inputs[7], bias = ctx.inputs[8];
    check8bit(ctx, x, "x");
    check8bit(ctx, w, "w");
    for (const [s, name] of [[xs, "x_scale"], [ws, "w_scale"], [ys, "y_scale"]] as const) {
      checkScale(ctx, s, name);
    }
    const out = yzp?.dtype ?? x.dtype;
    check8bit(ctx, { dtype: out, shape: [] }, "y");
    checkZeroPoint(ctx, xzp, x.dtype, "x_zero_point");
    checkZeroPoint(ctx, wzp, w.dtype, "w_zero_point");
    const rank = x.shape.length;
    if (rank !== 3 && rank !== 4) {
      ctx.fail(`input of rank ${rank} is not supported (1-D and 2-D convolutions only)`);
    }
    if (w.shape.length !== rank) {
      ctx.fail(`w of shape ${shapeStr(w.shape)} does not match x of shape ${shapeStr(x.shape)}`);
    }
    const sp = rank - 2;
    const [N, C] = x.shape, M = w.shape[0];
    const group = ctx.attrs.int("group", 1);
    if (group < 1 || C % group !== 0 || M % group !== 0 || w.shape[1] !== C / group) {
      ctx.fail(`group ${group} does not fit x ${shapeStr(x.shape)} and w ${shapeStr(w.shape)}`);
    }
    const kernel = w.shape.slice(2);
    const ks = ctx.attrs.ints("kernel_shape", kernel);
    if (shapeStr(ks) !== shapeStr(kernel)) {
      ctx.fail(`kernel_shape ${shapeStr(ks)} differs from w's ${shapeStr(kernel)}`);
    }
    const strides = ctx.attrs.ints("strides", Array(sp).fill(1));
    const dil = ctx.attrs.ints("dilations", Array(sp).fill(1));
    const pads = ctx.attrs.ints("pads", Array(2 * sp).fill(0));
    if (strides.length !== sp || dil.length !== sp || pads.length !== 2 * sp) {
      ctx.fail(`strides, dilations and pads must have ${sp}, ${sp} and ${2 * sp} entries`);
    }
    if ([...strides, ...dil].some((v) => v < 1) || pads.some((v) => v < 0)) {
      ctx.fail(`strides and dilations must be positive and pads non-negative`);
    }
    const begin: number[] = [], outDims: number[] = [];
    for (let i = 0; i < sp; i++) {
      const inSize = x.shape[2 + i];
      const [pb, pe] = convPads(ctx, inSize, kernel[i], strides[i], dil[i], [pads[i], pads[i + sp]]);
      const o = Math.floor((inSize + pb + pe - ((kernel[i] - 1) * dil[i] + 1)) / strides[i]) + 1;
      if (o < 1) ctx.fail(`the kernel does not fit the padded input (spatial axis ${i})`);
      begin.push(pb);
      outDims.push(o);
    }
    checkPerTensor(ctx, xs, "x_scale");
    checkPerTensor(ctx, xzp, "x_zero_point");
    checkPerTensor(ctx, ys, "y_scale");
    checkPerTensor(ctx, yzp, "y_zero_point");
    for (const [v, name] of [[ws, "w_scale"], [wzp, "w_zero_point"]] as const) {
      if (v && shapeSize(v.shape) !== 1 && (v.shape.length !== 1 || v.shape[0] !== M)) {
        ctx.fail(
          `${name} of shape ${
            shapeStr(v.shape)
          } is not supported (one value, or one per output channel: [${M}])`,
        );
      }
    }
    if (bias && (bias.dtype !== DType.int32 || shapeStr(bias.shape) !== shapeStr([M]))) {
      ctx.fail(`B must be int32 of shape [${M}], not ${typeName(bias.dtype)}${shapeStr(bias.shape)}`);
    }
    // 1-D as 2-D with a height of one
    const two = (v: number[], one: number) => (sp === 1 ? [one, v[0]] : v);
    const [H, W] = two(x.shape.slice(2), 1), [OH, OW] = two(outDims, 1), [KH, KW] = two(kernel, 1);
    const [pt, pl] = two(begin, 0), [sh, sw] = two(strides, 1), [dh, dw] = two(dil, 1);
    return {
      op: QUANT_OPS.QLinearConv,
      ints: [N, C, H, W, M, OH, OW, KH, KW, group, pt, pl, sh, sw, dh, dw],
      outputs: [{ dtype: out, shape: [N, M, ...outDims] }],
      keepInputs: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    };
  },
};

/**
 * com.microsoft::QLinearAdd: C = saturate(roundeven(fa + fb + C_zero_point)) with
 * fa = (A_scale / C_scale) * float(A - A_zero_point), fb likewise, and fa + fb in float32 (the
 * zero point added exactly); numpy
 * broadcasting of A and B; uint8 or int8, per-tensor scales and zero points. Inputs A, A_scale,
 * A_zp, B, B_scale, B_zp, C_scale, C_zp. ints: [R, out_dims[R], a_strides[R], b_strides[R]]
 * (element strides, 0 where broadcast).
 */
const QLinearAdd: OpDef = {
  opType: "QLinearAdd",
  domain: "com.microsoft",
  lower(ctx) {
    const a = required(ctx, 0, "A"), as = required(ctx, 1, "A_scale"), azp = ctx.inputs[2];
    const b = required(ctx, 3, "B"), bs = required(ctx, 4, "B_scale"), bzp = ctx.inputs[5];
    const cs = required(ctx, 6, "C_scale"), czp = ctx.inputs[7];
    check8bit(ctx, a, "A");
    if (b.dtype !== a.dtype) ctx.fail(`B has type ${typeName(b.dtype)}, A ${typeName(a.dtype)}`);
    checkZeroPoint(ctx, azp, a.dtype, "A_zero_point");
    checkZeroPoint(ctx, bzp, a.dtype, "B_zero_point");
    checkZeroPoint(ctx, czp, a.dtype, "C_zero_point");
    for (const [s, name] of [[as, "A_scale"], [bs, "B_scale"], [cs, "C_scale"]] as const) {
      checkScale(ctx, s, name);
      checkPerTensor(ctx, s, name);
    }
    for (const [z, name] of [[azp, "A_zero_point"], [bzp, "B_zero_point"], [czp, "C_zero_point"]] as const) {
      checkPerTensor(ctx, z, name);
    }
    const rank = Math.max(a.shape.length, b.shape.length);
    const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
    const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
    const dims: number[] = [], sa: number[] = [], sb: number[] = [];
    for (let d = 0; d < rank; d++) {
      if (pa[d] !== pb[d] && pa[d] !== 1 && pb[d] !== 1) {
        ctx.fail(`A ${shapeStr(a.shape)} and B ${shapeStr(b.shape)} do not broadcast`);
      }
      dims.push(Math.max(pa[d], pb[d]));
      sa.push(pa[d] === 1 ? 0 : shapeSize(pa.slice(d + 1)));
      sb.push(pb[d] === 1 ? 0 : shapeSize(pb.slice(d + 1)));
    }
    if (rank > 8) ctx.fail(`rank ${rank} is not supported (at most 8)`);
    return {
      op: QUANT_OPS.QLinearAdd,
      ints: [rank, ...dims, ...sa, ...sb],
      outputs: [{ dtype: a.dtype, shape: dims }],
      keepInputs: [0, 1, 2, 3, 4, 5, 6, 7],
    };
  },
};

/** Every quant operator. */
export const OPS: readonly OpDef[] = [
  QuantizeLinear,
  DequantizeLinear,
  MatMulInteger,
  QLinearMatMul,
  QLinearConv,
  QLinearAdd,
];
