/**
 * The loss family (op codes 900-949, docs/IR.md; kernels in core/kernels/loss.c):
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss on float32, deterministic inference
 * operators (not training-only): reduction none, sum or mean, optional class weights and
 * ignore_index. Layouts in schema.ts; the order of every sum is loss.c's.
 * @module
 */
import { DType, shapeSize } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, FLOAT, input, typeName } from "./elementwise.ts";

/** Op codes of the loss kernels, from the operator schema (schema.ts documents each attribute layout). */
export const LOSS_OPS: OpCodes<"loss"> = opCodes("loss");

const REDUCTIONS: Record<string, number> = { none: 0, sum: 1, mean: 2 };

function loss(opType: keyof typeof LOSS_OPS): OpDef {
  return {
    opType,
    lower(ctx: NodeContext) {
      const x = input(ctx, 0), t = input(ctx, 1), w = ctx.inputs[2];
      checkDtype(ctx, x, FLOAT);
      if (t.dtype !== DType.int32 && t.dtype !== DType.int64) {
        ctx.fail(`target must be int32 or int64, got ${typeName(t.dtype)}`);
      }
      const r = x.shape.length;
      if (r < 2) ctx.fail("input must have rank >= 2 ([N, C, ...])");
      const [N, C] = x.shape, rest = x.shape.slice(2);
      if (t.shape.join() !== [N, ...rest].join() || t.shape.length !== r - 1) {
        ctx.fail(`target must have shape [${[N, ...rest].join(", ")}]`);
      }
      if (w && (w.dtype !== DType.float32 || w.shape.length !== 1 || w.shape[0] !== C)) {
        ctx.fail(`weight must be float[${C}]`);
      }
      const name = ctx.attrs.string("reduction", "mean");
      const red = REDUCTIONS[name];
      if (red === undefined) ctx.fail(`reduction '${name}' is not supported`);
      const hasIgnore = ctx.attrs.has("ignore_index");
      const outputs = [{ dtype: DType.float32, shape: red === 0 ? [...t.shape] : [] }];
      if (opType === "SoftmaxCrossEntropyLoss" && ctx.outputCount > 1) {
        outputs.push({ dtype: DType.float32, shape: [...x.shape] });
      }
      return {
        op: LOSS_OPS[opType],
        ints: [N, C, shapeSize(rest), red, hasIgnore ? 1 : 0, hasIgnore ? ctx.attrs.int("ignore_index") : 0],
        outputs,
      };
    },
  };
}

/** Every loss operator. */
export const OPS: readonly OpDef[] = [loss("NegativeLogLikelihoodLoss"), loss("SoftmaxCrossEntropyLoss")];
