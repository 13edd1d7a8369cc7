/**
 * A synthetic GPT-2-shaped decoder (random weights, seeded and deterministic) as an ONNX model,
 * for benchmarks at a realistic size without downloading one. The default configuration is
 * GPT-2 small (12 layers, d_model 768, 12 heads, d_ff 3072, vocabulary 50257; about 123 M
 * parameters, 490 MB) with a context of 8 tokens.
 *
 * Graph (batch 1, T tokens; every op is one the compiler lowers, docs/CONFORMANCE.md): token
 * embedding Gather(wte, ids) + position embedding Gather(wpe, 0..T-1); per layer a pre-norm
 * block: LayerNormalization, Q/K/V MatMul + Add, Reshape/Transpose into heads, QK^T (MatMul),
 * Mul by 1/sqrt(head size), Add of a causal mask (-1e4 above the diagonal), Softmax, MatMul by V,
 * Transpose/Reshape back, output MatMul + Add, residual Add; LayerNormalization, MatMul + Add,
 * Gelu (exact, opset 20), MatMul + Add, residual Add. Then a final LayerNormalization and the LM
 * head, tied to the token embedding as in GPT-2: Gemm(x, wte, transB = 1), so the 154 MB table
 * is stored once. Input `input_ids` int64 [1, T]; output `logits` float32 [1, T, vocab].
 *
 *   deno run -A tasks/gen_transformer.ts [--layers 12] [--dim 768] [--heads 12] [--ff 3072]
 *     [--vocab 50257] [--ctx 8] [--seed 1] [--out build/models/gpt2-synthetic.onnx]
 *     [--external-data | --no-external-data] [--llama]
 *
 * `--external-data` writes the weights to `OUT.data` beside the model (the ONNX external-data
 * convention; the default when they take over 1 GiB, since one protobuf holds at most 2 GiB):
 * the 1 B-parameter configuration is `--layers 18 --dim 2048 --heads 16 --ff 8192` (docs/MODELS.md).
 *
 * `--llama` writes an int8 LLaMA-shaped decoder instead (RMSNorm, rotary embeddings, SwiGLU, no
 * biases, untied LM head; every weight matrix int8 into MatMulInteger after DynamicQuantizeLinear,
 * as onnxruntime's dynamic quantization emits), with LLaMA-7B's shape as the defaults
 * ({@link LLAMA_7B}; the graph is described at `buildLlama`).
 * @module
 */
import onnxProto from "onnx-proto";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

/** The shape of the synthetic transformer. */
export interface TransformerConfig {
  layers: number;
  dim: number;
  heads: number;
  ff: number;
  vocab: number;
  ctx: number;
  seed: number;
  /**
   * The int8 LLaMA-shaped graph instead of the float GPT-2 one (RMSNorm, rotary embeddings,
   * SwiGLU, no biases, untied LM head; every weight matrix int8 into MatMulInteger): see
   * {@link LLAMA_7B}.
   */
  llama?: boolean;
}

/** GPT-2 small's shape with a context of 8 tokens. */
export const GPT2_SMALL: TransformerConfig = {
  layers: 12,
  dim: 768,
  heads: 12,
  ff: 3072,
  vocab: 50257,
  ctx: 8,
  seed: 1,
};

/**
 * LLaMA-7B's shape (32 layers, d_model 4096, 32 heads, d_ff 11008, vocabulary 32000: 6.74 G
 * parameters, 6.74 GB of int8 weights) with a context of 8 tokens, as the int8 graph.
 */
export const LLAMA_7B: TransformerConfig = {
  layers: 32,
  dim: 4096,
  heads: 32,
  ff: 11008,
  vocab: 32000,
  ctx: 8,
  seed: 1,
  llama: true,
};

/** Where `deno run -A tasks/gen_transformer.ts` writes by default (build/ is not committed). */
export const DEFAULT_OUT = new URL("../build/models/gpt2-synthetic.onnx", import.meta.url).pathname;

/** Where `gen_transformer.ts --llama` writes by default. */
export const DEFAULT_LLAMA_OUT =
  new URL("../build/models/llama-int8-synthetic.onnx", import.meta.url).pathname;

/** A bad configuration or command line: the message is one line naming the option. */
export class TransformerConfigError extends Error {
  override name = "TransformerConfigError";
}

/**
 * Checks a configuration and returns its parameter count.
 *
 * @example
 * ```ts
 * transformerParams(GPT2_SMALL); // 123,046,656 + ... about 123 M
 * ```
 */
export function transformerParams(c: TransformerConfig): number {
  for (const k of ["layers", "dim", "heads", "ff", "vocab", "ctx"] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) {
      throw new TransformerConfigError(`--${k} ${c[k]}: expected a positive integer`);
    }
  }
  if (c.dim % c.heads) {
    throw new TransformerConfigError(`--dim ${c.dim} is not a multiple of --heads ${c.heads}`);
  }
  if (c.llama) {
    if ((c.dim / c.heads) % 2) {
      throw new TransformerConfigError(
        `--dim ${c.dim} / --heads ${c.heads} is odd: rotary embeddings pair halves`,
      );
    }
    // Weights only (the per-channel scales are float32 bookkeeping, under 0.1 %).
    return c.layers * (4 * c.dim * c.dim + 3 * c.dim * c.ff + 2 * c.dim) + 2 * c.vocab * c.dim + c.dim;
  }
  const layer = 4 * c.dim * c.dim + 4 * c.dim + 2 * c.dim * c.ff + c.ff + c.dim + 4 * c.dim;
  return c.layers * layer + c.vocab * c.dim + c.ctx * c.dim + 2 * c.dim;
}

/** xorshift32 from a seed: uniform floats in [-a, a) with a = std * sqrt(3) (std 0.02, GPT-2's init). */
function uniform(seed: number): (n: number, std?: number) => Float32Array {
  let s = (seed >>> 0) || 0x9e3779b9;
  return (n, std = 0.02) => {
    const a = std * Math.sqrt(3) * 2 / 4294967296;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
      out[i] = (s - 2147483648) * a;
    }
    return out;
  };
}

/**
 * The bytes of a configuration's weights: float32 for the GPT-2 graph; int8 matrices (plus their
 * float32 scales and norm gains) for the LLaMA one.
 */
export function transformerWeightBytes(c: TransformerConfig): number {
  const p = transformerParams(c);
  if (!c.llama) return p * 4;
  const norms = (2 * c.layers + 1) * c.dim;
  const scales = c.layers * (4 * c.dim + 2 * c.ff + c.dim) + c.vocab + 1;
  return p - norms + 4 * (norms + scales);
}

/**
 * xorshift32 from a seed, four int8 weights per step: uniform in [-64, 63] (seven bits, the
 * `reduce_range` of onnxruntime's quantizer: u8 x s8 pairs cannot saturate the int16 sums of
 * AVX2's VPMADDUBSW, so onnxruntime's MatMulInteger is exact on any x86 and a valid reference).
 * Fills whole 32-bit words (little-endian): about 1 ns per weight.
 */
function uniformInt8(seed: number): (n: number) => Int8Array {
  let s = (seed >>> 0) || 0x9e3779b9;
  return (n) => {
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) {
      s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
      // Each byte: 7 random bits, bit 6 copied into bit 7 (sign extension from 7 bits).
      const t = s & 0x7f7f7f7f;
      words[i] = (t | ((t & 0x40404040) << 1)) >>> 0;
    }
    return new Int8Array(words.buffer, 0, n);
  };
}

/**
 * Where each initializer's bytes go: returns the TensorProto fields that hold or point to them.
 * The generator calls it once per initializer, in a fixed order.
 */
type TensorSink = (bytes: Uint8Array) => Record<string, unknown>;

/** Initializers smaller than this stay inside the ONNX file with external data (onnx's default). */
const EXTERNAL_THRESHOLD = 1024;

/** External data offsets are multiples of this (a page: onnxruntime may map the file). */
const EXTERNAL_ALIGN = 4096;

/**
 * Weights above this size are written as external data by default: one protobuf holds at most
 * 2 GiB, and a model file this large is better read in parts.
 */
export const EXTERNAL_BY_DEFAULT_BYTES = 2 ** 30;

/**
 * The ONNX bytes of a synthetic transformer: the same configuration and seed give the same bytes.
 *
 * @example
 * ```ts
 * const bytes = genTransformer({ ...GPT2_SMALL, layers: 2, dim: 64, heads: 4, ff: 256, vocab: 500 });
 * ```
 */
export function genTransformer(c: TransformerConfig): Uint8Array {
  return buildTransformer(c, (rawData) => ({ rawData }));
}

/** What {@link writeTransformer} wrote. */
export interface WrittenTransformer {
  /** Size of the ONNX file. */
  modelBytes: number;
  /** The external data file (beside the model) and its size, when the weights are outside. */
  external?: { path: string; bytes: number };
}

/**
 * Writes a synthetic transformer to `out`. With `external` (default: when its float32 weights
 * take over {@link EXTERNAL_BY_DEFAULT_BYTES}) every initializer of at least 1 KiB goes to
 * `<out>.data` beside it, the ONNX external-data convention (TensorProto `data_location`
 * EXTERNAL, `external_data` entries `location` (relative to the model's folder), `offset`,
 * `length`), each at a 4 KiB-aligned offset, streamed as generated: memory holds one tensor, not
 * the model. The same configuration gives the same bytes in both files.
 *
 * @example
 * ```ts
 * writeTransformer({ ...GPT2_SMALL, layers: 2, dim: 64, heads: 4, ff: 256, vocab: 500 }, "t.onnx", true);
 * ```
 */
export function writeTransformer(c: TransformerConfig, out: string, external?: boolean): WrittenTransformer {
  external ??= transformerWeightBytes(c) > EXTERNAL_BY_DEFAULT_BYTES;
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : "";
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  if (!external) {
    const bytes = genTransformer(c);
    Deno.writeFileSync(out, bytes);
    return { modelBytes: bytes.length };
  }
  const dataPath = `${out}.data`;
  const location = dataPath.slice(dataPath.lastIndexOf("/") + 1);
  const file = Deno.openSync(dataPath, { write: true, create: true, truncate: true });
  let size = 0;
  try {
    const bytes = buildTransformer(c, (data) => {
      if (data.length < EXTERNAL_THRESHOLD) return { rawData: data };
      const offset = Math.ceil(size / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
      if (offset > size) writeAll(file, new Uint8Array(offset - size));
      writeAll(file, data);
      size = offset + data.length;
      return {
        dataLocation: 1,
        externalData: [
          { key: "location", value: location },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(data.length) },
        ],
      };
    });
    Deno.writeFileSync(out, bytes);
    return { modelBytes: bytes.length, external: { path: dataPath, bytes: size } };
  } finally {
    file.close();
  }
}

function writeAll(file: Deno.FsFile, data: Uint8Array): void {
  for (let o = 0; o < data.length;) o += file.writeSync(data.subarray(o));
}

/** Node attributes: integers, floats and integer lists. */
type Attrs = Record<string, number | number[]>;

/** The initializers and nodes of a graph being built, and helpers to add them in order. */
function graphBuilder(sink: TensorSink) {
  const inits: unknown[] = [];
  const nodes: unknown[] = [];
  const tensor = (name: string, dims: number[], dataType: number, data: ArrayBufferView) => {
    inits.push({
      name,
      dims,
      dataType,
      ...sink(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    });
    return name;
  };
  const f32 = (name: string, dims: number[], data: Float32Array) => tensor(name, dims, 1, data);
  const i64 = (name: string, dims: number[], data: number[]) =>
    tensor(name, dims, 7, BigInt64Array.from(data.map(BigInt)));
  let seq = 0;
  /** A node with `outputs` fresh outputs `t<n>`, named `<opType>_<n + 1>` after its first. */
  const nodeN = (opType: string, input: string[], outputs: number, attrs: Attrs = {}): string[] => {
    const name = `${opType}_${seq + 1}`;
    const output = Array.from({ length: outputs }, () => `t${seq++}`);
    nodes.push({
      name,
      opType,
      input,
      output,
      attribute: Object.entries(attrs).map(([name, v]) =>
        Array.isArray(v)
          ? { name, type: 7, ints: v }
          : Number.isInteger(v)
          ? { name, type: 2, i: v }
          : { name, type: 1, f: v }
      ),
    });
    return output;
  };
  const node = (opType: string, input: string[], attrs: Attrs = {}): string =>
    nodeN(opType, input, 1, attrs)[0];
  return { inits, nodes, tensor, f32, i64, node, nodeN };
}

/** The ModelProto bytes of a built graph: input `input_ids` int64 [1, T], output `logits` float32 [1, T, V]. */
function encodeModel(c: TransformerConfig, name: string, nodes: unknown[], inits: unknown[]): Uint8Array {
  const { vocab: V, ctx: T } = c;
  const model = onnx.ModelProto.create({
    irVersion: 9,
    producerName: "opml tasks/gen_transformer.ts",
    opsetImport: [{ domain: "", version: 20 }],
    graph: {
      name,
      node: nodes,
      initializer: inits,
      input: [{
        name: "input_ids",
        type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 1 }, { dimValue: T }] } } },
      }],
      output: [{
        name: "logits",
        type: {
          tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: T }, { dimValue: V }] } },
        },
      }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The model with each initializer's data placed by `sink`. */
function buildTransformer(c: TransformerConfig, sink: TensorSink): Uint8Array {
  if (c.llama) return buildLlama(c, sink);
  transformerParams(c);
  const { dim: D, heads: H, ff: F, vocab: V, ctx: T } = c;
  const dh = D / H;
  const rnd = uniform(c.seed);
  const { inits, nodes, f32, i64, node } = graphBuilder(sink);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const layerNorm = (x: string, name: string) =>
    node("LayerNormalization", [
      x,
      f32(`${name}.g`, [D], ones(D)),
      f32(`${name}.b`, [D], new Float32Array(D)),
    ], {
      axis: -1,
      epsilon: 1e-5,
    });
  const linear = (x: string, name: string, n: number, k: number) =>
    node("Add", [node("MatMul", [x, f32(`${name}.w`, [k, n], rnd(k * n))]), f32(`${name}.b`, [n], rnd(n))]);

  const wte = f32("wte", [V, D], rnd(V * D));
  const wpe = f32("wpe", [T, D], rnd(T * D, 0.01));
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e4;
  f32("causal_mask", [T, T], mask);
  f32("attn_scale", [], Float32Array.of(1 / Math.sqrt(dh)));
  i64("positions", [1, T], [...Array(T).keys()]);
  i64("heads_shape", [4], [1, T, H, dh]);
  i64("model_shape", [3], [1, T, D]);
  i64("rows_shape", [2], [T, D]);
  i64("logits_shape", [3], [1, T, V]);

  let h = node("Add", [node("Gather", [wte, "input_ids"]), node("Gather", [wpe, "positions"])]);
  for (let l = 0; l < c.layers; l++) {
    const p = `h${l}`;
    const x = layerNorm(h, `${p}.ln_1`);
    const heads = (name: string, perm: number[]) =>
      node("Transpose", [node("Reshape", [linear(x, `${p}.attn.${name}`, D, D), "heads_shape"])], { perm });
    const q = heads("q", [0, 2, 1, 3]); // [1, H, T, dh]
    const k = heads("k", [0, 2, 3, 1]); // [1, H, dh, T]
    const v = heads("v", [0, 2, 1, 3]);
    const scores = node("Add", [node("Mul", [node("MatMul", [q, k]), "attn_scale"]), "causal_mask"]);
    const attn = node("MatMul", [node("Softmax", [scores], { axis: -1 }), v]);
    const merged = node("Reshape", [node("Transpose", [attn], { perm: [0, 2, 1, 3] }), "model_shape"]);
    h = node("Add", [h, linear(merged, `${p}.attn.proj`, D, D)]);
    const y = layerNorm(h, `${p}.ln_2`);
    const up = node("Gelu", [linear(y, `${p}.mlp.fc`, F, D)]);
    h = node("Add", [h, linear(up, `${p}.mlp.proj`, D, F)]);
  }
  const last = node("Reshape", [layerNorm(h, "ln_f"), "rows_shape"]);
  const logits = node("Gemm", [last, wte], { transB: 1 });
  nodes.push({ name: "logits", opType: "Reshape", input: [logits, "logits_shape"], output: ["logits"] });

  return encodeModel(c, `synthetic-transformer-l${c.layers}-d${D}-h${H}-f${F}-v${V}-t${T}`, nodes, inits);
}

/**
 * The int8 LLaMA-shaped decoder, quantized the way onnxruntime's `quantize_dynamic` quantizes an
 * LLM's MatMuls: each weight matrix is int8 [K, N] (seven-bit values, see {@link uniformInt8})
 * with a float32 scale per output column and an int8 zero point 0; its input activations go
 * through DynamicQuantizeLinear (uint8, one scale and zero point per tensor, shared by the
 * MatMuls that read the same activations), then MatMulInteger (int32), Cast to float and Mul by
 * x_scale * w_scale. The VM check of the biggest node, the LM head, then reads its 131 MB of int8
 * weights as they are; a DequantizeLinear + MatMul form would materialise 524 MB of float32
 * weights in the VM for one node and check a float MatMul over them.
 *
 * Graph: token embedding Gather of an int8 table, Cast, Mul by its scale; per layer an RMSNorm
 * (Mul(x, x), ReduceMean, Add epsilon, Sqrt, Div, Mul by the gain, as exporters decompose
 * it at opset 20), Q/K/V projections, heads (Reshape, Transpose), rotary embeddings on Q and K
 * (x * cos + rotate_half(x) * sin with constant [T, head size] tables, base 10000;
 * rotate_half = Concat(Neg(upper half), lower half) by Slice), causal softmax attention in
 * float, the output projection and the residual Add; an RMSNorm and the SwiGLU MLP
 * down(silu(gate(y)) * up(y)) (silu = x * Sigmoid(x)), residual Add. Then a final RMSNorm and
 * the untied int8 LM head. No biases.
 */
function buildLlama(c: TransformerConfig, sink: TensorSink): Uint8Array {
  transformerParams(c);
  const { dim: D, heads: H, ff: F, vocab: V, ctx: T } = c;
  const dh = D / H;
  const q8 = uniformInt8(c.seed);
  const rnd = uniform(c.seed ^ 0x5bd1e995);
  const { inits, nodes, tensor, f32, i64, node, nodeN } = graphBuilder(sink);
  // An effective weight std of 0.02 (GPT-2's init): the uniform [-64, 63] values have std ~36.9.
  const unit = 0.02 / (64 / Math.sqrt(3));
  /** One scale per output column, unit * [0.5, 1.5). */
  const columnScales = (n: number) => rnd(n, 0.5 / Math.sqrt(3)).map((u) => unit * (1 + u));
  const INT8 = 3;
  const wZero = tensor("w_zero", [], INT8, new Int8Array(1));

  const tok = tensor("tok_embeddings.q", [V, D], INT8, q8(V * D));
  const tokScale = f32("tok_embeddings.scale", [], Float32Array.of(unit));
  const lastAxis = i64("last_axis", [1], [-1]);
  const eps = f32("rms_eps", [], Float32Array.of(1e-5));
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e4;
  f32("causal_mask", [T, T], mask);
  f32("attn_scale", [], Float32Array.of(1 / Math.sqrt(dh)));
  const cos = new Float32Array(T * dh), sin = new Float32Array(T * dh);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < dh / 2; i++) {
      const angle = t * 10000 ** (-2 * i / dh);
      cos[t * dh + i] = cos[t * dh + i + dh / 2] = Math.cos(angle);
      sin[t * dh + i] = sin[t * dh + i + dh / 2] = Math.sin(angle);
    }
  }
  f32("rope_cos", [T, dh], cos);
  f32("rope_sin", [T, dh], sin);
  i64("half_lo_start", [1], [0]);
  i64("half_mid", [1], [dh / 2]);
  i64("half_hi_end", [1], [dh]);
  i64("heads_shape", [4], [1, T, H, dh]);
  i64("model_shape", [3], [1, T, D]);

  const rmsNorm = (x: string, name: string) => {
    const ms = node("ReduceMean", [node("Mul", [x, x]), lastAxis], { keepdims: 1 });
    const normed = node("Div", [x, node("Sqrt", [node("Add", [ms, eps])])]);
    return node("Mul", [normed, f32(`${name}.g`, [D], new Float32Array(D).fill(1))]);
  };
  /** DynamicQuantizeLinear: [uint8 x, x_scale, x_zero_point]. */
  const quantize = (x: string) => nodeN("DynamicQuantizeLinear", [x], 3);
  /** x [.., K] (quantized) times the int8 weight `name` [K, N], back to float32. */
  const linear = ([xq, xs, xz]: string[], name: string, n: number, k: number) => {
    const w = tensor(`${name}.q`, [k, n], INT8, q8(k * n));
    const scale = node("Mul", [xs, f32(`${name}.scale`, [n], columnScales(n))]);
    return node("Mul", [node("Cast", [node("MatMulInteger", [xq, w, xz, wZero])], { to: 1 }), scale]);
  };
  const rope = (x: string) => {
    const lo = node("Slice", [x, "half_lo_start", "half_mid", lastAxis]);
    const hi = node("Slice", [x, "half_mid", "half_hi_end", lastAxis]);
    const rotated = node("Concat", [node("Neg", [hi]), lo], { axis: -1 });
    return node("Add", [node("Mul", [x, "rope_cos"]), node("Mul", [rotated, "rope_sin"])]);
  };

  let h = node("Mul", [node("Cast", [node("Gather", [tok, "input_ids"])], { to: 1 }), tokScale]);
  for (let l = 0; l < c.layers; l++) {
    const p = `layers.${l}`;
    const x = quantize(rmsNorm(h, `${p}.attention_norm`));
    const heads = (name: string) =>
      node("Transpose", [node("Reshape", [linear(x, `${p}.attention.${name}`, D, D), "heads_shape"])], {
        perm: [0, 2, 1, 3],
      }); // [1, H, T, dh]
    const q = rope(heads("wq"));
    const k = node("Transpose", [rope(heads("wk"))], { perm: [0, 1, 3, 2] }); // [1, H, dh, T]
    const v = heads("wv");
    const scores = node("Add", [node("Mul", [node("MatMul", [q, k]), "attn_scale"]), "causal_mask"]);
    const attn = node("MatMul", [node("Softmax", [scores], { axis: -1 }), v]);
    const merged = node("Reshape", [node("Transpose", [attn], { perm: [0, 2, 1, 3] }), "model_shape"]);
    h = node("Add", [h, linear(quantize(merged), `${p}.attention.wo`, D, D)]);
    const y = quantize(rmsNorm(h, `${p}.ffn_norm`));
    const gate = linear(y, `${p}.feed_forward.w1`, F, D);
    const up = linear(y, `${p}.feed_forward.w3`, F, D);
    const act = node("Mul", [node("Mul", [gate, node("Sigmoid", [gate])]), up]);
    h = node("Add", [h, linear(quantize(act), `${p}.feed_forward.w2`, D, F)]);
  }
  const [zq, zs, zz] = quantize(rmsNorm(h, "norm"));
  const w = tensor("output.q", [D, V], INT8, q8(D * V));
  const scale = node("Mul", [zs, f32("output.scale", [V], columnScales(V))]);
  const acc = node("Cast", [node("MatMulInteger", [zq, w, zz, wZero])], { to: 1 });
  nodes.push({ name: "logits", opType: "Mul", input: [acc, scale], output: ["logits"] });
  return encodeModel(c, `synthetic-llama-int8-l${c.layers}-d${D}-h${H}-f${F}-v${V}-t${T}`, nodes, inits);
}

const OPTIONS = ["layers", "dim", "heads", "ff", "vocab", "ctx", "seed"] as const;

/**
 * Parses the command line of the task into a configuration and an output path.
 *
 * @example
 * ```ts
 * parseTransformerArgs(["--layers", "2", "--dim", "64", "--heads", "4"]);
 * ```
 */
export function parseTransformerArgs(
  args: string[],
): { config: TransformerConfig; out: string; external?: boolean } {
  // --llama picks the int8 LLaMA graph and LLaMA-7B's shape as the defaults, wherever it stands.
  const config = { ...(args.includes("--llama") ? LLAMA_7B : GPT2_SMALL) };
  let out = config.llama ? DEFAULT_LLAMA_OUT : DEFAULT_OUT;
  let external: boolean | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith("--") ? a.slice(2) : "";
    if (name === "llama") continue;
    if (name === "external-data" || name === "no-external-data") {
      external = name === "external-data";
      continue;
    }
    if (i + 1 >= args.length) throw new TransformerConfigError(`${a}: missing value`);
    const v = args[++i];
    if (name === "out") out = v;
    else if ((OPTIONS as readonly string[]).includes(name)) {
      if (!/^\d+$/.test(v)) throw new TransformerConfigError(`${a} ${v}: expected a positive integer`);
      config[name as typeof OPTIONS[number]] = Number(v);
    } else {
      throw new TransformerConfigError(
        `unknown option ${a} (--${
          OPTIONS.join(", --")
        }, --out, --llama, --external-data, --no-external-data)`,
      );
    }
  }
  transformerParams(config);
  return { config, out, ...(external === undefined ? {} : { external }) };
}

if (import.meta.main) {
  try {
    const { config, out, external } = parseTransformerArgs(Deno.args);
    const t0 = performance.now();
    const written = writeTransformer(config, out, external);
    const params = transformerParams(config);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.error(
      `${out}: ${(params / 1e6).toFixed(1)} M parameters, ${mb(written.modelBytes)}` +
        (written.external ? ` + ${written.external.path}: ${mb(written.external.bytes)}` : "") +
        `, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    if (!(e instanceof TransformerConfigError)) throw e;
    console.error(`gen_transformer: ${e.message}`);
    Deno.exit(2);
  }
}
