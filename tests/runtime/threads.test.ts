/**
 * Deterministic threads (core/runtime/parallel.c): the native runtime gives the same output
 * bytes and the same phase-1 states with 1, 2 and 3 threads (`--threads`), on the real models
 * and on single products large enough to be split (float MatMul and Conv by column panels and
 * row chunks, QLinearConv by row blocks and depthwise channels). Each output is computed by one
 * thread in its one fixed order, so any split must give the 1-thread bytes.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, type AssembledProgram, buildRuntime, compileGraph } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import { bytesOf, decodeModel } from "../../core/onnx/load.ts";
import { encodeQModel, type QInput, randomInts, Rng, tensor } from "../kernels/quant_model.ts";
import { SHARED_MODELS } from "../../tasks/_data.ts";

const rng = new Rng(20261206);
const runtime = buildRuntime();
const f32 = (shape: number[]): TensorValue =>
  tensor(
    DType.float32,
    shape,
    Array.from({ length: shapeSize(shape) }, () => Math.fround(rng.next() * 2 - 1)),
  );
const inp = (name: string, value: TensorValue, constant = false): QInput => ({ name, value, constant });

async function sameForThreads(label: string, prog: AssembledProgram, feeds: TensorValue[], states = false) {
  const rt = await runtime;
  let first: { out: Uint8Array[]; states?: Uint8Array[] } | undefined;
  // repeat 3: the third inference of a process, where constant B matrices are packed (nn.c)
  for (const [threads, repeat] of [[1, undefined], [2, undefined], [3, undefined], [2, 3], [3, 3]]) {
    const r = await runNative(rt.native, prog, feeds, { threads, states, repeat });
    const got = { out: r.outputs.map((o) => bytesOf(o).slice()), states: r.states };
    assert(got.out.some((o) => o.length > 0), `${label}: no output`);
    if (!first) first = got;
    else assertEquals(got, first, `${label}: ${threads} threads, run ${repeat ?? 1}, differ`);
  }
}

Deno.test("threads: real models give the same bytes and states with 1, 2 and 3 threads", async () => {
  const models: [string, Record<string, number[]>, TensorValue][] = [
    ["mnist-cnn/mnist-12.onnx", {}, f32([1, 1, 28, 28])],
    ["stories260K-llama/stories260K.onnx", { seq: [49] }, {
      dtype: DType.int64,
      shape: [1, 49],
      data: BigInt64Array.from({ length: 49 }, () => BigInt(rng.int(0, 511))),
    }],
    ["shufflenet-v2-int8/shufflenet-v2-12-int8.onnx", {}, f32([1, 3, 224, 224])],
  ];
  for (const [file, shapes, x] of models) {
    const prog = assemble(
      compileGraph(decodeModel(Deno.readFileSync(SHARED_MODELS + file), file), { shapes }),
    );
    await sameForThreads(file, prog, [x], true);
  }
});

Deno.test("threads: split products (MatMul, Gemm, Conv, QLinearConv) give the 1-thread bytes", async () => {
  const q = (m: Parameters<typeof encodeQModel>[0]) => assemble(compileGraph(decodeModel(encodeQModel(m))));
  // few column panels, many rows: split into row chunks; many panels: split by panels
  for (const [M, K, N] of [[203, 467, 13], [9, 300, 517], [64, 300, 64]]) {
    const a = f32([M, K]);
    await sameForThreads(
      `MatMul ${M}x${K}x${N}`,
      q({ opType: "MatMul", opset: 13, inputs: [inp("a", a), inp("b", f32([K, N]), true)] }),
      [a],
    );
  }
  const a = f32([97, 291]);
  await sameForThreads(
    "Gemm transB",
    q({
      opType: "Gemm",
      opset: 13,
      inputs: [inp("a", a), inp("b", f32([45, 291]), true), inp("c", f32([45]), true)],
      attrs: { transB: 1 },
    }),
    [a],
  );
  const x = f32([1, 9, 31, 29]);
  await sameForThreads(
    "Conv 3x3",
    q({
      opType: "Conv",
      opset: 11,
      inputs: [inp("x", x), inp("w", f32([19, 9, 3, 3]), true), inp("b", f32([19]), true)],
      attrs: { pads: [1, 1, 1, 1] },
    }),
    [x],
  );
  for (const [C, M, G] of [[48, 70, 1], [64, 64, 64]]) {
    const xq = randomInts(rng, DType.uint8, [1, C, 61, 57]);
    await sameForThreads(
      `QLinearConv C=${C} M=${M} group=${G}`,
      q({
        opType: "QLinearConv",
        opset: 10,
        inputs: [
          inp("x", xq),
          inp("xs", tensor(DType.float32, [], [0.02]), true),
          inp("xz", tensor(DType.uint8, [], [7]), true),
          inp("w", randomInts(rng, DType.int8, [M, C / G, 3, 3]), true),
          inp("ws", tensor(DType.float32, [], [0.004]), true),
          inp("wz", tensor(DType.int8, [], [0]), true),
          inp("ys", tensor(DType.float32, [], [0.05]), true),
          inp("yz", tensor(DType.uint8, [], [9]), true),
        ],
        attrs: { group: G, kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      }),
      [xq],
    ); // deno-fmt-ignore
  }
});
