/**
 * The math family (op codes 400-499, docs/IR.md; kernels in core/kernels/math.c, float functions
 * in core/kernels/mathf.c): unary math and activations (Neg, Abs, Reciprocal, Floor, Ceil,
 * Round, Sign, Log, Sin, Cos, Tan, Sinh, Cosh, Asin, Acos, Atan, Asinh, Acosh, Atanh, Softplus,
 * Softsign, HardSigmoid, HardSwish, Elu, Selu, Celu, Mish, ThresholdedRelu, ai.onnx.ml's Binarizer), IsNaN and IsInf, PRelu, the variadic Max, Min, Sum
 * and Mean, Mod, the comparisons, And/Or/Xor/Not and the bitwise operators. Attribute layouts
 * are documented in schema.ts. Integer and bool operands fold at compile time (shape
 * arithmetic; math_fold.ts models the kernels exactly), and so do the float operations IEEE 754
 * defines exactly (Floor, Reciprocal, Max, ...: torchvision's resize arithmetic); the others stay
 * kernel calls.
 * @module
 */
import { DType, type TensorType, type TensorValue } from "../../ir/types.ts";
import type { Lowered, NodeContext, OpDef, ValueInfo } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { foldMathFloat, foldMathInt } from "./math_fold.ts";
import {
  broadcastOf,
  checkDtype,
  FLOAT,
  FLOAT_DOUBLE,
  input,
  INTEGER,
  NUMERIC,
  typeName,
  unary,
} from "./elementwise.ts";
/** Inputs one kernel broadcasts at most (OPML_BCAST_MAX_IN of core/kernels/broadcast.h). */
const OPML_BCAST_MAX_IN = 4;

/** Op codes of the math kernels, from the operator schema (schema.ts documents each attribute layout). */
export const MATH_OPS: OpCodes<"math"> = opCodes("math");
type MathOp = keyof typeof MATH_OPS;

const SIGNED = new Set<number>([DType.float32, DType.int8, DType.int16, DType.int32, DType.int64]);
const FLOAT_INT = new Set<number>([DType.float32, ...INTEGER]);
const BOOL = new Set<number>([DType.bool]);
const UNSIGNED = new Set<number>([DType.uint8, DType.uint16, DType.uint32, DType.uint64]);

/** Compile-time evaluation where math_fold.ts models the kernel exactly (else declines). */
const foldKnown = (ctx: NodeContext, xs: (TensorValue | undefined)[]) => {
  const v = foldMathInt(ctx.opType, xs as TensorValue[], { fmod: ctx.attrs.int("fmod", 0) }) ??
    (ctx.domain === "" ? foldMathFloat(ctx.opType, xs as TensorValue[]) : undefined);
  return v ? [v] : undefined;
};

/** A same-shape unary op; `floats` reads its attributes. */
function unaryOp(
  opType: MathOp,
  allowed: ReadonlySet<number>,
  floats?: (ctx: NodeContext) => number[],
): OpDef {
  return {
    opType,
    lower: (ctx) => unary(ctx, MATH_OPS[opType], allowed, floats ? { floats: floats(ctx) } : {}),
    fold: foldKnown,
  };
}

/** Float in, bool out. */
function classify(opType: "IsNaN" | "IsInf"): OpDef {
  return {
    opType,
    lower(ctx) {
      const x = input(ctx, 0);
      checkDtype(ctx, x, FLOAT);
      const ints = opType === "IsInf"
        ? [ctx.attrs.int("detect_negative", 1) ? 1 : 0, ctx.attrs.int("detect_positive", 1) ? 1 : 0]
        : [];
      return { op: MATH_OPS[opType], ints, outputs: [{ dtype: DType.bool, shape: [...x.shape] }] };
    },
  };
}

/** Two inputs of one dtype in `allowed`, broadcast; the output dtype `out` (default: the inputs'). */
function binary(
  opType: MathOp,
  allowed: ReadonlySet<number>,
  out?: number,
  ints?: (ctx: NodeContext, a: ValueInfo) => number[],
): OpDef {
  return {
    opType,
    lower(ctx): Lowered {
      const a = input(ctx, 0), b = input(ctx, 1);
      checkDtype(ctx, a, allowed);
      if (b.dtype !== a.dtype) ctx.fail(`input types differ: ${typeName(a.dtype)} and ${typeName(b.dtype)}`);
      const outputs: TensorType[] = [{ dtype: out ?? a.dtype, shape: broadcastOf(ctx, [a, b]) }];
      return { op: MATH_OPS[opType], outputs, ...(ints ? { ints: ints(ctx, a) } : {}) };
    },
    fold: foldKnown,
  };
}

/** Max, Min, Sum, Mean: 1 to OPML_BCAST_MAX_IN inputs of one dtype, broadcast. */
function variadic(opType: "Max" | "Min" | "Sum" | "Mean", allowed: ReadonlySet<number>): OpDef {
  return {
    opType,
    lower(ctx) {
      const xs = ctx.inputs.map((_, i) => input(ctx, i));
      if (xs.length === 0) ctx.fail("at least one input is required");
      if (xs.length > OPML_BCAST_MAX_IN) {
        ctx.fail(`${xs.length} inputs: at most ${OPML_BCAST_MAX_IN} are supported`);
      }
      checkDtype(ctx, xs[0], allowed);
      for (const x of xs) {
        if (x.dtype !== xs[0].dtype) {
          ctx.fail(`input types differ: ${typeName(xs[0].dtype)} and ${typeName(x.dtype)}`);
        }
      }
      return { op: MATH_OPS[opType], outputs: [{ dtype: xs[0].dtype, shape: broadcastOf(ctx, xs) }] };
    },
    fold: foldKnown,
  };
}

const prelu: OpDef = {
  opType: "PRelu",
  lower(ctx) {
    const x = input(ctx, 0), slope = input(ctx, 1);
    checkDtype(ctx, x, new Set([DType.float32, DType.int32, DType.int64]));
    if (slope.dtype !== x.dtype) {
      ctx.fail(`slope has type ${typeName(slope.dtype)}, X has ${typeName(x.dtype)}`);
    }
    const shape = broadcastOf(ctx, [x, slope]);
    if (shape.join() !== x.shape.join() || shape.length !== x.shape.length) {
      ctx.fail(`slope [${slope.shape.join(", ")}] does not broadcast to X [${x.shape.join(", ")}]`);
    }
    return { op: MATH_OPS.PRelu, outputs: [{ dtype: x.dtype, shape }] };
  },
};

const mod = binary("Mod", new Set([...FLOAT_INT, DType.float64]), undefined, (ctx, a) => {
  const fmod = ctx.attrs.int("fmod", 0);
  if (fmod !== 0 && fmod !== 1) ctx.fail(`fmod=${fmod} must be 0 or 1`);
  if ((a.dtype === DType.float32 || a.dtype === DType.float64) && fmod !== 1) {
    ctx.fail("float inputs need fmod=1");
  }
  return [fmod];
});

const bitShift = binary("BitShift", UNSIGNED, undefined, (ctx) => {
  const dir = ctx.attrs.string("direction");
  if (dir !== "LEFT" && dir !== "RIGHT") ctx.fail(`direction="${dir}" must be LEFT or RIGHT`);
  return [dir === "RIGHT" ? 1 : 0];
});

const f = (name: string, dflt: number) => (ctx: NodeContext) => ctx.attrs.float(name, dflt);

/** Every math operator. */
export const OPS: readonly OpDef[] = [
  unaryOp("Neg", SIGNED),
  unaryOp("Abs", FLOAT_INT),
  unaryOp("Sign", FLOAT_INT),
  unaryOp("Not", BOOL),
  unaryOp("BitwiseNot", INTEGER),
  unaryOp("Log", FLOAT_DOUBLE),
  ...(["Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Sinh", "Cosh"] as const)
    .map((op) => unaryOp(op, FLOAT)),
  ...(["Asin", "Acos", "Atan", "Asinh", "Acosh", "Atanh"] as const).map((op) => unaryOp(op, FLOAT)),
  ...(["Softplus", "Softsign", "HardSwish", "Mish"] as const).map((op) => unaryOp(op, FLOAT)),
  unaryOp("HardSigmoid", FLOAT, (ctx) => [f("alpha", 0.2)(ctx), f("beta", 0.5)(ctx)]),
  unaryOp("Elu", FLOAT, (ctx) => [f("alpha", 1)(ctx)]),
  unaryOp(
    "Selu",
    FLOAT,
    (ctx) => [f("alpha", 1.67326319217681884765625)(ctx), f("gamma", 1.05070102214813232421875)(ctx)],
  ),
  unaryOp("Celu", FLOAT, (ctx) => [f("alpha", 1)(ctx)]),
  unaryOp("ThresholdedRelu", FLOAT, (ctx) => [f("alpha", 1)(ctx)]),
  { ...unaryOp("Binarizer", FLOAT, (ctx) => [f("threshold", 0)(ctx)]), domain: "ai.onnx.ml" },
  classify("IsNaN"),
  classify("IsInf"),
  prelu,
  variadic("Max", new Set([...FLOAT_INT, DType.float64])),
  variadic("Min", new Set([...FLOAT_INT, DType.float64])),
  variadic("Sum", new Set([DType.float32, DType.float64])),
  variadic("Mean", new Set([DType.float32, DType.float64])),
  mod,
  ...(["Less", "Greater", "LessOrEqual", "GreaterOrEqual"] as const).map((op) =>
    binary(op, NUMERIC, DType.bool)
  ),
  ...(["And", "Or", "Xor"] as const).map((op) => binary(op, BOOL)),
  bitShift,
  ...(["BitwiseAnd", "BitwiseOr", "BitwiseXor"] as const).map((op) => binary(op, INTEGER)),
];
