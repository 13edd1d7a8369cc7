/**
 * The long-running parties of opML on chain:
 * - a **server** answers the tasks of its models with the native engine (posting the output and
 *   its key with the bond), defends every dispute against its results, finalizes its results
 *   once their challenge window is over and withdraws what it is owed;
 * - a **verifier** re-runs every result of its models, leaves the right ones alone, challenges
 *   the wrong ones and plays each game to its end.
 * Both read the chain from a cursor kept in a session file and resume the games they are in
 * after a restart.
 * @module
 */
import type { Address, Hex } from "viem";
import type { ModelDir } from "../compiler/mod.ts";
import { runNative, RuntimeError } from "../engine/mod.ts";
import type { TensorValue } from "../ir/types.ts";
import { type GameClient, GameTxError, TaskStatus } from "../chain/game_client.ts";
import { keyHex } from "../vm/oracle.ts";
import { type DisputeEnd, playDispute, PlayerStuck } from "./player.ts";
import { type AgentSession, openSession, saveSession } from "./session.ts";
import { decodeTensors, encodeTensors, keyOfTensors, TaskDataError } from "./task_data.ts";
import type { Computation } from "./party.ts";

/** The step bound of one check registered with a model (link 4): 2^36 steps. */
export const CHECK_STEP_BOUND = 2n ** 36n;

/** A model as the game knows it. */
export interface RegisteredModel {
  model: ModelDir;
  modelId: Hex;
  programKey: Hex;
}

/**
 * The game's model id of a compiled model (registering it unless `register` is false).
 *
 * @example
 * ```ts
 * const { modelId } = await gameModel(game, loadModelDir("out/mnist"));
 * ```
 */
export async function gameModel(
  game: GameClient,
  model: ModelDir,
  register = true,
): Promise<RegisteredModel> {
  const m = model.manifest as { checkerInitialStateHash?: string };
  if (!m.checkerInitialStateHash) {
    throw new TaskDataError(`${model.dir}: no transition checker in the manifest: compile the model again`);
  }
  const programKey = keyHex(model.prog.key) as Hex;
  const args = [
    programKey,
    m.checkerInitialStateHash as Hex,
    model.prog.program.nodes.length,
    CHECK_STEP_BOUND,
  ] as const;
  const modelId = register ? await game.registerModel(...args) : await game.modelIdOf(...args);
  return { model, modelId, programKey };
}

/** What an agent reports as it works (the CLI prints these as lines or JSON). */
export type AgentEvent =
  | { kind: "answered"; taskId: bigint; outputKey: Hex; tamper?: number }
  | { kind: "agreed"; taskId: bigint }
  | { kind: "challenged"; taskId: bigint; disputeId: bigint; ours: Hex; theirs: Hex }
  | { kind: "skipped"; taskId: bigint; reason: string }
  | { kind: "dispute-end"; taskId: bigint; end: DisputeEnd }
  | { kind: "dispute-error"; taskId: bigint; disputeId: bigint; error: string }
  | { kind: "finalized"; taskId: bigint }
  | { kind: "withdrawn"; amount: bigint };

/** Options of {@link runAgent}. */
export interface AgentOptions {
  role: "server" | "verifier";
  game: GameClient;
  chainId: number;
  models: ModelDir[];
  /** Testing aid: compute every result as if lying from node K on. */
  tamper?: number;
  sessionPath: string;
  /** The block to start reading from on a new session (the game's deployment block). */
  startBlock: bigint;
  /** Verifier: only this task; the agent returns once its dispute (if any) is over. */
  onlyTask?: bigint;
  /** Finalize our results after their window (server) and withdraw our credits (default true). */
  finalize?: boolean;
  log?: (line: string) => void;
  onEvent?: (e: AgentEvent) => void;
  pollMs?: number;
  signal?: AbortSignal;
}

/** What an agent did in one run. */
export interface AgentSummary {
  events: AgentEvent[];
  session: AgentSession;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Runs a server or a verifier until `signal` aborts (or, with `onlyTask`, until that task is
 * settled for the verifier).
 *
 * @example
 * ```ts
 * const ctl = new AbortController();
 * const done = runAgent({ role: "server", game, chainId, models: [model], sessionPath: ".opml/server.json",
 *   startBlock: config.deployBlock, signal: ctl.signal });
 * ```
 */
export async function runAgent(opts: AgentOptions): Promise<AgentSummary> {
  const { game, role, signal } = opts;
  const log = opts.log ?? (() => {});
  const pollMs = opts.pollMs ?? 250;
  const events: AgentEvent[] = [];
  const emit = (e: AgentEvent) => {
    events.push(e);
    opts.onEvent?.(e);
  };
  const me = game.account;
  const session = openSession(
    opts.sessionPath,
    { role, chainId: opts.chainId, game: game.address, account: me },
    opts.startBlock,
  );
  const save = () => saveSession(opts.sessionPath, session);
  const models = new Map<string, RegisteredModel>();
  for (const model of opts.models) {
    const reg = await gameModel(game, model, role === "server");
    models.set(reg.modelId.toLowerCase(), reg);
  }
  const window = await game.challengeWindow();
  const bonds = await game.bonds();
  const players = new Map<string, Promise<void>>();
  const inputsOf = new Map<string, TensorValue[]>();

  /** The task's input from its TaskPosted event, checked against its key. */
  const taskInputs = async (taskId: bigint, reg: RegisteredModel, inputKey: Hex): Promise<TensorValue[]> => {
    const cached = inputsOf.get(taskId.toString());
    if (cached) return cached;
    let input: Hex;
    try {
      input = await game.taskData(taskId, "TaskPosted", opts.startBlock);
    } catch (e) {
      if (e instanceof GameTxError) throw new TaskDataError(e.message);
      throw e;
    }
    const inputs = decodeTensors(reg.model.prog, "input", input, inputKey);
    inputsOf.set(taskId.toString(), inputs);
    return inputs;
  };

  const computationOf = async (taskId: bigint): Promise<Computation | undefined> => {
    const task = await game.task(taskId);
    const reg = models.get(task.modelId.toLowerCase());
    if (!reg) return undefined;
    const rec = session.tasks[taskId.toString()];
    const tamper = rec ? rec.tamper : opts.tamper;
    return { model: reg.model, inputs: await taskInputs(taskId, reg, task.inputKey), tamper };
  };

  const startPlayer = (disputeId: bigint, taskId: bigint, playerRole: "defender" | "challenger") => {
    const key = disputeId.toString();
    if (players.has(key)) return;
    session.disputes[key] ??= { taskId: taskId.toString(), role: playerRole };
    save();
    const p = (async () => {
      try {
        const computation = await computationOf(taskId);
        if (!computation) throw new Error(`task ${taskId}: not a task of our models`);
        const end = await playDispute({
          game,
          disputeId,
          role: playerRole,
          computation,
          fromBlock: opts.startBlock,
          log,
          pollMs,
          signal,
        });
        if (!end) return;
        session.disputes[key].end = {
          won: end.won,
          reason: end.reason,
          node: end.node,
          ...(end.step !== undefined ? { step: end.step.toString() } : {}),
        };
        save();
        emit({ kind: "dispute-end", taskId, end });
      } catch (e) {
        const error = e instanceof PlayerStuck || e instanceof GameTxError || e instanceof TaskDataError
          ? e.message
          : `${(e as Error)?.message ?? e}`;
        log(`dispute ${disputeId}: ${error}`);
        emit({ kind: "dispute-error", taskId, disputeId, error });
      }
    })();
    players.set(key, p);
  };

  const answer = async (taskId: bigint, reg: RegisteredModel, inputKey: Hex) => {
    const task = await game.task(taskId);
    if (task.status !== TaskStatus.Open || session.tasks[taskId.toString()]) return;
    let inputs: TensorValue[];
    try {
      inputs = await taskInputs(taskId, reg, inputKey);
    } catch (e) {
      if (!(e instanceof TaskDataError)) throw e;
      session.tasks[taskId.toString()] = { model: reg.programKey, state: "skipped", note: e.message };
      save();
      emit({ kind: "skipped", taskId, reason: e.message });
      return;
    }
    const { outputs } = await runNative(reg.model.native, reg.model.prog, inputs, { tamper: opts.tamper });
    const outputKey = keyOfTensors(outputs);
    // recorded before sending: a restart must defend with the same --tamper
    session.tasks[taskId.toString()] = { model: reg.programKey, state: "answered", outputKey };
    if (opts.tamper !== undefined) session.tasks[taskId.toString()].tamper = opts.tamper;
    save();
    try {
      await game.postResult(taskId, outputKey, encodeTensors(outputs), bonds.server);
    } catch (e) {
      if (e instanceof GameTxError && e.errorName === "WrongTaskStatus") {
        session.tasks[taskId.toString()].note = "another server answered first";
        save();
        return;
      }
      throw e;
    }
    log(`task ${taskId}: answered with output key ${outputKey}`);
    emit({
      kind: "answered",
      taskId,
      outputKey,
      ...(opts.tamper !== undefined ? { tamper: opts.tamper } : {}),
    });
  };

  const check = async (taskId: bigint, reg: RegisteredModel, theirs: Hex, server: Address) => {
    if (same(server, me) || session.tasks[taskId.toString()]) return;
    const task = await game.task(taskId);
    let inputs: TensorValue[];
    try {
      inputs = await taskInputs(taskId, reg, task.inputKey);
    } catch (e) {
      if (!(e instanceof TaskDataError)) throw e;
      session.tasks[taskId.toString()] = { model: reg.programKey, state: "skipped", note: e.message };
      save();
      emit({ kind: "skipped", taskId, reason: e.message });
      return;
    }
    const { outputs } = await runNative(reg.model.native, reg.model.prog, inputs, { tamper: opts.tamper });
    const ours = keyOfTensors(outputs);
    const rec = {
      model: reg.programKey,
      outputKey: ours,
      ...(opts.tamper !== undefined ? { tamper: opts.tamper } : {}),
    };
    if (same(ours, theirs)) {
      session.tasks[taskId.toString()] = { ...rec, state: "agreed" };
      save();
      log(`task ${taskId}: result ${theirs} agrees with ours`);
      emit({ kind: "agreed", taskId });
      return;
    }
    if (task.status !== TaskStatus.Pending || (await game.now()) >= task.resultTime + window) {
      session.tasks[taskId.toString()] = { ...rec, state: "skipped", note: "result differs, window closed" };
      save();
      emit({
        kind: "skipped",
        taskId,
        reason: "the result differs from ours but can no longer be challenged",
      });
      return;
    }
    log(`task ${taskId}: result ${theirs} differs from ours ${ours}: challenging`);
    const disputeId = await game.challenge(taskId, bonds.challenger);
    session.tasks[taskId.toString()] = { ...rec, state: "challenged" };
    save();
    emit({ kind: "challenged", taskId, disputeId, ours, theirs });
    startPlayer(disputeId, taskId, "challenger");
  };

  const settle = async () => {
    if (opts.finalize === false) return;
    const now = await game.now();
    for (const [id, rec] of Object.entries(session.tasks)) {
      if (role !== "server" || rec.state !== "answered") continue;
      const task = await game.task(BigInt(id));
      if (task.status !== TaskStatus.Pending || !same(task.server, me)) continue;
      if (now < task.resultTime + window || task.openDisputes !== 0) continue;
      try {
        await game.finalize(BigInt(id));
        emit({ kind: "finalized", taskId: BigInt(id) });
        log(`task ${id}: final`);
      } catch (e) {
        if (!(e instanceof GameTxError)) throw e;
      }
    }
    const amount = await game.withdraw();
    if (amount > 0n) emit({ kind: "withdrawn", amount });
  };

  // resume the games we are in
  for (const [id, rec] of Object.entries(session.disputes)) {
    if (!rec.end) startPlayer(BigInt(id), BigInt(rec.taskId), rec.role);
  }

  const onlyDone = () => {
    if (opts.onlyTask === undefined) return false;
    const rec = session.tasks[opts.onlyTask.toString()];
    if (!rec) return false;
    if (rec.state !== "challenged") return true;
    return Object.values(session.disputes).some((d) => d.taskId === opts.onlyTask!.toString() && d.end);
  };

  while (!signal?.aborted && !onlyDone()) {
    const latest = await game.publicClient.getBlockNumber({ cacheTime: 0 });
    const from = BigInt(session.cursor);
    if (latest >= from) {
      for (const ev of await game.events(["TaskPosted", "ResultPosted", "DisputeOpened"], from, latest)) {
        const a = ev.args as Record<string, unknown>;
        const taskId = a.taskId as bigint;
        if (opts.onlyTask !== undefined && taskId !== opts.onlyTask) continue;
        try {
          if (ev.eventName === "TaskPosted" && role === "server") {
            const reg = models.get((a.modelId as string).toLowerCase());
            if (reg) await answer(taskId, reg, a.inputKey as Hex);
          } else if (ev.eventName === "ResultPosted" && role === "verifier") {
            const task = await game.task(taskId);
            const reg = models.get(task.modelId.toLowerCase());
            if (reg) await check(taskId, reg, a.outputKey as Hex, a.server as Address);
          }
        } catch (e) {
          // one task that cannot be served (its run fails, a transaction reverts) does not stop
          // the agent; transport errors do (the cursor is not advanced: a restart retries)
          if (!(e instanceof RuntimeError || e instanceof GameTxError || e instanceof TaskDataError)) throw e;
          const reason = e.message;
          const prev = session.tasks[taskId.toString()];
          session.tasks[taskId.toString()] = {
            ...prev,
            model: prev?.model ?? "0x",
            state: "skipped",
            note: reason,
          };
          save();
          log(`task ${taskId}: ${reason}`);
          emit({ kind: "skipped", taskId, reason });
        }
        if (ev.eventName === "DisputeOpened") {
          const task = await game.task(taskId);
          const disputeId = a.disputeId as bigint;
          if (role === "server" && same(task.server, me)) startPlayer(disputeId, taskId, "defender");
          if (role === "verifier" && same(a.challenger as string, me)) {
            startPlayer(disputeId, taskId, "challenger");
          }
        }
      }
      session.cursor = (latest + 1n).toString();
      save();
    }
    await settle();
    if (onlyDone()) break;
    await sleep(pollMs, signal);
  }
  await Promise.all(players.values());
  save();
  return { events, session };
}
