/**
 * The operator registry: every ONNX operator the compiler lowers, by domain and op type.
 * @module
 */
import type { OpDef } from "./types.ts";
import { OPS as elementwise } from "./elementwise.ts";
import { OPS as nn } from "./nn.ts";
import { OPS as movement } from "./movement.ts";
import { OPS as quant } from "./quant.ts";
import { OPS as math } from "./math.ts";
import { OPS as reduce } from "./reduce.ts";
import { OPS as vision } from "./vision.ts";
import { OPS as norm } from "./norm.ts";
import { OPS as sequence } from "./sequence.ts";
import { OPS as spectral } from "./spectral.ts";
import { OPS as index } from "./index.ts";
import { OPS as loss } from "./loss.ts";
import { OPS as signal } from "./signal.ts";
import { OPS as linalg } from "./linalg.ts";
import { OPS as integer } from "./integer.ts";
import { OPS as ml } from "./ml.ts";

export * from "./types.ts";

/** All operators, keyed `domain::opType` ("" domain for standard ONNX). */
export const OPERATORS: ReadonlyMap<string, OpDef> = new Map(
  [
    ...elementwise,
    ...nn,
    ...movement,
    ...quant,
    ...math,
    ...reduce,
    ...vision,
    ...norm,
    ...sequence,
    ...spectral,
    ...index,
    ...loss,
    ...signal,
    ...linalg,
    ...integer,
    ...ml,
  ]
    .map((d) => [`${d.domain ?? ""}::${d.opType}`, d]),
);

/** The operator definition of a node, or undefined. `ai.onnx` is the default domain. */
export function findOperator(domain: string, opType: string): OpDef | undefined {
  return OPERATORS.get(`${domain === "ai.onnx" ? "" : domain}::${opType}`);
}
