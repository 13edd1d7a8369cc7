/**
 * The one error base class of opml: a failure the user can act on, reported by the command
 * line as one line (`opml: <message>`) with {@link OpmlError.exitCode}. Anything else that
 * escapes is an internal error (exit 70).
 *
 * @example
 * ```ts
 * import { EXIT, OpmlError } from "./errors.ts";
 * throw new OpmlError("model.onnx: not an ONNX model", EXIT.failure);
 * ```
 * @module
 */

/** The documented exit codes (README, docs/CI.md). */
export const EXIT = {
  /** Bad input or a failed operation. */
  failure: 1,
  /** Bad usage (options, arguments), or an unsupported operator or dtype. */
  usage: 2,
  /**
   * Waiting: an offline challenge waits for the counterpart's next commitments, or
   * `request --wait` ran out of `--timeout` (run it again to go on).
   */
  waiting: 3,
  /** A waiting command was stopped by SIGINT (128 + 2) or SIGTERM (128 + 15); run it again to resume. */
  SIGINT: 130,
  SIGTERM: 143,
  /** `vm run`: opml itself failed (the guest's own exit code is passed through otherwise). */
  vmFailure: 125,
  /** A bug in opml: please report it with OPML_DEBUG=1 output. */
  internal: 70,
} as const;

/** A failure with a one-line message and the exit code the command line ends with. */
export class OpmlError extends Error {
  override name = "OpmlError";
  constructor(message: string, readonly exitCode: number = EXIT.failure) {
    super(message);
  }
}
