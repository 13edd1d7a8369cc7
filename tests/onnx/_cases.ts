/**
 * Shared helpers of the ONNX tests: the conformance cases of ../shared/onnx, loading a case,
 * compiling it (binding compile-time inputs when the graph needs them), comparing outputs.
 */
import { decodeModel, decodeValue, type OnnxValue } from "../../core/onnx/mod.ts";
import { assemble, type AssembledProgram, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { DType, dtypeName, numericValues, SMALL_FLOATS, type TensorValue } from "../../core/ir/mod.ts";

import { SHARED_ONNX } from "../../tasks/_data.ts";

/** The shared/onnx folder (tasks/_data.ts). */
export const SHARED: string = SHARED_ONNX;

/** One entry of test-index.json. */
export interface CaseInfo {
  ops: string[];
  opset: string;
  inputs: string[];
  outputs: string[];
  ort: string;
}

/** All conformance cases, by name. */
export function conformanceIndex(): Record<string, CaseInfo> {
  return JSON.parse(Deno.readTextFileSync(`${SHARED}test-index.json`)).tests;
}

const IN_SCOPE =
  /^(FLOAT|DOUBLE|FLOAT16|BFLOAT16|FLOAT8E4M3FN|FLOAT8E4M3FNUZ|FLOAT8E5M2|FLOAT8E5M2FNUZ|FLOAT8E8M0|FLOAT4E2M1|INT8|UINT8|INT16|UINT16|INT32|UINT32|INT64|UINT64|INT4|UINT4|INT2|UINT2|BOOL)\[/;

/**
 * Why a case is out of the scope (a string tensor, or opset > 26: the compiler's
 * MAX_OPSET; opset 26 only adds BitCast, CumProd and FlexAttention to 25). Sequence and
 * optional values are in scope (standard ONNX types of the default domain): the index misreads
 * them as tensors (a SequenceProto's name as a shape) or as `{ type }` objects, so they are not
 * judged here; the compiler rejects them at the model boundary (docs/CONFORMANCE.md).
 */
export function outOfScope(info: CaseInfo): string | undefined {
  const opsets = info.opset.split(",").map((s) => Number(s.split(":").pop()));
  if (opsets.some((v) => v > 26)) return `opset ${Math.max(...opsets)}`;
  const bad = [...info.inputs, ...info.outputs].filter((t) => typeof t === "string" && !IN_SCOPE.test(t));
  if (bad.length) return `type ${bad[0].split("[")[0]}`;
  return undefined;
}

/** Conversion-only cases (Cast, CastLike): their small-float outputs must be exact. */
export function exactCase(info: CaseInfo): boolean {
  return info.ops.every((op) => op === "Cast" || op === "CastLike");
}

/** A loaded conformance case: tensors, or sequence/optional values where the model declares them. */
export interface LoadedCase {
  name: string;
  dir: string;
  inputs: OnnxValue[];
  expected: OnnxValue[];
}

/** A case value that must be a tensor (the compiler rejects sequence/optional inputs and outputs). */
export function tensorValue(v: OnnxValue, what: string): TensorValue {
  if ("kind" in v) throw new Error(`${what} is a ${v.kind} value, not a tensor`);
  return v;
}

function sorted(dir: string, prefix: string): string[] {
  return [...Deno.readDirSync(dir)]
    .map((e) => e.name)
    .filter((n) => n.startsWith(prefix) && n.endsWith(".pb"))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
}

/**
 * Loads a case's model inputs and expected outputs, each `.pb` file read as the proto the
 * model's input or output declares (TensorProto, SequenceProto or OptionalProto).
 */
export function loadCase(name: string): LoadedCase {
  const dir = name.includes("/") ? `${SHARED}${name}` : `${SHARED}node-tests/${name}`;
  const data = `${dir}/test_data_set_0`;
  const model = decodeModel(Deno.readFileSync(`${dir}/model.onnx`), `${name}/model.onnx`);
  const read = (prefix: string, infos: typeof model.inputs) =>
    sorted(data, prefix).map((f, i) => {
      const t = infos[i]?.nonTensor ?? { kind: "tensor" as const, dtype: infos[i]?.dtype ?? 0 };
      return decodeValue(Deno.readFileSync(`${data}/${f}`), t, f);
    });
  return { name, dir, inputs: read("input_", model.inputs), expected: read("output_", model.outputs) };
}

const INTEGER = new Set<number>([
  DType.int8,
  DType.uint8,
  DType.int16,
  DType.uint16,
  DType.int32,
  DType.int64,
  DType.uint32,
  DType.uint64,
  DType.bool,
  DType.int4,
  DType.uint4,
  DType.int2,
  DType.uint2,
]);

/**
 * Compiles a case. Inputs that only matter at compile time (a Reshape shape, Slice starts, ...)
 * are bound as constants when the plain compile asks for it; the remaining inputs are returned
 * in program order.
 */
export function compileCase(
  c: LoadedCase,
): { prog: AssembledProgram; inputs: TensorValue[]; bound: string[] } {
  const model = decodeModel(Deno.readFileSync(`${c.dir}/model.onnx`), `${c.name}/model.onnx`);
  const byName: Record<string, TensorValue> = {};
  // a sequence/optional input has no tensor to bind: the compiler rejects it by its declared type
  model.inputs.forEach((inp, i) =>
    c.inputs[i] && !("kind" in c.inputs[i]) && (byName[inp.name] = c.inputs[i] as TensorValue)
  );
  const shapes = Object.fromEntries(model.inputs.map((inp) => [inp.name, byName[inp.name]?.shape ?? []]));
  // inputs needed at compile time: on such a rejection bind the integer inputs, and the float
  // ones the compiler names (Resize's 'scales', 'roi'), until it compiles or names nothing new
  let consts: Record<string, TensorValue> = {};
  const named = new Set<string>();
  let program;
  for (;;) {
    try {
      program = compileGraph(model, { shapes, consts });
      break;
    } catch (e) {
      if (!(e instanceof LoweringError) || !/compile time/.test(e.message)) throw e;
      const before = Object.keys(consts).length;
      for (const n of Object.keys(byName)) if (e.message.includes(`input '${n}'`)) named.add(n);
      consts = Object.fromEntries(
        Object.entries(byName).filter(([n, v]) => INTEGER.has(v.dtype) || named.has(n)),
      );
      if (Object.keys(consts).length === before) throw e;
    }
  }
  const prog = assemble(program);
  const inputs = program.inputs.map((ti) => byName[program.tensors[ti].name]);
  return { prog, inputs, bound: Object.keys(consts) };
}

/**
 * Compares an output with the expected one: exact for integers and for the float8/float4
 * formats (their decoded values), rtol/atol for float and double; float16 and bfloat16 within
 * 4 units of their last place (rtol 2^-9 and 2^-6: the reference rounds after every step of an
 * expanded function, opml once per operator), or exactly when `exactSmall`.
 */
export function compareOutput(
  got: TensorValue,
  want: TensorValue,
  what: string,
  rtol = 1e-3,
  atol = 1e-5,
  exactSmall = false,
): string | undefined {
  if (got.dtype !== want.dtype) {
    return `${what}: dtype ${dtypeName(got.dtype)}, expected ${dtypeName(want.dtype)}`;
  }
  if (got.shape.join(",") !== want.shape.join(",")) {
    return `${what}: shape [${got.shape}], expected [${want.shape}]`;
  }
  const n = got.data.length;
  const wide = got.dtype === DType.float16 || got.dtype === DType.bfloat16;
  const small = SMALL_FLOATS.has(got.dtype) && (!wide || exactSmall);
  if (wide && !exactSmall) (rtol = got.dtype === DType.float16 ? 2 ** -9 : 2 ** -6), (atol = 2 ** -24);
  const gd = numericValues(got.dtype, got.data), wd = numericValues(want.dtype, want.data);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < n; i++) {
    const g = gd[i], w = wd[i];
    if (small && !(g === w || (Number.isNaN(g) && Number.isNaN(w)))) {
      return `${what}[${i}]: ${g}, expected ${w}`;
    }
    if (typeof g === "bigint" || INTEGER.has(got.dtype)) {
      if (g !== w) return `${what}[${i}]: ${g}, expected ${w}`;
      continue;
    }
    const gn = g as number, wn = w as number;
    if (Number.isNaN(wn) || Number.isNaN(gn)) {
      if (Number.isNaN(wn) !== Number.isNaN(gn)) return `${what}[${i}]: ${gn}, expected ${wn}`;
      continue;
    }
    if (gn === wn) continue;
    const err = Math.abs(gn - wn);
    if (!(err <= atol + rtol * Math.abs(wn)) && err > worstErr) (worst = i, worstErr = err);
  }
  if (worst >= 0) {
    return `${what}[${worst}]: ${gd[worst]}, expected ${wd[worst]} (|error| ${worstErr})`;
  }
  return undefined;
}
