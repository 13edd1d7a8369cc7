/**
 * The requester's side: post a task (the model, the input and its key, the fee) and read its
 * result back from the chain, checked against the output key.
 * @module
 */
import type { Hex } from "viem";
import type { ModelDir } from "../compiler/mod.ts";
import { EXIT, OpmlError } from "../errors.ts";
import { dtypeName, type TensorValue } from "../ir/types.ts";
import { graphValues } from "../engine/mod.ts";
import { type GameClient, STATUS_NAMES, TaskStatus, type TaskView } from "../chain/game_client.ts";
import { gameModel } from "./agent.ts";
import { decodeTensors, encodeTensors, keyOfTensors, TaskDataError } from "./task_data.ts";

/** `--wait` ran out of time: the task stays posted (exit {@link EXIT.waiting}). */
export class WaitTimeout extends OpmlError {
  override name = "WaitTimeout";
  constructor(message: string) {
    super(message, EXIT.waiting);
  }
}

/**
 * Checks a request's inputs against the model's declared inputs (count, dtype, shape), so that a
 * task never carries bytes the servers would read as another type.
 *
 * @example
 * ```ts
 * checkTaskInputs(model, inputs); // before postTask
 * ```
 * @throws {TaskDataError} naming the input and what the model expects.
 */
export function checkTaskInputs(model: ModelDir, inputs: readonly TensorValue[]): void {
  const p = model.prog.program;
  if (inputs.length !== p.inputs.length) {
    throw new TaskDataError(`${model.dir} takes ${p.inputs.length} inputs, ${inputs.length} given`);
  }
  p.inputs.forEach((ti, i) => {
    const want = p.tensors[ti];
    const got = inputs[i];
    const t = (v: { dtype: number; shape: readonly number[] }) =>
      `${dtypeName(v.dtype)}[${v.shape.join("x")}]`;
    if (
      want.dtype !== got.dtype || want.shape.length !== got.shape.length ||
      want.shape.some((d, k) => d !== got.shape[k])
    ) {
      throw new TaskDataError(`input '${want.name}' is ${t(got)}, the model expects ${t(want)}`);
    }
  });
}

/** A posted task. */
export interface PostedTask {
  taskId: bigint;
  modelId: Hex;
  inputKey: Hex;
}

/**
 * Registers the model if needed and posts a task with its input on chain (after checking the
 * inputs against the model's: {@link checkTaskInputs}).
 *
 * @example
 * ```ts
 * const { taskId } = await requestTask(game, model, inputs, { fee: 10n ** 15n });
 * ```
 */
export async function requestTask(
  game: GameClient,
  model: ModelDir,
  inputs: TensorValue[],
  opts: { fee?: bigint; singlePhase?: boolean } = {},
): Promise<PostedTask> {
  checkTaskInputs(model, inputs);
  const { modelId } = await gameModel(game, model);
  const inputKey = keyOfTensors(inputs);
  const taskId = await game.postTask(
    modelId,
    inputKey,
    opts.singlePhase ?? false,
    encodeTensors(inputs),
    opts.fee ?? 0n,
  );
  return { taskId, modelId, inputKey };
}

/** A task as its requester sees it. */
export interface TaskResult {
  task: TaskView;
  status: (typeof STATUS_NAMES)[number];
  /**
   * The result's graph outputs (run-time axes cut to their lengths), when posted with data that
   * matches the output key.
   */
  outputs?: TensorValue[];
  /** Why the outputs are missing although a result was posted. */
  outputError?: string;
}

/**
 * The task's status and, once a result is posted, its outputs decoded and checked against the
 * output key.
 *
 * @example
 * ```ts
 * const { status, outputs } = await taskResult(game, taskId, model, config.deployBlock);
 * ```
 */
export async function taskResult(
  game: GameClient,
  taskId: bigint,
  model: ModelDir | undefined,
  fromBlock: bigint,
): Promise<TaskResult> {
  const task = await game.task(taskId);
  const res: TaskResult = { task, status: STATUS_NAMES[task.status] ?? "None" };
  if (model && task.status >= 2 && task.status <= 4) {
    try {
      const output = await game.taskData(taskId, "ResultPosted", fromBlock);
      res.outputs = graphValues(
        model.prog.program,
        decodeTensors(model.prog, "output", output, task.outputKey),
      );
    } catch (e) {
      res.outputError = (e as Error).message;
    }
  }
  return res;
}

/**
 * Waits until a task has a result (its status is neither Open nor Committed) and returns it; undefined when
 * `signal` aborts first.
 *
 * @example
 * ```ts
 * const result = await waitForResult(game, taskId, model, deployBlock, { timeoutMs: 600_000 });
 * ```
 * @throws {WaitTimeout} after `timeoutMs` (0: no limit) without a result; a cancelled task is a
 *   result too (status Cancelled).
 */
export async function waitForResult(
  game: GameClient,
  taskId: bigint,
  model: ModelDir | undefined,
  fromBlock: bigint,
  opts: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {},
): Promise<TaskResult | undefined> {
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Infinity;
  for (;;) {
    if (opts.signal?.aborted) return undefined;
    const task = await game.task(taskId);
    // a commitment is not a result yet: its reveal (or its forfeit) is
    if (task.status !== TaskStatus.Open && task.status !== TaskStatus.Committed) {
      return await taskResult(game, taskId, model, fromBlock);
    }
    if (Date.now() >= deadline) {
      throw new WaitTimeout(
        `task ${taskId}: no result after ${Math.round(opts.timeoutMs! / 1000)} s (is a server running? ` +
          `the task stays posted: \`opml status --task ${taskId}\`)`,
      );
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.min(opts.pollMs ?? 250, Math.max(0, deadline - Date.now())));
      opts.signal?.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}
