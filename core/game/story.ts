/**
 * The story of a task, read back from the chain alone: its result and every dispute on it, with
 * rounds per phase, the disputed node and step, the outcome, and each party's transactions and
 * gas (PreimageOracle loads a party sent during the dispute included).
 * @module
 */
import type { Address, Hex } from "viem";
import { type GameClient, PHASE_NAMES, REASON_NAMES, STATUS_NAMES } from "../chain/game_client.ts";

/** One party's transactions in a dispute. */
export interface PartyCost {
  address: Address;
  txs: number;
  gas: bigint;
}

/** One dispute, as the chain recorded it. */
export interface DisputeStory {
  disputeId: bigint;
  challenger: Address;
  phase: (typeof PHASE_NAMES)[number];
  /** Rounds (defender's posts) per phase. */
  rounds: { phase1: number; phase2: number };
  /** The checked transition's end (node b; N + 1: the output check), once phase 1 is over. */
  node?: number;
  /** The defender's claimed check length. */
  checkSteps?: bigint;
  /** The VM step executed on chain. */
  step?: bigint;
  outcome?: { defenderWon: boolean; reason: (typeof REASON_NAMES)[number] };
  defender: PartyCost;
  challengerCost: PartyCost;
  /** Seconds of block time from the challenge to the resolution (or to now). */
  seconds: number;
}

/** A task, its result and its disputes. */
export interface TaskStory {
  taskId: bigint;
  status: (typeof STATUS_NAMES)[number];
  requester: Address;
  server?: Address;
  modelId: Hex;
  inputKey: Hex;
  outputKey?: Hex;
  singlePhase: boolean;
  disputes: DisputeStory[];
}

const BLOCK_SCAN_LIMIT = 20_000n;

/**
 * Reads the story of a task from the game's events (from `fromBlock`, e.g. the deployment block).
 *
 * @example
 * ```ts
 * const story = await taskStory(game, 3n, config.deployBlock);
 * story.disputes[0].rounds; // { phase1: 2, phase2: 7 }
 * ```
 */
export async function taskStory(game: GameClient, taskId: bigint, fromBlock: bigint): Promise<TaskStory> {
  const task = await game.task(taskId);
  const zero = "0x0000000000000000000000000000000000000000";
  const story: TaskStory = {
    taskId,
    status: STATUS_NAMES[task.status] ?? "None",
    requester: task.requester,
    modelId: task.modelId,
    inputKey: task.inputKey,
    singlePhase: task.singlePhase,
    disputes: [],
  };
  if (task.server !== zero) {
    story.server = task.server;
    story.outputKey = task.outputKey;
  }
  const all = await game.events(undefined, fromBlock);
  const opened = all.filter((e) =>
    e.eventName === "DisputeOpened" && (e.args as { taskId: bigint }).taskId === taskId
  );
  const oracle = (await game.oracle()).toLowerCase();
  const now = await game.now();
  for (const o of opened) {
    const id = (o.args as { disputeId: bigint }).disputeId;
    const mine = all.filter((e) => (e.args as { disputeId?: bigint }).disputeId === id);
    const d = await game.dispute(id);
    const s: DisputeStory = {
      disputeId: id,
      challenger: d.challenger,
      phase: PHASE_NAMES[d.phase] ?? "None",
      rounds: { phase1: 0, phase2: 0 },
      defender: { address: task.server, txs: 0, gas: 0n },
      challengerCost: { address: d.challenger, txs: 0, gas: 0n },
      seconds: 0,
    };
    for (const e of mine) {
      const a = e.args as Record<string, unknown>;
      if (e.eventName === "StatesPosted") {
        if (Number(a.phase) === 1) s.rounds.phase1++;
        else s.rounds.phase2++;
      } else if (e.eventName === "TransitionSelected") s.node = Number(a.b);
      else if (e.eventName === "CheckClaimed") s.checkSteps = a.steps as bigint;
      else if (e.eventName === "StepExecuted") s.step = a.stepIndex as bigint;
      else if (e.eventName === "DisputeResolved") {
        s.outcome = {
          defenderWon: a.defenderWon as boolean,
          reason: REASON_NAMES[Number(a.reason)] ?? "timeout",
        };
      }
    }
    // every transaction of either party to the game or the oracle in the dispute's blocks
    const first = o.blockNumber!;
    const resolved = mine.find((e) => e.eventName === "DisputeResolved");
    const last = resolved?.blockNumber ?? await game.publicClient.getBlockNumber();
    const firstBlock = await game.publicClient.getBlock({ blockNumber: first });
    const lastBlock = resolved ? await game.publicClient.getBlock({ blockNumber: last }) : undefined;
    s.seconds = Number((lastBlock?.timestamp ?? now) - firstBlock.timestamp);
    if (last - first <= BLOCK_SCAN_LIMIT) {
      const gameAddr = game.address.toLowerCase();
      const parties = new Map<string, PartyCost>([
        [task.server.toLowerCase(), s.defender],
        [d.challenger.toLowerCase(), s.challengerCost],
      ]);
      for (let b = first; b <= last; b++) {
        const block = await game.publicClient.getBlock({ blockNumber: b, includeTransactions: true });
        for (const tx of block.transactions) {
          const party = parties.get(tx.from.toLowerCase());
          const to = tx.to?.toLowerCase();
          if (!party || (to !== gameAddr && to !== oracle)) continue;
          // a game call of another dispute or task is not this dispute's
          if (to === gameAddr && !callOfDispute(tx.input, id, taskId)) continue;
          const receipt = await game.publicClient.getTransactionReceipt({ hash: tx.hash });
          party.txs++;
          party.gas += receipt.gasUsed;
        }
      }
    }
    story.disputes.push(s);
  }
  return story;
}

const SELECTORS_BY_DISPUTE = new Set<string>();
const SELECTORS_BY_TASK = new Set<string>();

function callOfDispute(input: Hex, disputeId: bigint, taskId: bigint): boolean {
  if (SELECTORS_BY_DISPUTE.size === 0) initSelectors();
  const sel = input.slice(0, 10);
  const arg = input.length >= 74 ? BigInt(`0x${input.slice(10, 74)}`) : -1n;
  if (SELECTORS_BY_DISPUTE.has(sel)) return arg === disputeId;
  if (SELECTORS_BY_TASK.has(sel)) return arg === taskId;
  return false;
}

import { toFunctionSelector } from "viem";

function initSelectors(): void {
  for (
    const sig of [
      "bisect(uint256,bytes32[])",
      "pick(uint256,uint256,bytes32[])",
      "claimCheck(uint256,uint64,bytes32)",
      "step(uint256,bytes,bytes)",
      "timeout(uint256)",
    ]
  ) {
    SELECTORS_BY_DISPUTE.add(toFunctionSelector(sig));
  }
  SELECTORS_BY_TASK.add(toFunctionSelector("challenge(uint256)"));
}
