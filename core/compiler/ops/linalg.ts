/**
 * The linalg family (op codes 970-979, docs/IR.md; kernels in core/kernels/linalg.c): Det
 * (float32, Gaussian elimination with partial pivoting in one documented order).
 * @module
 */
import { shapeSize } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, FLOAT, input } from "./elementwise.ts";

/** Op codes of the linalg kernels, from the operator schema (schema.ts documents each attribute layout). */
export const LINALG_OPS: OpCodes<"linalg"> = opCodes("linalg");

const det: OpDef = {
  opType: "Det",
  lower(ctx: NodeContext) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, FLOAT);
    const r = x.shape.length;
    if (r < 2 || x.shape[r - 1] !== x.shape[r - 2]) {
      ctx.fail(`input [${x.shape.join(", ")}] is not [..., n, n]`);
    }
    const batch = x.shape.slice(0, -2);
    return {
      op: LINALG_OPS.Det,
      ints: [shapeSize(batch), x.shape[r - 1]],
      outputs: [{ dtype: x.dtype, shape: batch }],
    };
  },
};

/** Every linalg operator. */
export const OPS: readonly OpDef[] = [det];
