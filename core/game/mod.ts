/**
 * The on-chain opML flow: requesters post tasks, servers answer and defend, verifiers re-run and
 * challenge, and each dispute is played to its end by {@link playDispute} (docs/GAME.md,
 * docs/CHAIN.md).
 *
 * @example
 * ```ts
 * import { requestTask, runAgent } from "./core/game/mod.ts";
 * const { taskId } = await requestTask(game, model, inputs, { fee: 10n ** 15n });
 * ```
 * @module
 */
export {
  AgentError,
  type AgentEvent,
  type AgentOptions,
  type AgentSummary,
  CHECK_STEP_BOUND,
  gameModel,
  GIVE_UP_MS,
  isTransient,
  type RegisteredModel,
  runAgent,
  WHOLE_CHECK_STEP_BOUND,
} from "./agent.ts";
export {
  type DisputeEnd,
  disputeLocalContext,
  playDispute,
  PlayerStuck,
  type PlayOptions,
  type Role,
} from "./player.ts";
export type { Party } from "../dispute/party.ts";
export {
  checkTaskInputs,
  type PostedTask,
  requestTask,
  type TaskResult,
  taskResult,
  waitForResult,
  WaitTimeout,
} from "./request.ts";
export {
  type AgentSession,
  AgentSessionError,
  type ChainAnchor,
  openSession,
  type PendingTask,
  saveSession,
  type SessionOwner,
} from "./session.ts";
export { type DisputeStory, type PartyCost, type TaskStory, taskStory } from "./story.ts";
export { decodeTensors, encodeTensors, keyOfTensors, TaskDataError, tensorParts } from "./task_data.ts";
