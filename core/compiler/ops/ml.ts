/**
 * The ml family (op codes 1000-1019, docs/IR.md; kernels in core/kernels/ml.c): ai.onnx.ml's
 * TreeEnsemble (opset 5), float32 and float64, and the legacy TreeEnsembleRegressor. The trees are checked and flattened at compile
 * time (every index in range, no cycle, one membership set per SET_MEMBER node), so the kernel
 * only walks them. Layout in schema.ts.
 * @module
 */
import { DType, type TensorValue } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, FLOAT_DOUBLE, input, typeName } from "./elementwise.ts";

/** Op codes of the ml kernels, from the operator schema (schema.ts documents each attribute layout). */
export const ML_OPS: OpCodes<"ml"> = opCodes("ml");

/** TreeEnsemble's node modes: BRANCH_LEQ, LT, GTE, GT, EQ, NEQ, SET_MEMBER. */
const MODES = ["LEQ", "LT", "GTE", "GT", "EQ", "NEQ", "SET_MEMBER"];
const SET_MEMBER = 6;
/** aggregate_function: AVERAGE, SUM, MIN, MAX. */
const AGGREGATES = ["AVERAGE", "SUM", "MIN", "MAX"];
/** post_transform: NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT. */
const POST_TRANSFORMS = ["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"];

/** The binary64 bits of a number, as the kernel reads a split or weight from ints. */
function doubleBits(v: number): bigint {
  return new BigInt64Array(Float64Array.of(v).buffer)[0];
}

/** A tensor attribute's values as numbers; its dtype must be X's (the spec's type constraint). */
function floatsOf(ctx: NodeContext, name: string, dtype: number, required: boolean): number[] | undefined {
  if (!ctx.attrs.has(name)) return required ? ctx.fail(`attribute '${name}' is required`) : undefined;
  const t: TensorValue = ctx.attrs.tensor(name);
  if (t.dtype !== dtype) {
    ctx.fail(
      `attribute '${name}' is ${typeName(t.dtype)}, X is ${typeName(dtype)}: they must be of one type`,
    );
  }
  return Array.from(t.data as Float64Array);
}

/** One interior node of the flattened trees (a child ref from nNodes on is a leaf). */
interface TreeNode {
  feature: number;
  mode: number;
  kids: number[];
  missing: number;
  split: number;
  set: [number, number];
}

/**
 * The roots and interior nodes as the kernels read them (schema.ts), after checking that no walk
 * can loop: a node met again on the current path is a cycle.
 */
function encodeTrees(ctx: NodeContext, roots: number[], nodes: TreeNode[]): (number | bigint)[] {
  const nNodes = nodes.length;
  const state = new Uint8Array(nNodes); // 0 new, 1 on the path, 2 done
  const walk = (root: number) => {
    const stack: [number, number][] = [[root, 0]]; // a node and how many of its children were seen
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1], [n, k] = top;
      if (k === 2) {
        state[n] = 2;
        stack.pop();
        continue;
      }
      top[1]++;
      const c = nodes[n].kids[k];
      if (c >= nNodes || state[c] === 2) continue;
      if (state[c] === 1) ctx.fail(`the trees have a cycle through node ${c}`);
      state[c] = 1;
      stack.push([c, 0]);
    }
  };
  roots.forEach((r) => r < nNodes && state[r] === 0 && walk(r));
  const ints: (number | bigint)[] = [...roots];
  for (const n of nodes) {
    ints.push(n.feature, n.mode, ...n.kids, n.missing ? 1 : 0, doubleBits(n.split), ...n.set);
  }
  return ints;
}

/**
 * TreeEnsemble (ai.onnx.ml opset 5): X [N, F] float32 or float64, Y [N, n_targets] of X's type.
 * The ints hold the flattened trees; a child reference below nNodes is an interior node, from
 * nNodes on a leaf (a degenerate tree is its leaf). Only post_transform NONE (the default) is
 * supported.
 */
const treeEnsemble: OpDef = {
  opType: "TreeEnsemble",
  domain: "ai.onnx.ml",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, FLOAT_DOUBLE, "X");
    if (x.shape.length !== 2) ctx.fail(`X [${x.shape.join(", ")}] is not [N, F]`);
    const [N, F] = x.shape;
    const a = ctx.attrs;
    const post = a.int("post_transform", 0);
    if (post !== 0) {
      ctx.fail(`post_transform ${POST_TRANSFORMS[post] ?? post} is not supported (only NONE)`);
    }
    const aggregate = a.int("aggregate_function", 1);
    if (!AGGREGATES[aggregate]) ctx.fail(`aggregate_function ${aggregate} is not 0 to 3`);
    const T = a.int("n_targets");
    if (T < 1) ctx.fail(`n_targets ${T} must be at least 1`);
    const features = a.ints("nodes_featureids"), splits = floatsOf(ctx, "nodes_splits", x.dtype, true)!;
    const modesT = a.tensor("nodes_modes");
    if (modesT.dtype !== DType.uint8) ctx.fail(`nodes_modes is ${typeName(modesT.dtype)}, not uint8`);
    const modes = Array.from(modesT.data as Uint8Array);
    const trueIds = a.ints("nodes_truenodeids"), falseIds = a.ints("nodes_falsenodeids");
    const trueLeaf = a.ints("nodes_trueleafs"), falseLeaf = a.ints("nodes_falseleafs");
    const missing = a.ints("nodes_missing_value_tracks_true", features.map(() => 0));
    const nNodes = features.length;
    const perNode = {
      nodes_splits: splits,
      nodes_modes: modes,
      nodes_truenodeids: trueIds,
      nodes_falsenodeids: falseIds,
      nodes_trueleafs: trueLeaf,
      nodes_falseleafs: falseLeaf,
      nodes_missing_value_tracks_true: missing,
    };
    for (const [name, v] of Object.entries(perNode)) {
      if (v.length !== nNodes) ctx.fail(`${name} has ${v.length} entries, nodes_featureids ${nNodes}`);
    }
    const targets = a.ints("leaf_targetids"), weights = floatsOf(ctx, "leaf_weights", x.dtype, true)!;
    const nLeaves = targets.length;
    if (weights.length !== nLeaves) {
      ctx.fail(`leaf_weights has ${weights.length} entries, leaf_targetids ${nLeaves}`);
    }
    targets.forEach((t) => (t < 0 || t >= T) && ctx.fail(`leaf target ${t} is not below n_targets ${T}`));
    features.forEach((f) => (f < 0 || f >= F) && ctx.fail(`feature ${f} is not below X's ${F} features`));
    modes.forEach((m) => m >= MODES.length && ctx.fail(`node mode ${m} is not 0 to 6`));
    // the membership sets, NaN-terminated, in the order of the SET_MEMBER nodes
    const members = floatsOf(ctx, "membership_values", x.dtype, false) ?? [];
    const sets: [number, number][] = [];
    let at = 0;
    for (const m of modes) {
      if (m !== SET_MEMBER) {
        sets.push([0, 0]);
        continue;
      }
      const end = members.findIndex((v, i) => i >= at && Number.isNaN(v));
      if (end < 0) ctx.fail("membership_values has fewer NaN-terminated sets than SET_MEMBER nodes");
      sets.push([at, end - at]);
      at = end + 1;
    }
    if (at < members.length) ctx.fail("membership_values has more sets than SET_MEMBER nodes");
    const ref = (id: number, leaf: number) => {
      const n = leaf ? nLeaves : nNodes;
      if (id < 0 || id >= n) ctx.fail(`${leaf ? "leaf" : "node"} index ${id} is not below ${n}`);
      return leaf ? nNodes + id : id;
    };
    const roots = a.ints("tree_roots").map((r) => {
      if (r < 0 || r >= nNodes) ctx.fail(`tree root ${r} is not below ${nNodes}`);
      // a degenerate tree is one leaf: both branches the same leaf
      return trueLeaf[r] && falseLeaf[r] && trueIds[r] === falseIds[r] ? ref(trueIds[r], 1) : r;
    });
    if (roots.length === 0) ctx.fail("tree_roots is empty");
    const kids = features.map((_, i) => [ref(trueIds[i], trueLeaf[i]), ref(falseIds[i], falseLeaf[i])]);
    const nodes = features.map((feature, i) => ({
      feature,
      mode: modes[i],
      kids: kids[i],
      missing: missing[i],
      split: splits[i],
      set: sets[i],
    }));
    const ints = [
      N,
      F,
      T,
      aggregate,
      roots.length,
      nNodes,
      nLeaves,
      members.length,
      ...encodeTrees(ctx, roots, nodes),
    ];
    targets.forEach((t, i) => ints.push(t, doubleBits(weights[i])));
    members.forEach((v) => ints.push(doubleBits(v)));
    return { op: ML_OPS.TreeEnsemble, ints, outputs: [{ dtype: x.dtype, shape: [N, T] }] };
  },
};

/** The legacy string modes of TreeEnsembleRegressor, as TreeEnsemble's numbers. */
const LEGACY_MODES: Record<string, number> = {
  BRANCH_LEQ: 0,
  BRANCH_LT: 1,
  BRANCH_GTE: 2,
  BRANCH_GT: 3,
  BRANCH_EQ: 4,
  BRANCH_NEQ: 5,
};

/** A float list attribute, or its `_as_tensor` form (opset 3, float or double), as numbers. */
function valuesOf(ctx: NodeContext, name: string): number[] | undefined {
  if (ctx.attrs.has(`${name}_as_tensor`)) {
    const t = ctx.attrs.tensor(`${name}_as_tensor`);
    if (t.dtype !== DType.float32 && t.dtype !== DType.float64) {
      ctx.fail(`${name}_as_tensor is ${typeName(t.dtype)}, not float or double`);
    }
    return Array.from(t.data as Float64Array);
  }
  return ctx.attrs.has(name) ? ctx.attrs.floats(name) : undefined;
}

/**
 * TreeEnsembleRegressor (ai.onnx.ml opsets 1 and 3): nodes by (tree id, node id), the root of
 * each tree its node 0, in tree-id order; a leaf's votes (target_*) in attribute order; base
 * values added after the aggregation. X [N, F] (or [F]) float, double, int32 or int64; Y [N,
 * n_targets] float. Only post_transform NONE (the default) is supported.
 */
const treeEnsembleRegressor: OpDef = {
  opType: "TreeEnsembleRegressor",
  domain: "ai.onnx.ml",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, new Set([DType.float32, DType.float64, DType.int32, DType.int64]), "X");
    if (x.shape.length !== 1 && x.shape.length !== 2) ctx.fail(`X [${x.shape.join(", ")}] is not [N, F]`);
    const [N, F] = x.shape.length === 1 ? [1, x.shape[0]] : x.shape;
    const a = ctx.attrs;
    const post = a.string("post_transform", "NONE");
    if (post !== "NONE") ctx.fail(`post_transform ${post} is not supported (only NONE)`);
    const aggregate = AGGREGATES.indexOf(a.string("aggregate_function", "SUM"));
    if (aggregate < 0) {
      ctx.fail(`aggregate_function ${a.string("aggregate_function")} is not AVERAGE, SUM, MIN or MAX`);
    }
    const T = a.int("n_targets");
    if (T < 1) ctx.fail(`n_targets ${T} must be at least 1`);
    const treeIds = a.ints("nodes_treeids"), nodeIds = a.ints("nodes_nodeids");
    const features = a.ints("nodes_featureids"), modes = a.strings("nodes_modes");
    const values = valuesOf(ctx, "nodes_values") ?? ctx.fail("attribute 'nodes_values' is required");
    const trueIds = a.ints("nodes_truenodeids"), falseIds = a.ints("nodes_falsenodeids");
    const missing = a.ints("nodes_missing_value_tracks_true", treeIds.map(() => 0));
    const perNode = {
      nodes_nodeids: nodeIds,
      nodes_featureids: features,
      nodes_modes: modes,
      nodes_values: values,
    };
    for (const [name, v] of Object.entries({ ...perNode, nodes_missing_value_tracks_true: missing })) {
      if (v.length !== treeIds.length) {
        ctx.fail(`${name} has ${v.length} entries, nodes_treeids ${treeIds.length}`);
      }
    }
    // each (tree, node) is an interior node or a leaf, numbered in attribute order
    const key = (t: number, n: number) => `${t}:${n}`;
    const index = new Map<string, number>(), interior: number[] = [], leaves: number[] = [];
    treeIds.forEach((t, i) => {
      if (index.has(key(t, nodeIds[i]))) ctx.fail(`node ${nodeIds[i]} of tree ${t} is defined twice`);
      const mode = modes[i];
      if (mode !== "LEAF" && LEGACY_MODES[mode] === undefined) ctx.fail(`node mode ${mode} is not supported`);
      index.set(key(t, nodeIds[i]), mode === "LEAF" ? -1 - leaves.length : interior.length);
      (mode === "LEAF" ? leaves : interior).push(i);
    });
    const ref = (t: number, n: number) => {
      const k = index.get(key(t, n));
      if (k === undefined) return ctx.fail(`tree ${t} has no node ${n}`);
      return k < 0 ? interior.length - 1 - k : k;
    };
    const roots = [...new Set(treeIds)].sort((p, q) => p - q).map((t) => ref(t, 0));
    if (roots.length === 0) ctx.fail("the ensemble has no tree");
    const nodes = interior.map((i) => {
      if (features[i] < 0 || features[i] >= F) {
        ctx.fail(`feature ${features[i]} is not below X's ${F} features`);
      }
      return {
        feature: features[i],
        mode: LEGACY_MODES[modes[i]],
        kids: [ref(treeIds[i], trueIds[i]), ref(treeIds[i], falseIds[i])],
        missing: missing[i],
        split: values[i],
        set: [0, 0] as [number, number],
      };
    });
    // the votes, grouped by leaf in attribute order
    const vTrees = a.ints("target_treeids"), vNodes = a.ints("target_nodeids"), vIds = a.ints("target_ids");
    const vWeights = valuesOf(ctx, "target_weights") ?? ctx.fail("attribute 'target_weights' is required");
    if ([vNodes, vIds, vWeights].some((v) => v.length !== vTrees.length)) {
      ctx.fail("target_treeids, target_nodeids, target_ids and target_weights differ in length");
    }
    const votes: (number | bigint)[][] = leaves.map(() => []);
    vTrees.forEach((t, i) => {
      const leaf = ref(t, vNodes[i]) - interior.length;
      if (leaf < 0) ctx.fail(`target of node ${vNodes[i]} of tree ${t}, which is not a leaf`);
      if (vIds[i] < 0 || vIds[i] >= T) ctx.fail(`target ${vIds[i]} is not below n_targets ${T}`);
      votes[leaf].push(vIds[i], doubleBits(vWeights[i]));
    });
    const base = valuesOf(ctx, "base_values") ?? [];
    if (base.length !== 0 && base.length !== T) {
      ctx.fail(`base_values has ${base.length} entries, not n_targets ${T}`);
    }
    const leafInts: number[] = [];
    let nVotes = 0;
    for (const v of votes) leafInts.push(nVotes, v.length / 2), nVotes += v.length / 2;
    const hasBase = base.length ? 1 : 0;
    const head = [N, F, T, aggregate, roots.length, nodes.length, leaves.length, 0, nVotes, hasBase];
    const ints = [
      ...head,
      ...encodeTrees(ctx, roots, nodes),
      ...leafInts,
      ...votes.flat(),
      ...base.map(doubleBits),
    ];
    return { op: ML_OPS.TreeEnsembleRegressor, ints, outputs: [{ dtype: DType.float32, shape: [N, T] }] };
  },
};

/** Every ml operator. */
export const OPS: readonly OpDef[] = [treeEnsemble, treeEnsembleRegressor];
