/**
 * Reading inputs for `opml run`: JSON (`{name: {shape, dtype, data}}`), ONNX TensorProto `.pb`
 * files (the conformance format) or raw little-endian `.bin` with a given shape.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { allocArray, arrayFromBytes, decodeTensor } from "../onnx/load.ts";
import { DType, dtypeName, dtypeSize, shapeSize, type TensorType, type TensorValue } from "../ir/types.ts";

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
    const v = decodeTensor(bytes, file);
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
    for (let i = 0; i < n; i++) {
      const x = flat[i];
      if (typeof x !== "number" && typeof x !== "boolean" && typeof x !== "string") {
        throw new InputError(`${file}: input '${name}': value ${i} is not a number`);
      }
      if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(x as number);
      else data[i] = Number(x);
    }
    out[name] = { dtype, shape: shape as number[], data };
  }
  return out;
}

/** A value as JSON-friendly data (numbers; int64 as numbers when safe, else strings). */
export function tensorJson(v: TensorValue): { dtype: string; shape: number[]; data: (number | string)[] } {
  const data = Array.from(
    v.data as ArrayLike<number | bigint>,
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
