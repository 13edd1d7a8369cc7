/**
 * The index family (op codes 800-899, docs/IR.md; kernels in core/kernels/index.c):
 * GatherElements, ScatterElements and Scatter, ScatterND, GatherND, Trilu, OneHot, Tile,
 * EyeLike, Range, CumSum, CumProd, TfIdfVectorizer, ReverseSequence, TopK (a compile-time k) and Dropout (inference: an
 * identity plus an all-true mask; training with a ratio above 0 is random and rejected), and
 * CenterCropPad (the movement family's Pad with negative pads) and TensorScatter (a KV cache
 * update, linear or circular). Layouts in schema.ts. Integer Range folds at compile time (shape
 * arithmetic), exactly as the kernel computes it.
 * @module
 */
import { DType, shapeSize } from "../../ir/types.ts";
import { type Lowered, type NodeContext, type OpDef, RUNTIME_DOMAIN, type ValueInfo } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, input, INTEGER, NUMERIC, typeName } from "./elementwise.ts";
import { normAxis } from "./nn.ts";
import { constInts, executeMovement, MOVEMENT_OPS } from "./movement.ts";
import { store } from "./elementwise_fold.ts";

/** Op codes of the index kernels, from the operator schema (schema.ts documents each attribute layout). */
export const INDEX_OPS: OpCodes<"index"> = opCodes("index");

const INDEX_TYPES = new Set<number>([DType.int32, DType.int64]);
const REDUCTIONS: Record<string, number> = { none: 0, add: 1, mul: 2, max: 3, min: 4 };
const REDUCIBLE = new Set<number>([DType.float32, DType.float64, DType.int32, DType.int64]);
const ANY = new Set<number>([...NUMERIC, DType.bool]);
const NONZERO_TYPES = new Set<number>([...ANY, DType.float16, DType.bfloat16]);

const prod = (xs: readonly number[]) => shapeSize(xs);
const same = (t: ValueInfo) => [{ dtype: t.dtype, shape: [...t.shape] }];

/** Indices input: int32 or int64. */
function indices(ctx: NodeContext, i: number): ValueInfo {
  const v = input(ctx, i);
  if (!INDEX_TYPES.has(v.dtype)) ctx.fail(`indices must be int32 or int64, got ${typeName(v.dtype)}`);
  return v;
}

/** A reduction attribute (none from `from` opsets on, max/min from 18). */
function reduction(ctx: NodeContext, data: ValueInfo, from: number): number {
  const name = ctx.opset >= from ? ctx.attrs.string("reduction", "none") : "none";
  const r = REDUCTIONS[name];
  if (r === undefined || ((name === "max" || name === "min") && ctx.opset < 18)) {
    ctx.fail(`reduction '${name}' is not supported`);
  }
  if (r !== 0 && !REDUCIBLE.has(data.dtype)) {
    ctx.fail(`reduction '${name}' on ${typeName(data.dtype)} is not supported (float, double, int32, int64)`);
  }
  return r;
}

/** A compile-time scalar (one element) of any numeric dtype, as a number. */
function constScalar(ctx: NodeContext, i: number, what: string): number {
  const v = input(ctx, i);
  if (shapeSize(v.shape) !== 1) {
    ctx.fail(`input '${what}' must have one element, got [${v.shape.join(", ")}]`);
  }
  if (!v.value) return ctx.fail(`input '${what}' must be known at compile time`);
  return Number(v.value.data[0]);
}

// ---------------------------------------------------------------------------------------------

const gatherElements: OpDef = {
  opType: "GatherElements",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0), ind = indices(ctx, 1);
    const r = x.shape.length;
    if (r === 0 || ind.shape.length !== r) {
      ctx.fail(`data rank ${r} and indices rank ${ind.shape.length} differ`);
    }
    const axis = normAxis(ctx, ctx.attrs.int("axis", 0), r);
    if (ind.shape.some((d, k) => k !== axis && d > x.shape[k])) {
      ctx.fail(`indices [${ind.shape.join(", ")}] exceed data [${x.shape.join(", ")}] off axis ${axis}`);
    }
    return {
      op: INDEX_OPS.GatherElements,
      ints: [axis],
      outputs: [{ dtype: x.dtype, shape: [...ind.shape] }],
    };
  },
};

function scatterElements(opType: "ScatterElements" | "Scatter", domain?: string): OpDef {
  return {
    opType,
    domain,
    lower(ctx: NodeContext) {
      const x = input(ctx, 0), ind = indices(ctx, 1), upd = input(ctx, 2);
      const r = x.shape.length;
      if (r === 0 || ind.shape.length !== r) {
        ctx.fail(`data rank ${r} and indices rank ${ind.shape.length} differ`);
      }
      if (upd.dtype !== x.dtype || upd.shape.join() !== ind.shape.join()) {
        ctx.fail("updates must have the data's dtype and the indices' shape");
      }
      const axis = normAxis(ctx, ctx.attrs.int("axis", 0), r);
      if (ind.shape.some((d, k) => k !== axis && d > x.shape[k])) {
        ctx.fail(`indices [${ind.shape.join(", ")}] exceed data [${x.shape.join(", ")}] off axis ${axis}`);
      }
      const red = opType === "Scatter" ? 0 : reduction(ctx, x, 16);
      // opml.runtime's (runtime_shapes.ts): inputs 3 and 4, data's run-time length on the axis
      // and the indices' on axis 0 (or absent)
      const keepInputs = ctx.domain === RUNTIME_DOMAIN ? [0, 1, 2, 3, 4] : [0, 1, 2];
      for (const i of [3, 4]) {
        const t = keepInputs.length > 3 ? ctx.inputs[i] : undefined;
        if (t && (t.dtype !== DType.int64 || t.shape.length !== 0)) {
          ctx.fail(`input ${i} must be an int64 scalar`);
        }
      }
      return { op: INDEX_OPS.ScatterElements, ints: [axis, red], outputs: same(x), keepInputs };
    },
  };
}

const scatterND: OpDef = {
  opType: "ScatterND",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0), ind = indices(ctx, 1), upd = input(ctx, 2);
    const q = ind.shape[ind.shape.length - 1];
    if (ind.shape.length === 0 || !(q >= 1) || q > x.shape.length) {
      ctx.fail(`indices [${ind.shape.join(", ")}] do not index data`);
    }
    const want = [...ind.shape.slice(0, -1), ...x.shape.slice(q)];
    if (upd.dtype !== x.dtype || upd.shape.join() !== want.join() || upd.shape.length !== want.length) {
      ctx.fail(`updates must be ${typeName(x.dtype)}[${want.join(", ")}]`);
    }
    return { op: INDEX_OPS.ScatterND, ints: [reduction(ctx, x, 16)], outputs: same(x) };
  },
};

const gatherND: OpDef = {
  opType: "GatherND",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0), ind = indices(ctx, 1);
    const b = ctx.opset >= 12 ? ctx.attrs.int("batch_dims", 0) : 0;
    const q = ind.shape[ind.shape.length - 1];
    if (ind.shape.length < 1 || !(q >= 1) || b < 0 || b >= ind.shape.length || b + q > x.shape.length) {
      ctx.fail(
        `indices [${ind.shape.join(", ")}] with batch_dims ${b} do not index data [${x.shape.join(", ")}]`,
      );
    }
    if (x.shape.slice(0, b).join() !== ind.shape.slice(0, b).join()) ctx.fail("batch dimensions differ");
    const shape = [...ind.shape.slice(0, -1), ...x.shape.slice(b + q)];
    return { op: INDEX_OPS.GatherND, ints: [b], outputs: [{ dtype: x.dtype, shape }] };
  },
};

const trilu: OpDef = {
  opType: "Trilu",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, ANY);
    if (x.shape.length < 2) ctx.fail("input must have rank >= 2");
    const k = ctx.inputs[1];
    if (k && (k.dtype !== DType.int64 || shapeSize(k.shape) !== 1)) ctx.fail("k must be an int64 scalar");
    return { op: INDEX_OPS.Trilu, ints: [ctx.attrs.int("upper", 1) ? 1 : 0], outputs: same(x) };
  },
};

const oneHot: OpDef = {
  opType: "OneHot",
  lower(ctx: NodeContext) {
    const ind = input(ctx, 0), values = input(ctx, 2);
    checkDtype(ctx, ind, new Set([DType.float32, DType.int32, DType.int64]), "indices");
    const depth = Math.trunc(constScalar(ctx, 1, "depth"));
    if (!(depth >= 1)) ctx.fail(`depth ${depth} must be at least 1`);
    if (shapeSize(values.shape) !== 2) ctx.fail("values must have two elements [off, on]");
    checkDtype(ctx, values, ANY, "values");
    const r = ind.shape.length;
    const axisAttr = ctx.attrs.int("axis", -1);
    const axis = normAxis(ctx, axisAttr, r + 1);
    const shape = [...ind.shape.slice(0, axis), depth, ...ind.shape.slice(axis)];
    return {
      op: INDEX_OPS.OneHot,
      ints: [prod(ind.shape.slice(0, axis)), depth, prod(ind.shape.slice(axis))],
      outputs: [{ dtype: values.dtype, shape }],
      keepInputs: [0, 2],
    };
  },
};

const tile: OpDef = {
  opType: "Tile",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    const reps = constInts(ctx, 1, "repeats") ?? ctx.fail("input 'repeats' is required");
    if (reps.length !== x.shape.length || reps.some((r) => r < 0)) {
      ctx.fail(`repeats [${reps.join(", ")}] do not fit rank ${x.shape.length}`);
    }
    return {
      op: INDEX_OPS.Tile,
      outputs: [{ dtype: x.dtype, shape: x.shape.map((d, k) => d * reps[k]) }],
      keepInputs: [0],
    };
  },
};

const eyeLike: OpDef = {
  opType: "EyeLike",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    if (x.shape.length !== 2) ctx.fail(`input must be 2-D, got [${x.shape.join(", ")}]`);
    const dtype = ctx.attrs.int("dtype", x.dtype);
    if (!ANY.has(dtype)) ctx.fail(`dtype ${typeName(dtype)} is not supported`);
    return {
      op: INDEX_OPS.EyeLike,
      ints: [ctx.attrs.int("k", 0)],
      outputs: [{ dtype, shape: [...x.shape] }],
      keepInputs: [],
    };
  },
};

const RANGE_TYPES = new Set<number>([DType.float32, DType.float64, DType.int16, DType.int32, DType.int64]);

/** Range's element count: max(ceil((limit - start) / delta), 0), in the inputs' dtype. */
function rangeCount(ctx: NodeContext): number {
  const s = input(ctx, 0);
  checkDtype(ctx, s, RANGE_TYPES);
  for (const i of [1, 2]) {
    if (input(ctx, i).dtype !== s.dtype) ctx.fail("start, limit and delta must have one dtype");
  }
  const [start, limit, delta] = ["start", "limit", "delta"].map((w, i) => constScalar(ctx, i, w));
  if (delta === 0) ctx.fail("delta is 0");
  const f = s.dtype === DType.float32 ? Math.fround : (v: number) => v;
  const n = INTEGER.has(s.dtype)
    ? Math.ceil((limit - start) / delta)
    : Math.ceil(f(f(limit - start) / delta));
  return Math.max(n, 0);
}

const range: OpDef = {
  opType: "Range",
  lower(ctx: NodeContext) {
    const n = rangeCount(ctx);
    return {
      op: INDEX_OPS.Range,
      ints: [n],
      outputs: [{ dtype: input(ctx, 0).dtype, shape: [n] }],
      keepInputs: [0, 2],
    };
  },
  fold(ctx, [s, , d]) {
    if (!INTEGER.has(s!.dtype)) return undefined;
    const n = rangeCount(ctx), start = BigInt(s!.data[0]), delta = BigInt(d!.data[0]);
    const big = s!.dtype === DType.int64;
    const v = store(
      s!.dtype,
      [n],
      Array.from({ length: n }, (_, i) => {
        const e = start + BigInt(i) * delta; // wrapped on store, as the kernel's unsigned arithmetic
        return big ? e : Number(BigInt.asIntN(32, e));
      }),
    );
    return v ? [v] : undefined;
  },
};

/** CumSum, and CumProd (opset 26): the running sum or product along a constant axis. */
function cumulative(opType: "CumSum" | "CumProd"): OpDef {
  return {
    opType,
    lower(ctx: NodeContext) {
      const x = input(ctx, 0);
      checkDtype(
        ctx,
        x,
        new Set([DType.float32, DType.float64, DType.int32, DType.uint32, DType.int64, DType.uint64]),
      );
      const r = x.shape.length;
      if (r === 0) ctx.fail("input must have rank >= 1");
      const a = constInts(ctx, 1, "axis") ?? ctx.fail("input 'axis' is required");
      if (a.length !== 1) ctx.fail("axis must have one element");
      const axis = normAxis(ctx, a[0], r);
      return {
        op: INDEX_OPS[opType],
        ints: [
          prod(x.shape.slice(0, axis)),
          x.shape[axis],
          prod(x.shape.slice(axis + 1)),
          ctx.attrs.int("exclusive", 0) ? 1 : 0,
          ctx.attrs.int("reverse", 0) ? 1 : 0,
        ],
        outputs: same(x),
        keepInputs: [0],
      };
    },
  };
}

const TFIDF_MODES = ["TF", "IDF", "TFIDF"];

/**
 * TfIdfVectorizer (opset 9) on int32/int64 tokens: the pool's n-grams (pool_int64s split by
 * ngram_counts) with their output columns (ngram_indexes) go to the kernel, which counts them
 * as onnxruntime does: for each skip distance d = 1 .. max_skip_count + 1 and each start, the
 * pool n-grams of min_gram_length .. max_gram_length tokens at start, start + d, ...; unigrams
 * only at d = 1.
 */
const tfIdfVectorizer: OpDef = {
  opType: "TfIdfVectorizer",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, INDEX_TYPES);
    if (x.shape.length !== 1 && x.shape.length !== 2) {
      ctx.fail(`input of rank ${x.shape.length} is not 1-D or 2-D`);
    }
    const [rows, C] = x.shape.length === 1 ? [1, x.shape[0]] : x.shape;
    const mode = TFIDF_MODES.indexOf(ctx.attrs.string("mode", ""));
    if (mode < 0) ctx.fail(`mode '${ctx.attrs.string("mode", "")}' is not TF, IDF or TFIDF`);
    const minGram = ctx.attrs.int("min_gram_length"), maxGram = ctx.attrs.int("max_gram_length");
    const maxSkip = ctx.attrs.int("max_skip_count");
    if (minGram < 1 || maxGram < minGram || maxSkip < 0) {
      ctx.fail(`gram lengths ${minGram}..${maxGram} or max_skip_count ${maxSkip} are invalid`);
    }
    const pool = ctx.attrs.ints("pool_int64s", []);
    if (pool.length === 0) ctx.fail("pool_int64s is required (pool_strings is not supported)");
    if (!pool.every(Number.isSafeInteger)) ctx.fail("a pool_int64s value is beyond 2^53");
    const counts = ctx.attrs.ints("ngram_counts"), outIdx = ctx.attrs.ints("ngram_indexes");
    const grams: number[][] = [];
    counts.forEach((start, i) => {
      const end = i + 1 < counts.length ? counts[i + 1] : pool.length, n = i + 1;
      if (start < 0 || end < start || end > pool.length || (end - start) % n !== 0) {
        ctx.fail(`ngram_counts ${JSON.stringify(counts)} do not split a pool of ${pool.length} into n-grams`);
      }
      for (let p = start; p < end; p += n) grams.push([n, 0, ...pool.slice(p, p + n)]);
    });
    if (outIdx.length !== grams.length) {
      ctx.fail(`ngram_indexes has ${outIdx.length} entries for ${grams.length} pool n-grams`);
    }
    const nOut = Math.max(0, ...outIdx) + 1;
    if (outIdx.some((o) => o < 0)) ctx.fail("a negative ngram_indexes entry");
    grams.forEach((g, i) => (g[1] = outIdx[i]));
    const weights = ctx.attrs.floats("weights", []);
    if (weights.length !== 0 && weights.length !== nOut) {
      ctx.fail(`weights has ${weights.length} entries for ${nOut} outputs`);
    }
    return {
      op: INDEX_OPS.TfIdfVectorizer,
      ints: [rows, C, mode, nOut, minGram, maxGram, maxSkip, grams.length, ...grams.flat()],
      floats: weights,
      outputs: [{ dtype: DType.float32, shape: x.shape.length === 1 ? [nOut] : [rows, nOut] }],
    };
  },
};

const reverseSequence: OpDef = {
  opType: "ReverseSequence",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0), lens = indices(ctx, 1);
    const r = x.shape.length;
    if (r < 2) ctx.fail("input must have rank >= 2");
    const ba = normAxis(ctx, ctx.attrs.int("batch_axis", 1), r, "batch_axis");
    const ta = normAxis(ctx, ctx.attrs.int("time_axis", 0), r, "time_axis");
    if (ba === ta) ctx.fail("batch_axis and time_axis are the same");
    if (lens.shape.length !== 1 || lens.shape[0] !== x.shape[ba]) {
      ctx.fail(`sequence_lens must have shape [${x.shape[ba]}]`);
    }
    return { op: INDEX_OPS.ReverseSequence, ints: [ba, ta], outputs: same(x) };
  },
};

const topK: OpDef = {
  opType: "TopK",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, NUMERIC);
    const r = x.shape.length;
    if (r === 0) ctx.fail("input must have rank >= 1");
    const axis = normAxis(ctx, ctx.attrs.int("axis", -1), r);
    let k: number;
    if (ctx.opset < 10) k = ctx.attrs.int("k");
    else {
      const kv = constInts(ctx, 1, "K") ?? ctx.fail("input 'K' is required");
      if (kv.length !== 1) ctx.fail("K must have one element");
      k = kv[0];
    }
    const D = x.shape[axis];
    if (k < 0 || k > D) ctx.fail(`k ${k} is out of range for axis ${axis} of size ${D}`);
    const largest = ctx.opset >= 11 ? ctx.attrs.int("largest", 1) : 1;
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    // input 2 (the compiler's own, data_shapes.ts): the axis's run-time length; strict = 0 when
    // k is the bound of a run-time k (checked by its RuntimeLength)
    const strict = ctx.attrs.int("strict", 1);
    return {
      op: INDEX_OPS.TopK,
      ints: [
        prod(x.shape.slice(0, axis)),
        D,
        prod(x.shape.slice(axis + 1)),
        k,
        largest ? 1 : 0,
        ...(strict ? [] : [0]),
      ],
      outputs: [{ dtype: x.dtype, shape }, { dtype: DType.int64, shape: [...shape] }],
      keepInputs: ctx.inputs[2] ? [0, 2] : [0],
    };
  },
};

const dropout: OpDef = {
  opType: "Dropout",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    let training = false, ratio = 0.5;
    if (ctx.opset < 7) training = ctx.attrs.int("is_test", 0) === 0;
    if (ctx.opset < 12) ratio = ctx.attrs.float("ratio", 0.5);
    else {
      const t = ctx.inputs[2];
      if (t) {
        if (t.dtype !== DType.bool) ctx.fail(`training_mode must be bool, got ${typeName(t.dtype)}`);
        if (!t.value) ctx.fail(`input '${ctx.inputNames[2]}' (training_mode) must be known at compile time`);
        training = t.value.data[0] !== 0;
      }
      const rv = ctx.inputs[1];
      if (training && rv) {
        if (!rv.value) {
          ctx.fail(
            `training mode needs its ratio: input '${ctx.inputNames[1]}' must be known at compile time ` +
              "(a ratio above 0 drops elements at random)",
          );
        }
        ratio = Number(rv.value.data[0]);
      }
    }
    if (training && ratio !== 0) {
      ctx.fail(`training mode with ratio ${ratio} drops elements at random: opml rejects random operators`);
    }
    if (ctx.outputCount < 2) return { op: MOVEMENT_OPS.Copy, outputs: same(x), keepInputs: [0] };
    return {
      op: INDEX_OPS.Dropout,
      outputs: [...same(x), { dtype: DType.bool, shape: [...x.shape] }],
      keepInputs: [0],
    };
  },
};

/** CenterCropPad: the Pad kernel with negative (crop) or positive pads centred on each axis. */
function lowerCenterCropPad(ctx: NodeContext): Lowered {
  const x = input(ctx, 0);
  const r = x.shape.length;
  const want = constInts(ctx, 1, "shape") ?? ctx.fail("input 'shape' is required");
  const axes = ctx.attrs.ints("axes", [...Array(r).keys()]).map((a) => normAxis(ctx, a, r));
  if (want.length !== axes.length) ctx.fail(`shape has ${want.length} values for ${axes.length} axes`);
  const before = new Array<number>(r).fill(0), shape = [...x.shape];
  axes.forEach((a, j) => {
    const d = x.shape[a], w = want[j];
    if (w < 0) ctx.fail(`shape [${want.join(", ")}] has a negative dim`);
    before[a] = w < d ? -Math.floor((d - w) / 2) : Math.floor((w - d) / 2);
    shape[a] = w;
  });
  return {
    op: MOVEMENT_OPS.Pad,
    ints: [0, 0, ...before],
    outputs: [{ dtype: x.dtype, shape }],
    keepInputs: [0],
  };
}

const centerCropPad: OpDef = {
  opType: "CenterCropPad",
  lower: lowerCenterCropPad,
  fold: (ctx, inputs) => executeMovement(ctx, lowerCenterCropPad(ctx), inputs),
};

/** TensorScatter (opset 24): update written into the cache along `axis` at write_indices. */
const tensorScatter: OpDef = {
  opType: "TensorScatter",
  lower(ctx: NodeContext) {
    const past = input(ctx, 0), upd = input(ctx, 1), w = ctx.inputs[2];
    const r = past.shape.length;
    if (r < 2) ctx.fail("past_cache must have rank >= 2");
    const axis = normAxis(ctx, ctx.attrs.int("axis", -2), r);
    if (axis === 0) ctx.fail("axis cannot be the batch axis 0");
    if (
      upd.dtype !== past.dtype || upd.shape.length !== r ||
      upd.shape.some((d, k) => k !== axis && d !== past.shape[k])
    ) {
      ctx.fail(
        `update [${upd.shape.join(", ")}] must match past_cache [${past.shape.join(", ")}] off axis ${axis}`,
      );
    }
    if (upd.shape[axis] > past.shape[axis]) ctx.fail("update is longer than the cache");
    if (w && (w.dtype !== DType.int64 || w.shape.join() !== String(past.shape[0]))) {
      ctx.fail(`write_indices must be int64[${past.shape[0]}]`);
    }
    const mode = ctx.attrs.string("mode", "linear");
    if (mode !== "linear" && mode !== "circular") ctx.fail(`mode '${mode}' is not supported`);
    return {
      op: INDEX_OPS.TensorScatter,
      ints: [
        past.shape[0],
        prod(past.shape.slice(1, axis)),
        past.shape[axis],
        upd.shape[axis],
        prod(past.shape.slice(axis + 1)),
        mode === "circular" ? 1 : 0,
      ],
      outputs: same(past),
    };
  },
};

/** NonZero at run time: Y int64 [rank, size] (valid columns first, zeros after) and the count. */
const nonZeroRuntime: OpDef = {
  opType: "NonZero",
  domain: RUNTIME_DOMAIN,
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, NONZERO_TYPES);
    if (x.shape.length === 0) ctx.fail("a scalar input is not supported");
    // input 1 (data_shapes.ts): X's run-time length on its run-time axis
    return {
      op: INDEX_OPS.NonZero,
      ints: ctx.inputs[1] ? [x.runtime!.axis] : [],
      outputs: [{ dtype: DType.int64, shape: [x.shape.length, prod(x.shape)] }, {
        dtype: DType.int64,
        shape: [],
      }],
    };
  },
};

/** A run-time length: the int64 scalar n of input 0, checked to lie in [0, bound] at run time. */
const runtimeLength: OpDef = {
  opType: "RuntimeLength",
  domain: RUNTIME_DOMAIN,
  lower(ctx: NodeContext) {
    const n = indices(ctx, 0);
    if (prod(n.shape) !== 1) ctx.fail(`input '${ctx.inputNames[0]}' must have one element`);
    return {
      op: INDEX_OPS.RuntimeLength,
      ints: [ctx.attrs.int("bound")],
      outputs: [{ dtype: DType.int64, shape: [] }],
    };
  },
};

/** Unique at run time (data_shapes.ts gives Y, indices and counts the run-time length). */
const uniqueRuntime: OpDef = {
  opType: "Unique",
  domain: RUNTIME_DOMAIN,
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, NUMERIC);
    let outer = 1, D = prod(x.shape), inner = 1;
    if (ctx.attrs.has("axis")) {
      const axis = normAxis(ctx, ctx.attrs.int("axis"), x.shape.length);
      [outer, D, inner] = [prod(x.shape.slice(0, axis)), x.shape[axis], prod(x.shape.slice(axis + 1))];
    }
    const y = { dtype: x.dtype, shape: ctx.attrs.has("axis") ? [...x.shape] : [D] };
    const list = () => ({ dtype: DType.int64, shape: [D] });
    return {
      op: INDEX_OPS.Unique,
      ints: [outer, D, inner, ctx.attrs.int("sorted", 1) ? 1 : 0],
      outputs: [y, list(), list(), list(), { dtype: DType.int64, shape: [] }],
    };
  },
};

/**
 * Concat along a run-time axis (compile.ts): inputs x_0..x_{n-1} then their lengths (int64
 * scalars); attribute axis; Y at the summed bounds and the total length.
 */
const concatRuntime: OpDef = {
  opType: "Concat",
  domain: RUNTIME_DOMAIN,
  lower(ctx: NodeContext) {
    const n = ctx.inputs.length / 2, xs = ctx.inputs.slice(0, n).map((_, i) => input(ctx, i));
    const r = xs[0].shape.length, axis = normAxis(ctx, ctx.attrs.int("axis"), r);
    for (const x of xs) {
      if (x.dtype !== xs[0].dtype || x.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
        ctx.fail("the inputs differ in type or in a dimension other than the axis");
      }
    }
    const shape = xs[0].shape.map((d, i) => (i === axis ? xs.reduce((s, x) => s + x.shape[axis], 0) : d));
    return {
      op: INDEX_OPS.ConcatRuntime,
      ints: [prod(shape.slice(0, axis)), prod(shape.slice(axis + 1)), n],
      outputs: [{ dtype: xs[0].dtype, shape }, { dtype: DType.int64, shape: [] }],
    };
  },
};

/** Every index operator. */
export const OPS: readonly OpDef[] = [
  gatherElements,
  scatterElements("ScatterElements"),
  scatterElements("ScatterElements", RUNTIME_DOMAIN),
  scatterElements("Scatter"),
  scatterND,
  gatherND,
  trilu,
  oneHot,
  tile,
  eyeLike,
  range,
  cumulative("CumSum"),
  cumulative("CumProd"),
  tfIdfVectorizer,
  reverseSequence,
  topK,
  dropout,
  centerCropPad,
  tensorScatter,
  nonZeroRuntime,
  runtimeLength,
  uniqueRuntime,
  concatRuntime,
];
