/**
 * The operator schema: the one source of truth for the kernels' op codes, their families and
 * their normalised attribute layouts (docs/IR.md). The TypeScript op-code tables
 * (`ELEMENTWISE_OPS`, `NN_OPS`, ...) are derived from it, and `tasks/gen_ops.ts` generates
 * core/kernels/ops.h (the `OP_*` enum the C kernels use) from it; tests/kernels/ops.test.ts
 * fails when the header is stale or a kernel table disagrees.
 *
 * Op codes are part of the program encoding: an existing code never changes meaning.
 * Each entry's `doc` is the attribute layout the lowering produces and the kernel reads
 * (inputs are the ONNX inputs unless noted).
 * @module
 */

/** One kernel: its op code and its attribute layout. */
export interface OpSchema {
  readonly code: number;
  readonly doc: string;
}

/** The kernel families: op-code range, C source, TypeScript module. */
export const FAMILIES = {
  elementwise: { first: 1, last: 99, c: "elementwise.c", ts: "elementwise.ts" },
  nn: { first: 100, last: 199, c: "nn.c", ts: "nn.ts" },
  movement: { first: 200, last: 299, c: "movement.c", ts: "movement.ts" },
  quant: { first: 300, last: 399, c: "quant.c", ts: "quant.ts" },
  math: { first: 400, last: 499, c: "math.c", ts: "math.ts" },
  reduce: { first: 500, last: 599, c: "reduce.c", ts: "reduce.ts" },
  vision: { first: 600, last: 659, c: "vision.c", ts: "vision.ts" },
  norm: { first: 660, last: 699, c: "norm.c", ts: "norm.ts" },
  sequence: { first: 700, last: 749, c: "sequence.c", ts: "sequence.ts" },
  spectral: { first: 750, last: 799, c: "spectral.c", ts: "spectral.ts" },
  index: { first: 800, last: 899, c: "index.c", ts: "index.ts" },
  loss: { first: 900, last: 949, c: "loss.c", ts: "loss.ts" },
  signal: { first: 950, last: 969, c: "signal.c", ts: "signal.ts" },
  linalg: { first: 970, last: 979, c: "linalg.c", ts: "linalg.ts" },
  integer: { first: 980, last: 999, c: "integer.c", ts: "integer.ts" },
  ml: { first: 1000, last: 1019, c: "ml.c", ts: "ml.ts" },
} as const;

/** A family name. */
export type Family = keyof typeof FAMILIES;

/** Every kernel, by family, keyed by the name of the kernel table entry (the ONNX op type). */
export const OP_SCHEMA = {
  elementwise: {
    Add: {
      code: 1,
      doc: "No attributes; both inputs and the output of one dtype (float, double, any integer).",
    },
    Sub: { code: 2, doc: "As Add." },
    Mul: { code: 3, doc: "As Add." },
    Div: { code: 4, doc: "As Add. Integers: truncating, x / 0 = 0, INT_MIN / -1 = INT_MIN." },
    Pow: { code: 5, doc: "Base float, int32 or int64 (the output's dtype); exponent float or any integer." },
    Equal: { code: 6, doc: "Output bool; both inputs of one dtype." },
    Where: { code: 7, doc: "Inputs cond (bool), X, Y of one dtype." },
    Relu: { code: 10, doc: "Float, double, int8/16/32/64." },
    LeakyRelu: { code: 11, doc: "floats: [alpha]." },
    Clip: {
      code: 12,
      doc: "floats: [lo, hi] (float input), ints: [lo, hi] (integer inputs, uint64 as the same bits); " +
        "inputs X, then min and max when either is not a compile-time constant (a present input " +
        "overrides the attribute).",
    },
    Sigmoid: { code: 13, doc: "Float; no attributes." },
    Tanh: { code: 14, doc: "Float; no attributes." },
    Exp: { code: 15, doc: "Float, double (opml_exp); no attributes." },
    Erf: { code: 16, doc: "Float; no attributes." },
    Sqrt: { code: 17, doc: "Float, double (opml_sqrt, correctly rounded); no attributes." },
    Gelu: { code: 18, doc: "ints: [approximate] (0: erf, 1: tanh)." },
    Cast: {
      code: 20,
      doc:
        "ints: [saturate, roundMode] (float8 targets; float8e8m0: 0 up, 1 down, 2 nearest); the target dtype is the output tensor's.",
    },
  },
  nn: {
    MatMul: {
      code: 100,
      doc:
        "ints: [M, N, K, nb, dims[nb], aStrides[nb], bStrides[nb]] (batch odometer, 0 = broadcast); float (double lowers to Einsum).",
    },
    Gemm: {
      code: 101,
      doc: "ints: [M, N, K, transA, transB, cRowStride, cColStride]; floats: [alpha, beta]; inputs A, B, C?.",
    },
    Conv: {
      code: 102,
      doc: "ints (3-D normalised): [N, C, OC, group, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, " +
        "DD, DH, DW, PD, PH, PW] (leading pads); inputs X, W, B?.",
    },
    MaxPool: {
      code: 103,
      doc: "ints (3-D normalised): [N*C, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, " +
        "PD, PH, PW, ED, EH, EW, storageOrder] (P leading, E trailing pads); outputs Y, Indices?.",
    },
    AveragePool: { code: 104, doc: "ints: as MaxPool with countIncludePad last." },
    GlobalAveragePool: { code: 105, doc: "ints: as ReduceMean ([2, N*C, spatial size, 0, 1])." },
    BatchNormalization: {
      code: 106,
      doc: "ints: [N, C, spatial size, trainingMode]; floats: [epsilon, momentum].",
    },
    LayerNormalization: {
      code: 107,
      doc: "ints: [outer, normalized size]; floats: [epsilon]; outputs Y, Mean?, InvStdDev?.",
    },
    Softmax: { code: 108, doc: "ints: [outer, D, inner]: softmax along D; float, double." },
    LogSoftmax: { code: 109, doc: "ints: [outer, D, inner]; float, double." },
    ReduceMean: {
      code: 110,
      doc: "ints: [n, dims[n], reduced[n]]: the shape with adjacent axes of one kind merged.",
    },
  },
  movement: {
    Copy: { code: 200, doc: "Identity, Reshape, Flatten, Squeeze, Unsqueeze: a byte copy. ints: none." },
    Transpose: {
      code: 201,
      doc: "ints: [offset, stride_0..stride_{r-1}], r the output rank: output element (i_0..i_{r-1}) is " +
        "input element offset + sum(i_k * stride_k) (flat indices; strides may be 0 or negative).",
    },
    Concat: { code: 202, doc: "ints: [axis] (0 <= axis < rank)." },
    Gather: {
      code: 203,
      doc: "ints: [axis] or [axis, indices' first dim]; inputs data, indices (int32/int64, checked at run " +
        "time), then data's run-time length on the axis? and the indices' on their first axis? (docs/IR.md).",
    },
    Slice: { code: 204, doc: "ints: [offset, stride_0..stride_{r-1}]." },
    Split: { code: 205, doc: "ints: [axis]; the chunk sizes are the outputs' dims along it." },
    Pad: {
      code: 206,
      doc: "ints: [mode, fillBits, before_0..before_{r-1}]; optional input 1: run-time constant.",
    },
    Expand: { code: 207, doc: "ints: [offset, stride_0..stride_{r-1}] (stride 0 on broadcast axes)." },
    ConstantOfShape: { code: 208, doc: "ints: [fillBits]; no inputs." },
    Shape: { code: 209, doc: "ints: the int64 output values; no inputs." },
    BitCast: {
      code: 210,
      doc: "No ints: the input's bytes as the output dtype of the same width (float NaNs then canonical).",
    },
  },
  quant: {
    QuantizeLinear: { code: 300, doc: "Layout: core/compiler/ops/quant.ts (lowerQuantizeLinear)." },
    DequantizeLinear: { code: 301, doc: "Layout: core/compiler/ops/quant.ts." },
    MatMulInteger: { code: 302, doc: "Layout: core/compiler/ops/quant.ts." },
    QLinearMatMul: { code: 303, doc: "Layout: core/compiler/ops/quant.ts." },
    QLinearConv: { code: 304, doc: "Layout: core/compiler/ops/quant.ts." },
    QLinearAdd: { code: 305, doc: "com.microsoft::QLinearAdd. Layout: core/compiler/ops/quant.ts." },
  },
  math: {
    Neg: { code: 400, doc: "Float, int8/16/32/64 (wrapping); no attributes." },
    Abs: { code: 401, doc: "Float (clears the sign bit), any integer." },
    Reciprocal: { code: 402, doc: "Float: 1 / x." },
    Floor: { code: 403, doc: "Float." },
    Ceil: { code: 404, doc: "Float: -floor(-x)." },
    Round: { code: 405, doc: "Float: half to even." },
    Sign: { code: 406, doc: "Float (keeps ±0 and NaN), any integer." },
    Not: { code: 407, doc: "Bool." },
    IsNaN: { code: 408, doc: "Float in, bool out." },
    IsInf: { code: 409, doc: "Float in, bool out; ints: [detect_negative, detect_positive]." },
    Log: { code: 410, doc: "Float (opml_logf), double (opml_log)." },
    Sin: { code: 411, doc: "Float (opml_sinf)." },
    Cos: { code: 412, doc: "Float (opml_cosf)." },
    Tan: { code: 413, doc: "Float (opml_tanf)." },
    Sinh: { code: 414, doc: "Float (opml_sinhf)." },
    Cosh: { code: 415, doc: "Float (opml_coshf)." },
    Softplus: { code: 416, doc: "Float: opml_softplusf." },
    Softsign: { code: 417, doc: "Float: x / (1 + |x|)." },
    HardSigmoid: { code: 418, doc: "floats: [alpha, beta]: max(0, min(1, alpha x + beta))." },
    HardSwish: { code: 419, doc: "Float: x max(0, min(1, x (1/6) + 1/2))." },
    Elu: { code: 420, doc: "floats: [alpha]: x < 0 ? alpha expm1(x) : x." },
    Selu: { code: 421, doc: "floats: [alpha, gamma]: x <= 0 ? gamma (alpha expm1(x)) : gamma x." },
    Celu: { code: 422, doc: "floats: [alpha]: max(0, x) + min(0, alpha expm1(x / alpha))." },
    Mish: { code: 423, doc: "Float: x tanh(softplus(x))." },
    ThresholdedRelu: { code: 424, doc: "floats: [alpha]: x > alpha ? x : 0." },
    PRelu: { code: 425, doc: "Inputs X, slope (broadcast to X); float, int32, int64." },
    Max: {
      code: 426,
      doc: "1 to 4 inputs of one dtype (float, double, any integer), broadcast; NaN propagates.",
    },
    Min: { code: 427, doc: "As Max." },
    Sum: { code: 428, doc: "1 to 4 float or double inputs, added in input order." },
    Mean: { code: 429, doc: "As Sum, then divided by the number of inputs." },
    Mod: {
      code: 430,
      doc:
        "ints: [fmod]; float and double need fmod = 1 (exact); integers: fmod 0 floored (sign of the divisor), 1 truncated; x mod 0 = 0.",
    },
    Less: { code: 431, doc: "Output bool; both inputs of one numeric dtype." },
    Greater: { code: 432, doc: "As Less." },
    LessOrEqual: { code: 433, doc: "As Less." },
    GreaterOrEqual: { code: 434, doc: "As Less." },
    And: { code: 435, doc: "Bool inputs and output." },
    Or: { code: 436, doc: "As And." },
    Xor: { code: 437, doc: "As And." },
    BitShift: {
      code: 438,
      doc: "ints: [direction] (0 left, 1 right); unsigned integers; a shift >= the width gives 0.",
    },
    BitwiseAnd: { code: 439, doc: "Integers of one dtype." },
    BitwiseOr: { code: 440, doc: "As BitwiseAnd." },
    BitwiseXor: { code: 441, doc: "As BitwiseAnd." },
    BitwiseNot: { code: 442, doc: "Any integer." },
    Asin: { code: 443, doc: "Float (opml_asinf)." },
    Acos: { code: 444, doc: "Float (opml_acosf)." },
    Atan: { code: 445, doc: "Float (opml_atanf)." },
    Asinh: { code: 446, doc: "Float (opml_asinhf)." },
    Acosh: { code: 447, doc: "Float (opml_acoshf)." },
    Atanh: { code: 448, doc: "Float (opml_atanhf)." },
    Binarizer: { code: 449, doc: "ai.onnx.ml; floats: [threshold]: x > threshold ? 1 : 0 (NaN: 0); float." },
  },
  reduce: {
    ReduceSum: {
      code: 500,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double, int32, int64.",
    },
    ReduceMax: {
      code: 501,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double, int8/uint8/int32/int64, bool.",
    },
    ReduceMin: { code: 502, doc: "As ReduceMax." },
    ReduceProd: {
      code: 503,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double, int32, int64.",
    },
    ReduceL1: {
      code: 504,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double: sum of |x|.",
    },
    ReduceL2: {
      code: 505,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double: sqrt of the sum of squares.",
    },
    ReduceLogSum: {
      code: 506,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double: log of the sum.",
    },
    ReduceLogSumExp: {
      code: 507,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double: log(sum exp(x - max)) + max.",
    },
    ReduceSumSquare: {
      code: 508,
      doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean); float, double, int32, int64.",
    },
    ArgMax: { code: 509, doc: "ints: [outer, D, inner, selectLast]; float, int32, int64 in, int64 out." },
    ArgMin: { code: 510, doc: "As ArgMax." },
  },
  vision: {
    Resize: {
      code: 600,
      doc: "Resize and Upsample. ints: [r, inDims[r], outDims[r], taps[r], weighted, then per axis a and " +
        "output coordinate o, taps[a] input indices (-1: no tap; -2 in the first: the output is the " +
        "extrapolation value)]; floats: [extrapolation, then the taps' weights in the same order]. " +
        "weighted 0 (nearest): one tap per axis, an element copy (any dtype); 1: float, sum of " +
        "weight products times x over the taps.",
    },
    DepthToSpace: {
      code: 601,
      doc: "ints: [N, C, H, W, blocksize, crd] (C the input's channels); any dtype (element copy).",
    },
    SpaceToDepth: { code: 602, doc: "ints: [N, C, H, W, blocksize] (C, H, W the input's); any dtype." },
    ConvTranspose: {
      code: 603,
      doc: "ints (3-D normalised): [N, C, OC, group, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, " +
        "DD, DH, DW, PD, PH, PW] (leading pads); inputs X, W [C, OC/group, K...], B?.",
    },
    LpPool: { code: 604, doc: "ints: as AveragePool's, with p last (count_include_pad unused)." },
    GridSample: {
      code: 605,
      doc: "ints: [N, C, r (spatial rank 1-3), inDims[r], outDims[r], mode (0 nearest, 1 linear, 2 cubic), " +
        "padding (0 zeros, 1 border, 2 reflection), alignCorners]; inputs X, grid [N, out..., r].",
    },
    RoiAlign: {
      code: 606,
      doc: "ints: [R (rois), C, H, W, outH, outW, samplingRatio, halfPixel, max]; floats: [spatialScale]; " +
        "inputs X, rois [R, 4], batch_indices [R] (int64, checked at run time), " +
        "count? (int64 scalar: the rois' run-time number; the rows past it are zeros).",
    },
    MaxUnpool: {
      code: 607,
      doc: "ints: [r, dims[r]] (the inferred output shape): Y = 0, then Y at the position of index I[k] " +
        "(flat in the inferred shape, checked at run time) = X[k] in ascending k; inputs X, I (int64).",
    },
    Col2Im: {
      code: 608,
      doc:
        "ints (3-D normalised): [N, C, ID, IH, IW, KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW, LD, LH, " +
        "LW] (image, block, strides, dilations, leading pads, blocks per axis); input the columns.",
    },
    AffineGrid: {
      code: 610,
      doc: "ints: [N, r (2 or 3), dims[r] (D, H, W), alignCorners]; input theta [N, r, r + 1]; output " +
        "[N, dims..., r].",
    },
    DeformConv: {
      code: 609,
      doc:
        "ints: [N, C, OC, group, offsetGroup, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW]; inputs X, W, " +
        "offset, B?, mask?.",
    },
    NonMaxSuppression: {
      code: 611,
      doc: "ints: [B, N, C, center_point_box]; inputs boxes [B, N, 4], scores [B, C, N] (float), " +
        "max_output_boxes_per_class? (int64), iou_threshold?, score_threshold? (float, read at run time), " +
        "count? (the boxes' run-time number); " +
        "outputs Y int64 [bound, 3] (zeros past the count) and count (int64 scalar).",
    },
  },
  norm: {
    RMSNormalization: {
      code: 660,
      doc: "ints: [outer, N, S]; floats: [epsilon]; inputs X, scale (S elements, a trailing part of the " +
        "normalised shape): y = x / sqrt(mean(x^2) + eps) * scale[k mod S].",
    },
    GroupNormalization: {
      code: 661,
      doc: "InstanceNormalization too. ints: [N, G, C/G, S (spatial size), perChannel]; floats: " +
        "[epsilon]; inputs X, scale, bias ([C] when perChannel, else [G]).",
    },
    LpNormalization: { code: 662, doc: "ints: [outer, D, inner, p] (p 1 or 2)." },
    MeanVarianceNormalization: { code: 663, doc: "ints: [n, dims[n], reduced[n]] (as ReduceMean)." },
    LRN: { code: 664, doc: "ints: [N, C, S, size]; floats: [alpha, beta, bias]." },
    Hardmax: { code: 665, doc: "ints: [outer, D, inner]: 1 at the first maximum along D, else 0." },
    Shrink: { code: 666, doc: "floats: [lambd, bias]; float." },
    Swish: { code: 667, doc: "floats: [alpha]: x sigmoid(alpha x); float." },
  },
  sequence: {
    Attention: {
      code: 700,
      doc: "ints: [B, Hq, Hkv, Sq, Skv (new), Spast, Dqk, Dv, q3d, maskKind (0 none, 1 float, 2 bool), " +
        "maskStrideB, maskStrideH, maskStrideQ, maskLen, causal, qkMode (-1: no qk output, else 0-3), " +
        "hasNonpad, hasSoftcap]; floats: [sqrt(scale), softcap]; inputs Q, K, V, mask?, past_key?, " +
        "past_value?, nonpad_kv_seqlen? (int64); outputs Y, present_key?, present_value?, qk?.",
    },
    RotaryEmbedding: {
      code: 701,
      doc: "ints: [B, S, H, D, rotaryDim, interleaved, x3d, hasPositions, cacheRows]; inputs X, cos, sin, " +
        "position_ids? (int64, checked at run time).",
    },
    RNN: {
      code: 702,
      doc: "ints: [S, B, I, H, dirs, reverse, layout, linearBeforeReset, hasClip, act[3 per direction]] " +
        "(activations: 0 Sigmoid, 1 Tanh, 2 Relu); floats: [clip]; inputs X, W, R, B?, sequence_lens? " +
        "(int32, checked at run time), initial_h?, initial_c?, P?; outputs Y?, Y_h?, Y_c?.",
    },
    GRU: { code: 703, doc: "As RNN (gates z, r, h)." },
    LSTM: { code: 704, doc: "As RNN (gates i, o, f, c; peepholes P [dirs, 3H])." },
  },
  spectral: {
    DFT: {
      code: 750,
      doc:
        "ints: [outer, L (input length on the axis), inner, complexIn, N (dft_length), K (output length), " +
        "inverse, onesided]; floats: [cos(2 pi m / N), then sin(2 pi m / N), m < N].",
    },
    STFT: {
      code: 751,
      doc: "ints: [B, L (signal length), complexIn, step, N (frame length), frames, K (bins)]; floats: as " +
        "DFT's; inputs signal, window? (N floats).",
    },
  },
  index: {
    GatherElements: {
      code: 800,
      doc: "ints: [axis]; inputs data (any dtype), indices (int32/int64, checked at run time).",
    },
    ScatterElements: {
      code: 801,
      doc:
        "ints: [axis, reduction] (0 none, 1 add, 2 mul, 3 max, 4 min; reductions on float, double, int32, " +
        "int64); inputs data, indices, updates; updates applied in ascending order. Also Scatter. " +
        "opml.runtime's also data_length? (indices count from it) and indices_length? (the rows of " +
        "indices/updates along axis 0 past it are not applied), int64 scalars.",
    },
    ScatterND: {
      code: 802,
      doc: "ints: [reduction] (as ScatterElements); inputs data, indices [..., q], updates.",
    },
    GatherND: { code: 803, doc: "ints: [batch_dims]; inputs data, indices [..., q] (int32/int64)." },
    Trilu: { code: 804, doc: "ints: [upper]; inputs X, k? (int64 scalar read at run time)." },
    OneHot: {
      code: 805,
      doc: "ints: [outer, depth, inner]; inputs indices (float truncated, int32, int64), values [off, on].",
    },
    Tile: { code: 806, doc: "No ints: output coordinate c reads input coordinate c mod the input's dims." },
    EyeLike: { code: 807, doc: "ints: [k]; no inputs; output [M, N] is 1 where j - i == k." },
    Range: {
      code: 808,
      doc: "ints: [n]; inputs start, delta (the output dtype): y[i] = start + i * delta (integers wrap).",
    },
    CumSum: {
      code: 809,
      doc: "ints: [outer, D, inner, exclusive, reverse]; float, double, (u)int32, (u)int64.",
    },
    ReverseSequence: {
      code: 810,
      doc: "ints: [batch_axis, time_axis]; inputs X, sequence_lens (int32/int64).",
    },
    TopK: {
      code: 811,
      doc:
        "ints: [outer, D, inner, k, largest, strict?]; inputs X, length? (the axis's run-time length L); " +
        "outputs values, indices (int64), sorted over the first L, ties by lower index, NaN above every " +
        "number; min(k, L) written; k > L fails unless strict = 0.",
    },
    Dropout: { code: 812, doc: "Inference: outputs Y = X and mask (bool) all true; no ints." },
    TensorScatter: {
      code: 813,
      doc:
        "ints: [B, A, Smax, Snew, I, circular]; inputs past_cache, update, write_indices? (int64, checked " +
        "at run time).",
    },
    TfIdfVectorizer: {
      code: 815,
      doc: "ints: [rows, C, mode (0 TF, 1 IDF, 2 TFIDF), nOut, minGram, maxGram, maxSkip, nGrams, then per " +
        "pool n-gram: n, outIndex, tokens[n]]; floats: weights (nOut or none); input int32/int64, output float.",
    },
    CumProd: {
      code: 814,
      doc: "ints: [outer, D, inner, exclusive, reverse]; as CumSum with products from 1 (integers wrap).",
    },
    NonZero: {
      code: 816,
      doc: "ints: [] or [axis]; inputs X (rank >= 1), length? (int64 scalar: X's run-time length on axis); " +
        "outputs Y int64 [rank, size of X] (the nonzero elements' coordinates, row-major, those below the " +
        "length on the axis, in the first count columns, zeros after) and count (int64 scalar).",
    },
    RuntimeLength: {
      code: 817,
      doc: "ints: [bound]; inputs n (int32/int64, one element), limit? (int64 scalar); output the int64 " +
        "scalar n, checked to lie in [0, bound] and [0, limit] at run time (TopK's run-time k).",
    },
    ConcatRuntime: {
      code: 819,
      doc: "ints: [outer, inner, n]; inputs x_0..x_{n-1} ([outer, B_i, inner]) and their run-time lengths " +
        "(int64 scalars); outputs Y [outer, sum B_i, inner] (the valid parts one after the other, zeros " +
        "after) and their total length (int64 scalar).",
    },
    Unique: {
      code: 818,
      doc:
        "ints: [outer, D, inner, sorted] (X as [outer, D, inner], D the axis); outputs Y (X's shape: the " +
        "unique slices first, zeros after), indices, inverse_indices, counts (int64 [D]) and count (int64 scalar).",
    },
  },
  loss: {
    NegativeLogLikelihoodLoss: {
      code: 900,
      doc:
        "ints: [N, C, D, reduction (0 none, 1 sum, 2 mean), hasIgnore, ignoreIndex]; inputs input, target, " +
        "weight?; float.",
    },
    SoftmaxCrossEntropyLoss: {
      code: 901,
      doc: "ints: as NegativeLogLikelihoodLoss; inputs scores, labels, weights?; outputs loss, log_prob?.",
    },
  },
  signal: {
    HannWindow: { code: 950, doc: "ints: [N, periodic]; no inputs; float output of N elements." },
    HammingWindow: { code: 951, doc: "As HannWindow." },
    BlackmanWindow: { code: 952, doc: "As HannWindow." },
    MelWeightMatrix: {
      code: 953,
      doc:
        "ints: [S, M, bins[M + 2]] (resolved at compile time as the ONNX reference); no inputs; output [S, M] float.",
    },
  },
  linalg: {
    Det: { code: 970, doc: "ints: [batch, n]; input [..., n, n] float; output [...]." },
    Einsum: {
      code: 971,
      doc: "ints: [nIn, L, size[L], outStride[L], inStride[nIn][L]] over the L labels (a repeated label's " +
        "strides summed: a diagonal); float, double: y = sum over every label tuple, in row-major order of " +
        "the labels, of the product of the inputs.",
    },
  },
  integer: {
    DynamicQuantizeLinear: {
      code: 980,
      doc: "No ints; x float; outputs y uint8, y_scale float, y_zero_point uint8.",
    },
    ConvInteger: {
      code: 981,
      doc: "ints: as Conv; inputs x, w (uint8/int8), x_zero_point?, w_zero_point? (scalar or per output " +
        "channel); output int32.",
    },
  },
  ml: {
    TreeEnsemble: {
      code: 1000,
      doc:
        "ai.onnx.ml; ints: [N, F, T, aggregate (0 AVERAGE, 1 SUM, 2 MIN, 3 MAX), nRoots, nNodes, nLeaves, " +
        "nMembers, roots[nRoots], then per interior node: feature, mode (0 LEQ, 1 LT, 2 GTE, 3 GT, 4 EQ, " +
        "5 NEQ, 6 SET_MEMBER), trueRef, falseRef, missingTracksTrue, split (binary64 bits), memberStart, " +
        "memberCount; per leaf: target, weight (binary64 bits); members[nMembers] (binary64 bits)]; a ref " +
        "below nNodes is a node, from nNodes on leaf ref - nNodes. X [N, F] float or double, Y [N, T] of " +
        "X's type: per row, the trees in root order, each leaf's weight aggregated into its target in X's " +
        "type (SUM from +0, AVERAGE the SUM over nRoots, MIN/MAX from the first weight; a target no leaf " +
        "reaches is +0); X compared in binary64 (exact for float), a NaN X goes to the true branch when " +
        "missingTracksTrue, else as the comparison says.",
    },
    TreeEnsembleRegressor: {
      code: 1001,
      doc: "ai.onnx.ml; ints: as TreeEnsemble's head with nMembers 0, then nVotes, hasBase, roots, nodes, " +
        "per leaf: voteStart, voteCount; per vote: target, weight (binary64 bits); base[T] (binary64 bits) " +
        "when hasBase. X [N, F] float, double, int32 or int64, Y [N, T] float: as TreeEnsemble, each leaf's " +
        "votes in order, then base[t] added.",
    },
  },
} as const satisfies Record<Family, Record<string, OpSchema>>;

/** A family's op codes by name, typed with the exact numbers. */
export type OpCodes<F extends Family> = {
  readonly [K in keyof (typeof OP_SCHEMA)[F]]: (typeof OP_SCHEMA)[F][K] extends { code: infer C } ? C : never;
};

/** The op codes of one family, `{ Add: 1, ... }`. */
export function opCodes<F extends Family>(family: F): OpCodes<F> {
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(OP_SCHEMA[family] as Record<string, OpSchema>)) out[name] = s.code;
  return Object.freeze(out) as unknown as OpCodes<F>;
}

/** The C identifier of a kernel's op code: `LeakyRelu` -> `OP_LEAKY_RELU`, `IsNaN` -> `OP_IS_NAN`, `QLinearMatMul` -> `OP_QLINEAR_MATMUL`. */
export function cOpName(name: string): string {
  const words = name.replace(/^QLinear/, "Qlinear").replace("NaN", "Nan").replaceAll("MatMul", "Matmul");
  return "OP_" + words.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}
