/**
 * A TypeScript model of the movement kernels (core/kernels/movement.c): the same op codes, the
 * same normalised attributes, the same bytes out. The operators' `fold` runs it, so values
 * folded at compile time are exactly what the kernels would compute.
 * @module
 */
import { type OpCodes, opCodes } from "./schema.ts";
import { DType, dtypeSize, shapeSize, type TensorArray, type TensorValue } from "../../ir/types.ts";
import type { Lowered, NodeContext } from "./types.ts";

/** Op codes of the movement kernels, from the operator schema (schema.ts documents each attribute layout). */
export const MOVEMENT_OPS: OpCodes<"movement"> = opCodes("movement");

/** Pad modes, as ints[0] of Pad. */
export const PAD_MODES: Record<string, number> = { constant: 0, reflect: 1, edge: 2, wrap: 3 };

// ---------------------------------------------------------------------------------------------
// bytes and values

/** Row-major strides (in elements) of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

/** The bits of element i of a value as an unsigned integer (host order, as the kernel reads them). */
export function elementBits(v: TensorValue, i: number): bigint {
  const es = dtypeSize(v.dtype);
  const b = bytesOf(v).slice(i * es, (i + 1) * es);
  switch (es) {
    case 1:
      return BigInt(b[0]);
    case 2:
      return BigInt(new Uint16Array(b.buffer)[0]);
    case 4:
      return BigInt(new Uint32Array(b.buffer)[0]);
    default:
      return new BigUint64Array(b.buffer)[0];
  }
}

/** Host-order bytes of an element with the given bits (the inverse of {@link elementBits}). */
export function bitsToBytes(bits: bigint, es: number): Uint8Array {
  const u = BigInt.asUintN(64, bits);
  switch (es) {
    case 1:
      return new Uint8Array([Number(u & 0xffn)]);
    case 2:
      return new Uint8Array(new Uint16Array([Number(u & 0xffffn)]).buffer);
    case 4:
      return new Uint8Array(new Uint32Array([Number(u & 0xffffffffn)]).buffer);
    default:
      return new Uint8Array(new BigUint64Array([u]).buffer);
  }
}

/** The raw bytes of a value (a view, no copy). */
function bytesOf(v: TensorValue): Uint8Array {
  return new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
}

const ARRAYS: Record<number, new (b: ArrayBuffer) => TensorArray> = {
  [DType.float32]: Float32Array,
  [DType.uint8]: Uint8Array,
  [DType.int8]: Int8Array,
  [DType.uint16]: Uint16Array,
  [DType.int16]: Int16Array,
  [DType.int32]: Int32Array,
  [DType.int64]: BigInt64Array,
  [DType.bool]: Uint8Array,
  [DType.float64]: Float64Array,
  [DType.uint32]: Uint32Array,
  [DType.uint64]: BigUint64Array,
};

/** A value over the given bytes; float32 NaNs canonicalised as the interpreter does. */
function valueOf(dtype: number, shape: number[], bytes: Uint8Array): TensorValue {
  const buf = bytes.slice().buffer;
  if (dtype === DType.float32) {
    const u = new Uint32Array(buf);
    for (let i = 0; i < u.length; i++) {
      if ((u[i] & 0x7f800000) === 0x7f800000 && (u[i] & 0x7fffff) !== 0) u[i] = 0x7fc00000;
    }
  }
  return { dtype, shape, data: new ARRAYS[dtype](buf) };
}

// ---------------------------------------------------------------------------------------------
// the TypeScript model of the kernels

/**
 * Runs a lowered movement node on known inputs, exactly as core/kernels/movement.c would
 * (same ints layout, same errors as `ctx.fail`). `inputs` are the node's ONNX inputs; the
 * lowering's `keepInputs` picks the kernel's.
 */
export function executeMovement(
  ctx: NodeContext,
  low: Lowered,
  inputs: (TensorValue | undefined)[],
): TensorValue[] {
  const ins = (low.keepInputs ?? inputs.map((_, i) => i)).map((i) => inputs[i]);
  const ints = (low.ints ?? []).map((v) => BigInt(v));
  const num = (i: number) => Number(ints[i]);
  const outs = low.outputs.map((t) => new Uint8Array(shapeSize(t.shape) * dtypeSize(t.dtype)));
  const need = (i: number): TensorValue => ins[i] ?? ctx.fail(`kernel input ${i} is not known`);
  const y = low.outputs[0];
  const es = dtypeSize(y.dtype);
  switch (low.op) {
    case MOVEMENT_OPS.Copy:
      outs[0].set(bytesOf(need(0)));
      break;
    case MOVEMENT_OPS.Transpose:
    case MOVEMENT_OPS.Slice:
    case MOVEMENT_OPS.Expand: {
      const src = bytesOf(need(0));
      const n = shapeSize(y.shape);
      const idx = new Array<number>(y.shape.length).fill(0);
      for (let o = 0; o < n; o++) {
        let off = num(0);
        for (let k = 0; k < idx.length; k++) off += idx[k] * num(1 + k);
        outs[0].set(src.subarray(off * es, off * es + es), o * es);
        for (let k = idx.length - 1; k >= 0; k--) {
          if (++idx[k] < y.shape[k]) break;
          idx[k] = 0;
        }
      }
      break;
    }
    case MOVEMENT_OPS.Concat: {
      const axis = num(0);
      const outer = shapeSize(y.shape.slice(0, axis)), inner = shapeSize(y.shape.slice(axis + 1));
      let at = 0;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < ins.length; i++) {
          const x = need(i);
          const run = x.shape[axis] * inner * es;
          outs[0].set(bytesOf(x).subarray(o * run, o * run + run), at);
          at += run;
        }
      }
      break;
    }
    case MOVEMENT_OPS.Split: {
      const x = need(0), axis = num(0);
      const outer = shapeSize(x.shape.slice(0, axis)), inner = shapeSize(x.shape.slice(axis + 1));
      const src = bytesOf(x);
      let at = 0;
      for (let o = 0; o < outer; o++) {
        low.outputs.forEach((t, i) => {
          const run = t.shape[axis] * inner * es;
          outs[i].set(src.subarray(at, at + run), o * run);
          at += run;
        });
      }
      break;
    }
    case MOVEMENT_OPS.Gather: {
      const x = need(0), ind = need(1), axis = num(0);
      const outer = shapeSize(x.shape.slice(0, axis)), inner = shapeSize(x.shape.slice(axis + 1));
      const n = x.shape[axis], block = inner * es, src = bytesOf(x);
      const pos = Array.from(ind.data as ArrayLike<number | bigint>, (v) => {
        const i = Number(v) < 0 ? Number(v) + n : Number(v);
        if (i < 0 || i >= n) ctx.fail(`index ${v} is out of range for axis ${axis} of size ${n}`);
        return i;
      });
      let at = 0;
      for (let o = 0; o < outer && block > 0; o++) {
        for (const p of pos) {
          const from = (o * n + p) * block;
          outs[0].set(src.subarray(from, from + block), at);
          at += block;
        }
      }
      break;
    }
    case MOVEMENT_OPS.Pad: {
      const x = need(0), mode = num(0), src = bytesOf(x);
      const fill = ins[1] ? bytesOf(ins[1]).subarray(0, es) : bitsToBytes(ints[1], es);
      const r = x.shape.length, n = shapeSize(y.shape);
      const istr = stridesOf(x.shape);
      const idx = new Array<number>(r).fill(0);
      for (let o = 0; o < n; o++) {
        let off = 0;
        for (let k = 0; k < r && off >= 0; k++) {
          const i = padSource(idx[k], num(2 + k), x.shape[k], mode);
          off = i < 0 ? -1 : off + i * istr[k];
        }
        outs[0].set(off < 0 ? fill : src.subarray(off * es, off * es + es), o * es);
        for (let k = r - 1; k >= 0; k--) {
          if (++idx[k] < y.shape[k]) break;
          idx[k] = 0;
        }
      }
      break;
    }
    case MOVEMENT_OPS.ConstantOfShape: {
      const v = bitsToBytes(ints[0], es);
      for (let o = 0; o < outs[0].length; o += es) outs[0].set(v, o);
      break;
    }
    case MOVEMENT_OPS.Shape:
      outs[0].set(new Uint8Array(BigInt64Array.from(ints).buffer));
      break;
    default:
      ctx.fail(`op code ${low.op} is not a movement kernel`);
  }
  return low.outputs.map((t, i) => valueOf(t.dtype, t.shape, outs[i]));
}

/** Pad's source coordinate along one axis (-1: the constant), as `pad_source` in movement.c. */
function padSource(o: number, before: number, n: number, mode: number): number {
  const i = o - before;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PAD_MODES.edge:
      return i < 0 ? 0 : n - 1;
    case PAD_MODES.wrap:
      return ((i % n) + n) % n;
    case PAD_MODES.reflect: {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      const r = ((i % period) + period) % period;
      return r < n ? r : period - r;
    }
    default:
      return -1;
  }
}
