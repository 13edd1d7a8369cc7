/**
 * Control flow (If, Loop, Scan) as copies of the bodies (docs/IR.md, "Control flow"): an If
 * known at compile time inlines its taken branch, a run-time one both branches and a Where per
 * output; a Loop or Scan is unrolled, each iteration a fresh copy of the body, a loop that stops
 * on data up to its known trip count with the stopped iterations masked by Where. The program
 * stays a straight list of kernel calls, so the node executions phase 1 bisects are the
 * program's nodes: a body node run 7 times is 7 transitions (docs/MULTIPHASE.md). What this
 * cannot express (a loop without a known bound, data-dependent shapes) is rejected in one line.
 * @module
 */
import type { AttributeValue, OnnxGraph, OnnxNode } from "../onnx/load.ts";
import { allocArray, DType, type TensorValue } from "../ir/types.ts";
import type { NodeContext, ValueInfo } from "./ops/mod.ts";
import { topoSort } from "./_topo.ts";

/** The control-flow operators of the default domain. */
export const CONTROL_FLOW: ReadonlySet<string> = new Set(["If", "Loop", "Scan"]);

/**
 * Largest number of nodes the unrolled bodies of one model may add (each is a program node and
 * a phase-1 transition).
 */
export const UNROLL_LIMIT = 100_000;

/** What control flow needs of the compiler (core/compiler/compile.ts). */
export interface FlowHost {
  /** The default domain's opset. */
  opset: number;
  /** Every name's type and, when known at compile time, value. */
  values: Map<string, ValueInfo>;
  /** Lowers one node whose names are final (it may itself be control flow). */
  lower(node: OnnxNode): void;
  /** Makes `name` another name of `to`. */
  alias(name: string, to: string): void;
  /** The tensor a name stands for (through aliases). */
  resolve(name: string): string;
  /** True for a compile-time sequence (sequences.ts): it never crosses a body's boundary. */
  isSequence?(name: string): boolean;
  /** Counters of this compile: inlined copies (fresh names) and unrolled nodes. */
  count: { copies: number; nodes: number };
}

/**
 * Lowers an If, Loop or Scan node (names already final) by inlining its bodies through `host`.
 *
 * @example
 * ```ts
 * if (CONTROL_FLOW.has(node.opType)) lowerControlFlow(host, node, ctx);
 * ```
 */
export function lowerControlFlow(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  if (node.opType === "If") lowerIf(host, node, ctx);
  else if (node.opType === "Loop") lowerLoop(host, node, ctx);
  else lowerScan(host, node, ctx);
}

function graphAttr(node: OnnxNode, ctx: NodeContext, name: string): OnnxGraph {
  const a: AttributeValue | undefined = node.attributes.get(name);
  if (!a) return ctx.fail(`attribute '${name}' is required`);
  if (a.kind !== "graph") return ctx.fail(`attribute '${name}' should be a graph, not ${a.kind}`);
  return a.value;
}

/** A scalar input's value, required at compile time. */
function knownScalar(ctx: NodeContext, i: number, what: string): number | undefined {
  if (!ctx.inputNames[i]) return undefined;
  const v = ctx.inputs[i]!;
  if (!v.value) {
    return ctx.fail(
      `${what} (input '${
        ctx.inputNames[i]
      }') must be known at compile time (a constant, or computed from shapes): run-time control flow is not supported yet`,
    );
  }
  if (v.value.data.length !== 1) ctx.fail(`${what} (input '${ctx.inputNames[i]}') must have one element`);
  return Number(v.value.data[0]);
}

/** Defines `name` as a constant. */
export function constant(host: FlowHost, name: string, value: TensorValue): void {
  host.values.set(name, { dtype: value.dtype, shape: value.shape, value });
}

const int64Scalar = (v: number): TensorValue => ({
  dtype: DType.int64,
  shape: [],
  data: BigInt64Array.of(BigInt(v)),
});

/**
 * Inlines one copy of a body: its inputs stand for `bind` (a tensor name, or a constant), its
 * own names get a fresh prefix, names it does not define are the enclosing graphs' (already
 * final). Gives the final names of its outputs.
 */
function inline(
  host: FlowHost,
  ctx: NodeContext,
  graph: OnnxGraph,
  label: string,
  bind: (string | TensorValue)[],
): string[] {
  if (bind.length !== graph.inputs.length) {
    ctx.fail(`the body has ${graph.inputs.length} inputs, ${bind.length} expected`);
  }
  if (graph.nodes.length + host.count.nodes > UNROLL_LIMIT) {
    ctx.fail(`unrolling needs more than ${UNROLL_LIMIT} nodes (docs/IR.md, "Control flow")`);
  }
  host.count.nodes += graph.nodes.length;
  const prefix = `${label}#${host.count.copies++}/`;
  const defined = new Set<string>([
    ...graph.inputs.map((i) => i.name),
    ...graph.initializers.keys(),
    ...graph.nodes.flatMap((n) => n.outputs),
  ]);
  defined.delete("");
  const rename = (n: string): string => (n && defined.has(n) ? prefix + n : n);
  graph.inputs.forEach((inp, i) => {
    const b = bind[i];
    if (typeof b === "string") host.alias(rename(inp.name), b);
    else constant(host, rename(inp.name), b);
  });
  for (const [name, value] of graph.initializers) constant(host, rename(name), value);
  for (const n of topoSort(graph.nodes, [], true)) {
    host.lower({
      ...n,
      name: prefix + n.name,
      inputs: n.inputs.map(rename),
      outputs: n.outputs.map(rename),
      attributes: renameFreeNames(n.attributes, rename),
    });
  }
  return graph.outputs.map((o) => {
    const name = host.resolve(rename(o.name));
    if (host.isSequence?.(name)) {
      ctx.fail(`the body's output '${o.name}' is a sequence: sequences do not cross a body's boundary`);
    }
    if (!host.values.has(name)) ctx.fail(`the body's output '${o.name}' is never computed`);
    return name;
  });
}

/** A nested body reads the enclosing body's names: they get the enclosing copy's prefix. */
function renameFreeNames(
  attrs: Map<string, AttributeValue>,
  rename: (n: string) => string,
): Map<string, AttributeValue> {
  let out = attrs;
  for (const [k, a] of attrs) {
    if (a.kind !== "graph") continue;
    if (out === attrs) out = new Map(attrs);
    out.set(k, { kind: "graph", value: renameGraph(a.value, rename) });
  }
  return out;
}

function renameGraph(g: OnnxGraph, rename: (n: string) => string): OnnxGraph {
  const own = new Set<string>([
    ...g.inputs.map((i) => i.name),
    ...g.initializers.keys(),
    ...g.nodes.flatMap((n) => n.outputs),
  ]);
  const outer = (n: string): string => (n && !own.has(n) ? rename(n) : n);
  return {
    ...g,
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: n.inputs.map(outer),
      attributes: renameFreeNames(n.attributes, outer),
    })),
    outputs: g.outputs.map((o) => ({ ...o, name: outer(o.name) })),
  };
}

function setOutputs(host: FlowHost, ctx: NodeContext, node: OnnxNode, names: string[]): void {
  if (node.outputs.length > names.length) {
    ctx.fail(`the node has ${node.outputs.length} outputs, its body gives ${names.length}`);
  }
  node.outputs.forEach((o, i) => o && host.alias(o, names[i]));
}

/**
 * If: with a condition known at compile time the taken branch is inlined; with a run-time one
 * both branches are (their nodes all run) and each output is Where(cond, then, else), which
 * needs the branches' outputs to have equal shapes and types.
 */
function lowerIf(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const c = ctx.inputs[0];
  if (!c || c.dtype !== DType.bool) ctx.fail("the condition must be a bool");
  if (c.value) {
    const cond = knownScalar(ctx, 0, "the condition")!;
    const branch = graphAttr(node, ctx, cond ? "then_branch" : "else_branch");
    setOutputs(host, ctx, node, inline(host, ctx, branch, `${node.name}:${cond ? "then" : "else"}`, []));
    return;
  }
  const cond = scalarBool(host, ctx, `${node.name}:cond`, node.inputs[0]);
  const thenOuts = inline(host, ctx, graphAttr(node, ctx, "then_branch"), `${node.name}:then`, []);
  const elseOuts = inline(host, ctx, graphAttr(node, ctx, "else_branch"), `${node.name}:else`, []);
  if (thenOuts.length !== elseOuts.length) {
    ctx.fail(`the branches have ${thenOuts.length} and ${elseOuts.length} outputs`);
  }
  setOutputs(
    host,
    ctx,
    node,
    thenOuts.map((t, i) => select(host, ctx, `${node.name}:out${i}`, cond, t, elseOuts[i])),
  );
}

/** A one-element bool tensor as a scalar (Reshape to []), or the name itself when it is one. */
function scalarBool(host: FlowHost, ctx: NodeContext, label: string, name: string): string {
  const v = host.values.get(name)!;
  if (v.dtype !== DType.bool || v.shape.reduce((a, b) => a * b, 1) !== 1) {
    ctx.fail(`a condition must be one bool, got '${name}' of shape [${v.shape.join(", ")}]`);
  }
  if (v.shape.length === 0) return name;
  const shape = `${label}:shape`, out = `${label}:scalar`;
  constant(host, shape, { dtype: DType.int64, shape: [0], data: new BigInt64Array(0) });
  return lowerOne(host, `${label}:reshape`, "Reshape", [name, shape], out);
}

/** Where(cond, a, b) for one scalar bool `cond` and `a`, `b` of one shape and type. */
function select(host: FlowHost, ctx: NodeContext, label: string, cond: string, a: string, b: string): string {
  if (a === b) return a;
  const va = host.values.get(a)!, vb = host.values.get(b)!;
  const d = va.runtime ?? vb.runtime;
  if (d && va.dtype === vb.dtype && va.shape.length === vb.shape.length) {
    const chosen = selectRuntime(host, label, cond, a, b, d.axis);
    if (chosen) return chosen;
  }
  if (va.dtype !== vb.dtype || va.shape.join() !== vb.shape.join()) {
    ctx.fail(
      `'${label}': a run-time choice between tensors of different shapes or types ([${
        va.shape.join(", ")
      }] and [${vb.shape.join(", ")}]) is not supported`,
    );
  }
  const out = `${label}:select#${host.count.copies++}`;
  return lowerOne(host, `${label}:where`, "Where", [cond, a, b], out);
}

/**
 * A run-time choice where a side has a run-time length on `axis` (docs/IR.md, "Run-time
 * shapes"): each side is that tensor, an empty one (a zero constant of the other's bound, length
 * 0) or a full one (its dim the length); the bounds must agree. The values are Where(cond, a, b)
 * and the length Where(cond, length of a, length of b). Undefined when the sides do not fit.
 */
function selectRuntime(
  host: FlowHost,
  label: string,
  cond: string,
  a: string,
  b: string,
  axis: number,
): string | undefined {
  const va = host.values.get(a)!, vb = host.values.get(b)!;
  if (va.shape.some((s, i) => i !== axis && s !== vb.shape[i])) return undefined;
  const bound = va.runtime ? va.shape[axis] : vb.shape[axis];
  const side = (name: string, k: string): [string, string] | undefined => {
    const v = host.values.get(name)!;
    if (v.runtime?.axis === axis && v.shape[axis] === bound) return [name, v.runtime.length];
    if (v.runtime || (v.shape[axis] !== 0 && v.shape[axis] !== bound)) return undefined;
    const length = `${label}:length${k}`;
    constant(host, length, int64Scalar(v.shape[axis]));
    if (v.shape[axis] === bound) return [name, length];
    const shape = v.shape.map((s, i) => (i === axis ? bound : s)), empty = `${label}:empty${k}`;
    const data = allocArray(v.dtype, shape.reduce((x, y) => x * y, 1));
    if (!data) return undefined;
    constant(host, empty, { dtype: v.dtype, shape, data });
    return [empty, length];
  };
  const sa = side(a, "a"), sb = side(b, "b");
  if (!sa || !sb) return undefined;
  // the two lengths differ, which elementwise operators refuse: Where sees the bounded tensors
  // without their run-time marks, and the result gets the chosen length
  const out = `${label}:select#${host.count.copies++}`;
  withoutMarks(
    host,
    [sa[0], sb[0]],
    () => lowerOne(host, `${label}:where`, "Where", [cond, sa[0], sb[0]], out),
  );
  const length = lowerOne(host, `${label}:where`, "Where", [cond, sa[1], sb[1]], `${out}:length`);
  host.values.get(out)!.runtime = { axis, length };
  return out;
}

/**
 * Loop: the body is unrolled, one copy per iteration. With the trip count and the condition
 * (the input and each iteration's computed one) known at compile time, exactly the iterations
 * that run are copied. A condition that depends on data needs a trip count M known at compile
 * time: all M iterations are copied and run, and from the first data-dependent condition on,
 * each carried value is Where(still running, the body's new value, the old one) with "still
 * running" the And of the conditions so far, and its carried values must keep their shapes.
 * Scan outputs are the iterations' values stacked on a new first axis; in a loop that stops on
 * data they get a run-time length (docs/IR.md, "Run-time shapes"): the bound M, the length the
 * number of iterations that ran (the rows of the iterations after the stop are computed and
 * never read as values).
 */
function lowerLoop(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const body = graphAttr(node, ctx, "body");
  if (ctx.inputNames[0] && !ctx.inputs[0]!.value) knownScalar(ctx, 0, "the trip count M");
  const tripCount = ctx.inputNames[0] ? Number(ctx.inputs[0]!.value!.data[0]) : Infinity;
  /** Whether the loop still runs: known (true/false) or a scalar bool tensor. */
  let active: boolean | string = true;
  if (ctx.inputNames[1]) {
    const c = ctx.inputs[1]!;
    active = c.value
      ? Number(c.value.data[0]) !== 0
      : scalarBool(host, ctx, `${node.name}:cond`, node.inputs[1]);
  }
  let carried = node.inputs.slice(2);
  if (carried.some((c) => !c)) ctx.fail("an absent loop-carried input is not supported");
  const nScan = body.outputs.length - 1 - carried.length;
  if (nScan < 0) ctx.fail(`the body has ${body.outputs.length} outputs, fewer than 1 + the carried values`);
  const scans: string[][] = Array.from({ length: nScan }, () => []);
  const dataDependent = (why: string): never =>
    ctx.fail(
      `${why}: a loop that stops on data needs a trip count M known at compile time`,
    );
  /** Per iteration: whether it runs (true, or a scalar bool tensor when that depends on data). */
  const ran: (true | string)[] = [];
  for (let i = 0; i < tripCount && active !== false; i++) {
    const running: boolean | string = active;
    if (typeof running === "string") {
      if (tripCount === Infinity) dataDependent(`its condition depends on run-time data`);
    }
    ran.push(running);
    const outs = inline(host, ctx, body, `${node.name}@${i}`, [
      int64Scalar(i),
      running === true ? { dtype: DType.bool, shape: [], data: Uint8Array.of(1) } : running as string,
      ...carried,
    ]);
    const next = outs.slice(1, 1 + carried.length);
    carried = running === true
      ? next
      : next.map((v, j) =>
        select(host, ctx, `${node.name}@${i}:carried${j}`, running as string, v, carried[j])
      );
    outs.slice(1 + carried.length).forEach((s, j) => scans[j].push(s));
    const c = host.values.get(outs[0])!;
    if (c.value) {
      if (Number(c.value.data[0]) === 0) active = false;
    } else {
      if (tripCount === Infinity) {
        ctx.fail(
          `the body's condition output '${
            body.outputs[0].name
          }' depends on run-time data: a loop that stops on data needs a trip count M known at compile time`,
        );
      }
      const cond = scalarBool(host, ctx, `${node.name}@${i}:cond`, outs[0]);
      active = running === true ? cond : and(host, `${node.name}@${i}:running`, running as string, cond);
    }
  }
  if (nScan > 0 && scans[0].length === 0) {
    ctx.fail("a loop with scan outputs that runs 0 times is not supported");
  }
  const stacked = scans.map((parts, j) => stack(host, `${node.name}:scan${j}`, parts, 0));
  if (nScan > 0 && ran.some((r) => r !== true)) {
    const length = iterationCount(host, `${node.name}:iterations`, ran);
    for (const name of stacked) host.values.get(name)!.runtime = { axis: 0, length };
  }
  setOutputs(host, ctx, node, [...carried, ...stacked]);
}

/** The number of iterations that ran, an int64 scalar: the known ones plus Where(ran, 1, 0) of the others. */
function iterationCount(host: FlowHost, label: string, ran: (true | string)[]): string {
  const one = `${label}:one`, zero = `${label}:zero`;
  constant(host, one, int64Scalar(1));
  constant(host, zero, int64Scalar(0));
  let count = `${label}:known`;
  constant(host, count, int64Scalar(ran.filter((r) => r === true).length));
  ran.forEach((r, i) => {
    if (r === true) return;
    const ranOne = lowerOne(host, `${label}:ran${i}`, "Where", [r, one, zero], `${label}:ran${i}`);
    count = lowerOne(host, `${label}:count${i}`, "Add", [count, ranOne], `${label}:count${i}`);
  });
  return count;
}

/** And(a, b) of two scalar bools. */
function and(host: FlowHost, label: string, a: string, b: string): string {
  const out = `${label}#${host.count.copies++}`;
  return lowerOne(host, `${label}:and`, "And", [a, b], out);
}

/**
 * Scan: the sequence length is a static dimension, so the body is unrolled over it; iteration
 * t reads element t (or L-1-t when reversed) of each scan input (a Gather) and the scan outputs
 * are stacked along their axes. Opset 8's batch axis is one more unrolled level.
 */
function lowerScan(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const body = graphAttr(node, ctx, "body");
  const nScanIn = ctx.attrs.int("num_scan_inputs");
  if (ctx.opset < 9) {
    if (ctx.inputNames[0]) {
      const lens = ctx.inputs[0]!;
      if (!lens.value) ctx.fail("sequence_lens must be known at compile time");
    }
    const states = node.inputs.slice(1, node.inputs.length - nScanIn);
    const xs = node.inputs.slice(node.inputs.length - nScanIn);
    const batch = host.values.get(xs[0] ?? states[0])?.shape[0] ?? 0;
    const len = xs.length ? host.values.get(xs[0])!.shape[1] : 0;
    if (ctx.inputNames[0]) {
      const lens = ctx.inputs[0]!.value!.data;
      if (Array.from(lens as ArrayLike<number | bigint>).some((l) => Number(l) !== len)) {
        ctx.fail("sequence_lens shorter than the scan inputs' length is not supported");
      }
    }
    const dirs = ctx.attrs.ints("directions", xs.map(() => 0));
    const perBatch: string[][] = [];
    for (let b = 0; b < batch; b++) {
      const pick = (name: string) => gather(host, `${node.name}:b${b}`, name, b, 0);
      perBatch.push(scanCore(host, ctx, body, `${node.name}:b${b}`, states.map(pick), xs.map(pick), {
        inAxes: xs.map(() => 0),
        inDirs: dirs,
        outAxes: null,
        outDirs: null,
      }));
    }
    const n = perBatch[0]?.length ?? 0;
    if (batch === 0) ctx.fail("a batch of 0 is not supported");
    setOutputs(
      host,
      ctx,
      node,
      Array.from({ length: n }, (_, k) => stack(host, `${node.name}:out${k}`, perBatch.map((o) => o[k]), 0)),
    );
    return;
  }
  const states = node.inputs.slice(0, node.inputs.length - nScanIn);
  const xs = node.inputs.slice(node.inputs.length - nScanIn);
  const rankOf = (name: string) => host.values.get(name)!.shape.length;
  const inAxes = ctx.attrs.ints("scan_input_axes", xs.map(() => 0)).map((
    a,
    j,
  ) => (a < 0 ? a + rankOf(xs[j]) : a));
  setOutputs(
    host,
    ctx,
    node,
    scanCore(host, ctx, body, node.name, states, xs, {
      inAxes,
      inDirs: ctx.attrs.ints("scan_input_directions", xs.map(() => 0)),
      outAxes: ctx.attrs.has("scan_output_axes") ? ctx.attrs.ints("scan_output_axes") : null,
      outDirs: ctx.attrs.has("scan_output_directions") ? ctx.attrs.ints("scan_output_directions") : null,
    }),
  );
}

/** One Scan over its sequence: the final states, then the stacked scan outputs. */
function scanCore(
  host: FlowHost,
  ctx: NodeContext,
  body: OnnxGraph,
  label: string,
  states: string[],
  xs: string[],
  o: { inAxes: number[]; inDirs: number[]; outAxes: number[] | null; outDirs: number[] | null },
): string[] {
  if (o.inAxes.length !== xs.length || o.inDirs.length !== xs.length) {
    ctx.fail("scan_input_axes/directions need one entry per scan input");
  }
  const lens = xs.map((x, j) => host.values.get(x)!.shape[o.inAxes[j]]);
  if (lens.some((l) => l === undefined || l !== lens[0])) {
    ctx.fail(`the scan inputs' sequence lengths differ or an axis is out of range: ${lens.join(", ")}`);
  }
  const len = lens[0] ?? 0;
  const nOut = body.outputs.length - states.length;
  const parts: string[][] = Array.from({ length: nOut }, () => []);
  for (let t = 0; t < len; t++) {
    const slices = xs.map((x, j) =>
      gather(host, `${label}@${t}`, x, o.inDirs[j] ? len - 1 - t : t, o.inAxes[j])
    );
    const outs = inline(host, ctx, body, `${label}@${t}`, [...states, ...slices]);
    states = outs.slice(0, states.length);
    outs.slice(states.length).forEach((s, k) => parts[k].push(s));
  }
  if (nOut > 0 && len === 0) ctx.fail("a scan of length 0 with scan outputs is not supported");
  const stacked = parts.map((p, k) => {
    const rank = host.values.get(p[0])!.shape.length;
    let axis = o.outAxes?.[k] ?? 0;
    if (axis < 0) axis += rank + 1;
    if (axis < 0 || axis > rank) ctx.fail(`scan_output_axes[${k}] is out of range`);
    return stack(host, `${label}:scan${k}`, o.outDirs?.[k] ? [...p].reverse() : p, axis);
  });
  return [...states, ...stacked];
}

/** Element `index` of `x` along `axis`, the axis removed (a Gather with a scalar index). */
function gather(host: FlowHost, label: string, x: string, index: number, axis: number): string {
  const idx = `${label}:${x}:index${index}:${host.count.copies++}`;
  constant(host, idx, int64Scalar(index));
  const out = `${idx}:slice`;
  return lowerOne(
    host,
    `${label}:gather`,
    "Gather",
    [x, idx],
    out,
    new Map([["axis", { kind: "int", value: axis }]]),
  );
}

/** The tensors `parts` (one shape) stacked along a new axis `axis` (Unsqueeze each, Concat). */
function stack(host: FlowHost, label: string, parts: string[], axis: number): string {
  const id = host.count.copies++;
  const unsqueezed = parts.map((p, i) => {
    const out = `${label}#${id}:${i}`;
    const inputs = [p];
    const attributes = new Map<string, AttributeValue>();
    if (host.opset >= 13) {
      const axes = `${out}:axes`;
      constant(host, axes, { dtype: DType.int64, shape: [1], data: BigInt64Array.of(BigInt(axis)) });
      inputs.push(axes);
    } else {
      attributes.set("axes", { kind: "ints", value: [axis] });
    }
    return lowerOne(host, `${label}:unsqueeze`, "Unsqueeze", inputs, out, attributes);
  });
  const out = `${label}#${id}`;
  return lowerOne(
    host,
    `${label}:concat`,
    "Concat",
    unsqueezed,
    out,
    new Map([["axis", { kind: "int", value: axis }]]),
  );
}

/**
 * Runs `lower` with the run-time marks of `names` taken off, then puts them back: for a node
 * whose kernel reads the lengths itself, or whose output gets its length from the caller.
 */
export function withoutMarks(host: FlowHost, names: string[], lower: () => unknown): void {
  const marks = names.map((n) => [n, host.values.get(n)!.runtime] as const);
  for (const [n] of marks) delete host.values.get(n)!.runtime;
  try {
    lower();
  } finally {
    for (const [n, r] of marks) if (r) host.values.get(n)!.runtime = r;
  }
}

/** Lowers one synthesized node of the default domain with one output `out`; gives `out`. */
export function lowerOne(
  host: FlowHost,
  name: string,
  opType: string,
  inputs: string[],
  out: string,
  attributes: Map<string, AttributeValue> = new Map(),
): string {
  host.lower({ name, opType, domain: "", inputs, outputs: [out], attributes });
  return out;
}
