/**
 * Operators opml rejects by design, with the reason the compiler gives (docs/CONFORMANCE.md
 * lists them): outputs that are random by definition cannot be agreed on by two parties, and
 * training-only operators are not inference. Dropout in training mode with a ratio above 0 is
 * rejected by its lowering (core/compiler/ops/index.ts) for the same reason as the random ones.
 * @module
 */

const RANDOM = "its output is random by definition; opml runs deterministic inference only";
const TRAINING = "a training-only operator (ai.onnx.preview.training); opml runs inference only";

/** Rejected default-domain operators and why. */
export const REJECTED_OPERATORS: Readonly<Record<string, string>> = {
  RandomUniform: RANDOM,
  RandomUniformLike: RANDOM,
  RandomNormal: RANDOM,
  RandomNormalLike: RANDOM,
  Bernoulli: RANDOM,
  Multinomial: RANDOM,
};

/** Rejected domains (every operator in them) and why. */
export const REJECTED_DOMAINS: Readonly<Record<string, string>> = {
  "ai.onnx.preview.training": TRAINING,
};

/**
 * Why an operator is rejected by design, or undefined when it is merely not implemented.
 *
 * @example
 * ```ts
 * rejectionReason("", "Bernoulli"); // "its output is random by definition; ..."
 * ```
 */
export function rejectionReason(domain: string, opType: string): string | undefined {
  if (REJECTED_DOMAINS[domain]) return REJECTED_DOMAINS[domain];
  return domain === "" || domain === "ai.onnx" ? REJECTED_OPERATORS[opType] : undefined;
}
