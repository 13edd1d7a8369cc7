/**
 * The index, loss and integer-folding work beyond the conformance cases: compile-time folding of
 * integer math, of the exactly defined float math (Floor, Reciprocal, Max, ...), reductions and
 * Range gives exactly the kernels' bits (the same graph compiled with folding
 * off runs the kernels); an index out of range at run time fails the node in one line; bad
 * nodes are one LoweringError line naming node, operator and opset (exit code 2), BitCast's too.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { EXIT } from "../../core/errors.ts";
import { makeModel, type NodeSpec } from "./_make_model.ts";

const f32 = (shape: number[], data: number[]): TensorValue => ({
  dtype: DType.float32,
  shape,
  data: new Float32Array(data),
});

/** Runs a model natively with the given graph inputs bound as constants, folding on or off. */
async function run(model: Uint8Array, consts: Record<string, TensorValue>, foldLimit?: number) {
  const prog = assemble(compileGraph(decodeModel(model, "m.onnx"), { consts, foldLimit }));
  const rt = await buildRuntime();
  return { prog, outputs: (await runNative(rt.native, prog, [])).outputs };
}

Deno.test("folding: integer Mod, comparisons, logic, Neg/Abs/Sign, Max/Min, reductions and Range equal the kernels' bits", async () => {
  const a = [7, -7, 7, -7, 0, 5, -2147483648, 3, -1, 9];
  const b = [3, 3, -3, -3, 4, 0, -1, -3, 2, -4];
  const cast = (x: string, to: number, y: string): NodeSpec => ({
    op: "Cast",
    inputs: [x],
    outputs: [y],
    attrs: { to },
  });
  const nodes: NodeSpec[] = [
    cast("a", 6, "ai"), // int32
    cast("b", 6, "bi"),
    cast("a", 7, "al"), // int64
    cast("b", 7, "bl"),
    { op: "Mod", inputs: ["ai", "bi"], outputs: ["m0"] },
    { op: "Mod", inputs: ["al", "bl"], outputs: ["m1"], attrs: { fmod: 1 } },
    { op: "Less", inputs: ["ai", "bi"], outputs: ["lt"] },
    { op: "GreaterOrEqual", inputs: ["al", "bl"], outputs: ["ge"] },
    { op: "Xor", inputs: ["lt", "ge"], outputs: ["x"] },
    { op: "Not", inputs: ["x"], outputs: ["nx"] },
    { op: "Neg", inputs: ["ai"], outputs: ["ng"] },
    { op: "Abs", inputs: ["al"], outputs: ["ab"] },
    { op: "Sign", inputs: ["bi"], outputs: ["sg"] },
    { op: "Max", inputs: ["ai", "bi", "ng"], outputs: ["mx"] },
    { op: "Min", inputs: ["al", "bl"], outputs: ["mn"] },
    { op: "Range", inputs: ["rs", "rl", "rd"], outputs: ["rg"] },
    { op: "ReduceProd", inputs: ["al"], outputs: ["rp"], attrs: { keepdims: 0 } },
    { op: "ReduceSum", inputs: ["ai"], outputs: ["rsum"], attrs: { keepdims: 0 } },
    { op: "ReduceMax", inputs: ["bl"], outputs: ["rmax"], attrs: { keepdims: 0 } },
    ...["m0", "m1", "nx", "ng", "ab", "sg", "mx", "mn", "rg", "rp", "rsum", "rmax"].map((o) =>
      cast(o, 1, `${o}f`)
    ),
  ];
  const outs = ["m0f", "m1f", "nxf", "ngf", "abf", "sgf", "mxf", "mnf", "rgf", "rpf", "rsumf", "rmaxf"];
  const model = makeModel({
    nodes,
    inputs: { a: [10], b: [10], rs: [], rl: [], rd: [] },
    outputs: Object.fromEntries(outs.map((o) => [o, o === "rgf" ? [4] : o.startsWith("r") ? [] : [10]])),
    opset: 17,
  });
  const i64 = (v: number): TensorValue => ({
    dtype: DType.int64,
    shape: [],
    data: BigInt64Array.of(BigInt(v)),
  });
  const consts = { a: f32([10], a), b: f32([10], b), rs: i64(10), rl: i64(-2), rd: i64(-3) };
  const folded = await run(model, consts);
  const kernels = await run(model, consts, 0);
  assertEquals(folded.prog.program.nodes.length, 0, "everything folds");
  assert(kernels.prog.program.nodes.length > 20, "nothing folds with foldLimit 0");
  outs.forEach((o, i) => {
    assertEquals(
      new Uint8Array(folded.outputs[i].data.buffer),
      new Uint8Array(kernels.outputs[i].data.buffer),
      `${o}: folded and kernel bits differ`,
    );
  });
  // an independent check of a few values: floored and truncated Mod, Range
  assertEquals(Array.from(folded.outputs[0].data as Float32Array), [1, 2, -2, -1, 0, 0, 0, 0, 1, -3]);
  assertEquals(Array.from(folded.outputs[1].data as Float32Array), [1, -1, 1, -1, 0, 0, 0, 0, -1, 1]);
  assertEquals(Array.from(folded.outputs[8].data as Float32Array), [10, 7, 4, 1]);
  // the int64 product has a zero factor; the int32 sum is 16 - 2^31 (then cast to float32)
  assertEquals(Array.from(folded.outputs[9].data as Float32Array), [0]);
  assertEquals(Array.from(folded.outputs[10].data as Float32Array), [Math.fround(16 - 2 ** 31)]);
  assertEquals(Array.from(folded.outputs[11].data as Float32Array), [4]);
});

Deno.test("folding: float Reciprocal, Floor, Ceil, Round, Neg, Abs, Sign, Max/Min, comparisons and ReduceMax/Min equal the kernels' bits", async () => {
  // signed zeros, ties, subnormals, infinities, 2^23 + 1, the float below 0.5, 1/x overflowing and underflowing
  const a = [
    -0,
    0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3.7,
    -3.7,
    1e-45,
    3e38,
    -Infinity,
    Infinity,
    8388609,
    0.49999997,
  ];
  const b = [0, -0, -0.5, 0.5, 2.5, 2.5, -3.7, 3.7, -3, 0, -3e38, 1, Infinity, 8388608, 0.5];
  const unary = ["Reciprocal", "Floor", "Ceil", "Round", "Neg", "Abs", "Sign"];
  const binary = ["Max", "Min", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"];
  const nodes: NodeSpec[] = [
    ...unary.map((op) => ({ op, inputs: ["a"], outputs: [op] })),
    ...binary.map((op) => ({ op, inputs: ["a", "b"], outputs: [op] })),
    ...binary.slice(2).map((op) => ({ op: "Cast", inputs: [op], outputs: [`${op}f`], attrs: { to: 1 } })),
    { op: "Max", inputs: ["a", "b", "a"], outputs: ["Max3"] },
    // float64 Min and Less, through Casts
    { op: "Cast", inputs: ["a"], outputs: ["ad"], attrs: { to: 11 } },
    { op: "Cast", inputs: ["b"], outputs: ["bd"], attrs: { to: 11 } },
    { op: "Min", inputs: ["ad", "bd"], outputs: ["MinD"] },
    { op: "Less", inputs: ["ad", "bd"], outputs: ["LessD"] },
    { op: "Cast", inputs: ["MinD"], outputs: ["MinDf"], attrs: { to: 1 } },
    { op: "Cast", inputs: ["LessD"], outputs: ["LessDf"], attrs: { to: 1 } },
    { op: "ReduceMax", inputs: ["a"], outputs: ["rmax"], attrs: { keepdims: 0 } },
    { op: "ReduceMin", inputs: ["b"], outputs: ["rmin"], attrs: { keepdims: 0 } },
  ];
  const outs = [
    ...unary,
    "Max",
    "Min",
    ...binary.slice(2).map((o) => `${o}f`),
    "Max3",
    "MinDf",
    "LessDf",
    "rmax",
    "rmin",
  ];
  const model = makeModel({
    nodes,
    inputs: { a: [a.length], b: [b.length] },
    outputs: Object.fromEntries(outs.map((o) => [o, o.startsWith("r") && o !== "Round" ? [] : [a.length]])),
    opset: 17,
  });
  const consts = { a: f32([a.length], a), b: f32([b.length], b) };
  const folded = await run(model, consts);
  const kernels = await run(model, consts, 0);
  assertEquals(folded.prog.program.nodes.length, 0, "everything folds");
  assertEquals(kernels.prog.program.nodes.length, nodes.length, "nothing folds with foldLimit 0");
  outs.forEach((o, i) => {
    assertEquals(
      new Uint8Array(folded.outputs[i].data.buffer),
      new Uint8Array(kernels.outputs[i].data.buffer),
      `${o}: folded and kernel bits differ`,
    );
  });
  // independent values: round half to even keeps the sign; floor and ceil of the halves; Max's -0/+0
  const at = (o: string) => Array.from(folded.outputs[outs.indexOf(o)].data as Float32Array);
  assertEquals(at("Round").slice(0, 9), [-0, 0, 0, -0, 2, 2, -2, 4, -4]);
  assertEquals(at("Floor").slice(0, 5), [-0, 0, 0, -1, 1]);
  assertEquals(at("Ceil").slice(0, 5), [-0, 0, 1, -0, 2]);
  assertEquals(at("Max").slice(0, 2), [0, -0]); // acc > v ? acc : v: the later zero wins
  assertEquals(at("rmax"), [Infinity]);
  assertEquals(at("rmin"), [-3e38].map(Math.fround));
});

Deno.test("Einsum on float32: a matrix product, an implicit output and a trace against a float64 reference", async () => {
  const A = [1.5, -2, 0.25, 3, 4, -1], B = [2, 0.5, -1, 1, 3, -2, 0.75, 1, -0.5, 2, 1, 4]; // [2,3], [3,4]
  const Q = [1, 2, 3, 4, 5, 6, 7, 8, 9]; // [3,3]
  const model = makeModel({
    nodes: [
      { op: "Einsum", inputs: ["a", "b"], outputs: ["mm"], attrs: { equation: "ij,jk->ik" } },
      { op: "Einsum", inputs: ["a", "b"], outputs: ["imp"], attrs: { equation: "ij , jk" } },
      { op: "Einsum", inputs: ["q"], outputs: ["tr"], attrs: { equation: "ii" } },
    ],
    inputs: { a: [2, 3], b: [3, 4], q: [3, 3] },
    outputs: { mm: [2, 4], imp: [2, 4], tr: [] },
    opset: 12,
  });
  const { outputs } = await run(model, { a: f32([2, 3], A), b: f32([3, 4], B), q: f32([3, 3], Q) });
  const want: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (let k = 0; k < 4; k++) {
      want.push(A[3 * i] * B[k] + A[3 * i + 1] * B[4 + k] + A[3 * i + 2] * B[8 + k]);
    }
  }
  for (const o of outputs.slice(0, 2)) {
    assertEquals(o.shape, [2, 4]);
    Array.from(o.data as Float32Array).forEach((v, i) =>
      assert(Math.abs(v - want[i]) <= 1e-6 * Math.abs(want[i]) + 1e-6, `${v} vs ${want[i]}`)
    );
  }
  assertEquals(outputs[2].shape, []);
  assertEquals(Array.from(outputs[2].data as Float32Array), [15]);
});

Deno.test("TfIdfVectorizer: IDF and TFIDF weigh the counts (the conformance cases are all TF)", async () => {
  // tokens 1 2 1 3 against the unigrams 1, 2, 3 and the bigram (2, 1): counts 2, 1, 1, 1
  const attrs = (mode: string) => ({
    mode,
    min_gram_length: 1,
    max_gram_length: 2,
    max_skip_count: 0,
    ngram_counts: [0, 3],
    ngram_indexes: [0, 1, 2, 3],
    pool_int64s: [1, 2, 3, 2, 1],
  });
  const weights = Float32Array.of(0.5, 2, 3, 0.25);
  const model = makeModel({
    nodes: [
      { op: "Cast", inputs: ["t"], outputs: ["ti"], attrs: { to: 7 } },
      { op: "TfIdfVectorizer", inputs: ["ti"], outputs: ["tf"], attrs: attrs("TF") },
      { op: "TfIdfVectorizer", inputs: ["ti"], outputs: ["idf"], attrs: { ...attrs("IDF"), weights } },
      { op: "TfIdfVectorizer", inputs: ["ti"], outputs: ["tfidf"], attrs: { ...attrs("TFIDF"), weights } },
    ],
    inputs: { t: [4] },
    outputs: { tf: [4], idf: [4], tfidf: [4] },
    opset: 9,
  });
  const { outputs } = await run(model, { t: f32([4], [1, 2, 1, 3]) }, 0);
  assertEquals(outputs.map((o) => Array.from(o.data as Float32Array)), [
    [2, 1, 1, 1],
    [0.5, 2, 3, 0.25],
    [1, 2, 3, 0.25],
  ]);
});

Deno.test("GatherElements: an index out of range at run time fails the node in one line", async () => {
  const model = makeModel({
    nodes: [
      { op: "Cast", inputs: ["i"], outputs: ["il"], attrs: { to: 7 } },
      { op: "GatherElements", inputs: ["x", "il"], outputs: ["y"], attrs: { axis: 1 } },
    ],
    inputs: { x: [2, 3], i: [2, 2] },
    outputs: { y: [2, 2] },
    opset: 13,
  });
  const prog = assemble(compileGraph(decodeModel(model, "g.onnx"), {}));
  const rt = await buildRuntime();
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const ok = await runNative(rt.native, prog, [x, f32([2, 2], [2, -3, 0, 1])]);
  assertEquals(Array.from(ok.outputs[0].data as Float32Array), [3, 1, 4, 5]);
  let msg = "";
  try {
    await runNative(rt.native, prog, [x, f32([2, 2], [0, 3, 0, 0])]);
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, "opml-runtime: node 'n1' (GatherElements): invalid value (e.g. an index out of range)");
});

function rejection(node: NodeSpec, inputs: Record<string, number[]>, opset: number): LoweringError {
  const model = makeModel({ nodes: [node], inputs, outputs: { [node.outputs[0]]: [1] }, opset });
  try {
    compileGraph(decodeModel(model, "bad.onnx"), {});
  } catch (e) {
    assert(e instanceof LoweringError, `expected a LoweringError, got ${e}`);
    return e;
  }
  throw new Error("the model compiled");
}

const cases: [string, () => LoweringError, string][] = [
  [
    "Dropout in training mode with a ratio above 0",
    () =>
      rejection({ op: "Dropout", inputs: ["x"], outputs: ["y"], attrs: { is_test: 0, ratio: 0.5 } }, {
        x: [4],
      }, 6),
    "node 'n0' (Dropout, opset 6): training mode with ratio 0.5 drops elements at random: opml rejects random operators",
  ],
  [
    "TopK with k above the axis size",
    () => rejection({ op: "TopK", inputs: ["x"], outputs: ["v", "i"], attrs: { k: 5 } }, { x: [2, 3] }, 9),
    "node 'n0' (TopK, opset 9): k 5 is out of range for axis 1 of size 3",
  ],
  [
    "GatherElements with float indices",
    () => rejection({ op: "GatherElements", inputs: ["x", "x"], outputs: ["y"] }, { x: [2, 3] }, 13),
    "node 'n0' (GatherElements, opset 13): indices must be int32 or int64, got float",
  ],
  [
    "Range with bounds known only at run time",
    () => rejection({ op: "Range", inputs: ["s", "l", "d"], outputs: ["y"] }, { s: [], l: [], d: [] }, 11),
    "node 'n0' (Range, opset 11): input 'start' must be known at compile time",
  ],
  [
    "NegativeLogLikelihoodLoss with a float target",
    () =>
      rejection({ op: "NegativeLogLikelihoodLoss", inputs: ["x", "t"], outputs: ["y"] }, {
        x: [3, 5],
        t: [3],
      }, 13),
    "node 'n0' (NegativeLogLikelihoodLoss, opset 13): target must be int32 or int64, got float",
  ],
  [
    "TensorScatter along the batch axis",
    () =>
      rejection({ op: "TensorScatter", inputs: ["p", "u"], outputs: ["y"], attrs: { axis: 0 } }, {
        p: [2, 4, 5],
        u: [1, 4, 5],
      }, 24),
    "node 'n0' (TensorScatter, opset 24): axis cannot be the batch axis 0",
  ],
  [
    "BitCast between widths that differ",
    () => rejection({ op: "BitCast", inputs: ["x"], outputs: ["y"], attrs: { to: 7 } }, { x: [4] }, 26),
    "node 'n0' (BitCast, opset 26): BitCast from float to int64: the widths differ",
  ],
  [
    "BitCast to bool (not every byte is a bool)",
    () => rejection({ op: "BitCast", inputs: ["x"], outputs: ["y"], attrs: { to: 9 } }, { x: [4] }, 26),
    "node 'n0' (BitCast, opset 26): BitCast to bool is not supported",
  ],
  [
    "Einsum whose term does not match its input",
    () =>
      rejection(
        { op: "Einsum", inputs: ["x"], outputs: ["y"], attrs: { equation: "ijk->i" } },
        { x: [2, 3] },
        12,
      ),
    "node 'n0' (Einsum, opset 12): term 'ijk' does not match an input of rank 2",
  ],
  [
    "Einsum with a label of two sizes",
    () =>
      rejection(
        { op: "Einsum", inputs: ["x"], outputs: ["y"], attrs: { equation: "ii->i" } },
        { x: [2, 3] },
        12,
      ),
    "node 'n0' (Einsum, opset 12): label 'i' has sizes 2 and 3",
  ],
  [
    "ArrayFeatureExtractor on a 1-D X",
    () =>
      rejection(
        { op: "ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: ["x", "y"], outputs: ["z"] },
        { x: [4], y: [2] },
        12,
      ),
    "node 'n0' (ai.onnx.ml::ArrayFeatureExtractor, opset 12): X of rank 1 is not supported (rank >= 2)",
  ],
  [
    "Bernoulli (random by definition)",
    () => rejection({ op: "Bernoulli", inputs: ["x"], outputs: ["y"] }, { x: [4] }, 15),
    "unsupported operator Bernoulli (node 'n0', opset 15): its output is random by definition; opml runs deterministic inference only",
  ],
];

for (const [what, fn, message] of cases) {
  Deno.test(`lowering errors: ${what}`, () => {
    const e = fn();
    assertEquals(e.message, message);
    assertEquals(e.exitCode, EXIT.usage);
    assert(!e.message.includes("\n"), "one line");
  });
}
