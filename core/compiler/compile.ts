/**
 * Lowers an ONNX graph to the deterministic program (docs/IR.md): static shapes, normalised
 * attributes, integer shape arithmetic folded at compile time, dead nodes removed.
 * @module
 */
import type { AttributeValue, OnnxModel, OnnxNode } from "../onnx/load.ts";
import { bytesOf, externalSource } from "../onnx/load.ts";
import { describeValueType } from "../onnx/value_types.ts";
import { OpmlError } from "../errors.ts";
import {
  DType,
  dtypeName,
  dtypeSize,
  type IrNode,
  type IrTensor,
  type Program,
  shapeSize,
  type TensorValue,
} from "../ir/types.ts";
import {
  type Attributes,
  findOperator,
  type Lowered,
  LoweringError,
  type NodeContext,
  type OpDef,
  RUNTIME_DOMAIN,
  type ValueInfo,
} from "./ops/mod.ts";
import { rejectionReason } from "./ops/rejected.ts";
import { ELEMENTWISE_OPS } from "./ops/elementwise.ts";
import { MOVEMENT_OPS } from "./ops/movement_exec.ts";
import { CONTROL_FLOW, type FlowHost, lowerControlFlow } from "./control_flow.ts";
import { topoSort } from "./_topo.ts";
import {
  concatAtRunTime,
  constantOfRuntimeShape,
  DATA_SHAPED,
  expandToRuntimeShape,
  lowerDataShaped,
  lowerRuntimeShape,
  maskPadding,
  reshapeAtRunTime,
  sliceToLength,
} from "./data_shapes.ts";
import {
  concatAxis,
  reductionPadding,
  RUNTIME_VARIANT,
  runtimeInputs,
  runtimeRule,
  slicedPrefix,
} from "./runtime_shapes.ts";
import { shapeValue } from "./shape_values.ts";
import { type CompileTimeSequence, lowerSequence, readsSequence, SEQUENCE_OPS } from "./sequences.ts";

/** The binary operators with the legacy `broadcast`/`axis` attributes before opset 7. */
const LEGACY_BROADCAST: ReadonlySet<string> = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Pow",
  "Equal",
  "Less",
  "Greater",
  "And",
  "Or",
  "Xor",
]);

/** The small floats computed by widening to float32 (docs/IR.md, "Small types"). */
const WIDENED: ReadonlySet<number> = new Set([DType.float16, DType.bfloat16]);

/** Options of {@link compileGraph}. */
export interface CompileOptions {
  /**
   * Concrete shapes: by graph input name (`{tokens: [1, 49]}`) or by symbolic dimension name
   * (`{seq: [49]}`), for models with dynamic dimensions.
   */
  shapes?: Record<string, number[]>;
  /** Graph inputs fixed at compile time: they become constants and leave the input list. */
  consts?: Record<string, TensorValue>;
  /** Largest output (in elements) folded at compile time; default 65536. */
  foldLimit?: number;
}

/** The newest opset of the default ONNX domain the compiler knows (docs/IR.md). */
export const MAX_OPSET = 26;

/**
 * Size limits of a program (docs/IR.md), checked while lowering so that a model that cannot run
 * is rejected before anything is written: dimensions are u32 in the encoding, and the VM's heap
 * (from 0x20000000 up to the stack below 0x7FFFF000, about 1.5 GiB) must hold one node's tensors.
 */
export const LIMITS = {
  /** Largest dimension. */
  dim: 2 ** 31 - 1,
  /** Largest tensor, in bytes. */
  tensorBytes: 2 ** 30,
  /** Largest sum of one node's input and output tensors, in bytes. */
  nodeBytes: 3 * 2 ** 29,
  /**
   * Largest sum of all constants (weights.bin), in bytes: no format bounds it (the weights are
   * streamed to weights.bin, the native runner maps it, a VM check holds one node's tensors);
   * this is a sanity bound on what one machine maps.
   */
  weightsBytes: 2 ** 36,
} as const;

/** A model too large for the runtime and the VM: the message names the tensor (and node). */
export class ModelSizeError extends OpmlError {
  override name = "ModelSizeError";
}

function tensorSize(t: { dtype: number; shape: readonly number[] }): number {
  return shapeSize(t.shape) * dtypeSize(t.dtype);
}

/** Checks one tensor's dimensions and size; `what` names it (and its node) in the message. */
function checkTensorSize(t: { dtype: number; shape: readonly number[] }, what: string): number {
  const dims = `${dtypeName(t.dtype)}[${t.shape.join("x")}]`;
  const bad = t.shape.find((d) => !Number.isSafeInteger(d) || d < 0 || d > LIMITS.dim);
  if (bad !== undefined) {
    throw new ModelSizeError(`${what} ${dims}: dimension ${bad} is not an integer from 0 to ${LIMITS.dim}`);
  }
  const bytes = tensorSize(t);
  if (bytes > LIMITS.tensorBytes) {
    throw new ModelSizeError(
      `${what} ${dims} takes ${bytes} bytes, over the limit of ${LIMITS.tensorBytes} bytes per tensor (docs/IR.md)`,
    );
  }
  return bytes;
}

/** Supported element types of graph inputs, outputs and tensors. */
const SUPPORTED_DTYPES = new Set<number>(Object.values(DType));

/**
 * Compiles a decoded ONNX model into a {@link Program}.
 *
 * @example
 * ```ts
 * const program = compileGraph(decodeModel(bytes), { shapes: { seq: [49] } });
 * ```
 */
export function compileGraph(model: OnnxModel, opts: CompileOptions = {}): Program {
  const values = new Map<string, ValueInfo>();
  const inputNames: string[] = [];
  const consts = opts.consts ?? {};
  const foldLimit = opts.foldLimit ?? 65536;

  const opset = model.opsets.get("") ?? 1;
  if (opset > MAX_OPSET) {
    throw new LoweringError(
      `the model imports opset ${opset} of the default ONNX domain; opml supports opsets 1 to ${MAX_OPSET}`,
    );
  }
  rejectNonTensors(model);
  let weights = 0;
  for (const [name, value] of model.initializers) {
    checkDtype(value.dtype, `initializer '${name}'`);
    weights += checkTensorSize(value, `initializer '${name}'`);
    values.set(name, { dtype: value.dtype, shape: value.shape, value });
  }
  if (weights > LIMITS.weightsBytes) {
    throw new ModelSizeError(
      `the model's initializers take ${weights} bytes, over the limit of ${LIMITS.weightsBytes} bytes (docs/IR.md)`,
    );
  }
  for (const inp of model.inputs) {
    checkDtype(inp.dtype, `input '${inp.name}'`);
    if (consts[inp.name]) {
      const v = consts[inp.name];
      values.set(inp.name, { dtype: v.dtype, shape: v.shape, value: v });
      continue;
    }
    if (inp.rankUnknown && !opts.shapes?.[inp.name]) {
      throw new LoweringError(
        `input '${inp.name}' has no shape in the model (its rank is unknown): give it with --shape ${inp.name}=DIMS, e.g. --shape ${inp.name}=1x3`,
      );
    }
    const shape = inp.rankUnknown
      ? [...opts.shapes![inp.name]]
      : resolveShape(inp.name, inp.shape, opts.shapes ?? {});
    checkTensorSize({ dtype: inp.dtype, shape }, `input '${inp.name}'`);
    values.set(inp.name, { dtype: inp.dtype, shape });
    inputNames.push(inp.name);
  }

  const emitted: { node: IrNode; inputNames: (string | null)[]; outputNames: string[] }[] = [];
  /** Lowers one node (folding it when it can) and emits its IR node. */
  const emitNode = (node: OnnxNode, ctx: NodeContext, def: OpDef): Lowered => {
    const lowered = def.lower(ctx);
    const outNames = node.outputs.slice(0, lowered.outputs.length);
    for (let i = lowered.outputs.length; i < node.outputs.length; i++) {
      if (node.outputs[i] !== "") {
        ctx.fail(`output ${i} ('${node.outputs[i]}') is not supported`);
      }
    }
    for (const t of lowered.outputs) checkDtype(t.dtype, `node '${node.name}' (${node.opType}) output`);
    // sizes before folding (a fold allocates) and before anything is written
    let nodeBytes = 0;
    lowered.outputs.forEach((t, i) => {
      nodeBytes += checkTensorSize(
        t,
        `node '${node.name}' (${node.opType}): output '${node.outputs[i] || i}'`,
      );
    });
    ctx.inputs.forEach((t) => nodeBytes += t ? tensorSize(t) : 0);
    if (nodeBytes > LIMITS.nodeBytes) {
      throw new ModelSizeError(
        `node '${node.name}' (${node.opType}): its inputs and outputs take ${nodeBytes} bytes, over the limit of ${LIMITS.nodeBytes} bytes per node (docs/IR.md)`,
      );
    }
    // foldable when every input the kernel reads is known (Shape reads none)
    const known = (lowered.keepInputs ?? ctx.inputs.map((_, i) => i))
      .every((i) => ctx.inputs[i] === undefined || ctx.inputs[i]!.value !== undefined);
    const small = lowered.outputs.reduce((s, t) => s + shapeSize(t.shape), 0) <= foldLimit;
    if (def.fold && known && small) {
      const folded = def.fold(ctx, ctx.inputs.map((i) => i?.value));
      if (folded) {
        folded.forEach((v, i) => {
          if (outNames[i]) values.set(outNames[i], { dtype: v.dtype, shape: v.shape, value: v });
        });
        return lowered;
      }
    }
    // an absent output before a present one (Attention's "Y,,,qk") is still written: unusedN
    lowered.outputs.forEach((t, i) => {
      values.set(outNames[i] || `${node.name}:unused${i}`, { dtype: t.dtype, shape: [...t.shape] });
    });
    const keep = lowered.keepInputs ?? node.inputs.map((_, i) => i);
    const ir: IrNode = {
      name: node.name,
      opType: node.opType,
      op: lowered.op,
      inputs: [],
      outputs: [],
      ints: (lowered.ints ?? []).map((x) => BigInt(x)),
      floats: lowered.floats ?? [],
    };
    const inNames = keep.map((i) => (node.inputs[i] ? node.inputs[i] : null));
    emitted.push({ node: ir, inputNames: inNames, outputNames: outNames });
    return lowered;
  };
  /** A Cast node `from` -> `to` (a new tensor of dtype `dtype`), named after `node`. */
  const emitCast = (node: OnnxNode, from: string, to: string, dtype: number): void => {
    const v = values.get(from)!;
    values.set(to, { dtype, shape: [...v.shape] });
    emitted.push({
      node: {
        name: node.name,
        opType: "Cast",
        op: ELEMENTWISE_OPS.Cast,
        inputs: [],
        outputs: [],
        ints: [1n, 0n],
        floats: [],
      },
      inputNames: [from],
      outputNames: [to],
    });
  };

  /**
   * Opset < 7 binary ops broadcast only with `broadcast=1`: B's shape matches A's dimensions from
   * `axis` on (default: the trailing ones). B gets trailing ones (a reshaped constant, or a Copy
   * node) so numpy broadcasting then means the same.
   */
  const legacyBroadcast = (node: OnnxNode, ctx: NodeContext): OnnxNode => {
    const a = ctx.inputs[0], b = ctx.inputs[1];
    if (!a || !b) return node;
    const shapes = `[${a.shape.join(", ")}] and [${b.shape.join(", ")}]`;
    if (!ctx.attrs.int("broadcast", 0)) {
      if (a.shape.join() !== b.shape.join()) {
        ctx.fail(`inputs of shapes ${shapes} differ, and before opset 7 only broadcast=1 broadcasts`);
      }
      return node;
    }
    const ra = a.shape.length, rb = b.shape.length;
    let axis = ctx.attrs.has("axis") ? ctx.attrs.int("axis") : ra - rb;
    if (axis < 0) axis += ra;
    if (axis < 0 || axis + rb > ra || b.shape.some((d, i) => d !== a.shape[axis + i] && d !== 1)) {
      ctx.fail(`B does not broadcast to A from axis ${ctx.attrs.int("axis", ra - rb)}: shapes ${shapes}`);
    }
    const trailing = ra - axis - rb;
    if (trailing === 0) return node;
    const shape = [...b.shape, ...Array(trailing).fill(1)];
    const name = `${node.inputs[1]}:${node.name}:legacy`;
    if (b.value) {
      values.set(name, { dtype: b.dtype, shape, value: { ...b.value, shape } });
    } else {
      values.set(name, { dtype: b.dtype, shape });
      emitted.push({
        node: {
          name: node.name,
          opType: "Reshape",
          op: MOVEMENT_OPS.Copy,
          inputs: [],
          outputs: [],
          ints: [],
          floats: [],
        },
        inputNames: [node.inputs[1]],
        outputNames: [name],
      });
    }
    return { ...node, inputs: [node.inputs[0], name, ...node.inputs.slice(2)] };
  };

  /** Aliases: a control-flow node's outputs name tensors of its inlined body (resolved here). */
  const aliases = new Map<string, string>();
  const resolve = (name: string): string => {
    for (let a = aliases.get(name); a !== undefined; a = aliases.get(name)) name = a;
    return name;
  };
  /** Compile-time sequences (sequences.ts), by name: lists of tensor names. */
  const sequences = new Map<string, CompileTimeSequence>();
  /**
   * Lowers one node whose names are final (control flow inlines its bodies through it); a node
   * that reads a run-time dimension gives its outputs theirs, or is rejected (runtime_shapes.ts).
   */
  const lowerNode = (onnxNode: OnnxNode): void => {
    const node: OnnxNode = { ...onnxNode, inputs: onnxNode.inputs.map((n) => (n ? resolve(n) : n)) };
    // a compile-time sequence is no tensor value: no run-time length either
    if (node.inputs.some((n) => n && sequences.has(n))) return lowerStatic(onnxNode);
    const opset = model.opsets.get(node.domain) ?? model.opsets.get("") ?? 1;
    const ctx = context(node, opset, values);
    if (node.domain === "" && node.opType === "ConstantOfShape" && ctx.inputs[0]?.runtimeShape) {
      return constantOfRuntimeShape(host, node, ctx);
    }
    // shape arithmetic on a run-time length (shape_values.ts): a constant, or the node marked
    const known = shapeValue(ctx);
    if (known && "value" in known) {
      const v = known.value;
      values.set(node.outputs[0], { dtype: v.dtype, shape: v.shape, value: v });
      return;
    }
    lowerRuntime(onnxNode, node, ctx);
    if (known) values.get(resolve(node.outputs[0]))!.runtimeShape = known.runtimeShape;
  };
  /** Lowers a node (names final) whose inputs may have a run-time dimension (runtime_shapes.ts). */
  const lowerRuntime = (onnxNode: OnnxNode, node: OnnxNode, ctx: NodeContext): void => {
    if (node.domain === "" && node.opType === "Expand" && ctx.inputs[1]?.runtimeShape) {
      return expandToRuntimeShape(host, node, ctx);
    }
    const runtimeReshape =
      (node.opType === "Reshape" && (ctx.inputs[0]?.runtime || ctx.inputs[1]?.runtimeShape)) ||
      (node.opType === "Flatten" && ctx.inputs[0]?.runtime);
    if (node.domain === "" && runtimeReshape) return reshapeAtRunTime(host, node, ctx);
    if (node.domain === "" && node.opType === "Slice" && sliceToLength(host, node, ctx)) return;
    if (!ctx.inputs.some((v) => v?.runtime)) return lowerStatic(onnxNode);
    if (node.domain === "" && node.opType === "Shape") return lowerRuntimeShape(host, node, ctx);
    if (node.domain === "" && node.opType === "Slice" && typeof slicedPrefix(ctx) === "number") {
      // x[0:end] along the run-time axis: the valid part is a prefix, of min(length, bound) elements
      runtimeRule(ctx); // the other inputs' checks
      lowerStatic(onnxNode);
      const out = values.get(resolve(node.outputs[0]))!, d = ctx.inputs[0]!.runtime!;
      const bound = `${node.name}:bound`;
      values.set(bound, {
        dtype: DType.int64,
        shape: [],
        value: { dtype: DType.int64, shape: [], data: BigInt64Array.of(BigInt(out.shape[d.axis])) },
      });
      lowerNode({
        name: node.name,
        opType: "Min",
        domain: "",
        inputs: [d.length, bound],
        outputs: [`${node.name}:length`],
        attributes: new Map(),
      });
      out.runtime = { axis: d.axis, length: `${node.name}:length` };
      return;
    }
    const along = concatAxis(ctx);
    if (along !== undefined) return concatAtRunTime(host, node, ctx, along);
    const fill = reductionPadding(ctx);
    if (fill !== undefined) {
      // a reduction over the run-time axis: over the whole bound, the padding its neutral value
      const masked = maskPadding(host, node.name, node.inputs[0], fill);
      return lowerStatic({ ...node, inputs: [masked, ...node.inputs.slice(1)] });
    }
    const rule = runtimeRule(ctx);
    const extra = runtimeInputs(ctx);
    const domain = node.domain === "" && RUNTIME_VARIANT.has(node.opType) ? RUNTIME_DOMAIN : onnxNode.domain;
    lowerStatic(extra.length ? { ...onnxNode, domain, inputs: [...onnxNode.inputs, ...extra] } : onnxNode);
    const outs = node.outputs.filter((o) => o !== "");
    rule(outs.map((o) => values.get(resolve(o))!)).forEach((d, k) => {
      if (d) values.get(resolve(outs[k]))!.runtime = d;
    });
  };
  const lowerStatic = (onnxNode: OnnxNode): void => {
    let node: OnnxNode = { ...onnxNode, inputs: onnxNode.inputs.map((n) => (n ? resolve(n) : n)) };
    const opset = model.opsets.get(node.domain) ?? model.opsets.get("") ?? 1;
    const sequenceOp = node.domain === "" && SEQUENCE_OPS.has(node.opType);
    node.inputs.forEach((n, i) => {
      if (n && sequences.has(n) && !(sequenceOp && readsSequence(node.opType, i))) {
        throw new LoweringError(
          `node '${node.name}' (${node.opType}, opset ${opset}): input ${i} '${n}' is a sequence, which only SequenceAt, SequenceLength, SequenceInsert, SequenceErase and ConcatFromSequence read (sequences are resolved at compile time inside one graph)`,
        );
      }
    });
    if (sequenceOp) {
      const tensorsOnly = {
        ...node,
        inputs: node.inputs.map((n, i) => (readsSequence(node.opType, i) ? "" : n)),
      };
      lowerSequence(host, node, context(tensorsOnly, opset, values), sequences);
      return;
    }
    let ctx = context(node, opset, values);
    if (node.domain === "" && CONTROL_FLOW.has(node.opType)) {
      lowerControlFlow(host, node, ctx);
      return;
    }
    if (node.domain === "" && DATA_SHAPED.has(node.opType) && lowerDataShaped(host, node, ctx)) return;
    if (node.opType === "Constant" && node.domain === "") {
      const v = constantValue(ctx, node);
      values.set(node.outputs[0], { dtype: v.dtype, shape: v.shape, value: v });
      return;
    }
    const def = findOperator(node.domain, node.opType);
    if (!def) {
      const op = node.domain ? `${node.domain}::${node.opType}` : node.opType;
      const why = rejectionReason(node.domain, node.opType);
      throw new LoweringError(
        `unsupported operator ${op} (node '${node.name}', opset ${opset})${why ? `: ${why}` : ""}`,
      );
    }
    if (node.domain === "" && opset < 7 && LEGACY_BROADCAST.has(node.opType)) {
      const legacy = legacyBroadcast(node, ctx);
      if (legacy !== node) {
        node = legacy;
        ctx = context(node, opset, values);
      }
    }
    const narrowTo = ctx.inputs.find((v) => v && WIDENED.has(v.dtype))?.dtype;
    if (narrowTo === undefined) {
      emitNode(node, ctx, def);
      return;
    }
    let refused: LoweringError;
    try {
      emitNode(node, ctx, def); // the op handles the small float itself (Cast, movement, ...)
      return;
    } catch (e) {
      if (!(e instanceof LoweringError)) throw e;
      refused = e;
    }
    // float16/bfloat16 compute (docs/IR.md): widen the inputs to float, run the float op, round
    // its float outputs once back to the input's type
    const inputs = node.inputs.map((name, i) => {
      const v = ctx.inputs[i];
      if (!v || !WIDENED.has(v.dtype)) return name;
      const wide = `${name}:${node.name}:float`;
      if (!values.has(wide)) emitCast(node, name, wide, DType.float32);
      return wide;
    });
    const probe = { ...node, inputs };
    try {
      // float outputs get a wide name and a rounding Cast; others (IsNaN's bool, ...) keep theirs
      const floatOut = def.lower(context(probe, opset, values)).outputs.map((t) => t.dtype === DType.float32);
      const wideNode = {
        ...probe,
        outputs: node.outputs.map((o, i) => (o && floatOut[i] ? `${o}:${node.name}:float` : o)),
      };
      const lowered = emitNode(wideNode, context(wideNode, opset, values), def);
      lowered.outputs.forEach((_, i) => {
        if (node.outputs[i] && floatOut[i]) emitCast(node, wideNode.outputs[i], node.outputs[i], narrowTo);
      });
    } catch (e) {
      throw e instanceof LoweringError ? refused : e; // the float op fails too: say why for the small type
    }
  };
  const host: FlowHost = {
    opset,
    values,
    lower: lowerNode,
    alias: (name, to) => void aliases.set(name, resolve(to)),
    resolve,
    isSequence: (name) => sequences.has(resolve(name)),
    count: { copies: 0, nodes: 0 },
  };
  for (
    const node of topoSort(model.nodes, [
      ...model.initializers.keys(),
      ...model.inputs.map((i) => i.name),
    ])
  ) {
    lowerNode(node);
  }

  // Keep only what the graph outputs need.
  const needed = new Set<string>();
  const outputNames = model.outputs.map((o) => resolve(o.name));
  model.outputs.forEach((o, i) => {
    if (sequences.has(outputNames[i])) {
      throw new LoweringError(`graph output '${o.name}' is a sequence: opml programs give tensors only`);
    }
    if (!values.has(outputNames[i])) throw new LoweringError(`graph output '${o.name}' is never computed`);
    needed.add(outputNames[i]);
  });
  // after the graph outputs, the length of each one with a run-time dimension (docs/IR.md)
  const lengthNames = outputNames.flatMap((n) => values.get(n)!.runtime?.length ?? []);
  for (const n of lengthNames) needed.add(n);
  const live: typeof emitted = [];
  for (let i = emitted.length - 1; i >= 0; i--) {
    const e = emitted[i];
    if (!e.outputNames.some((n) => n && needed.has(n))) continue;
    live.push(e);
    for (const n of e.inputNames) if (n) needed.add(n);
  }
  live.reverse();

  const tensors: IrTensor[] = [];
  const index = new Map<string, number>();
  // a graph output that is an inlined body's tensor keeps the model's name for it
  const outputName = new Map<string, string>();
  model.outputs.forEach((o, i) => {
    const r = outputNames[i];
    if (r !== o.name && !outputName.has(r) && !values.get(r)!.value && !inputNames.includes(r)) {
      outputName.set(r, o.name);
    }
  });
  const tensorOf = (name: string): number => {
    let i = index.get(name);
    if (i !== undefined) return i;
    const v = values.get(name)!;
    const t: IrTensor = {
      name: outputName.get(name) ?? name,
      dtype: v.dtype,
      shape: [...v.shape],
      kind: "activation",
    };
    if (v.runtime) t.runtimeAxis = v.runtime.axis;
    const external = v.value && externalSource(v.value);
    if (external) {
      // a weight in external data: read where used (assembling), never all held at once
      t.kind = "constant";
      let data: Uint8Array | undefined;
      Object.defineProperty(t, "data", {
        enumerable: true,
        get: () => data ?? external.read(),
        set: (d: Uint8Array) => (data = d),
      });
    } else if (v.value) {
      t.kind = "constant";
      t.data = bytesOf(v.value);
    } else if (inputNames.includes(name)) {
      t.kind = "input";
    }
    i = tensors.length;
    tensors.push(t);
    index.set(name, i);
    return i;
  };
  const inputs = inputNames.map(tensorOf);
  for (const e of live) {
    e.node.inputs = e.inputNames.map((n) => (n === null ? null : tensorOf(n)));
    e.node.outputs = e.outputNames.map((n, i) => tensorOf(n || `${e.node.name}:unused${i}`));
  }
  const outputs = [...outputNames, ...lengthNames].map(tensorOf);
  return { tensors, nodes: live.map((e) => e.node), inputs, outputs };
}

/**
 * opml's programs take and give tensors only (their inputs and outputs are committed as tensor
 * bytes): a sequence, optional, map or sparse-tensor input
 * or output of the model is rejected in one line naming it, its type and the operator that
 * reads (or writes) it, before its dtype 0 could be reported as an unknown tensor type.
 */
function rejectNonTensors(model: OnnxModel): void {
  const boundary = [
    ...model.inputs.map((v) => ({
      v,
      what: "input",
      node: model.nodes.find((n) => n.inputs.includes(v.name)),
    })),
    ...model.outputs.map((v) => ({
      v,
      what: "output",
      node: model.nodes.find((n) => n.outputs.includes(v.name)),
    })),
  ];
  for (const { v, what, node } of boundary) {
    if (!v.nonTensor) continue;
    const op = node
      ? ` (operator ${node.domain ? `${node.domain}::` : ""}${node.opType}, node '${node.name}')`
      : "";
    throw new LoweringError(
      `${what} '${v.name}' is ${
        describeValueType(v.nonTensor)
      }: ${v.nonTensor.kind} types are not supported${op}`,
    );
  }
}

function checkDtype(dtype: number, what: string): void {
  if (!SUPPORTED_DTYPES.has(dtype)) {
    throw new LoweringError(`${what} has type ${dtypeName(dtype)}, which is not supported`);
  }
}

function resolveShape(name: string, shape: (number | string)[], given: Record<string, number[]>): number[] {
  if (given[name]) {
    const s = given[name];
    if (s.length !== shape.length) {
      throw new LoweringError(
        `--shape ${name}: rank ${s.length}, but the model's input has rank ${shape.length}`,
      );
    }
    shape.forEach((d, i) => {
      if (typeof d === "number" && d !== s[i]) {
        throw new LoweringError(`--shape ${name}: dimension ${i} is ${s[i]}, but the model fixes it to ${d}`);
      }
    });
    return [...s];
  }
  return shape.map((d) => {
    if (typeof d === "number") return d;
    const g = given[d];
    if (g && g.length === 1) return g[0];
    throw new LoweringError(
      `input '${name}' has a dynamic dimension '${d}': give its size with --shape ${d}=N or --shape ${name}=${
        shape.map((x) => (typeof x === "number" ? x : "N")).join("x")
      }`,
    );
  });
}

function context(node: OnnxNode, opset: number, values: Map<string, ValueInfo>): NodeContext {
  const op = node.domain ? `${node.domain}::${node.opType}` : node.opType;
  const fail = (message: string): never => {
    throw new LoweringError(`node '${node.name}' (${op}, opset ${opset}): ${message}`);
  };
  const inputs = node.inputs.map((name, i) => {
    if (name === "") return undefined;
    const v = values.get(name);
    if (!v) fail(`input ${i} '${name}' is not defined`);
    return v;
  });
  return {
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    opset,
    inputs,
    inputNames: [...node.inputs],
    outputCount: node.outputs.length,
    attrs: attributes(node.attributes, fail),
    fail,
  };
}

function attributes(map: Map<string, AttributeValue>, fail: (m: string) => never): Attributes {
  function get<K extends AttributeValue["kind"]>(
    name: string,
    kind: K,
  ): Extract<AttributeValue, { kind: K }> | undefined {
    const a = map.get(name);
    if (!a) return undefined;
    if (a.kind !== kind) fail(`attribute '${name}' should be ${kind}, not ${a.kind}`);
    return a as Extract<AttributeValue, { kind: K }>;
  }
  function req<T>(name: string, v: T | undefined, dflt: T | undefined): T {
    if (v !== undefined) return v;
    if (dflt !== undefined) return dflt;
    return fail(`attribute '${name}' is required`);
  }
  return {
    has: (name) => map.has(name),
    int: (name, d) => req(name, get(name, "int")?.value, d),
    ints: (name, d) => req(name, get(name, "ints")?.value, d),
    float: (name, d) => req(name, get(name, "float")?.value, d),
    floats: (name, d) => req(name, get(name, "floats")?.value, d),
    string: (name, d) => req(name, get(name, "string")?.value, d),
    strings: (name, d) => req(name, get(name, "strings")?.value, d),
    tensor: (name) => req(name, get(name, "tensor")?.value, undefined),
  };
}

function constantValue(ctx: NodeContext, node: OnnxNode): TensorValue {
  const a = ctx.attrs;
  if (a.has("value")) return a.tensor("value");
  if (a.has("value_float")) {
    return { dtype: DType.float32, shape: [], data: Float32Array.of(a.float("value_float")) };
  }
  if (a.has("value_floats")) {
    const f = a.floats("value_floats");
    return { dtype: DType.float32, shape: [f.length], data: Float32Array.from(f) };
  }
  if (a.has("value_int")) {
    return { dtype: DType.int64, shape: [], data: BigInt64Array.of(BigInt(a.int("value_int"))) };
  }
  if (a.has("value_ints")) {
    const v = a.ints("value_ints");
    return { dtype: DType.int64, shape: [v.length], data: BigInt64Array.from(v.map(BigInt)) };
  }
  return ctx.fail(
    `only tensor, float(s) and int(s) values are supported (attributes: ${
      [...node.attributes.keys()].join(", ")
    })`,
  );
}
