/**
 * The ml family (op codes 1000-1019, docs/IR.md; kernels in core/kernels/ml.c): ai.onnx.ml's
 * TreeEnsemble (opset 5), float32 and float64. The trees are checked and flattened at compile
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
    // no cycle: the kernel's walk ends at a leaf (a node on the current path again is a cycle)
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
        const c = kids[n][k];
        if (c >= nNodes || state[c] === 2) continue;
        if (state[c] === 1) ctx.fail(`the trees have a cycle through node ${c}`);
        state[c] = 1;
        stack.push([c, 0]);
      }
    };
    roots.forEach((r) => r < nNodes && state[r] === 0 && walk(r));
    const ints: (number | bigint)[] = [
      N,
      F,
      T,
      aggregate,
      roots.length,
      nNodes,
      nLeaves,
      members.length,
      ...roots,
    ];
    for (let i = 0; i < nNodes; i++) {
      ints.push(features[i], modes[i], ...kids[i], missing[i] ? 1 : 0, doubleBits(splits[i]), ...sets[i]);
    }
    targets.forEach((t, i) => ints.push(t, doubleBits(weights[i])));
    members.forEach((v) => ints.push(doubleBits(v)));
    return { op: ML_OPS.TreeEnsemble, ints, outputs: [{ dtype: x.dtype, shape: [N, T] }] };
  },
};

/** Every ml operator. */
export const OPS: readonly OpDef[] = [treeEnsemble];
