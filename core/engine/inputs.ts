/**
 * Reading inputs for `opml run`: JSON (`{name: {shape, dtype, data}}`), ONNX TensorProto `.pb`
 * files (the conformance format) or raw little-endian `.bin` with a given shape.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { allocArray, arrayFromBytes } from "../onnx/load.ts";
import { decodeValue } from "../onnx/values.ts";
import {
  DType,
  dtypeName,
  dtypeSize,
  shapeSize,
  SMALL_FLOATS,
  type TensorType,
  type TensorValue,
} from "../ir/types.ts";
import { numericValues } from "../ir/small_floats.ts";

/** An input file that cannot be used: the message names the file and the problem. */
export class InputError extends OpmlError {
  override name = "InputError";
}

const BY_NAME: Record<string, number> = {
  float: DType.float32,
  float32: DType.float32,
  double: DType.float64,
  float64: DType.float64,
  int8: DType.int8,
  uint8: DType.uint8,
  int16: DType.int16,
  uint16: DType.uint16,
  int32: DType.int32,
  uint32: DType.uint32,
  int64: DType.int64,
  uint64: DType.uint64,
  bool: DType.bool,
  int4: DType.int4,
  uint4: DType.uint4,
  int2: DType.int2,
  uint2: DType.uint2,
}; // deno-fmt-ignore

/**
 * Reads one input file into named values (a `.pb` or `.bin` file gives one value for `name`).
 *
 * @example
 * ```ts
 * const values = readInputFile("x.json", Deno.readFileSync("x.json"), modelInputs);
 * ```
 */
export function parseInputFile(
  file: string,
  bytes: Uint8Array,
  inputs: (TensorType & { name: string })[],
  opts: { name?: string; shape?: number[] } = {},
): Record<string, TensorValue> {
  const target = () => {
    const name = opts.name ?? (inputs.length === 1 ? inputs[0].name : undefined);
    if (!name) throw new InputError(`${file}: the model has ${inputs.length} inputs; name this one as NAME=${file}`);
    const t = inputs.find((i) => i.name === name);
    if (!t) throw new InputError(`${file}: the model has no input '${name}' (inputs: ${inputs.map((i) => i.name).join(", ")})`);
    return t;
  };
  if (file.endsWith(".json")) return parseJson(file, bytes, inputs);
  if (file.endsWith(".pb")) {
    const t = target();
    const v = decodeValue(bytes, undefined, file) as TensorValue; // a tensor, or a one-line error
    return { [t.name]: { dtype: v.dtype, shape: v.shape, data: v.data } };
  }
  if (file.endsWith(".bin")) {
    const t = target();
    const shape = opts.shape ?? t.shape;
    const n = shapeSize(shape);
    if (bytes.length !== n * dtypeSize(t.dtype)) {
      throw new InputError(
        `${file}: ${bytes.length} bytes, but ${dtypeName(t.dtype)}[${shape.join("x")}] takes ${n * dtypeSize(t.dtype)}`,
      );
    }
    return { [t.name]: { dtype: t.dtype, shape, data: arrayFromBytes(t.dtype, bytes, n) } };
  }
  throw new InputError(`${file}: unknown input format (use .json, .pb or .bin)`);
}

function parseJson(file: string, bytes: Uint8Array, inputs: (TensorType & { name: string })[]) {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new InputError(`${file}: expected an object {name: {shape, dtype, data}}`);
  }
  const out: Record<string, TensorValue> = {};
  for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
    const t = inputs.find((i) => i.name === name);
    if (!t) throw new InputError(`${file}: the model has no input '${name}'`);
    const e = v as { shape?: unknown; dtype?: unknown; data?: unknown };
    if (e.dtype === undefined && SMALL_FLOATS.has(t.dtype)) {
      throw new InputError(
        `${file}: input '${name}' has type ${
          dtypeName(t.dtype)
        }, which JSON inputs do not take: give it as a .pb (TensorProto) or raw .bin file`,
      );
    }
    const dtype = e.dtype === undefined ? t.dtype : BY_NAME[String(e.dtype)];
    if (!dtype) throw new InputError(`${file}: input '${name}': unknown dtype '${e.dtype}'`);
    const shape = e.shape === undefined ? t.shape : e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new InputError(`${file}: input '${name}': shape must be an array of non-negative integers`);
    }
    const flat = Array.isArray(e.data) ? (e.data as unknown[]).flat(Infinity) : undefined;
    if (!flat) throw new InputError(`${file}: input '${name}': data must be an array`);
    const n = shapeSize(shape);
    if (flat.length !== n) {
      throw new InputError(`${file}: input '${name}': ${flat.length} values for shape [${shape}]`);
    }
    const data = allocArray(dtype, n);
    const convert = elementParser(dtype);
    for (let i = 0; i < n; i++) {
      const x = convert(flat[i]);
      if (x === undefined) {
        throw new InputError(
          `${file}: input '${name}': element ${i} is ${describe(flat[i])}, not ${elementRule(dtype)}`,
        );
      }
      (data as unknown as (number | bigint)[])[i] = x;
    }
    out[name] = { dtype, shape: shape as number[], data };
  }
  return out;
}

/** Integer ranges of the integer dtypes (bigint bounds, inclusive). */
const INT_RANGE: Record<number, [bigint, bigint]> = {
  [DType.int8]: [-(2n ** 7n), 2n ** 7n - 1n],
  [DType.uint8]: [0n, 2n ** 8n - 1n],
  [DType.int16]: [-(2n ** 15n), 2n ** 15n - 1n],
  [DType.uint16]: [0n, 2n ** 16n - 1n],
  [DType.int32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [DType.uint32]: [0n, 2n ** 32n - 1n],
  [DType.int64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [DType.uint64]: [0n, 2n ** 64n - 1n],
  [DType.int4]: [-8n, 7n],
  [DType.uint4]: [0n, 15n],
  [DType.int2]: [-2n, 1n],
  [DType.uint2]: [0n, 3n],
};

const FLOAT_WORDS: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** What a JSON element of `dtype` must be (for messages). */
function elementRule(dtype: number): string {
  const name = dtypeName(dtype);
  if (dtype === DType.bool) return "a bool (true, false, 0 or 1)";
  const r = INT_RANGE[dtype];
  if (r) {
    const big = dtype === DType.int64 || dtype === DType.uint64;
    return `an integer in ${name}'s range ${r[0]}..${r[1]}${
      big ? " (beyond 2^53 - 1, write it as a decimal string)" : ""
    }`;
  }
  const max = dtype === DType.float32 ? "3.4028234663852886e38" : "1.7976931348623157e308";
  return `a ${name} number within +-${max} (or "NaN", "Infinity", "-Infinity")`;
}

function describe(x: unknown): string {
  const s = JSON.stringify(x) ?? String(x);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/**
 * The converter of one JSON element to a value of `dtype`, or undefined when it is not one:
 * floats take numbers, decimal strings and "NaN"/"Infinity"/"-Infinity"; integers take exact
 * integers in the dtype's range (int64/uint64: safe-integer numbers, or decimal strings for any
 * value in range); bools take true, false, 0 and 1. Nothing is rounded, wrapped or clamped.
 */
function elementParser(dtype: number): (x: unknown) => number | bigint | undefined {
  if (dtype === DType.bool) {
    return (x) => (x === true || x === 1 ? 1 : x === false || x === 0 ? 0 : undefined);
  }
  const range = INT_RANGE[dtype];
  if (range) {
    const big = dtype === DType.int64 || dtype === DType.uint64;
    return (x) => {
      let v: bigint;
      if (typeof x === "number") {
        if (!Number.isSafeInteger(x)) return undefined;
        v = BigInt(x);
      } else if (typeof x === "string" && /^[+-]?\d+$/.test(x.trim())) v = BigInt(x.trim());
      else return undefined;
      if (v < range[0] || v > range[1]) return undefined;
      return big ? v : Number(v);
    };
  }
  const f32 = dtype === DType.float32;
  return (x) => {
    let v: number;
    if (typeof x === "number") v = x;
    else if (typeof x !== "string") return undefined;
    else if (x in FLOAT_WORDS) return FLOAT_WORDS[x];
    else if (DECIMAL.test(x.trim())) v = Number(x.trim());
    else return undefined;
    // a finite value beyond float's range would silently become infinite
    if (!Number.isFinite(v) || (f32 && !Number.isFinite(Math.fround(v)))) return undefined;
    return v;
  };
}

/**
 * A value as JSON-friendly data (numbers; int64 as numbers when safe, else strings; the small
 * floats decoded to their values).
 */
export function tensorJson(v: TensorValue): { dtype: string; shape: number[]; data: (number | string)[] } {
  const data = Array.from(
    numericValues(v.dtype, v.data as ArrayLike<number | bigint>),
    (x) =>
      typeof x === "bigint"
        ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString())
        : Number.isNaN(x)
        ? "NaN"
        : x === Infinity
        ? "Infinity"
        : x === -Infinity
        ? "-Infinity"
        : x,
  );
  return { dtype: dtypeName(v.dtype), shape: v.shape, data };
}
