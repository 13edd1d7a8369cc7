/**
 * The linalg family (op codes 970-979, docs/IR.md; kernels in core/kernels/linalg.c): Det
 * (float32, Gaussian elimination with partial pivoting in one documented order) and Einsum
 * (float32, float64: one loop over every label tuple, the equation resolved at compile time).
 * @module
 */
import { shapeSize } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, FLOAT, FLOAT_DOUBLE, input } from "./elementwise.ts";

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

/** The most labels an Einsum may have (the kernel's odometer) and the most inputs. */
const EINSUM_MAX_LABELS = 64, EINSUM_MAX_INPUTS = 8;

/**
 * Einsum's labels of one operand term ("ij", "...ii", ""): `...` becomes the ellipsis dims'
 * own labels (numbered from the right, shared by every term), so ints "e0", "e1", ... stand for them.
 */
function termLabels(ctx: NodeContext, term: string, rank: number | undefined, ellRank: number): string[] {
  const parts = term.split("...");
  if (parts.length > 2) ctx.fail(`term '${term}' has more than one ellipsis`);
  for (const p of parts) {
    if (!/^[a-zA-Z]*$/.test(p)) ctx.fail(`term '${term}' has a character other than a letter or '...'`);
  }
  const named = parts.join("").length;
  const ell = parts.length === 2 ? (rank ?? named + ellRank) - named : 0;
  if (ell < 0 || (rank !== undefined && parts.length === 1 && named !== rank)) {
    ctx.fail(`term '${term}' does not match an input of rank ${rank}`);
  }
  const ellLabels = Array.from({ length: ell }, (_, i) => `.${ell - 1 - i}`);
  return parts.length === 2 ? [...parts[0], ...ellLabels, ...parts[1]] : [...parts[0]];
}

const einsum: OpDef = {
  opType: "Einsum",
  lower(ctx: NodeContext) {
    const eq = ctx.attrs.string("equation", "").replace(/\s+/g, "");
    const inputs = ctx.inputs.map((v, i) => v ?? ctx.fail(`input ${i} is required`));
    if (inputs.length < 1 || inputs.length > EINSUM_MAX_INPUTS) {
      ctx.fail(`${inputs.length} inputs are not supported (1 to ${EINSUM_MAX_INPUTS})`);
    }
    for (const v of inputs) checkDtype(ctx, v, FLOAT_DOUBLE);
    if (inputs.some((v) => v.dtype !== inputs[0].dtype)) ctx.fail("the inputs' types differ");
    const [lhs, rhs, more] = eq.split("->");
    if (more !== undefined) ctx.fail(`equation '${eq}' has more than one '->'`);
    const terms = lhs.split(",");
    if (terms.length !== inputs.length) {
      ctx.fail(`equation '${eq}' has ${terms.length} terms for ${inputs.length} inputs`);
    }
    const size = new Map<string, number>();
    let ellRank = -1;
    const ins = terms.map((t, k) => {
      const labels = termLabels(ctx, t, inputs[k].shape.length, 0);
      const ell = labels.filter((l) => l.startsWith(".")).length;
      if (t.includes("...")) {
        if (ellRank >= 0 && ell !== ellRank) ctx.fail("the ellipses cover different numbers of dimensions");
        ellRank = ell;
      }
      labels.forEach((l, a) => {
        const d = inputs[k].shape[a];
        if (size.has(l) && size.get(l) !== d) {
          ctx.fail(`label '${l.startsWith(".") ? "..." : l}' has sizes ${size.get(l)} and ${d}`);
        }
        size.set(l, d);
      });
      return labels;
    });
    ellRank = Math.max(ellRank, 0);
    let out: string[];
    if (rhs === undefined) { // implicit: the ellipsis dims, then the labels used once, sorted
      const once = [...size.keys()].filter((l) =>
        !l.startsWith(".") && ins.flat().filter((m) => m === l).length === 1
      );
      out = [...termLabels(ctx, "...", undefined, ellRank), ...once.sort()];
    } else {
      out = termLabels(ctx, rhs, undefined, ellRank);
      for (const l of out) {
        if (!size.has(l)) ctx.fail(`output label '${l}' is in no input`);
        if (out.filter((m) => m === l).length > 1) ctx.fail(`output label '${l}' repeats`);
      }
    }
    const labels = [...out, ...[...size.keys()].filter((l) => !out.includes(l))];
    if (labels.length > EINSUM_MAX_LABELS) {
      ctx.fail(`${labels.length} labels are too many (at most ${EINSUM_MAX_LABELS})`);
    }
    const strides = (term: string[], shape: number[]) =>
      labels.map((l) => {
        let s = 0;
        term.forEach((m, a) => {
          if (m === l) s += shapeSize(shape.slice(a + 1));
        });
        return s;
      });
    const outShape = out.map((l) => size.get(l)!);
    return {
      op: LINALG_OPS.Einsum,
      ints: [
        inputs.length,
        labels.length,
        ...labels.map((l) => size.get(l)!),
        ...strides(out, outShape),
        ...ins.flatMap((t, k) => strides(t, inputs[k].shape)),
      ],
      outputs: [{ dtype: inputs[0].dtype, shape: outShape }],
    };
  },
};

/** Every linalg operator. */
export const OPS: readonly OpDef[] = [det, einsum];
