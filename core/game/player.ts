/**
 * One party of one on-chain dispute, played to its end by the dispute engine
 * (core/dispute/engine.ts) with the chain as its transport: the transport reads the dispute from
 * the chain, hands the engine each turn that is ours (bisect, pick, claim, step: the same turns
 * as offline) and sends the engine's moves, and it claims a timeout when the other party's clock
 * has run out. Our moves come from our party (core/dispute/party.ts, honest or lying from node K).
 * It keeps no state the chain does not hold (its party is deterministic), so a restarted player
 * resumes any game where it stands.
 * @module
 */
import type { Hex } from "viem";
import {
  type GameClient,
  GameTxError,
  Phase,
  PHASE_NAMES,
  REASON_NAMES,
  TaskStatus,
} from "../chain/game_client.ts";
import type { StepWitness } from "../vm/mod.ts";
import type { CheckEnd } from "../dispute/check_run.ts";
import { splitPointsOf } from "../dispute/dissection.ts";
import {
  type CheckRuns,
  partyAnswers,
  PlayerStuck,
  playParty,
  type Transition,
  type Transport,
  type Turn,
} from "../dispute/engine.ts";
import type { Hash } from "../dispute/hash.ts";
import { oneStepProof } from "../dispute/proof.ts";
import type { Party } from "../dispute/party.ts";

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

export { type CheckRuns, PlayerStuck };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

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
  const { game, disputeId: id } = opts;
  const log = opts.log ?? (() => {});
  const task = await game.task((await game.dispute(id)).taskId);
  const model = await game.model(task.modelId);
  const answers = partyAnswers(opts.party, {
    role: opts.role,
    checks: opts.checks,
    // the model's bound of the check this dispute may claim: the whole model's, or one node's
    maxSteps: Number(task.singlePhase ? model.maxWholeSteps : model.maxSteps),
    log: (line) => log(`dispute ${id}: ${line}`),
  });
  const transport = new ChainTransport(opts, task.singlePhase, await game.arity());
  try {
    return await playParty(transport, answers);
  } catch (e) {
    if (e instanceof PlayerStuck && !e.message.startsWith("dispute ")) {
      throw new PlayerStuck(`dispute ${id}: ${e.message}`);
    }
    throw e;
  }
}

type ChainDispute = Awaited<ReturnType<GameClient["dispute"]>>;

/** The dispute's phase as a dissection phase. */
const phaseOf = (d: ChainDispute): 1 | 2 => d.phase === Phase.Bisect1 || d.phase === Phase.Pick1 ? 1 : 2;

/**
 * The chain as the dispute engine's transport: the contract holds the interval and the turn;
 * `turn()` polls it until a move is ours (claiming the other party's timeout meanwhile), and each
 * move is one transaction. A move that races the chain (the phase moved on) is read again.
 */
class ChainTransport implements Transport<DisputeEnd | undefined> {
  readonly #o: PlayOptions;
  readonly #log: (line: string) => void;
  #lastActed = "";
  #current?: { d: ChainDispute; where: string; points: bigint[]; posted: Hex[] };

  constructor(opts: PlayOptions, readonly singlePhase: boolean, readonly arity: number) {
    this.#o = opts;
    this.#log = opts.log ?? (() => {});
  }

  #sleep(): Promise<void> {
    return sleep(this.#o.pollMs ?? 250, this.#o.signal);
  }

  #transition(d: ChainDispute): Transition {
    return {
      from: this.singlePhase ? 0 : d.b - 1,
      node: d.b,
      pre: d.preState.toLowerCase() as Hash,
      claim: d.claimState.toLowerCase() as Hash,
    };
  }

  /** The chain's split points of the interval, checked against the offline dissection's. */
  async #points(d: ChainDispute): Promise<bigint[]> {
    const points = await this.#o.game.splitPoints(this.#o.disputeId);
    const ours = splitPointsOf({ lo: Number(d.lo), hi: Number(d.hi) }, this.arity);
    if (points.length !== ours.length || points.some((p, k) => Number(p) !== ours[k])) {
      throw new PlayerStuck(
        `the chain's split points of [${d.lo}, ${d.hi}] are ${points.join(", ")}, not ${ours.join(", ")}`,
      );
    }
    return points;
  }

  async turn(): Promise<Turn<DisputeEnd | undefined>> {
    const { game, disputeId: id, role, signal } = this.#o;
    const log = this.#log;
    while (!signal?.aborted) {
      const d = await game.dispute(id);
      if (d.phase === Phase.Resolved) return { kind: "ended", end: await this.#end(d) };
      if ((await game.task(d.taskId)).status === TaskStatus.Rejected) {
        // another dispute rejected the result: this one is the challenger's, ended by anyone
        log(`dispute ${id}: the result was rejected by another dispute: ending this one`);
        try {
          await game.timeout(id);
        } catch (e) {
          // the other party ended it first (a revert at simulation, or once mined): read it again
          if (!(e instanceof GameTxError)) throw e;
          await this.#sleep();
        }
        continue;
      }
      const defenderToMove = d.phase === Phase.Bisect1 || d.phase === Phase.Claim ||
        d.phase === Phase.Bisect2;
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
        await this.#sleep();
        continue;
      }
      if (d.phase === Phase.Claim && await game.deadline(id) === null) {
        // our claim waits for the claims of this result before it (their checks first: one
        // check at a time, in the chain's order); its clock is paused meanwhile
        if (this.#lastActed !== `queued ${where}`) log(`dispute ${id}: our claim waits for its turn`);
        this.#lastActed = `queued ${where}`;
        await this.#sleep();
        continue;
      }
      if (where === this.#lastActed || (d.phase === Phase.Step && role !== "challenger")) {
        // our move was sent and the chain has not shown it yet; or the step, the challenger's
        // move (its clock runs)
        await this.#sleep();
        continue;
      }
      const phase = phaseOf(d);
      const transition = phase === 2 ? this.#transition(d) : undefined;
      switch (d.phase) {
        case Phase.Bisect1:
        case Phase.Bisect2: {
          const points = await this.#points(d);
          this.#current = { d, where, points, posted: [] };
          return { kind: "bisect", phase, points: points.slice(1, -1).map(Number), transition };
        }
        case Phase.Pick1:
        case Phase.Pick2: {
          const points = await this.#points(d);
          const posted = await game.postedStates(id, this.#o.fromBlock);
          this.#current = { d, where, points, posted };
          return {
            kind: "pick",
            phase,
            points: points.slice(1, -1).map(Number),
            theirs: posted.map((h) => h.toLowerCase()),
            transition,
          };
        }
        case Phase.Claim:
          this.#current = { d, where, points: [], posted: [] };
          return { kind: "claim", transition: this.#transition(d) };
        case Phase.Step:
          this.#current = { d, where, points: [], posted: [] };
          return {
            kind: "step",
            transition: this.#transition(d),
            step: Number(d.lo),
            agreed: d.loState as Hash,
          };
      }
      await this.#sleep();
    }
    return { kind: "ended", end: undefined };
  }

  /** Sends one move; a race with the chain (the phase moved on meanwhile) is read again. */
  async #send(move: () => Promise<unknown>): Promise<void> {
    try {
      await move();
      this.#lastActed = this.#current!.where;
    } catch (e) {
      if (
        e instanceof GameTxError &&
        ["NotYourTurn", "WrongMove", "StatesMismatch", "WrongTaskStatus"].includes(e.errorName ?? "")
      ) {
        await this.#sleep();
        return;
      }
      throw e;
    }
  }

  #span(): string {
    const { d } = this.#current!;
    return `dispute ${this.#o.disputeId}: phase ${phaseOf(d)} [${d.lo}, ${d.hi}]`;
  }

  async bisect(ours: readonly unknown[]): Promise<void> {
    // one move in both phases: our commitments at the interior split points
    const what = phaseOf(this.#current!.d) === 1 ? "states" : "VM states";
    this.#log(`${this.#span()}: posting ${ours.length} ${what}`);
    await this.#send(() => this.#o.game.bisect(this.#o.disputeId, ours as Hex[]));
  }

  async pick(index: number): Promise<void> {
    // one rule in both phases: the first sub-interval whose end we dispute (disputedPart)
    const { d, points, posted } = this.#current!;
    const what = phaseOf(d) === 1 ? "states" : "VM states";
    this.#log(`${this.#span()}: disputing the ${what} of [${points[index]}, ${points[index + 1]}]`);
    await this.#send(() => this.#o.game.pick(this.#o.disputeId, index, posted));
  }

  async claim(check: { end: CheckEnd }): Promise<void> {
    const { d } = this.#current!;
    const id = this.#o.disputeId;
    if (check.end.exitCode !== 0) {
      throw new PlayerStuck(
        `dispute ${id}: our own check of S_${d.b} exits ${check.end.exitCode}: we cannot defend this result`,
      );
    }
    this.#log(`dispute ${id}: claiming the check of node ${d.b} exits valid at step ${check.end.step}`);
    await this.#send(() => this.#o.game.claimCheck(id, BigInt(check.end.step), check.end.hash as Hex));
  }

  async step(witness: StepWitness): Promise<void> {
    const { game, disputeId: id } = this.#o;
    const proof = oneStepProof(witness, disputeLocalContext(id) as never);
    await this.#send(async () => {
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
      this.#log(`dispute ${id}: executing step ${this.#current!.d.lo} on chain`);
      await game.step(id, proof.stateData, proof.proof);
    });
  }

  /** How the dispute ended, from its events. */
  async #end(d: ChainDispute): Promise<DisputeEnd> {
    const { game, disputeId: id, role } = this.#o;
    const won = role === "defender" ? d.defenderWon : !d.defenderWon;
    const executed = await game.events(["StepExecuted", "DisputeResolved"], this.#o.fromBlock);
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
    this.#log(
      `dispute ${id}: resolved, ${d.defenderWon ? "defender" : "challenger"} won (${end.reason}): we ${
        won ? "won" : "lost"
      }`,
    );
    return end;
  }
}
