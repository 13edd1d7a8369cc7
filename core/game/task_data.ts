/**
 * The data of a task and of a result as they travel on chain: the concatenated little-endian
 * bytes of the input (or output) tensors in the program's order, whose Merkle-data keys make
 * the task's input key (the result's output key). A result's outputs travel one byte string per
 * tensor, checked against the output key by the contract at the reveal; a task's input is one
 * byte string the contract does not check (servers do, here).
 * @module
 */
import { OpmlError } from "../errors.ts";
import { bytesToHex, type Hex, hexToBytes } from "viem";
import type { AssembledProgram } from "../compiler/artifacts.ts";
import { bytesOf, keyOfKeys, splitOutputs, tensorKey } from "../engine/mod.ts";
import type { TensorValue } from "../ir/types.ts";
import { dtypeSize, shapeSize } from "../ir/types.ts";
import { keyHex } from "../vm/oracle.ts";

/** Task or result data that does not fit the model or its key. */
export class TaskDataError extends OpmlError {
  override name = "TaskDataError";
}

/**
 * The on-chain encoding of tensor values: their bytes, concatenated.
 *
 * @example
 * ```ts
 * const input = encodeTensors(inputs); // the `input` of postTask
 * ```
 */
export function encodeTensors(values: readonly TensorValue[]): Hex {
  const parts = values.map(bytesOf);
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return bytesToHex(all);
}

/**
 * The on-chain encoding of a result's outputs: one byte string per tensor (`revealResult`'s
 * `outputs`, whose keys the contract checks against the output key).
 *
 * @example
 * ```ts
 * await game.revealResult(taskId, keyOfTensors(outputs), salt, tensorParts(outputs));
 * ```
 */
export function tensorParts(values: readonly TensorValue[]): Hex[] {
  return values.map((v) => bytesToHex(bytesOf(v)));
}

/**
 * The data key of tensor values: `K(K(t_0) || K(t_1) || ...)` (the input key of a task, the
 * output key of a result).
 *
 * @example
 * ```ts
 * const inputKey = keyOfTensors(inputs);
 * ```
 */
export function keyOfTensors(values: readonly TensorValue[]): Hex {
  return keyHex(keyOfKeys(values.map(tensorKey))) as Hex;
}

/**
 * Decodes the data of a task (`which = "input"`) or of a result (`"output"`) for a program and
 * checks it against the key on chain.
 *
 * @example
 * ```ts
 * const inputs = decodeTensors(model.prog, "input", ev.input, task.inputKey);
 * ```
 * @throws {TaskDataError} when the data is empty, has the wrong length or another key.
 */
export function decodeTensors(
  prog: AssembledProgram,
  which: "input" | "output",
  data: Hex,
  key: Hex,
): TensorValue[] {
  const p = prog.program;
  const types = (which === "input" ? p.inputs : p.outputs).map((i) => p.tensors[i]);
  const bytes = hexToBytes(data);
  const want = types.reduce((s, t) => s + shapeSize(t.shape) * dtypeSize(t.dtype), 0);
  if (bytes.length === 0) throw new TaskDataError(`no ${which} data on chain (delivered elsewhere?)`);
  if (bytes.length !== want) {
    throw new TaskDataError(`${which} data is ${bytes.length} bytes, the model's ${which}s take ${want}`);
  }
  const values = splitOutputs(bytes, types);
  const got = keyOfTensors(values);
  if (got !== key) throw new TaskDataError(`${which} data has key ${got}, not ${key} as committed`);
  return values;
}
