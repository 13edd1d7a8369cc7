/**
 * ai.onnx.ml's TreeEnsemble beyond its two conformance cases (one tree, SUM): random forests
 * with every node mode, membership sets, missing values and the four aggregate functions, in
 * float and double, against onnxruntime-node; the VM gives the native bytes; malformed trees are
 * one LoweringError line naming node, operator and opset (exit code 2).
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { EXIT } from "../../core/errors.ts";
import { makeModel, type NodeSpec } from "./_make_model.ts";
import { compareOutput } from "./_cases.ts";

/** A small deterministic generator (mulberry32), so the forests are the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Values X and the splits are drawn from, so EQ, NEQ and SET_MEMBER nodes take both branches. */
const GRID = [-1, -0.5, 0, 0.5, 1, 2, 2.25];
const F = 3, T = 4; // target 3 is never a leaf's: it stays 0

function tensor(dtype: number, data: number[]): TensorValue {
  return {
    dtype,
    shape: [data.length],
    data: dtype === DType.float64
      ? Float64Array.from(data)
      : dtype === DType.uint8
      ? Uint8Array.from(data)
      : Float32Array.from(data),
  };
}

/** The attributes of a random forest of `trees` complete trees of depth 3, plus one degenerate tree. */
function forest(seed: number, dtype: number, aggregate: number, trees = 4): NodeSpec["attrs"] {
  const r = random(seed), pick = <V>(xs: V[]) => xs[Math.floor(r() * xs.length)];
  const f: number[] = [], modes: number[] = [], splits: number[] = [], missing: number[] = [];
  const tIds: number[] = [], fIds: number[] = [], tLeaf: number[] = [], fLeaf: number[] = [];
  const targets: number[] = [], weights: number[] = [], members: number[] = [], roots: number[] = [];
  const leaf =
    () => (targets.push(pick([0, 1, 2])), weights.push(Math.fround(r() * 10 - 5)), targets.length - 1);
  const node = (depth: number): number => {
    const i = f.length;
    f.push(pick([0, 1, 2]));
    modes.push(pick([0, 1, 2, 3, 4, 5, 6]));
    splits.push(pick(GRID));
    missing.push(pick([0, 1]));
    tIds.push(0), fIds.push(0), tLeaf.push(0), fLeaf.push(0);
    if (modes[i] === 6) members.push(pick([0, 1, 2]), pick([0, 1, 2]), NaN); // onnxruntime: integer sets (see below)
    for (const [ids, leafs] of [[tIds, tLeaf], [fIds, fLeaf]]) {
      const isLeaf = depth === 3;
      ids[i] = isLeaf ? leaf() : node(depth + 1);
      leafs[i] = isLeaf ? 1 : 0;
    }
    return i;
  };
  for (let t = 0; t < trees; t++) roots.push(node(1));
  // a degenerate tree: its root's two branches are one leaf
  const d = f.length, only = leaf();
  f.push(0), modes.push(0), splits.push(0), missing.push(0), tIds.push(only), fIds.push(only);
  tLeaf.push(1), fLeaf.push(1), roots.push(d);
  return {
    n_targets: T,
    aggregate_function: aggregate,
    nodes_featureids: f,
    nodes_modes: tensor(DType.uint8, modes),
    nodes_splits: tensor(dtype, splits),
    nodes_missing_value_tracks_true: missing,
    nodes_truenodeids: tIds,
    nodes_falsenodeids: fIds,
    nodes_trueleafs: tLeaf,
    nodes_falseleafs: fLeaf,
    leaf_targetids: targets,
    leaf_weights: tensor(dtype, weights),
    ...(members.length ? { membership_values: tensor(dtype, members) } : {}),
    tree_roots: roots,
  };
}

function model(dtype: number, attrs: NodeSpec["attrs"], rows: number, features = F, targets = T): Uint8Array {
  return makeModel({
    nodes: [{ op: "TreeEnsemble", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], attrs }],
    inputs: { x: [rows, features] },
    outputs: { y: [rows, targets] },
    types: { x: dtype, y: dtype },
    imports: { "ai.onnx.ml": 5 },
    irVersion: 10,
  });
}

/** Rows over the grid, a NaN in every fifth. */
function rows(n: number, dtype: number): TensorValue {
  const r = random(99);
  const data = Array.from(
    { length: n * F },
    (_, i) => (i % 5 === 3 ? NaN : GRID[Math.floor(r() * GRID.length)]),
  );
  return { ...tensor(dtype, data), shape: [n, F] };
}

Deno.test("TreeEnsemble: random forests, every mode and aggregate, float and double, against onnxruntime; VM = native", async () => {
  const rt = await buildRuntime();
  const image = Deno.readFileSync(rt.mips);
  const dir = await Deno.makeTempDir({ prefix: "opml-ml-" });
  try {
    for (const dtype of [DType.float32, DType.float64]) {
      for (const aggregate of [0, 1, 2, 3]) {
        const x = rows(24, dtype);
        const bytes = model(dtype, forest(7 + aggregate, dtype, aggregate), 24);
        const prog = assemble(compileGraph(decodeModel(bytes, "tree.onnx")));
        const { outputs } = await runNative(rt.native, prog, [x]);
        const path = `${dir}/tree.onnx`;
        await Deno.writeFile(path, bytes);
        const ref = (await runOrt(path, { x })).outputs.y;
        const label = `dtype ${dtype} aggregate ${aggregate}`;
        const err = compareOutput(outputs[0], ref, label, 1e-6, 1e-6);
        assert(err === undefined, err);
        assert(Array.from(outputs[0].data as Float32Array).some((v) => v !== 0), `${label}: all zero`);
        const vm = runVm(image, prog, [x]);
        assertEquals(
          new Uint8Array(vm.outputs[0].data.buffer),
          new Uint8Array(outputs[0].data.buffer),
          label,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TreeEnsemble: SET_MEMBER is exact membership, as the ONNX reference (onnxruntime 1.30 puts -1.5 in {-1})", async () => {
  const attrs: NodeSpec["attrs"] = {
    n_targets: 2,
    nodes_featureids: [0],
    nodes_modes: tensor(DType.uint8, [6]),
    nodes_splits: tensor(DType.float32, [0]),
    nodes_truenodeids: [0],
    nodes_falsenodeids: [1],
    nodes_trueleafs: [1],
    nodes_falseleafs: [1],
    leaf_targetids: [0, 1],
    leaf_weights: tensor(DType.float32, [1, 10]),
    membership_values: tensor(DType.float32, [-1, 2.5, NaN]),
    tree_roots: [0],
  };
  const x = { dtype: DType.float32, shape: [6, 1], data: Float32Array.of(-1, -1.5, 2.5, 2, -0.5, NaN) };
  const prog = assemble(compileGraph(decodeModel(model(DType.float32, attrs, 6, 1, 2), "member.onnx")));
  const { outputs } = await runNative((await buildRuntime()).native, prog, [x]);
  // in {-1, 2.5}: target 0 gets 1; else target 1 gets 10 (NaN: no missing_value_tracks_true)
  assertEquals(Array.from(outputs[0].data as Float32Array), [1, 0, 0, 10, 1, 0, 0, 10, 0, 10, 0, 10]);
});

Deno.test("TreeEnsemble: malformed trees and unsupported attributes are one line naming node, operator and opset", () => {
  const reject = (change: Record<string, unknown>) => {
    const attrs = { ...forest(3, DType.float32, 1, 1), ...change } as NodeSpec["attrs"];
    try {
      compileGraph(decodeModel(model(DType.float32, attrs, 2), "tree.onnx"));
    } catch (e) {
      assert(e instanceof LoweringError, String(e));
      assertEquals(e.exitCode, EXIT.usage);
      return e.message;
    }
    return "compiled";
  };
  const at = "node 'n0' (ai.onnx.ml::TreeEnsemble, opset 5): ";
  const base = forest(3, DType.float32, 1, 1)!;
  const edit = (name: string, i: number, v: number) =>
    (base[name] as number[]).map((x, k) => (k === i ? v : x));
  assertEquals(reject({ post_transform: 2 }), `${at}post_transform LOGISTIC is not supported (only NONE)`);
  assertEquals(
    reject({
      nodes_truenodeids: edit("nodes_truenodeids", 1, 0),
      nodes_trueleafs: edit("nodes_trueleafs", 1, 0),
    }),
    `${at}the trees have a cycle through node 0`,
  );
  assertEquals(
    reject({ nodes_featureids: edit("nodes_featureids", 2, 5) }),
    `${at}feature 5 is not below X's 3 features`,
  );
  assertEquals(
    reject({ leaf_targetids: edit("leaf_targetids", 0, 9) }),
    `${at}leaf target 9 is not below n_targets 4`,
  );
  assertEquals(
    reject({ nodes_truenodeids: edit("nodes_truenodeids", 0, 99) }),
    `${at}node index 99 is not below 8`,
  );
  const modes = (base.nodes_modes as TensorValue).data.length;
  assertEquals(
    reject({
      nodes_modes: tensor(DType.uint8, Array(modes).fill(6)),
      membership_values: tensor(DType.float32, [1, NaN]),
    }),
    `${at}membership_values has fewer NaN-terminated sets than SET_MEMBER nodes`,
  );
  assertEquals(
    reject({
      leaf_weights: {
        ...(base.leaf_weights as TensorValue),
        dtype: DType.float64,
        data: Float64Array.from((base.leaf_weights as TensorValue).data as Float32Array),
      },
    }),
    `${at}attribute 'leaf_weights' is double, X is float: they must be of one type`,
  );
});
