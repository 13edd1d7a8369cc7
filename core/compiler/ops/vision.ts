/**
 * The vision family (op codes 600-659, docs/IR.md; kernels in core/kernels/vision.c): Resize
 * (opsets 10 to 19: every mode, coordinate transformation, nearest mode, cubic coefficient,
 * exclude_outside, antialias, axes, keep_aspect_ratio_policy) and Upsample, DepthToSpace,
 * SpaceToDepth, ConvTranspose, LpPool; GlobalMaxPool lowers to the ReduceMax kernel.
 *
 * Resize's geometry is resolved here, once, in binary64 as the ONNX reference does: each output
 * coordinate of each axis gets its input taps (indices, clamped to the edge) and weights, which
 * the program carries; the kernel only multiplies and adds them in one documented order.
 * Layouts in schema.ts; nothing folds at compile time.
 * @module
 */
import { DType, dtypeName, shapeSize } from "../../ir/types.ts";
import { type Lowered, type NodeContext, type OpDef, RUNTIME_DOMAIN, type ValueInfo } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, FLOAT, input, NUMERIC } from "./elementwise.ts";
import { lowerPool, normAxis, reduceInts, to3 } from "./nn.ts";
import { REDUCE_OPS } from "./reduce.ts";

/** Op codes of the vision kernels, from the operator schema (schema.ts documents each attribute layout). */
export const VISION_OPS: OpCodes<"vision"> = opCodes("vision");

const ANY = new Set<number>([...NUMERIC, DType.bool]);

// ---------------------------------------------------------------------------------------------
// Resize and Upsample

/** The resolved options of one Resize node. */
interface ResizeMode {
  mode: "nearest" | "linear" | "cubic";
  ctm: string;
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
  antialias: boolean;
}

/** One axis: for each output coordinate its taps (input index, weight), or null to extrapolate. */
type AxisTaps = ({ idx: number; w: number }[] | null)[];

function cubicCoeffs(r: number, A: number): number[] {
  return [
    ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
    ((A + 2) * r - (A + 3)) * r * r + 1,
    ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
    ((A * (1 - r + 1) - 5 * A) * (1 - r + 1) + 8 * A) * (1 - r + 1) - 4 * A,
  ];
}

function cubicAntialias(r: number, scale: number, A: number): number[] {
  const s = Math.min(scale, 1);
  const f = (x: number) => {
    x = Math.abs(x);
    if (x <= 1) return (A + 2) * x * x * x - (A + 3) * x * x + 1;
    if (x < 2) return A * x * x * x - 5 * A * x * x + 8 * A * x - 4 * A;
    return 0;
  };
  const start = Math.floor(-2 / s) + 1;
  const c: number[] = [];
  for (let i = start; i < 2 - start; i++) c.push(f(s * (i - r)));
  const sum = c.reduce((a, b) => a + b, 0);
  return c.map((v) => v / sum);
}

function linearAntialias(r: number, scale: number): number[] {
  const s = Math.min(scale, 1);
  const start = Math.floor(-1 / s) + 1;
  const c: number[] = [];
  for (let i = start; i < 2 - start; i++) c.push(Math.min(1, Math.max(0, 1 - Math.abs((i - r) * s))));
  const sum = c.reduce((a, b) => a + b, 0);
  return c.map((v) => v / sum);
}

function nearestCoeffs(r: number, mode: string, down: boolean): number[] {
  if (r === 1) return [0, 1]; // an integer coordinate
  switch (mode) {
    case "round_prefer_floor":
      return r <= 0.5 ? [1, 0] : [0, 1];
    case "round_prefer_ceil":
      return r < 0.5 ? [1, 0] : [0, 1];
    case "floor":
      return [1, 0];
    case "ceil":
      return [0, 1];
    default: // "simple" (Upsample, Resize-10, as onnxruntime): truncate, ceil when downsampling
      return down ? [0, 1] : [1, 0];
  }
}

/** The taps of one axis, as the ONNX reference's `_interpolate_1d_with_x` (binary64). */
function axisTaps(
  inLen: number,
  outLen: number,
  scale: number,
  roi: [number, number],
  m: ResizeMode,
): AxisTaps {
  const outW = scale * inLen;
  const taps: AxisTaps = [];
  for (let x = 0; x < outLen; x++) {
    let xo: number;
    switch (m.ctm) {
      case "align_corners":
        xo = outW === 1 ? 0 : x * (inLen - 1) / (outW - 1);
        break;
      case "asymmetric":
        xo = x / scale;
        break;
      case "tf_crop_and_resize":
        xo = outW === 1
          ? (roi[1] - roi[0]) * (inLen - 1) / 2
          : x * (roi[1] - roi[0]) * (inLen - 1) / (outW - 1);
        xo += roi[0] * (inLen - 1);
        break;
      case "pytorch_half_pixel":
        xo = outW === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
        break;
      case "half_pixel_symmetric": {
        const adjustment = outLen / outW, center = inLen / 2;
        xo = center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
        break;
      }
      default: // half_pixel
        xo = (x + 0.5) / scale - 0.5;
    }
    if (m.ctm === "tf_crop_and_resize" && (xo < 0 || xo > inLen - 1)) {
      taps.push(null);
      continue;
    }
    const ratio = Number.isInteger(xo) ? 1 : xo - Math.floor(xo);
    let c: number[];
    if (m.mode === "nearest") c = nearestCoeffs(ratio, m.nearest, scale < 1);
    else if (m.mode === "linear") c = m.antialias ? linearAntialias(ratio, scale) : [1 - ratio, ratio];
    else c = m.antialias ? cubicAntialias(ratio, scale, m.cubicA) : cubicCoeffs(ratio, m.cubicA);
    // the n nearest indices of the edge-padded axis (ties: the lower index), ascending
    const n = c.length, pad = Math.ceil(n / 2), xp = xo + pad;
    const near = Array.from({ length: inLen + 2 * pad }, (_, i) => i)
      .sort((a, b) => Math.abs(xp - a) - Math.abs(xp - b) || a - b)
      .slice(0, n)
      .sort((a, b) => a - b)
      .map((i) => i - pad);
    if (m.excludeOutside) {
      near.forEach((i, k) => {
        if (i < 0 || i >= inLen) c[k] = 0;
      });
      const sum = c.reduce((a, b) => a + b, 0);
      c = c.map((v) => v / sum);
    }
    const t = near.map((i, k) => ({ idx: Math.min(inLen - 1, Math.max(0, i)), w: c[k] }))
      .filter((tap) => tap.w !== 0);
    taps.push(t);
  }
  return taps;
}

/** A compile-time float or int64 input as numbers; undefined when absent or empty. */
function constInput(ctx: NodeContext, i: number, what: string): number[] | undefined {
  const v = ctx.inputs[i];
  if (!v || shapeSize(v.shape) === 0) return undefined;
  if (!v.value) ctx.fail(`input '${what}' must be known at compile time`);
  return Array.from(v.value.data as ArrayLike<number | bigint>, Number);
}

function lowerResize(ctx: NodeContext): Lowered {
  const x = input(ctx, 0);
  const rank = x.shape.length;
  if (rank === 0) ctx.fail("a scalar cannot be resized");
  const upsample = ctx.opType === "Upsample";
  const legacy = upsample || ctx.opset < 11; // Upsample and Resize-10: X, scales
  const str = (name: string, dflt: string) => ctx.attrs.string(name, dflt);
  const m: ResizeMode = {
    mode: str("mode", "nearest") as ResizeMode["mode"],
    ctm: legacy ? "asymmetric" : str("coordinate_transformation_mode", "half_pixel"),
    nearest: legacy ? "simple" : str("nearest_mode", "round_prefer_floor"),
    cubicA: ctx.attrs.float("cubic_coeff_a", -0.75),
    excludeOutside: ctx.attrs.int("exclude_outside", 0) !== 0,
    antialias: ctx.attrs.int("antialias", 0) !== 0,
  };
  if (upsample && (m.mode as string) === "bilinear") m.mode = "linear";
  if (!["nearest", "linear", "cubic"].includes(m.mode) || (legacy && m.mode === "cubic")) {
    ctx.fail(`mode '${m.mode}' is not supported`);
  }
  const ctms = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"];
  if (!ctms.includes(m.ctm) && m.ctm !== "tf_crop_and_resize") {
    ctx.fail(`coordinate_transformation_mode '${m.ctm}' is not supported`);
  }
  if (!legacy && !["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].includes(m.nearest)) {
    ctx.fail(`nearest_mode '${m.nearest}' is not supported`);
  }
  checkDtype(ctx, x, m.mode === "nearest" ? ANY : FLOAT);
  // the resized axes (opset 18's axes attribute), their scales or sizes, roi
  const axes = (ctx.opset >= 18 && !legacy ? ctx.attrs.ints("axes", []) : []).map((a) =>
    normAxis(ctx, a, rank)
  );
  const axisList = axes.length ? axes : x.shape.map((_, i) => i);
  if (new Set(axisList).size !== axisList.length) ctx.fail(`axes [${axes}] has duplicates`);
  let scalesIn: number[] | undefined, sizesIn: number[] | undefined, roiIn: number[] | undefined;
  if (upsample && ctx.opset < 9) scalesIn = ctx.attrs.floats("scales");
  else if (legacy) scalesIn = constInput(ctx, 1, "scales");
  else {
    roiIn = m.ctm === "tf_crop_and_resize" ? constInput(ctx, 1, "roi") : undefined;
    scalesIn = constInput(ctx, 2, "scales");
    sizesIn = constInput(ctx, 3, "sizes");
  }
  if ((scalesIn === undefined) === (sizesIn === undefined)) {
    ctx.fail("exactly one of scales and sizes is needed");
  }
  const given = (scalesIn ?? sizesIn)!;
  if (given.length !== axisList.length) {
    ctx.fail(`${scalesIn ? "scales" : "sizes"} has ${given.length} values, expected ${axisList.length}`);
  }
  const scale = x.shape.map(() => 1), out = [...x.shape];
  if (scalesIn) {
    axisList.forEach((a, k) => {
      if (!(scalesIn[k] > 0)) ctx.fail(`scale ${scalesIn[k]} must be positive`);
      scale[a] = scalesIn[k];
      out[a] = Math.floor(scalesIn[k] * x.shape[a]);
    });
  } else {
    const policy = ctx.opset >= 18 ? str("keep_aspect_ratio_policy", "stretch") : "stretch";
    if (!["stretch", "not_larger", "not_smaller"].includes(policy)) {
      ctx.fail(`keep_aspect_ratio_policy '${policy}' is not supported`);
    }
    const ratios = axisList.map((a, k) => sizesIn![k] / x.shape[a]);
    axisList.forEach((a, k) => {
      if (!(sizesIn![k] > 0)) ctx.fail(`size ${sizesIn![k]} must be positive`);
      if (policy === "stretch") return (scale[a] = ratios[k], out[a] = sizesIn![k]);
      const s = policy === "not_larger" ? Math.min(...ratios) : Math.max(...ratios);
      scale[a] = s;
      out[a] = Math.floor(s * x.shape[a] + 0.5);
    });
  }
  if (out.some((d) => d < 1)) ctx.fail(`the output shape [${out}] is empty`);
  if (x.shape.some((d) => d < 1)) ctx.fail(`the input shape [${x.shape}] is empty`);
  const roi = x.shape.map((): [number, number] => [0, 1]);
  if (m.ctm === "tf_crop_and_resize") {
    if (!roiIn || roiIn.length !== 2 * axisList.length) {
      ctx.fail(`roi must have ${2 * axisList.length} values`);
    }
    axisList.forEach((a, k) => (roi[a] = [roiIn[k], roiIn[k + axisList.length]]));
  }
  // per-axis taps; an axis left as it is (scale 1, not cropped) is the identity
  const all: AxisTaps[] = x.shape.map((d, a) =>
    scale[a] === 1 && out[a] === d && m.ctm !== "tf_crop_and_resize"
      ? Array.from({ length: d }, (_, i) => [{ idx: i, w: 1 }])
      : axisTaps(d, out[a], scale[a], roi[a], m)
  );
  const weighted = m.mode === "nearest" ? 0 : 1;
  if (x.dtype !== DType.float32 && all.some((taps) => taps.includes(null))) {
    ctx.fail(`extrapolation of ${dtypeName(x.dtype)} values is not supported`);
  }
  const T = all.map((taps) => Math.max(1, ...taps.map((t) => t?.length ?? 0)));
  const ints: number[] = [rank, ...x.shape, ...out, ...T, weighted];
  const floats: number[] = [ctx.attrs.float("extrapolation_value", 0)];
  all.forEach((taps, a) => {
    for (const t of taps) {
      for (let k = 0; k < T[a]; k++) {
        if (!t) ints.push(k === 0 ? -2 : -1), floats.push(0);
        else if (k < t.length) ints.push(t[k].idx), floats.push(t[k].w);
        else ints.push(-1), floats.push(0);
      }
    }
  });
  return { op: VISION_OPS.Resize, ints, floats, outputs: [{ dtype: x.dtype, shape: out }], keepInputs: [0] };
}

// ---------------------------------------------------------------------------------------------
// DepthToSpace and SpaceToDepth

function lowerDepthSpace(ctx: NodeContext, toSpace: boolean): Lowered {
  const x = input(ctx, 0);
  checkDtype(ctx, x, ANY);
  if (x.shape.length !== 4) ctx.fail(`input [${x.shape}] must be 4-D`);
  const [N, C, H, W] = x.shape;
  const b = ctx.attrs.int("blocksize");
  if (!(b >= 1)) ctx.fail(`blocksize ${b} must be positive`);
  if (toSpace) {
    const mode = ctx.attrs.string("mode", "DCR");
    if (mode !== "DCR" && mode !== "CRD") ctx.fail(`mode '${mode}' is not supported`);
    if (C % (b * b)) ctx.fail(`channels ${C} are not a multiple of blocksize^2 = ${b * b}`);
    return {
      op: VISION_OPS.DepthToSpace,
      ints: [N, C, H, W, b, mode === "CRD" ? 1 : 0],
      outputs: [{ dtype: x.dtype, shape: [N, C / (b * b), H * b, W * b] }],
    };
  }
  if (H % b || W % b) ctx.fail(`spatial size ${H}x${W} is not a multiple of blocksize ${b}`);
  return {
    op: VISION_OPS.SpaceToDepth,
    ints: [N, C, H, W, b],
    outputs: [{ dtype: x.dtype, shape: [N, C * b * b, H / b, W / b] }],
  };
}

// ---------------------------------------------------------------------------------------------
// ConvTranspose

function floatArg(ctx: NodeContext, i: number, what: string): ValueInfo {
  const v = input(ctx, i);
  if (v.dtype !== DType.float32) {
    ctx.fail(`input ${what} has type ${dtypeName(v.dtype)}; only float is supported`);
  }
  return v;
}

function lowerConvTranspose(ctx: NodeContext): Lowered {
  const x = floatArg(ctx, 0, "X"), w = floatArg(ctx, 1, "W");
  const bias = ctx.inputs[2] ? floatArg(ctx, 2, "B") : undefined;
  const rank = x.shape.length, S = rank - 2;
  if (S < 1 || S > 3) ctx.fail(`X [${x.shape}]: only 1-D, 2-D and 3-D transposed convolutions are supported`);
  if (w.shape.length !== rank) ctx.fail(`W [${w.shape}] must have the rank of X [${x.shape}]`);
  const [N, C] = x.shape;
  const group = ctx.attrs.int("group", 1);
  if (group < 1 || C % group !== 0 || w.shape[0] !== C) {
    ctx.fail(`group ${group} does not fit X [${x.shape}] and W [${w.shape}]`);
  }
  const OC = w.shape[1] * group;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== OC)) {
    ctx.fail(`B [${bias.shape}] must be [${OC}]`);
  }
  const kernel = ctx.attrs.ints("kernel_shape", w.shape.slice(2));
  if (kernel.join() !== w.shape.slice(2).join()) {
    ctx.fail(`kernel_shape [${kernel}] differs from W [${w.shape}]`);
  }
  const ones = new Array<number>(S).fill(1), zeros = new Array<number>(S).fill(0);
  const strides = ctx.attrs.ints("strides", ones), dilations = ctx.attrs.ints("dilations", ones);
  const outPad = ctx.attrs.ints("output_padding", zeros);
  let pads = ctx.attrs.ints("pads", [...zeros, ...zeros]);
  for (
    const [name, v, n] of [["strides", strides, S], ["dilations", dilations, S], [
      "output_padding",
      outPad,
      S,
    ], ["pads", pads, 2 * S]] as const
  ) {
    if (v.length !== n) ctx.fail(`${name} has ${v.length} values, expected ${n}`);
  } // deno-fmt-ignore
  if ([...strides, ...dilations].some((v) => v < 1)) ctx.fail("strides and dilations must be positive");
  if ([...pads, ...outPad].some((v) => v < 0)) ctx.fail("negative pads are not supported");
  const autoPad = ctx.attrs.string("auto_pad", "NOTSET");
  if (!["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].includes(autoPad)) {
    ctx.fail(`auto_pad '${autoPad}' is not supported`);
  }
  if (autoPad === "VALID") pads = [...zeros, ...zeros];
  const inSp = x.shape.slice(2);
  const full = inSp.map((n, i) => strides[i] * (n - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1);
  let out: number[], padBegin: number[];
  let given = ctx.attrs.has("output_shape") ? ctx.attrs.ints("output_shape") : undefined;
  if (given && given.length === S + 2) given = given.slice(2);
  if (given && given.length !== S) ctx.fail(`output_shape has ${given.length} values, expected ${S}`);
  if (!given && autoPad.startsWith("SAME")) given = inSp.map((n, i) => n * strides[i]);
  if (given) {
    out = given;
    // the ONNX rule: the total padding split begin/end (SAME_UPPER: the smaller half first)
    padBegin = full.map((f, i) => {
      const total = f - given![i], half = Math.floor(total / 2);
      return autoPad === "SAME_UPPER" ? half : total - half;
    });
  } else {
    out = full.map((f, i) => f - pads[i] - pads[i + S]);
    padBegin = pads.slice(0, S);
  }
  if (out.some((d) => d < 1)) ctx.fail(`the output shape [${out}] is empty`);
  return {
    op: VISION_OPS.ConvTranspose,
    ints: [
      N,
      C,
      OC,
      group,
      ...to3(inSp, 1),
      ...to3(out, 1),
      ...to3(kernel, 1),
      ...to3(strides, 1),
      ...to3(dilations, 1),
      ...to3(padBegin, 0),
    ],
    outputs: [{ dtype: DType.float32, shape: [N, OC, ...out] }],
  }; // deno-fmt-ignore
}

// ---------------------------------------------------------------------------------------------
// pooling

function lowerLpPool(ctx: NodeContext): Lowered {
  const x = input(ctx, 0);
  checkDtype(ctx, x, FLOAT);
  const p = ctx.opset >= 11 ? ctx.attrs.int("p", 2) : ctx.attrs.float("p", 2);
  if (!Number.isInteger(p) || p < 1) ctx.fail(`p ${p} must be a positive integer`);
  const l = lowerPool(ctx, false);
  const ints = [...l.ints!];
  ints[ints.length - 1] = p;
  return { ...l, op: VISION_OPS.LpPool, ints };
}

/** GlobalLpPool: LpPool with one window over every spatial axis. */
function lowerGlobalLpPool(ctx: NodeContext): Lowered {
  const x = input(ctx, 0);
  checkDtype(ctx, x, FLOAT);
  const p = ctx.opset >= 2 ? ctx.attrs.int("p", 2) : ctx.attrs.float("p", 2);
  if (!Number.isInteger(p) || p < 1) ctx.fail(`p ${p} must be a positive integer`);
  const S = x.shape.length - 2;
  if (S < 1 || S > 3) ctx.fail(`X [${x.shape}]: only 1-D, 2-D and 3-D pooling is supported`);
  const sp = x.shape.slice(2);
  if (sp.some((d) => d < 1)) ctx.fail(`X [${x.shape}] has an empty spatial axis`);
  const ones = [1, 1, 1], zeros = [0, 0, 0];
  return {
    op: VISION_OPS.LpPool,
    ints: [
      x.shape[0] * x.shape[1],
      ...to3(sp, 1),
      ...ones,
      ...to3(sp, 1),
      ...ones,
      ...ones,
      ...zeros,
      ...zeros,
      p,
    ],
    outputs: [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }],
  };
}

function lowerGlobalMaxPool(ctx: NodeContext): Lowered {
  const x = input(ctx, 0);
  checkDtype(ctx, x, FLOAT);
  if (x.shape.length < 3) ctx.fail(`X [${x.shape}] must have spatial axes`);
  if (x.shape.slice(2).some((d) => d === 0)) ctx.fail(`X [${x.shape}] has an empty spatial axis`);
  const spatial = new Set(x.shape.map((_, i) => i).filter((i) => i >= 2));
  return {
    op: REDUCE_OPS.ReduceMax,
    ints: reduceInts(x.shape, spatial),
    outputs: [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }],
  };
}

// ---------------------------------------------------------------------------------------------
// GridSample

function lowerGridSample(ctx: NodeContext): Lowered {
  const x = input(ctx, 0), grid = input(ctx, 1);
  checkDtype(ctx, x, FLOAT);
  checkDtype(ctx, grid, FLOAT, "grid");
  const r = x.shape.length - 2;
  if (r < 1 || r > 3 || (ctx.opset < 20 && r !== 2)) {
    ctx.fail(`X [${x.shape}]: ${r}-D sampling is not supported`);
  }
  const [N, C] = x.shape;
  if (grid.shape.length !== r + 2 || grid.shape[0] !== N || grid.shape[r + 1] !== r) {
    ctx.fail(`grid [${grid.shape}] must be [${N}, out..., ${r}] for X [${x.shape}]`);
  }
  const legacy: Record<string, string> = { bilinear: "linear", bicubic: "cubic" };
  const name = ctx.attrs.string("mode", ctx.opset >= 20 ? "linear" : "bilinear");
  const mode = ["nearest", "linear", "cubic"].indexOf(ctx.opset >= 20 ? name : legacy[name] ?? name);
  if (mode < 0) ctx.fail(`mode '${name}' is not supported`);
  const padName = ctx.attrs.string("padding_mode", "zeros");
  const padding = ["zeros", "border", "reflection"].indexOf(padName);
  if (padding < 0) ctx.fail(`padding_mode '${padName}' is not supported`);
  const out = grid.shape.slice(1, r + 1);
  if (x.shape.slice(2).some((d) => d < 1)) ctx.fail(`X [${x.shape}] has an empty spatial axis`);
  return {
    op: VISION_OPS.GridSample,
    ints: [N, C, r, ...x.shape.slice(2), ...out, mode, padding, ctx.attrs.int("align_corners", 0) ? 1 : 0],
    outputs: [{ dtype: x.dtype, shape: [N, C, ...out] }],
  };
}

// ---------------------------------------------------------------------------------------------
// RoiAlign, MaxUnpool, Col2Im, DeformConv

function lowerRoiAlign(ctx: NodeContext): Lowered {
  const x = floatArg(ctx, 0, "X"), rois = floatArg(ctx, 1, "rois"), bi = input(ctx, 2);
  // opml.runtime's RoiAlign (runtime_shapes.ts): input 3, the rois' run-time number
  const count = ctx.domain === RUNTIME_DOMAIN ? ctx.inputs[3] : undefined;
  if (count && (count.dtype !== DType.int64 || count.shape.length !== 0)) {
    ctx.fail("count must be an int64 scalar");
  }
  if (bi.dtype !== DType.int64) ctx.fail(`batch_indices has type ${dtypeName(bi.dtype)}, expected int64`);
  if (x.shape.length !== 4) ctx.fail(`X [${x.shape}] must be 4-D`);
  const R = rois.shape[0];
  if (rois.shape.length !== 2 || rois.shape[1] !== 4 || bi.shape.join() !== `${R}`) {
    ctx.fail(`rois [${rois.shape}] must be [R, 4] and batch_indices [${bi.shape}] [R]`);
  }
  const ctm = ctx.opset >= 16
    ? ctx.attrs.string("coordinate_transformation_mode", "half_pixel")
    : "output_half_pixel";
  if (ctm !== "half_pixel" && ctm !== "output_half_pixel") {
    ctx.fail(`coordinate_transformation_mode '${ctm}' is not supported`);
  }
  const mode = ctx.attrs.string("mode", "avg");
  if (mode !== "avg" && mode !== "max") ctx.fail(`mode '${mode}' is not supported`);
  const oh = ctx.attrs.int("output_height", 1), ow = ctx.attrs.int("output_width", 1);
  const sr = ctx.attrs.int("sampling_ratio", 0);
  if (!(oh >= 1 && ow >= 1 && sr >= 0)) {
    ctx.fail("output_height/output_width must be positive, sampling_ratio >= 0");
  }
  const [, C, H, W] = x.shape;
  return {
    op: VISION_OPS.RoiAlign,
    ints: [R, C, H, W, oh, ow, sr, ctm === "half_pixel" ? 1 : 0, mode === "max" ? 1 : 0],
    floats: [ctx.attrs.float("spatial_scale", 1)],
    outputs: [{ dtype: DType.float32, shape: [R, C, oh, ow] }],
    keepInputs: count ? [0, 1, 2, 3] : [0, 1, 2],
  };
}

function lowerMaxUnpool(ctx: NodeContext): Lowered {
  const x = floatArg(ctx, 0, "X"), ind = input(ctx, 1);
  if (ind.dtype !== DType.int64) ctx.fail(`I has type ${dtypeName(ind.dtype)}, expected int64`);
  if (ind.shape.join() !== x.shape.join()) ctx.fail(`I [${ind.shape}] must have X's shape [${x.shape}]`);
  const S = x.shape.length - 2;
  if (S < 1) ctx.fail(`X [${x.shape}] must have spatial axes`);
  const kernel = ctx.attrs.ints("kernel_shape");
  const strides = ctx.attrs.ints("strides", new Array<number>(S).fill(1));
  const pads = ctx.attrs.ints("pads", new Array<number>(2 * S).fill(0));
  if (kernel.length !== S || strides.length !== S || pads.length !== 2 * S) {
    ctx.fail("kernel_shape, strides or pads do not fit X");
  }
  const inferred = [
    x.shape[0],
    x.shape[1],
    ...x.shape.slice(2).map((d, i) => (d - 1) * strides[i] - pads[i] - pads[i + S] + kernel[i]),
  ];
  let shape = inferred;
  const given = constInput(ctx, 2, "output_shape");
  if (given) {
    if (given.length !== x.shape.length) ctx.fail(`output_shape [${given}] must have rank ${x.shape.length}`);
    shape = given;
  }
  if ([...shape, ...inferred].some((d) => !(d >= 1))) ctx.fail(`the output shape [${shape}] is empty`);
  // the indices are flat in the inferred shape; a given output_shape only pads it
  return {
    op: VISION_OPS.MaxUnpool,
    ints: [inferred.length, ...inferred],
    outputs: [{ dtype: x.dtype, shape }],
    keepInputs: [0, 1],
  };
}

function lowerCol2Im(ctx: NodeContext): Lowered {
  const x = floatArg(ctx, 0, "input");
  const image = constInput(ctx, 1, "image_shape"), block = constInput(ctx, 2, "block_shape");
  if (!image || !block || image.length !== block.length) {
    ctx.fail("image_shape and block_shape must have one length");
  }
  const S = image.length;
  if (S < 1 || S > 3) ctx.fail(`${S}-D images are not supported`);
  if (x.shape.length !== 3) ctx.fail(`input [${x.shape}] must be [N, C * prod(block_shape), L]`);
  const ones = new Array<number>(S).fill(1);
  const strides = ctx.attrs.ints("strides", ones), dil = ctx.attrs.ints("dilations", ones);
  const pads = ctx.attrs.ints("pads", [...ones, ...ones].map(() => 0));
  if (strides.length !== S || dil.length !== S || pads.length !== 2 * S) {
    ctx.fail("strides, dilations or pads do not fit image_shape");
  }
  const K = block.reduce((a, b) => a * b, 1);
  const [N, CK, L] = x.shape;
  if (K < 1 || CK % K) ctx.fail(`input [${x.shape}]: ${CK} is not a multiple of prod(block_shape) ${K}`);
  const blocks = image.map((d, i) =>
    Math.floor((d + pads[i] + pads[i + S] - (dil[i] * (block[i] - 1) + 1)) / strides[i]) + 1
  );
  if (blocks.some((b) => b < 1) || blocks.reduce((a, b) => a * b, 1) !== L) {
    ctx.fail(`input [${x.shape}] has ${L} blocks; image_shape [${image}] gives [${blocks}]`);
  }
  return {
    op: VISION_OPS.Col2Im,
    ints: [
      N,
      CK / K,
      ...to3(image, 1),
      ...to3(block, 1),
      ...to3(strides, 1),
      ...to3(dil, 1),
      ...to3(pads.slice(0, S), 0),
      ...to3(blocks, 1),
    ],
    outputs: [{ dtype: DType.float32, shape: [N, CK / K, ...image] }],
    keepInputs: [0],
  }; // deno-fmt-ignore
}

function lowerDeformConv(ctx: NodeContext): Lowered {
  const x = floatArg(ctx, 0, "X"), w = floatArg(ctx, 1, "W"), off = floatArg(ctx, 2, "offset");
  const b = ctx.inputs[3] ? floatArg(ctx, 3, "B") : undefined,
    mask = ctx.inputs[4] ? floatArg(ctx, 4, "mask") : undefined;
  if (x.shape.length !== 4 || w.shape.length !== 4) {
    ctx.fail(`only 2-D deformable convolutions are supported`);
  }
  const [N, C, H, W] = x.shape, [OC, CG, KH, KW] = w.shape;
  const group = ctx.attrs.int("group", 1), og = ctx.attrs.int("offset_group", 1);
  if (group < 1 || C % group || OC % group || CG * group !== C || og < 1 || C % og) {
    ctx.fail(`group ${group} / offset_group ${og} do not fit X [${x.shape}] and W [${w.shape}]`);
  }
  const kernel = ctx.attrs.ints("kernel_shape", [KH, KW]);
  if (kernel.join() !== `${KH},${KW}`) ctx.fail(`kernel_shape [${kernel}] differs from W [${w.shape}]`);
  const [sh, sw] = ctx.attrs.ints("strides", [1, 1]), [dh, dw] = ctx.attrs.ints("dilations", [1, 1]);
  const pads = ctx.attrs.ints("pads", [0, 0, 0, 0]);
  if (pads.length !== 4 || pads.some((p) => p < 0)) ctx.fail(`pads [${pads}] must be 4 non-negative values`);
  const OH = Math.floor((H + pads[0] + pads[2] - (dh * (KH - 1) + 1)) / sh) + 1;
  const OW = Math.floor((W + pads[1] + pads[3] - (dw * (KW - 1) + 1)) / sw) + 1;
  if (OH < 1 || OW < 1) ctx.fail(`the output is empty`);
  if (off.shape.join() !== `${N},${og * KH * KW * 2},${OH},${OW}`) {
    ctx.fail(`offset [${off.shape}] must be [${N}, ${og * KH * KW * 2}, ${OH}, ${OW}]`);
  }
  if (mask && mask.shape.join() !== `${N},${og * KH * KW},${OH},${OW}`) {
    ctx.fail(`mask [${mask.shape}] must be [${N}, ${og * KH * KW}, ${OH}, ${OW}]`);
  }
  if (b && b.shape.join() !== `${OC}`) ctx.fail(`B [${b.shape}] must be [${OC}]`);
  return {
    op: VISION_OPS.DeformConv,
    ints: [N, C, OC, group, og, H, W, OH, OW, KH, KW, sh, sw, dh, dw, pads[0], pads[1]],
    outputs: [{ dtype: DType.float32, shape: [N, OC, OH, OW] }],
  };
}

function lowerAffineGrid(ctx: NodeContext): Lowered {
  const theta = floatArg(ctx, 0, "theta");
  const size = constInput(ctx, 1, "size");
  if (!size || (size.length !== 4 && size.length !== 5)) {
    ctx.fail("size must be [N, C, H, W] or [N, C, D, H, W]");
  }
  const r = size.length - 2, [N] = size, dims = size.slice(2);
  if (theta.shape.join() !== `${N},${r},${r + 1}`) {
    ctx.fail(`theta [${theta.shape}] must be [${N}, ${r}, ${r + 1}]`);
  }
  if (dims.some((d) => !(d >= 1))) ctx.fail(`size [${size}] has an empty axis`);
  return {
    op: VISION_OPS.AffineGrid,
    ints: [N, r, ...dims, ctx.attrs.int("align_corners", 0) ? 1 : 0],
    outputs: [{ dtype: DType.float32, shape: [N, ...dims, r] }],
    keepInputs: [0],
  };
}

/** Every vision operator. */
/**
 * NonMaxSuppression at run time (data_shapes.ts gives its output the run-time length): Y int64
 * [B * C * min(N, max_output_boxes_per_class when known), 3] and the count.
 */
const nonMaxSuppression: OpDef = {
  opType: "NonMaxSuppression",
  domain: RUNTIME_DOMAIN,
  lower(ctx: NodeContext) {
    const boxes = input(ctx, 0), scores = input(ctx, 1);
    checkDtype(ctx, boxes, FLOAT);
    checkDtype(ctx, scores, FLOAT);
    if (boxes.shape.length !== 3 || boxes.shape[2] !== 4) ctx.fail("boxes must have shape [B, N, 4]");
    const [B, N] = boxes.shape;
    if (scores.shape.length !== 3 || scores.shape[0] !== B || scores.shape[2] !== N) {
      ctx.fail(`scores must have shape [${B}, C, ${N}]`);
    }
    const C = scores.shape[1];
    const max = ctx.inputs[2];
    if (max && (max.dtype !== DType.int64 || shapeSize(max.shape) !== 1)) {
      ctx.fail("max_output_boxes_per_class must be one int64");
    }
    for (const i of [3, 4]) {
      const t = ctx.inputs[i];
      if (t && (t.dtype !== DType.float32 || shapeSize(t.shape) !== 1)) {
        ctx.fail(`input ${i} must be one float`);
      }
    }
    const perClass = !max ? 0 : max.value ? Math.max(0, Math.min(N, Number(max.value.data[0]))) : N;
    const center = ctx.attrs.int("center_point_box", 0);
    if (center !== 0 && center !== 1) ctx.fail(`center_point_box ${center} is not 0 or 1`);
    // input 5 (runtime_shapes.ts): the boxes' run-time number
    return {
      op: VISION_OPS.NonMaxSuppression,
      ints: [B, N, C, center],
      keepInputs: ctx.inputs[5] ? [0, 1, 2, 3, 4, 5] : undefined,
      outputs: [{ dtype: DType.int64, shape: [B * C * perClass, 3] }, { dtype: DType.int64, shape: [] }],
    };
  },
};

export const OPS: readonly OpDef[] = [
  nonMaxSuppression,
  { opType: "RoiAlign", domain: RUNTIME_DOMAIN, lower: lowerRoiAlign },
  { opType: "Resize", lower: lowerResize },
  { opType: "Upsample", lower: lowerResize },
  { opType: "DepthToSpace", lower: (ctx) => lowerDepthSpace(ctx, true) },
  { opType: "SpaceToDepth", lower: (ctx) => lowerDepthSpace(ctx, false) },
  { opType: "ConvTranspose", lower: lowerConvTranspose },
  { opType: "LpPool", lower: lowerLpPool },
  { opType: "GlobalMaxPool", lower: lowerGlobalMaxPool },
  { opType: "GlobalLpPool", lower: lowerGlobalLpPool },
  { opType: "GridSample", lower: lowerGridSample },
  { opType: "RoiAlign", lower: lowerRoiAlign },
  { opType: "MaxUnpool", lower: lowerMaxUnpool },
  { opType: "Col2Im", lower: lowerCol2Im },
  { opType: "DeformConv", lower: lowerDeformConv },
  { opType: "AffineGrid", lower: lowerAffineGrid },
];
