/**
 * ai.onnx.ml's TreeEnsemble beyond its two conformance cases (one tree, SUM): random forests
 * with every node mode, membership sets, missing values and the four aggregate functions, in
 * float and double, against onnxruntime-node; the legacy TreeEnsembleRegressor (no conformance
 * case) likewise, with several votes per leaf and base values; the VM gives the native bytes;
 * malformed trees are one LoweringError line naming node, operator and opset (exit code 2).
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

/** The legacy TreeEnsembleRegressor attributes of 5 random trees of depth 3 (node ids from 0 per tree). */
function legacyForest(seed: number, aggregate: string, asTensor: boolean): NodeSpec["attrs"] {
  const r = random(seed), pick = <V>(xs: V[]) => xs[Math.floor(r() * xs.length)];
  const n: Record<string, number[]> = {
    tree: [],
    node: [],
    feature: [],
    value: [],
    t: [],
    f: [],
    missing: [],
  };
  const modes: string[] = [], v: Record<string, number[]> = { tree: [], node: [], id: [], weight: [] };
  for (let tree = 0; tree < 5; tree++) {
    let next = 0;
    const add = (depth: number): number => {
      const id = next++, i = modes.length;
      n.tree.push(tree), n.node.push(id), n.feature.push(pick([0, 1, 2])), n.value.push(pick(GRID));
      n.missing.push(pick([0, 1])), n.t.push(0), n.f.push(0);
      if (depth === 3) {
        modes.push("LEAF");
        // every target gets a vote (onnxruntime adds no base value to a target no leaf votes for),
        // in a random order, and sometimes a second one
        const targets = [0, 1, 2].sort(() => r() - 0.5);
        if (r() < 0.5) targets.push(pick([0, 1, 2]));
        for (const t of targets) {
          v.tree.push(tree), v.node.push(id), v.id.push(t);
          v.weight.push(Math.fround(r() * 10 - 5));
        }
      } else {
        modes.push(pick(["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]));
        n.t[i] = add(depth + 1);
        n.f[i] = add(depth + 1);
      }
      return id;
    };
    add(1);
  }
  const floats = (name: string, xs: number[]) =>
    asTensor ? { [`${name}_as_tensor`]: tensor(DType.float64, xs) } : { [name]: Float32Array.from(xs) };
  return {
    n_targets: 3,
    aggregate_function: aggregate,
    nodes_treeids: n.tree,
    nodes_nodeids: n.node,
    nodes_featureids: n.feature,
    nodes_modes: modes,
    ...floats("nodes_values", n.value),
    nodes_truenodeids: n.t,
    nodes_falsenodeids: n.f,
    nodes_missing_value_tracks_true: n.missing,
    target_treeids: v.tree,
    target_nodeids: v.node,
    target_ids: v.id,
    ...floats("target_weights", v.weight),
    ...floats("base_values", [0.5, -1.25, 3]),
  };
}

Deno.test("TreeEnsembleRegressor: random forests with several votes per leaf and base values, against onnxruntime; VM = native", async () => {
  const rt = await buildRuntime();
  const image = Deno.readFileSync(rt.mips);
  const dir = await Deno.makeTempDir({ prefix: "opml-ml-" });
  try {
    const cases = [
      [DType.float32, "SUM", false],
      [DType.float32, "AVERAGE", false], // onnxruntime takes *_as_tensor (double) with a double X only
      [DType.float64, "MIN", true],
      [DType.float64, "MAX", false],
    ] as const;
    for (const [k, [dtype, aggregate, asTensor]] of cases.entries()) {
      const attrs = legacyForest(11 + k, aggregate, asTensor);
      const bytes = makeModel({
        nodes: [{ op: "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], attrs }],
        inputs: { x: [24, F] },
        outputs: { y: [24, 3] },
        types: { x: dtype },
        imports: { "ai.onnx.ml": 3 },
      });
      const x = rows(24, dtype);
      const prog = assemble(compileGraph(decodeModel(bytes, "reg.onnx")));
      const { outputs } = await runNative(rt.native, prog, [x]);
      await Deno.writeFile(`${dir}/reg.onnx`, bytes);
      const ref = (await runOrt(`${dir}/reg.onnx`, { x })).outputs.y;
      const label = `${dtype} ${aggregate}${asTensor ? " as tensors" : ""}`;
      const err = compareOutput(outputs[0], ref, label, 1e-5, 1e-5);
      assert(err === undefined, err);
      const vm = runVm(image, prog, [x]);
      assertEquals(new Uint8Array(vm.outputs[0].data.buffer), new Uint8Array(outputs[0].data.buffer), label);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TreeEnsembleRegressor: an int32 X gives the bytes of the same values as float (onnxruntime 1.30 has no int kernel)", async () => {
  const rt = await buildRuntime();
  const grid = rows(24, DType.float64);
  const ints = Array.from(grid.data as Float64Array, (v) => (Number.isNaN(v) ? 7 : Math.round(v)));
  const outs = [];
  for (
    const [dtype, data] of [[DType.int32, Int32Array.from(ints)], [
      DType.float32,
      Float32Array.from(ints),
    ]] as const
  ) {
    const bytes = makeModel({
      nodes: [{
        op: "TreeEnsembleRegressor",
        domain: "ai.onnx.ml",
        inputs: ["x"],
        outputs: ["y"],
        attrs: legacyForest(5, "SUM", false),
      }],
      inputs: { x: [24, F] },
      outputs: { y: [24, 3] },
      types: { x: dtype },
      imports: { "ai.onnx.ml": 3 },
    });
    const prog = assemble(compileGraph(decodeModel(bytes, "reg.onnx")));
    outs.push((await runNative(rt.native, prog, [{ dtype, shape: [24, F], data }])).outputs[0]);
  }
  assertEquals(new Uint8Array(outs[0].data.buffer), new Uint8Array(outs[1].data.buffer));
  assert(Array.from(outs[0].data as Float32Array).some((v) => v !== 0), "all zero");
});

Deno.test("TreeEnsembleRegressor: base values are added to every target, as the ONNX reference (onnxruntime 1.30 leaves a target no leaf votes for at 0)", async () => {
  const attrs: NodeSpec["attrs"] = {
    n_targets: 2,
    nodes_treeids: [0, 0, 0],
    nodes_nodeids: [0, 1, 2],
    nodes_featureids: [0, 0, 0],
    nodes_modes: ["BRANCH_LEQ", "LEAF", "LEAF"],
    nodes_values: Float32Array.of(0.5, 0, 0),
    nodes_truenodeids: [1, 0, 0],
    nodes_falsenodeids: [2, 0, 0],
    target_treeids: [0, 0, 0],
    target_nodeids: [1, 2, 2],
    target_ids: [0, 0, 1],
    target_weights: Float32Array.of(10, 20, 30),
    base_values: Float32Array.of(1, 2),
  };
  const bytes = makeModel({
    nodes: [{ op: "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], attrs }],
    inputs: { x: [2, 1] },
    outputs: { y: [2, 2] },
    imports: { "ai.onnx.ml": 3 },
  });
  const prog = assemble(compileGraph(decodeModel(bytes, "base.onnx")));
  const x = { dtype: DType.float32, shape: [2, 1], data: Float32Array.of(0, 1) };
  const { outputs } = await runNative((await buildRuntime()).native, prog, [x]);
  // x = 0: the leaf voting 10 for target 0; x = 1: 20 for target 0 and 30 for target 1
  assertEquals(Array.from(outputs[0].data as Float32Array), [11, 2, 21, 32]);
});

Deno.test("TreeEnsembleRegressor: unsupported attributes and votes on interior nodes are one line", () => {
  const reject = (change: Record<string, unknown>) => {
    const attrs = { ...legacyForest(5, "SUM", false), ...change } as NodeSpec["attrs"];
    const bytes = makeModel({
      nodes: [{ op: "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], attrs }],
      inputs: { x: [2, F] },
      outputs: { y: [2, 3] },
      imports: { "ai.onnx.ml": 3 },
    });
    try {
      compileGraph(decodeModel(bytes, "reg.onnx"));
    } catch (e) {
      assert(e instanceof LoweringError, String(e));
      return e.message;
    }
    return "compiled";
  };
  const at = "node 'n0' (ai.onnx.ml::TreeEnsembleRegressor, opset 3): ";
  assertEquals(
    reject({ post_transform: "SOFTMAX" }),
    `${at}post_transform SOFTMAX is not supported (only NONE)`,
  );
  const nodes = (legacyForest(5, "SUM", false)!.target_nodeids as number[]).map((n, i) => (i === 0 ? 0 : n));
  assertEquals(reject({ target_nodeids: nodes }), `${at}target of node 0 of tree 0, which is not a leaf`);
  assertEquals(
    reject({ aggregate_function: "MEDIAN" }),
    `${at}aggregate_function MEDIAN is not AVERAGE, SUM, MIN or MAX`,
  );
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
