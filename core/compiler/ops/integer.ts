/**
 * The integer family (op codes 980-999, docs/IR.md; kernels in core/kernels/integer.c):
 * DynamicQuantizeLinear (uint8, the ONNX reference's float formula) and ConvInteger (uint8/int8
 * x and w with zero points, int32 output; Conv's geometry). Layouts in schema.ts.
 * @module
 */
import { DType, shapeSize } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, FLOAT, input, typeName } from "./elementwise.ts";
import { convLayout } from "./nn.ts";

/** Op codes of the integer kernels, from the operator schema (schema.ts documents each attribute layout). */
export const INTEGER_OPS: OpCodes<"integer"> = opCodes("integer");

const Q8 = new Set<number>([DType.uint8, DType.int8]);

const dynamicQuantizeLinear: OpDef = {
  opType: "DynamicQuantizeLinear",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, FLOAT);
    return {
      op: INTEGER_OPS.DynamicQuantizeLinear,
      outputs: [
        { dtype: DType.uint8, shape: [...x.shape] },
        { dtype: DType.float32, shape: [] },
        { dtype: DType.uint8, shape: [] },
      ],
    };
  },
};

const convInteger: OpDef = {
  opType: "ConvInteger",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0), w = input(ctx, 1), xz = ctx.inputs[2], wz = ctx.inputs[3];
    checkDtype(ctx, x, Q8, "x");
    checkDtype(ctx, w, Q8, "w");
    const { ints, shape } = convLayout(ctx, x, w);
    if (xz && (xz.dtype !== x.dtype || shapeSize(xz.shape) !== 1)) {
      ctx.fail(`x_zero_point must be one ${typeName(x.dtype)}`);
    }
    if (wz && (wz.dtype !== w.dtype || (shapeSize(wz.shape) !== 1 && shapeSize(wz.shape) !== shape[1]))) {
      ctx.fail(`w_zero_point must be one ${typeName(w.dtype)} or one per output channel`);
    }
    return { op: INTEGER_OPS.ConvInteger, ints, outputs: [{ dtype: DType.int32, shape }] };
  },
};

/** Every integer operator. */
export const OPS: readonly OpDef[] = [dynamicQuantizeLinear, convInteger];
