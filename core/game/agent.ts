/**
 * The long-running parties of opML on chain:
 * - a **server** answers the tasks of its models with the native engine (posting the output and
 *   its key with the bond), defends every dispute against its results, finalizes its results
 *   once their challenge window is over and withdraws what it is owed;
 * - a **verifier** re-runs every result of its models, leaves the right ones alone, challenges
 *   the wrong ones and plays each game to its end.
 * Both read the chain from a cursor per model kept in a session file (tasks of models they do not
 * serve stay unread for a later run that serves them), retry what failed locally, survive a node
 * that stops answering for a while, and resume the games they are in after a restart.
 * @module
 */
import { BaseError, bytesToHex, type Hex } from "viem";
import { EXIT, OpmlError } from "../errors.ts";
import type { ModelDir } from "../compiler/mod.ts";
import { NativeSession, RuntimeError } from "../engine/mod.ts";
import type { TensorValue } from "../ir/types.ts";
import { commitmentOf, type GameClient, GameTxError, TaskStatus } from "../chain/game_client.ts";
import { keyHex } from "../vm/oracle.ts";
import { type CheckRuns, type DisputeEnd, playDispute, PlayerStuck } from "./player.ts";
import { type AgentSession, openSession, saveSession } from "./session.ts";
import { decodeTensors, keyOfTensors, TaskDataError, tensorParts } from "./task_data.ts";
import { type Party, PartyError, partyOf, partyOutputs } from "../dispute/party.ts";

/** The step bound of one node's check registered with a model (link 4): 2^36 steps. */
export const CHECK_STEP_BOUND = 2n ** 36n;

/**
 * The step bound of the whole model's check (single-phase tasks) registered with a model: the
 * contract's largest, 2^40 steps (the 124M-parameter model's whole check is 129 G steps, above
 * the node bound).
 */
export const WHOLE_CHECK_STEP_BOUND = 2n ** 40n;

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
    WHOLE_CHECK_STEP_BOUND,
  ] as const;
  const modelId = register ? await game.registerModel(...args) : await game.modelIdOf(...args);
  return { model, modelId, programKey };
}

/** What an agent reports as it works (the CLI prints these as lines or JSON). */
export type AgentEvent =
  | { kind: "answered"; taskId: bigint; outputKey: Hex; liesFrom?: number }
  | { kind: "agreed"; taskId: bigint }
  | { kind: "challenged"; taskId: bigint; disputeId: bigint; ours: Hex; theirs: Hex }
  | { kind: "skipped"; taskId: bigint; reason: string }
  | { kind: "deferred"; taskId: bigint; reason: string }
  | { kind: "dispute-end"; taskId: bigint; end: DisputeEnd }
  | { kind: "dispute-error"; taskId: bigint; disputeId: bigint; error: string }
  | { kind: "finalized"; taskId: bigint }
  | { kind: "withdrawn"; amount: bigint };

/** An agent cannot start or go on: a bad option for its models, no such task, a node gone for good. */
export class AgentError extends OpmlError {
  override name = "AgentError";
}

/** Options of {@link runAgent}. */
export interface AgentOptions {
  role: "server" | "verifier";
  game: GameClient;
  chainId: number;
  models: ModelDir[];
  /** Testing aid (`--tamper node=K`): compute every result as if lying from node K on. */
  liesFrom?: number;
  sessionPath: string;
  /** The block to start reading from on a new session (the game's deployment block). */
  startBlock: bigint;
  /** Verifier: only this task; the agent returns once its dispute (if any) is over. */
  onlyTask?: bigint;
  /** Finalize our results after their window (server) and withdraw our credits (default true). */
  finalize?: boolean;
  log?: (line: string) => void;
  onEvent?: (e: AgentEvent) => void;
  /** Called once the session is open, before anything is sent (the CLI's banner). */
  onReady?: (session: AgentSession) => void;
  pollMs?: number;
  /** The node's URL, for messages (default: the public client's). */
  rpc?: string;
  /** How long the node may fail to answer before the agent gives up (default 300 s). */
  giveUpMs?: number;
  signal?: AbortSignal;
}

/** What an agent did in one run. */
export interface AgentSummary {
  events: AgentEvent[];
  session: AgentSession;
  /** With `onlyTask`: whether that task is settled (false when the run was aborted first). */
  settled: boolean;
}

/** Default of {@link AgentOptions.giveUpMs}. */
export const GIVE_UP_MS = 300_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

const firstLine = (e: unknown) => `${(e as Error)?.message ?? e}`.split("\n")[0];

/** A failure of the node or of the way to it (retried), as opposed to a decision of the chain. */
export function isTransient(e: unknown): boolean {
  if (e instanceof GameTxError) return e.errorName === undefined && /failed: /.test(e.message);
  return e instanceof BaseError;
}

/**
 * Failures of the node in a row: exponential back-off from 250 ms to 10 s, and an
 * {@link AgentError} naming the URL once the node has failed for longer than `giveUpMs`.
 */
class Backoff {
  #since?: number;
  #delay = 250;
  constructor(readonly rpc: string, readonly giveUpMs: number) {}
  ok(): void {
    this.#since = undefined;
    this.#delay = 250;
  }
  /** The delay before the next attempt; throws when it is time to give up. */
  failed(e: unknown): number {
    this.#since ??= Date.now();
    if (Date.now() - this.#since > this.giveUpMs) {
      throw new AgentError(
        `${this.rpc} has not answered for ${Math.round((Date.now() - this.#since) / 1000)} s (${
          shortOf(e)
        }): giving up`,
      );
    }
    const d = this.#delay;
    this.#delay = Math.min(this.#delay * 2, 10_000);
    return d;
  }
}

function shortOf(e: unknown): string {
  const short = (e as { shortMessage?: unknown })?.shortMessage;
  return typeof short === "string" ? short.split("\n")[0] : firstLine(e);
}

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
 * @throws {AgentError} for a `liesFrom` outside a model's nodes, an `onlyTask` that does not exist,
 *   or a node that has not answered for `giveUpMs`.
 */
export async function runAgent(opts: AgentOptions): Promise<AgentSummary> {
  const { game, role, signal } = opts;
  const log = opts.log ?? (() => {});
  const pollMs = opts.pollMs ?? 250;
  const rpc = opts.rpc ?? game.publicClient.transport?.url ?? "the node";
  const giveUpMs = opts.giveUpMs ?? GIVE_UP_MS;
  const events: AgentEvent[] = [];
  const emit = (e: AgentEvent) => {
    events.push(e);
    opts.onEvent?.(e);
  };
  // a lie outside a model's nodes is a usage error at start, before a session is written
  for (const m of opts.models) {
    try {
      partyOf(m, [], opts.liesFrom);
    } catch (e) {
      if (e instanceof PartyError) throw new AgentError(e.message, EXIT.usage);
      throw e;
    }
  }
  const me = game.account;
  // the first reads of the chain get the same patience as the loop's
  const startup = new Backoff(rpc, giveUpMs);
  const retrying = async <T>(f: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        const v = await f();
        startup.ok();
        return v;
      } catch (e) {
        if (!isTransient(e) || signal?.aborted) throw e;
        const d = startup.failed(e);
        log(`${rpc}: ${shortOf(e)}: retrying in ${d} ms`);
        await sleep(d, signal);
      }
    }
  };
  if (opts.onlyTask !== undefined) {
    const { tasks } = await retrying(() => game.counts());
    if (opts.onlyTask < 1n || opts.onlyTask > tasks) {
      throw new AgentError(`task ${opts.onlyTask}: no such task (${tasks} posted)`);
    }
  }
  const [head, anchorBlock] = await retrying(async () => {
    const head = await game.publicClient.getBlockNumber({ cacheTime: 0 });
    const block = await game.publicClient.getBlock({ blockNumber: opts.startBlock });
    return [head, block] as const;
  });
  const session = openSession(
    opts.sessionPath,
    {
      role,
      chainId: opts.chainId,
      game: game.address,
      account: me,
      anchor: { deployBlock: opts.startBlock.toString(), blockHash: anchorBlock.hash as Hex },
      head,
    },
    log,
  );
  const save = () => saveSession(opts.sessionPath, session);
  save();
  opts.onReady?.(session);
  const models = new Map<string, RegisteredModel>();
  for (const model of opts.models) {
    const reg = await retrying(() => gameModel(game, model, role === "server"));
    models.set(reg.modelId.toLowerCase(), reg);
  }
  const [window, bonds, revealWindow] = await retrying(() =>
    Promise.all([game.challengeWindow(), game.bonds(), game.revealWindow()])
  );
  const players = new Map<string, Promise<void>>();
  /** The check runs of each task with a running player, shared by its disputes, and their count. */
  const taskChecks = new Map<string, { runs: CheckRuns; players: number }>();
  const inputsOf = new Map<string, TensorValue[]>();
  const modelOfTask = new Map<string, string>();
  // with onlyTask the session's cursors stay where they are (other tasks are not handled)
  const cursors: Record<string, string> = opts.onlyTask === undefined
    ? session.cursors
    : { ...session.cursors };
  const cursorOf = (modelId: string) => BigInt(cursors[modelId] ?? opts.startBlock.toString());
  /** One runtime per model kept loaded for the honest outputs of tasks; closed when the agent stops. */
  const runtimes = new Map<ModelDir, NativeSession>();
  const runtimeOf = (m: ModelDir): NativeSession => {
    let s = runtimes.get(m);
    if (!s) runtimes.set(m, s = NativeSession.open(m.native, m.prog));
    return s;
  };
  /** When a pending task may be tried again (in-memory back-off per task). */
  const retryAt = new Map<string, { at: number; delay: number }>();

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

  const modelIdOf = async (taskId: bigint): Promise<string> => {
    const key = taskId.toString();
    let m = modelOfTask.get(key);
    if (m === undefined) {
      m = (await game.task(taskId)).modelId.toLowerCase();
      modelOfTask.set(key, m);
    }
    return m;
  };

  /** How we lie on a task (from node K, or not): as recorded when we answered or checked it, else `opts.liesFrom`. */
  const liesFromOn = (taskId: bigint): number | undefined => {
    const rec = session.tasks[taskId.toString()];
    return rec ? rec.liesFrom : opts.liesFrom;
  };

  /** Our party of a task (undefined: not a task of our models). */
  const partyOfTask = async (taskId: bigint): Promise<Party | undefined> => {
    const task = await game.task(taskId);
    const reg = models.get(task.modelId.toLowerCase());
    if (!reg) return undefined;
    return partyOf(reg.model, await taskInputs(taskId, reg, task.inputKey), liesFromOn(taskId));
  };

  const startPlayer = (disputeId: bigint, taskId: bigint, playerRole: "defender" | "challenger") => {
    const key = disputeId.toString();
    if (players.has(key)) return;
    session.disputes[key] ??= { taskId: taskId.toString(), role: playerRole };
    save();
    const shared = taskChecks.get(taskId.toString()) ?? { runs: new Map(), players: 0 };
    shared.players++;
    taskChecks.set(taskId.toString(), shared);
    const p = (async () => {
      const backoff = new Backoff(rpc, giveUpMs);
      while (!signal?.aborted) {
        try {
          const party = await partyOfTask(taskId);
          if (!party) throw new PlayerStuck(`task ${taskId}: not a task of our models`);
          const end = await playDispute({
            game,
            disputeId,
            role: playerRole,
            party,
            fromBlock: opts.startBlock,
            log,
            pollMs,
            signal,
            checks: shared.runs,
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
          return;
        } catch (e) {
          let error: string;
          if (isTransient(e)) {
            // the node failed, not the game: the player resumes from the chain's state
            try {
              const d = backoff.failed(e);
              log(`dispute ${disputeId}: ${shortOf(e)}: resuming in ${d} ms`);
              await sleep(d, signal);
              continue;
            } catch (given) {
              error = (given as Error).message;
            }
          } else error = e instanceof OpmlError ? e.message : firstLine(e);
          log(`dispute ${disputeId}: ${error}`);
          emit({ kind: "dispute-error", taskId, disputeId, error });
          return;
        }
      }
    })().finally(() => {
      // the task's check runs (their checkpoints) live as long as one of its players
      if (--shared.players === 0) taskChecks.delete(taskId.toString());
    });
    players.set(key, p);
  };

  /** Another server holds the task with a commitment not yet revealed: retried later. */
  const heldByAnother = (taskId: bigint) =>
    new GameTxError(
      `task ${taskId}: another server committed to it first (answering if it does not reveal in time)`,
    );

  /**
   * Answers an open task: commits to the result (a hash with a secret salt), then reveals it
   * with its outputs. The salt is recorded before the commitment is sent, so a restart reveals
   * a commitment of ours that landed.
   */
  const answer = async (taskId: bigint, reg: RegisteredModel) => {
    const key = taskId.toString();
    const rec = session.tasks[key];
    if (rec && rec.state !== "answered") return;
    const task = await game.task(taskId);
    const ours = task.status === TaskStatus.Committed && same(task.server, me);
    if (task.status === TaskStatus.Committed && !ours) {
      // its bond is forfeited once the reveal window is over; our commitment then replaces it
      if ((await game.now()) < task.resultTime + revealWindow) throw heldByAnother(taskId);
    } else if (task.status !== TaskStatus.Open && !ours) {
      return; // revealed (by us or another server) or cancelled: nothing to do
    }
    // a record without a result on chain: our transactions never landed; answer again, the same way
    const liesFrom = liesFromOn(taskId);
    const outputs = await partyOutputs(
      partyOf(reg.model, await taskInputs(taskId, reg, task.inputKey), liesFrom),
      runtimeOf,
    );
    const outputKey = keyOfTensors(outputs);
    const salt = rec?.salt ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    // recorded before sending: a restart must reveal with the same salt and defend with the same --tamper
    session.tasks[key] = { model: reg.programKey, state: "answered", outputKey, salt };
    if (liesFrom !== undefined) session.tasks[key].liesFrom = liesFrom;
    save();
    if (!ours) {
      try {
        await game.commitResult(taskId, commitmentOf(taskId, outputKey, salt, me), bonds.server);
      } catch (e) {
        if (!(e instanceof GameTxError && e.errorName === "WrongTaskStatus")) throw e;
        const now = await game.task(taskId);
        if (now.status === TaskStatus.Committed && !same(now.server, me)) throw heldByAnother(taskId);
        session.tasks[key].note = "another server answered first";
        save();
        return;
      }
    }
    await game.revealResult(taskId, outputKey, salt, tensorParts(outputs));
    log(`task ${taskId}: answered with output key ${outputKey}`);
    emit({ kind: "answered", taskId, outputKey, ...(liesFrom !== undefined ? { liesFrom } : {}) });
  };

  const check = async (taskId: bigint, reg: RegisteredModel) => {
    if (session.tasks[taskId.toString()]) return;
    const task = await game.task(taskId);
    const noResult: number[] = [TaskStatus.Open, TaskStatus.Committed, TaskStatus.Cancelled];
    if (noResult.includes(task.status)) return; // no result (yet)
    if (same(task.server, me)) return;
    const theirs = task.outputKey;
    const party = partyOf(reg.model, await taskInputs(taskId, reg, task.inputKey), opts.liesFrom);
    const ours = keyOfTensors(await partyOutputs(party, runtimeOf));
    const rec = {
      model: reg.programKey,
      outputKey: ours,
      ...(opts.liesFrom !== undefined ? { liesFrom: opts.liesFrom } : {}),
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

  /**
   * Answers (server) or checks (verifier) one task. A decision of the chain (bad task data, a
   * revert) skips it for good; a local failure (our run, a transaction that could not be sent)
   * makes it pending, retried on a later pass; a failure of the node is thrown (the pass is
   * retried from the same cursors).
   */
  const handle = async (taskId: bigint, reg: RegisteredModel) => {
    const key = taskId.toString();
    try {
      if (role === "server") await answer(taskId, reg);
      else await check(taskId, reg);
      if (session.pending[key]) {
        delete session.pending[key];
        retryAt.delete(key);
        save();
      }
    } catch (e) {
      if (e instanceof TaskDataError || (e instanceof GameTxError && e.errorName !== undefined)) {
        const prev = session.tasks[key];
        session.tasks[key] = {
          ...prev,
          model: prev?.model ?? reg.programKey,
          state: "skipped",
          note: e.message,
        };
        delete session.pending[key];
        save();
        log(`task ${taskId}: ${e.message}`);
        emit({ kind: "skipped", taskId, reason: e.message });
        return;
      }
      if (!(e instanceof RuntimeError || e instanceof GameTxError)) throw e;
      const first = session.pending[key] === undefined;
      session.pending[key] = { modelId: reg.modelId.toLowerCase() as Hex, reason: e.message };
      save();
      const r = retryAt.get(key);
      const delay = r ? Math.min(r.delay * 2, 60_000) : 1000;
      retryAt.set(key, { at: Date.now() + delay, delay });
      log(`task ${taskId}: ${e.message} (retrying in ${delay / 1000} s)`);
      if (first) emit({ kind: "deferred", taskId, reason: e.message });
    }
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
        if (!(e instanceof GameTxError) || isTransient(e)) throw e;
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

  /** One read of the chain: pending tasks, new events of our models, settling. */
  const pass = async () => {
    const latest = await game.publicClient.getBlockNumber({ cacheTime: 0 });
    for (const [id, p] of Object.entries(session.pending)) {
      const reg = models.get(p.modelId.toLowerCase());
      const taskId = BigInt(id);
      if (!reg || (opts.onlyTask !== undefined && taskId !== opts.onlyTask)) continue;
      if ((retryAt.get(id)?.at ?? 0) > Date.now()) continue;
      await handle(taskId, reg);
    }
    let from = latest + 1n;
    for (const m of models.keys()) if (cursorOf(m) < from) from = cursorOf(m);
    if (latest >= from) {
      for (const ev of await game.events(["TaskPosted", "ResultPosted", "DisputeOpened"], from, latest)) {
        const a = ev.args as Record<string, unknown>;
        const taskId = a.taskId as bigint;
        if (opts.onlyTask !== undefined && taskId !== opts.onlyTask) continue;
        const modelId = ev.eventName === "TaskPosted"
          ? (a.modelId as string).toLowerCase()
          : await modelIdOf(taskId);
        const reg = models.get(modelId);
        // not our model, or already read for this model
        if (!reg || ev.blockNumber === null || ev.blockNumber < cursorOf(modelId)) continue;
        if (session.pending[taskId.toString()]) continue; // retried above, on its own schedule
        if (ev.eventName === "TaskPosted" && role === "server") await handle(taskId, reg);
        else if (ev.eventName === "ResultPosted" && role === "verifier") await handle(taskId, reg);
        else if (ev.eventName === "DisputeOpened") {
          const task = await game.task(taskId);
          const disputeId = a.disputeId as bigint;
          if (role === "server" && same(task.server, me)) startPlayer(disputeId, taskId, "defender");
          if (role === "verifier" && same(a.challenger as string, me)) {
            startPlayer(disputeId, taskId, "challenger");
          }
        }
      }
      for (const m of models.keys()) cursors[m] = (latest + 1n).toString();
      save();
    }
    await settle();
  };

  try {
    const backoff = new Backoff(rpc, giveUpMs);
    while (!signal?.aborted && !onlyDone()) {
      try {
        await pass();
        backoff.ok();
      } catch (e) {
        if (!isTransient(e) || signal?.aborted) throw e;
        const d = backoff.failed(e);
        log(`${rpc}: ${shortOf(e)}: retrying in ${d} ms`);
        await sleep(d, signal);
        continue;
      }
      if (onlyDone()) break;
      await sleep(pollMs, signal);
    }
  } finally {
    await Promise.all([...runtimes.values()].map((s) => s.close()));
  }
  await Promise.all(players.values());
  save();
  return { events, session, settled: onlyDone() };
}
