/**
 * The signal family (op codes 950-969, docs/IR.md; kernels in core/kernels/signal.c): the
 * HannWindow, HammingWindow and BlackmanWindow generators (size known at compile time,
 * float32 output). Layouts in schema.ts.
 * @module
 */
import { DType } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { input, typeName } from "./elementwise.ts";
import { constInts } from "./movement.ts";

/** Op codes of the signal kernels, from the operator schema (schema.ts documents each attribute layout). */
export const SIGNAL_OPS: OpCodes<"signal"> = opCodes("signal");

function windowOp(opType: "HannWindow" | "HammingWindow" | "BlackmanWindow"): OpDef {
  return {
    opType,
    lower(ctx: NodeContext) {
      const size = input(ctx, 0);
      const v = constInts(ctx, 0, "size") ?? ctx.fail("input 'size' is required");
      if (v.length !== 1 || size.shape.length !== 0) ctx.fail("size must be a scalar");
      const n = v[0];
      if (n < 0) ctx.fail(`size ${n} is negative`);
      const dtype = ctx.attrs.int("output_datatype", DType.float32);
      if (dtype !== DType.float32) ctx.fail(`output_datatype ${typeName(dtype)} is not supported (float)`);
      return {
        op: SIGNAL_OPS[opType],
        ints: [n, ctx.attrs.int("periodic", 1) ? 1 : 0],
        outputs: [{ dtype, shape: [n] }],
        keepInputs: [],
      };
    },
  };
}

/** Every signal operator. */
export const OPS: readonly OpDef[] = [
  windowOp("HannWindow"),
  windowOp("HammingWindow"),
  windowOp("BlackmanWindow"),
];
