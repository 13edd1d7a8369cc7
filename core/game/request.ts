/**
 * The requester's side: post a task (the model, the input and its key, the fee) and read its
 * result back from the chain, checked against the output key.
 * @module
 */
import type { Hex } from "viem";
import type { ModelDir } from "../compiler/mod.ts";
import type { TensorValue } from "../ir/types.ts";
import { type GameClient, STATUS_NAMES, type TaskView } from "../chain/game_client.ts";
import { gameModel } from "./agent.ts";
import { decodeTensors, encodeTensors, keyOfTensors } from "./task_data.ts";

/** A posted task. */
export interface PostedTask {
  taskId: bigint;
  modelId: Hex;
  inputKey: Hex;
}

/**
 * Registers the model if needed and posts a task with its input on chain.
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
  /** The result's outputs, when posted with data that matches the output key. */
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
      res.outputs = decodeTensors(model.prog, "output", output, task.outputKey);
    } catch (e) {
      res.outputError = (e as Error).message;
    }
  }
  return res;
}
