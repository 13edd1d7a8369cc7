/**
 * The sequence family (op codes 700-749, docs/IR.md; kernels in core/kernels/sequence.c):
 * the fused Attention of opsets 23/24 (3-D and 4-D inputs, grouped-query heads, float and bool
 * masks shorter than the key length, causal masking aligned after the past keys, softcap,
 * past/present key and value caches, the qk_matmul_output modes, nonpad_kv_seqlen) and
 * RotaryEmbedding (opset 23: interleaved, partial rotary_embedding_dim, with or without
 * position_ids); float32. Layouts in schema.ts; nothing folds at compile time.
 * @module
 */
import { DType, dtypeName, shapeSize } from "../../ir/types.ts";
import type { Lowered, NodeContext, OpDef, ValueInfo } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";

/** Op codes of the sequence kernels, from the operator schema (schema.ts documents each attribute layout). */
export const SEQUENCE_OPS: OpCodes<"sequence"> = opCodes("sequence");

const F = DType.float32;

function typed(
  ctx: NodeContext,
  i: number,
  what: string,
  dtypes: number[],
  required: boolean,
): ValueInfo | undefined {
  const v = ctx.inputs[i];
  if (!v) return required ? ctx.fail(`input ${i} (${what}) is required`) : undefined;
  if (!dtypes.includes(v.dtype)) {
    ctx.fail(`input ${what} has type ${dtypeName(v.dtype)}; supported: ${dtypes.map(dtypeName).join(", ")}`);
  }
  return v;
}

const shapeIs = (ctx: NodeContext, v: ValueInfo, what: string, want: number[]) => {
  if (v.shape.join() !== want.join()) ctx.fail(`${what} [${v.shape}] must be [${want}]`);
};

function lowerAttention(ctx: NodeContext): Lowered {
  const q = typed(ctx, 0, "Q", [F], true)!,
    k = typed(ctx, 1, "K", [F], true)!,
    v = typed(ctx, 2, "V", [F], true)!;
  const mask = typed(ctx, 3, "attn_mask", [F, DType.bool], false);
  const pastK = typed(ctx, 4, "past_key", [F], false), pastV = typed(ctx, 5, "past_value", [F], false);
  const nonpad = typed(ctx, 6, "nonpad_kv_seqlen", [DType.int64], false);
  if (ctx.outputCount > 4) ctx.fail(`${ctx.outputCount} outputs: Attention has at most 4`);
  const precision = ctx.attrs.int("softmax_precision", F);
  if (precision !== F) ctx.fail(`softmax_precision ${dtypeName(precision)} is not supported (only float)`);
  const rank = q.shape.length;
  if ((rank !== 3 && rank !== 4) || k.shape.length !== rank || v.shape.length !== rank) {
    ctx.fail(`Q [${q.shape}], K [${k.shape}] and V [${v.shape}] must all be 3-D or all 4-D`);
  }
  const B = q.shape[0];
  let Hq: number, Hkv: number, Sq: number, Skv: number, D: number, Dv: number;
  if (rank === 4) {
    [, Hq, Sq, D] = q.shape;
    [, Hkv, Skv] = k.shape;
    Dv = v.shape[3];
    shapeIs(ctx, k, "K", [B, Hkv, Skv, D]);
    shapeIs(ctx, v, "V", [B, Hkv, Skv, Dv]);
  } else {
    Hq = ctx.attrs.int("q_num_heads", 0), Hkv = ctx.attrs.int("kv_num_heads", 0);
    if (!(Hq > 0 && Hkv > 0)) ctx.fail("3-D inputs need q_num_heads and kv_num_heads");
    Sq = q.shape[1], Skv = k.shape[1];
    if (q.shape[2] % Hq || k.shape[2] % Hkv || v.shape[2] % Hkv) {
      ctx.fail(`hidden sizes of Q [${q.shape}], K [${k.shape}], V [${v.shape}] do not split into the heads`);
    }
    D = q.shape[2] / Hq, Dv = v.shape[2] / Hkv;
    shapeIs(ctx, k, "K", [B, Skv, Hkv * D]);
    shapeIs(ctx, v, "V", [B, Skv, Hkv * Dv]);
  }
  if (Hq % Hkv) ctx.fail(`${Hq} query heads are not a multiple of ${Hkv} key/value heads`);
  if (!pastK !== !pastV) ctx.fail("past_key and past_value go together");
  const Sp = pastK ? pastK.shape[2] : 0;
  if (pastK) shapeIs(ctx, pastK, "past_key", [B, Hkv, Sp, D]);
  if (pastV) shapeIs(ctx, pastV, "past_value", [B, Hkv, Sp, Dv]);
  const St = Sp + Skv;
  if (nonpad) shapeIs(ctx, nonpad, "nonpad_kv_seqlen", [B]);
  let mk = 0, msB = 0, msH = 0, msQ = 0, mLen = 0;
  if (mask) {
    const m = mask.shape;
    if (m.length < 2 || m.length > 4) ctx.fail(`attn_mask [${m}] must have rank 2 to 4`);
    const [mb, mh, mq, ml] = [...new Array<number>(4 - m.length).fill(1), ...m];
    if ((mb !== 1 && mb !== B) || (mh !== 1 && mh !== Hq) || (mq !== 1 && mq !== Sq) || ml > St || ml < 1) {
      ctx.fail(`attn_mask [${m}] does not broadcast to [${B}, ${Hq}, ${Sq}, ${St}]`);
    }
    mk = mask.dtype === DType.bool ? 2 : 1, mLen = ml;
    msQ = mq === 1 ? 0 : ml, msH = mh === 1 ? 0 : mq * ml, msB = mb === 1 ? 0 : mh * mq * ml;
  }
  const mode = ctx.attrs.int("qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3) ctx.fail(`qk_matmul_output_mode ${mode} is not supported`);
  const softcap = ctx.attrs.float("softcap", 0);
  if (softcap < 0) ctx.fail(`softcap ${softcap} must not be negative`);
  const scale = ctx.attrs.has("scale") ? ctx.attrs.float("scale") : 1 / Math.sqrt(D);
  if (!(scale > 0)) ctx.fail(`scale ${scale} must be positive`);
  const outputs = [{ dtype: F, shape: rank === 4 ? [B, Hq, Sq, Dv] : [B, Sq, Hq * Dv] }];
  const more = [[B, Hkv, St, D], [B, Hkv, St, Dv], [B, Hq, Sq, St]];
  for (let i = 1; i < ctx.outputCount; i++) outputs.push({ dtype: F, shape: more[i - 1] });
  if (shapeSize(outputs[0].shape) === 0 || St === 0) ctx.fail("empty attention is not supported");
  return {
    op: SEQUENCE_OPS.Attention,
    ints: [
      B,
      Hq,
      Hkv,
      Sq,
      Skv,
      Sp,
      D,
      Dv,
      rank === 3 ? 1 : 0,
      mk,
      msB,
      msH,
      msQ,
      mLen,
      ctx.attrs.int("is_causal", 0) ? 1 : 0,
      ctx.outputCount > 3 ? mode : -1,
      nonpad ? 1 : 0,
      softcap > 0 ? 1 : 0,
    ],
    floats: [Math.sqrt(scale), softcap],
    outputs,
  }; // deno-fmt-ignore
}

function lowerRotary(ctx: NodeContext): Lowered {
  const x = typed(ctx, 0, "input", [F], true)!;
  const cos = typed(ctx, 1, "cos_cache", [F], true)!, sin = typed(ctx, 2, "sin_cache", [F], true)!;
  const pos = typed(ctx, 3, "position_ids", [DType.int64], false);
  let B: number, S: number, H: number, D: number;
  if (x.shape.length === 4) [B, H, S, D] = x.shape;
  else if (x.shape.length === 3) {
    H = ctx.attrs.int("num_heads", 0);
    if (!(H > 0) || x.shape[2] % H) ctx.fail(`3-D input [${x.shape}] needs num_heads dividing its last axis`);
    [B, S] = x.shape, D = x.shape[2] / H;
  } else return ctx.fail(`input [${x.shape}] must be 3-D or 4-D`);
  const rot = ctx.attrs.int("rotary_embedding_dim", 0) || D;
  if (rot > D || rot % 2) ctx.fail(`rotary_embedding_dim ${rot} must be even and at most the head size ${D}`);
  const half = cos.shape[cos.shape.length - 1];
  if (half < rot / 2) ctx.fail(`cos_cache [${cos.shape}] has fewer than ${rot / 2} values per position`);
  if (sin.shape.join() !== cos.shape.join()) {
    ctx.fail(`sin_cache [${sin.shape}] differs from cos_cache [${cos.shape}]`);
  }
  let rows: number;
  if (pos) {
    shapeIs(ctx, pos, "position_ids", [B, S]);
    if (cos.shape.length !== 2) ctx.fail(`cos_cache [${cos.shape}] must be [max_position, ${half}]`);
    rows = cos.shape[0];
  } else {
    shapeIs(ctx, cos, "cos_cache", [B, S, half]);
    rows = B * S;
  }
  return {
    op: SEQUENCE_OPS.RotaryEmbedding,
    ints: [
      B,
      S,
      H,
      D,
      rot,
      ctx.attrs.int("interleaved", 0) ? 1 : 0,
      x.shape.length === 3 ? 1 : 0,
      pos ? 1 : 0,
      rows,
    ],
    outputs: [{ dtype: F, shape: [...x.shape] }],
  };
}

const ACTIVATIONS: Record<string, number> = { Sigmoid: 0, Tanh: 1, Relu: 2 };

/** RNN, GRU and LSTM: one kernel, the gate count and defaults by operator. */
function lowerRecurrent(ctx: NodeContext): Lowered {
  const kind = ctx.opType as "RNN" | "GRU" | "LSTM";
  const G = { RNN: 1, GRU: 3, LSTM: 4 }[kind];
  const x = typed(ctx, 0, "X", [F], true)!,
    w = typed(ctx, 1, "W", [F], true)!,
    r = typed(ctx, 2, "R", [F], true)!;
  const b = typed(ctx, 3, "B", [F], false), lens = typed(ctx, 4, "sequence_lens", [DType.int32], false);
  const h0 = typed(ctx, 5, "initial_h", [F], false);
  const c0 = kind === "LSTM" ? typed(ctx, 6, "initial_c", [F], false) : undefined;
  const p = kind === "LSTM" ? typed(ctx, 7, "P", [F], false) : undefined;
  const nOut = kind === "LSTM" ? 3 : 2;
  if (ctx.outputCount > nOut) ctx.fail(`${ctx.outputCount} outputs: ${kind} has at most ${nOut}`);
  const layout = ctx.opset >= 14 ? ctx.attrs.int("layout", 0) : 0;
  if (layout !== 0 && layout !== 1) ctx.fail(`layout ${layout} must be 0 or 1`);
  if (x.shape.length !== 3) ctx.fail(`X [${x.shape}] must be 3-D`);
  const [S, B] = layout ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const I = x.shape[2], H = ctx.attrs.int("hidden_size", 0) || w.shape[1] / G;
  const direction = ctx.attrs.string("direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction)) {
    ctx.fail(`direction '${direction}' is not supported`);
  }
  const dirs = direction === "bidirectional" ? 2 : 1;
  shapeIs(ctx, w, "W", [dirs, G * H, I]);
  shapeIs(ctx, r, "R", [dirs, G * H, H]);
  if (b) shapeIs(ctx, b, "B", [dirs, 2 * G * H]);
  if (lens) shapeIs(ctx, lens, "sequence_lens", [B]);
  const state = layout ? [B, dirs, H] : [dirs, B, H];
  if (h0) shapeIs(ctx, h0, "initial_h", state);
  if (c0) shapeIs(ctx, c0, "initial_c", state);
  if (p) shapeIs(ctx, p, "P", [dirs, 3 * H]);
  if (kind === "LSTM" && ctx.attrs.int("input_forget", 0)) ctx.fail("input_forget=1 is not supported");
  const dflt = { RNN: ["Tanh"], GRU: ["Sigmoid", "Tanh"], LSTM: ["Sigmoid", "Tanh", "Tanh"] }[kind];
  const names = ctx.attrs.has("activations")
    ? ctx.attrs.strings("activations")
    : [...dflt, ...(dirs === 2 ? dflt : [])];
  if (names.length !== dflt.length * dirs) {
    ctx.fail(`activations [${names}] must name ${dflt.length * dirs} functions`);
  }
  const acts = names.map((n) => ACTIVATIONS[n] ?? ctx.fail(`activation '${n}' is not supported`));
  if (ctx.attrs.has("activation_alpha") || ctx.attrs.has("activation_beta")) {
    ctx.fail("activation_alpha/activation_beta are not supported");
  }
  const per = (d: number) => [...acts.slice(d * dflt.length, (d + 1) * dflt.length), 0, 0, 0].slice(0, 3);
  const clip = ctx.attrs.has("clip") ? ctx.attrs.float("clip") : 0;
  if (ctx.attrs.has("clip") && !(clip > 0)) ctx.fail(`clip ${clip} must be positive`);
  const outputs = [
    { dtype: F, shape: layout ? [B, S, dirs, H] : [S, dirs, B, H] },
    { dtype: F, shape: state },
    { dtype: F, shape: state },
  ].slice(0, ctx.outputCount);
  return {
    op: SEQUENCE_OPS[kind],
    ints: [
      S,
      B,
      I,
      H,
      dirs,
      direction === "reverse" ? 1 : 0,
      layout,
      kind === "GRU" && ctx.attrs.int("linear_before_reset", 0) ? 1 : 0,
      ctx.attrs.has("clip") ? 1 : 0,
      ...per(0),
      ...(dirs === 2 ? per(1) : [0, 0, 0]),
    ],
    floats: [clip],
    outputs,
  }; // deno-fmt-ignore
}

/** Every sequence operator. */
export const OPS: readonly OpDef[] = [
  { opType: "Attention", lower: lowerAttention },
  { opType: "RotaryEmbedding", lower: lowerRotary },
  { opType: "RNN", lower: lowerRecurrent },
  { opType: "GRU", lower: lowerRecurrent },
  { opType: "LSTM", lower: lowerRecurrent },
];
