/**
 * One party of one on-chain dispute, played to its end: it reads the dispute from the chain,
 * moves when it is its turn (bisect, pick, claim, step) from its own party (core/dispute/party.ts,
 * honest or lying from node K; bisect and pick are one move in both phases), and claims a
 * timeout when the other party's clock has run out. It keeps no state the chain does not hold
 * (its party is deterministic), so a restarted player resumes any game where it stands.
 * @module
 */
import type { Hex } from "viem";
import { OpmlError } from "../errors.ts";
import {
  type GameClient,
  GameTxError,
  Phase,
  PHASE_NAMES,
  REASON_NAMES,
  TaskStatus,
} from "../chain/game_client.ts";
import type { CheckRun } from "../dispute/check_run.ts";
import { disputedPart } from "../dispute/dissection.ts";
import { type Hash, toHash } from "../dispute/hash.ts";
import { oneStepProof } from "../dispute/proof.ts";
import { type Party, phase1States, transitionCheck } from "../dispute/party.ts";

/** timeout()'s reverts when the other party moved between our read and our transaction. */
const RACED_TIMEOUT = new Set(["ClockNotExpired", "GameEnded"]);

/** Which side of the dispute a player is. */
export type Role = "defender" | "challenger";

/** How a dispute ended, seen by one player. */
export interface DisputeEnd {
  disputeId: bigint;
  role: Role;
  defenderWon: boolean;
  /** Whether this player won. */
  won: boolean;
  /** The checked transition's end b (its node; N + 1 is the output check). */
  node: number;
  /** The step executed on chain (when decided by a step). */
  step?: bigint;
  /** rejected: the result lost another dispute, so this one ended for its challenger. */
  reason: "step" | "timeout" | "rejected";
}

/** Options of {@link playDispute}. */
export interface PlayOptions {
  game: GameClient;
  disputeId: bigint;
  role: Role;
  /** Our party: its model, the task's inputs, honest or lying from node K (core/dispute/party.ts). */
  party: Party;
  /** Block to search events from (the dispute's opening block or earlier). */
  fromBlock: bigint;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Milliseconds between polls of the chain (default 250). */
  pollMs?: number;
  signal?: AbortSignal;
  /**
   * Check runs shared by the players of one task ({@link CheckRuns}): disputes that reach the same
   * transition with the same claim share one run of the checker, so K challengers steering to
   * the same node cost the honest party one check (default: this player's own).
   */
  checks?: CheckRuns;
}

/**
 * Check runs of one task's transitions, by transition, claim and side (a lying defender's run
 * differs from the honest one): the players of the task's disputes share them.
 */
export type CheckRuns = Map<string, Promise<CheckRun>>;

/** The player cannot go on (its own computation contradicts the game): it stops, the clock runs. */
export class PlayerStuck extends OpmlError {
  override name = "PlayerStuck";
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

/** The context of a check run: the same transition and claim reuse the same run. */
interface CheckKey {
  a: number;
  b: number;
  pre: Hex;
  claim: Hex;
}

/** `bytes32(disputeId)`: the local context the game binds the checker's local data to. */
export function disputeLocalContext(disputeId: bigint): Hex {
  return `0x${disputeId.toString(16).padStart(64, "0")}`;
}

/**
 * Plays one dispute to its end and returns how it ended (or returns early when `signal` aborts,
 * with `undefined`).
 *
 * @example
 * ```ts
 * const end = await playDispute({ game, disputeId, role: "challenger", party, fromBlock });
 * end?.won; // true for an honest challenger against a wrong result
 * ```
 * @throws {PlayerStuck} when its own computation cannot produce a legal move.
 */
export async function playDispute(opts: PlayOptions): Promise<DisputeEnd | undefined> {
  const { game, disputeId: id, role, party: c, signal } = opts;
  const log = opts.log ?? (() => {});
  const pollMs = opts.pollMs ?? 250;
  const taskId = (await game.dispute(id)).taskId;
  const task = await game.task(taskId);
  const model = await game.model(task.modelId);
  // the model's bound of the check this dispute may claim: the whole model's, or one node's
  const maxSteps = Number(task.singlePhase ? model.maxWholeSteps : model.maxSteps);
  const n = c.model.prog.program.nodes.length;
  let states: Hex[] | undefined;
  const checks: CheckRuns = opts.checks ?? new Map();
  let lastActed = "";

  const myStates = async () => {
    if (!states) {
      log(`dispute ${id}: computing our phase-1 states (${n + 2})`);
      states = (await phase1States(c)).states as Hex[];
    }
    return states;
  };
  const myCheck = (key: CheckKey): Promise<CheckRun> => {
    const name = `${key.a}:${key.b}:${key.pre.toLowerCase()}:${key.claim.toLowerCase()}:${role}`;
    let run = checks.get(name);
    if (run) return run;
    run = (async () => {
      log(`dispute ${id}: running our check of transition ${key.a} -> ${key.b} in the VM`);
      const t0 = performance.now();
      const r = await transitionCheck(c, key.b, key.claim as Hash, {
        from: key.a,
        expectPre: key.pre as Hash,
        // a lying defender's check accepts its own claim; a challenger checks honestly
        honest: role !== "defender",
        maxSteps,
        onProgress: (s) => log(`dispute ${id}: check at step ${s.toLocaleString("en-US")}`),
      });
      log(
        `dispute ${id}: our check exits ${r.end.exitCode} after ${
          r.end.step.toLocaleString("en-US")
        } steps ` +
          `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
      return r;
    })();
    // a failed run is not kept: the next move runs it again
    run.catch(() => checks.delete(name));
    checks.set(name, run);
    return run;
  };
  const keyOf = (d: { b: number; preState: Hex; claimState: Hex }): CheckKey => ({
    a: task.singlePhase ? 0 : d.b - 1,
    b: d.b,
    pre: d.preState,
    claim: d.claimState,
  });

  /**
   * Our commitment at an index of the dispute's interval: a node state S_i in phase 1, the state
   * of our check of the selected transition at step i in phase 2 (the offline challenge's two
   * commitment sources, here asked by the chain's split points).
   */
  const oursAt = async (d: { phase: number; b: number; preState: Hex; claimState: Hex }) => {
    if (d.phase === Phase.Bisect1 || d.phase === Phase.Pick1) {
      const s = await myStates();
      return { at: (p: bigint) => s[Number(p)].toLowerCase() as Hex, what: "states" };
    }
    const run = await myCheck(keyOf(d));
    return { at: (p: bigint) => run.hashAt(Number(p)) as Hex, what: "VM states" };
  };
  const span = (d: { phase: number; lo: bigint; hi: bigint }) =>
    `phase ${d.phase === Phase.Bisect1 || d.phase === Phase.Pick1 ? 1 : 2} [${d.lo}, ${d.hi}]`;

  /** The sub-interval we dispute: the rule of every pick (`disputedPart`), on the posted states. */
  const choose = (points: bigint[], posted: Hex[], ours: (p: bigint) => Hex) =>
    disputedPart(posted.map((h, k) => ours(points[k + 1]) === h.toLowerCase()));

  while (!signal?.aborted) {
    const d = await game.dispute(id);
    if (d.phase === Phase.Resolved) {
      const won = role === "defender" ? d.defenderWon : !d.defenderWon;
      const executed = await game.events(["StepExecuted", "DisputeResolved"], opts.fromBlock);
      const mine = executed.filter((e) => (e.args as { disputeId: bigint }).disputeId === id);
      const stepEv = mine.find((e) => e.eventName === "StepExecuted");
      const resolved = mine.find((e) => e.eventName === "DisputeResolved");
      const reason = REASON_NAMES[Number((resolved?.args as { reason?: number } | undefined)?.reason ?? 1)];
      const end: DisputeEnd = {
        disputeId: id,
        role,
        defenderWon: d.defenderWon,
        won,
        node: d.b,
        reason: stepEv ? "step" : reason ?? "timeout",
      };
      if (stepEv) end.step = (stepEv.args as { stepIndex: bigint }).stepIndex;
      log(
        `dispute ${id}: resolved, ${d.defenderWon ? "defender" : "challenger"} won (${end.reason}): we ${
          won ? "won" : "lost"
        }`,
      );
      return end;
    }
    if ((await game.task(taskId)).status === TaskStatus.Rejected) {
      // another dispute rejected the result: this one is the challenger's, ended by anyone
      log(`dispute ${id}: the result was rejected by another dispute: ending this one`);
      try {
        await game.timeout(id);
      } catch (e) {
        // the other party ended it first (a revert at simulation, or once mined): read it again
        if (!(e instanceof GameTxError)) throw e;
        await sleep(pollMs, signal);
      }
      continue;
    }
    const defenderToMove = d.phase === Phase.Bisect1 || d.phase === Phase.Claim || d.phase === Phase.Bisect2;
    const ours = (role === "defender") === defenderToMove;
    const where = `${PHASE_NAMES[d.phase]} [${d.lo}, ${d.hi}]`;
    if (!ours) {
      // the other party's clock: claim the game once it has run out (a claim waiting for its
      // turn in the result's claim queue has its clock paused: no deadline)
      const deadline = await game.deadline(id);
      const now = await game.now();
      if (deadline !== null && (now > deadline || BigInt(Math.floor(Date.now() / 1000)) > deadline + 1n)) {
        try {
          log(`dispute ${id}: the ${defenderToMove ? "defender" : "challenger"}'s clock ran out: timeout`);
          await game.timeout(id);
          continue;
        } catch (e) {
          // the other party moved in time, or its last move (the step) ended the game first:
          // read the dispute again
          if (!(e instanceof GameTxError && RACED_TIMEOUT.has(e.errorName ?? ""))) throw e;
        }
      }
      await sleep(pollMs, signal);
      continue;
    }
    if (d.phase === Phase.Claim && await game.deadline(id) === null) {
      // our claim waits for the claims of this result before it (their checks first: one
      // check at a time, in the chain's order); its clock is paused meanwhile
      if (lastActed !== `queued ${where}`) log(`dispute ${id}: our claim waits for its turn`);
      lastActed = `queued ${where}`;
      await sleep(pollMs, signal);
      continue;
    }
    if (where === lastActed) {
      // our move was sent; the chain has not shown it yet
      await sleep(pollMs, signal);
      continue;
    }
    try {
      await move(d);
      lastActed = where;
    } catch (e) {
      // a race with the chain (the phase moved on meanwhile): read it again
      if (
        e instanceof GameTxError &&
        ["NotYourTurn", "WrongMove", "StatesMismatch", "WrongTaskStatus"].includes(e.errorName ?? "")
      ) {
        await sleep(pollMs, signal);
        continue;
      }
      throw e;
    }
  }
  return undefined;

  async function move(d: Awaited<ReturnType<GameClient["dispute"]>>): Promise<void> {
    switch (d.phase) {
      case Phase.Bisect1:
      case Phase.Bisect2: {
        // one move in both phases: our commitments at the interior split points
        const { at, what } = await oursAt(d);
        const points = await game.splitPoints(id);
        const interior = points.slice(1, -1).map(at);
        log(`dispute ${id}: ${span(d)}: posting ${interior.length} ${what}`);
        await game.bisect(id, interior);
        return;
      }
      case Phase.Pick1:
      case Phase.Pick2: {
        // one rule in both phases: the first sub-interval whose end we dispute (disputedPart)
        const { at, what } = await oursAt(d);
        const points = await game.splitPoints(id);
        const posted = await game.postedStates(id, opts.fromBlock);
        const j = choose(points, posted, at);
        log(`dispute ${id}: ${span(d)}: disputing the ${what} of [${points[j]}, ${points[j + 1]}]`);
        await game.pick(id, j, posted);
        return;
      }
      case Phase.Claim: {
        const run = await myCheck(keyOf(d));
        if (run.end.exitCode !== 0) {
          throw new PlayerStuck(
            `dispute ${id}: our own check of S_${d.b} exits ${run.end.exitCode}: we cannot defend this result`,
          );
        }
        log(`dispute ${id}: claiming the check of node ${d.b} exits valid at step ${run.end.step}`);
        await game.claimCheck(id, BigInt(run.end.step), run.end.hash as Hex);
        return;
      }
      case Phase.Step: {
        if (role !== "challenger") return; // the challenger's move (its clock runs)
        const run = await myCheck(keyOf(d));
        if (!run.witnessAt) throw new PlayerStuck(`dispute ${id}: our check run cannot prove its steps`);
        const w = run.witnessAt(Number(d.lo));
        if (toHash(w.preStateHash) !== d.loState.toLowerCase()) {
          throw new PlayerStuck(`dispute ${id}: our state at step ${d.lo} is not the agreed ${d.loState}`);
        }
        const proof = oneStepProof(w, disputeLocalContext(id) as never);
        for (const load of proof.oracle) {
          // the game loads the checker's local inputs itself; other parts are anyone's to load
          if (load.function === "loadKeccak256PreimagePart") {
            await game.oracleLoad(load.function, [BigInt(load.partOffset), load.preimage]);
          } else if (load.function === "loadMerkleDataPart") {
            await game.oracleLoad(load.function, [
              load.root,
              BigInt(load.length),
              BigInt(load.partOffset),
              load.proof,
            ]);
          }
        }
        log(`dispute ${id}: executing step ${d.lo} on chain`);
        await game.step(id, proof.stateData, proof.proof);
        return;
      }
    }
  }
}
