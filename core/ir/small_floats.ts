/**
 * The storage-only float formats of ONNX (float16, bfloat16, the float8 family, float4e2m1,
 * float8e8m0): their parameters and the exact value of a bit pattern. Tensors of these types
 * hold bit patterns (core/ir/types.ts); the C kernels convert them (core/kernels/smallfloat.c).
 * @module
 */
import { DType } from "./types.ts";

/** One small float format: sign bit on top (except e8m0), then exponent, then mantissa. */
export interface SmallFloatFormat {
  /** Exponent bits. */
  exp: number;
  /** Mantissa (fraction) bits. */
  man: number;
  bias: number;
  /** "ieee": the top exponent is inf/NaN; "fn": only all-ones is NaN, no inf; "fnuz": 0x80 is
   * the only NaN, no inf, no -0; "none": no inf, no NaN (float4e2m1); "e8m0": unsigned powers of
   * two, 0xFF NaN. */
  kind: "ieee" | "fn" | "fnuz" | "none" | "e8m0";
}

/** The format of each small float dtype. */
export const SMALL_FLOAT_FORMATS: Readonly<Record<number, SmallFloatFormat>> = {
  [DType.float16]: { exp: 5, man: 10, bias: 15, kind: "ieee" },
  [DType.bfloat16]: { exp: 8, man: 7, bias: 127, kind: "ieee" },
  [DType.float8e4m3fn]: { exp: 4, man: 3, bias: 7, kind: "fn" },
  [DType.float8e4m3fnuz]: { exp: 4, man: 3, bias: 8, kind: "fnuz" },
  [DType.float8e5m2]: { exp: 5, man: 2, bias: 15, kind: "ieee" },
  [DType.float8e5m2fnuz]: { exp: 5, man: 2, bias: 16, kind: "fnuz" },
  [DType.float4e2m1]: { exp: 2, man: 1, bias: 1, kind: "none" },
  [DType.float8e8m0]: { exp: 8, man: 0, bias: 127, kind: "e8m0" },
};

/**
 * The exact value of a small float's bit pattern (NaN for its NaNs).
 *
 * @example
 * ```ts
 * smallFloatValue(DType.float16, 0x3c00); // 1
 * ```
 */
export function smallFloatValue(dtype: number, bits: number): number {
  const f = SMALL_FLOAT_FORMATS[dtype];
  if (!f) throw new RangeError(`dtype ${dtype} is not a small float`);
  if (f.kind === "e8m0") return bits === 0xff ? NaN : 2 ** (bits - 127);
  const width = 1 + f.exp + f.man;
  const sign = (bits >> (width - 1)) & 1 ? -1 : 1;
  const e = (bits >> f.man) & ((1 << f.exp) - 1);
  const m = bits & ((1 << f.man) - 1);
  const topE = (1 << f.exp) - 1, topM = (1 << f.man) - 1;
  if (f.kind === "ieee" && e === topE) return m ? NaN : sign * Infinity;
  if (f.kind === "fn" && e === topE && m === topM) return NaN;
  if (f.kind === "fnuz" && bits === 1 << (width - 1)) return NaN;
  if (e === 0) return sign * m * 2 ** (1 - f.bias - f.man);
  return sign * (1 + m / 2 ** f.man) * 2 ** (e - f.bias);
}

/** The values of a tensor's elements as numbers: small floats decoded, everything else as is. */
export function numericValues(dtype: number, data: ArrayLike<number | bigint>): ArrayLike<number | bigint> {
  if (!SMALL_FLOAT_FORMATS[dtype]) return data;
  return Float64Array.from(data as ArrayLike<number>, (b) => smallFloatValue(dtype, b));
}
