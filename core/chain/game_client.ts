/**
 * A typed client of a deployed OpmlGame (and its PreimageOracle) for one account: views,
 * transactions that report the contract's custom error in one line, and every sent
 * transaction's gas recorded for the figures.
 *
 * @module
 */

import { OpmlError } from "../errors.ts";
import {
  type Abi,
  type Account,
  type Address,
  BaseError,
  type Chain,
  concatHex,
  ContractFunctionRevertedError,
  encodeAbiParameters,
  type Hex,
  keccak256,
  parseEventLogs,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { opmlGameAbi } from "./abi/opml_game.ts";
import { preimageOracleAbi } from "./abi/preimage_oracle.ts";

/** Phases of a dispute, as the contract numbers them. */
export const Phase = {
  None: 0,
  Bisect1: 1,
  Pick1: 2,
  Claim: 3,
  Bisect2: 4,
  Pick2: 5,
  Step: 6,
  Resolved: 7,
} as const;

/** The name of a phase number. */
export const PHASE_NAMES = [
  "None",
  "Bisect1",
  "Pick1",
  "Claim",
  "Bisect2",
  "Pick2",
  "Step",
  "Resolved",
] as const;

/** Task statuses, as the contract numbers them (Committed: a server committed, not yet revealed). */
export const TaskStatus = {
  None: 0,
  Open: 1,
  Pending: 2,
  Finalized: 3,
  Rejected: 4,
  Cancelled: 5,
  Committed: 6,
} as const;

/** Why a dispute ended (`DisputeResolved.reason`), as the contract numbers it. */
export const REASON_NAMES = ["step", "timeout", "rejected"] as const;

/** The name of a task status number. */
export const STATUS_NAMES = [
  "None",
  "Open",
  "Pending",
  "Finalized",
  "Rejected",
  "Cancelled",
  "Committed",
] as const;

/** `getTask`. */
export interface TaskView {
  requester: Address;
  fee: bigint;
  server: Address;
  resultTime: bigint;
  status: number;
  singlePhase: boolean;
  openDisputes: number;
  modelId: Hex;
  inputKey: Hex;
  outputKey: Hex;
  /** After a rejection with several open disputes: each one's part of the server bond. */
  share: bigint;
  /** Disputes of the result that reached `Claim` (the tickets of its claim queue). */
  claimTickets: number;
  /** The ticket of the claim that has the turn (the one claim whose clock runs). */
  claimTurn: number;
  /** When that turn began (seconds). */
  claimTurnSince: bigint;
  /** The server's commitment ({@link commitmentOf}); zero before any. */
  commitment: Hex;
}

/** `getDispute`. */
export interface DisputeView {
  taskId: bigint;
  challenger: Address;
  phase: number;
  defenderWon: boolean;
  lastMove: bigint;
  defenderClock: bigint;
  challengerClock: bigint;
  b: number;
  /** Its place in the result's claim queue (set when it reached `Claim`). */
  claimTicket: number;
  lo: bigint;
  hi: bigint;
  loState: Hex;
  hiState: Hex;
  statesHash: Hex;
  preState: Hex;
  claimState: Hex;
}

/** `getModel`. */
export interface ModelView {
  programKey: Hex;
  checkerInit: Hex;
  nodeCount: number;
  /** Step bound of one node's check (multi-phase tasks). */
  maxSteps: bigint;
  /** Step bound of the whole model's check (single-phase tasks); 0: no single-phase tasks. */
  maxWholeSteps: bigint;
}

/** One transaction this client sent. */
export interface TxRecord {
  /** `game.<function>` or `oracle.<function>`. */
  fn: string;
  hash: Hex;
  gasUsed: bigint;
  block: bigint;
  /** The dispute it belongs to, when the call names one. */
  disputeId?: bigint;
}

/** A transaction reverted (or would): the contract's error, decoded, in one line. */
export class GameTxError extends OpmlError {
  override name = "GameTxError";
  constructor(message: string, readonly errorName?: string, readonly args?: readonly unknown[]) {
    super(message);
  }
}

type GameFunction =
  | "registerModel"
  | "postTask"
  | "cancelTask"
  | "commitResult"
  | "revealResult"
  | "forfeitCommitment"
  | "finalize"
  | "challenge"
  | "bisect"
  | "pick"
  | "claimCheck"
  | "step"
  | "timeout"
  | "withdraw"
  | "withdrawTo";

const DISPUTE_FUNCTIONS = new Set<string>(["bisect", "pick", "claimCheck", "step", "timeout"]);

function describeRevert(fn: string, e: unknown): GameTxError {
  if (e instanceof BaseError) {
    const rev = e.walk((x) => x instanceof ContractFunctionRevertedError) as
      | ContractFunctionRevertedError
      | null;
    if (rev?.data?.errorName) {
      const args = (rev.data.args ?? []).map((a) => typeof a === "bigint" ? a.toString() : String(a));
      return new GameTxError(
        `${fn} reverted: ${rev.data.errorName}(${args.join(", ")})`,
        rev.data.errorName,
        rev.data.args,
      );
    }
    return new GameTxError(`${fn} failed: ${e.shortMessage}`);
  }
  return new GameTxError(`${fn} failed: ${(e as Error)?.message ?? e}`);
}

/**
 * The commitment of a result, as `commitResult` takes it and `revealResult` checks it:
 * `keccak256(abi.encode(taskId, outputKey, salt, server))`.
 *
 * @example
 * ```ts
 * const c = commitmentOf(taskId, outputKey, salt, game.account);
 * ```
 */
export function commitmentOf(taskId: bigint, outputKey: Hex, salt: Hex, server: Address): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "uint256" }, { type: "bytes32" }, { type: "bytes32" }, { type: "address" }],
      [taskId, outputKey, salt, server],
    ),
  );
}

/**
 * The game seen by one account.
 *
 * @example
 * ```ts
 * const game = new GameClient(publicClient, walletClient, config.contracts.game);
 * const taskId = await game.postTask(modelId, inputKey, false, inputBytes, 10n ** 15n);
 * ```
 */
export class GameClient {
  /** Every transaction sent through this client, in order. */
  readonly txs: TxRecord[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #oracle?: Address;

  constructor(
    readonly publicClient: PublicClient,
    /** Undefined for a read-only client ({@link GameClient.readOnly}): views and logs only. */
    readonly walletClient: WalletClient<Transport, Chain | undefined, Account> | undefined,
    readonly address: Address,
    readonly onTx?: (tx: TxRecord) => void,
  ) {}

  /**
   * A client that only reads (views and logs): no account, no key.
   *
   * @example
   * ```ts
   * const game = GameClient.readOnly(publicClient, config.contracts.game);
   * ```
   */
  static readOnly(publicClient: PublicClient, address: Address): GameClient {
    return new GameClient(publicClient, undefined, address);
  }

  #wallet(): WalletClient<Transport, Chain | undefined, Account> {
    if (!this.walletClient) throw new GameTxError("a read-only game client cannot send transactions");
    return this.walletClient;
  }

  /** This client's account address. */
  get account(): Address {
    return this.#wallet().account.address;
  }

  // ---------------------------------------------------------------- views

  #read<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
    return this.publicClient.readContract({
      address: this.address,
      abi: opmlGameAbi as Abi,
      functionName,
      args,
    }) as Promise<T>;
  }

  /** The game's PreimageOracle, read once. */
  async oracle(): Promise<Address> {
    this.#oracle ??= await this.#read<Address>("oracle");
    return this.#oracle;
  }

  /** The dissection arity of the deployment. */
  async arity(): Promise<number> {
    return Number(await this.#read<bigint>("arity"));
  }

  /**
   * The bonds of a result and of a dispute, and `reward`: the part of a rejected result's bond
   * that its challengers share (the rest is burnt, docs/GAME.md).
   */
  async bonds(): Promise<{ server: bigint; challenger: bigint; reward: bigint }> {
    const [server, challenger, reward] = await Promise.all([
      this.#read<bigint>("serverBond"),
      this.#read<bigint>("challengerBond"),
      this.#read<bigint>("rejectionReward"),
    ]);
    return { server, challenger, reward };
  }

  /** The reveal window of a commitment in seconds (the clock budget). */
  async revealWindow(): Promise<bigint> {
    return BigInt(await this.#read<bigint | number>("revealWindow"));
  }

  /** The challenge window in seconds. */
  async challengeWindow(): Promise<bigint> {
    return BigInt(await this.#read<bigint | number>("challengeWindow"));
  }

  /** `getTask(taskId)`. */
  async task(taskId: bigint): Promise<TaskView> {
    const t = await this.#read<
      Omit<TaskView, "resultTime" | "claimTurnSince"> & {
        resultTime: number | bigint;
        claimTurnSince: number | bigint;
      }
    >("getTask", [taskId]);
    // uint40s on chain: viem gives numbers
    return { ...t, resultTime: BigInt(t.resultTime), claimTurnSince: BigInt(t.claimTurnSince) };
  }

  /**
   * `deadline(disputeId)`: the last second at which the party to move may move (a `timeout`
   * succeeds after it); `null` while its clock is paused (a claim waiting for its turn in the
   * result's claim queue).
   */
  async deadline(disputeId: bigint): Promise<bigint | null> {
    const d = await this.#read<bigint>("deadline", [disputeId]);
    return d === 2n ** 256n - 1n ? null : d;
  }

  /** `getDispute(disputeId)`. */
  dispute(disputeId: bigint): Promise<DisputeView> {
    return this.#read<DisputeView>("getDispute", [disputeId]);
  }

  /** `getModel(modelId)`. */
  model(modelId: Hex): Promise<ModelView> {
    return this.#read<ModelView>("getModel", [modelId]);
  }

  /** `splitPoints(disputeId)`: lo, the interior points, hi. */
  async splitPoints(disputeId: bigint): Promise<bigint[]> {
    return [...await this.#read<readonly bigint[]>("splitPoints", [disputeId])];
  }

  /** `modelIdOf(...)`. */
  modelIdOf(
    programKey: Hex,
    checkerInit: Hex,
    nodeCount: number,
    maxSteps: bigint,
    maxWholeSteps: bigint,
  ): Promise<Hex> {
    return this.#read<Hex>("modelIdOf", [programKey, checkerInit, nodeCount, maxSteps, maxWholeSteps]);
  }

  /** `credits(account)`. */
  credits(account: Address): Promise<bigint> {
    return this.#read<bigint>("credits", [account]);
  }

  /** `taskCount()` and `disputeCount()`. */
  async counts(): Promise<{ tasks: bigint; disputes: bigint }> {
    const [tasks, disputes] = await Promise.all([
      this.#read<bigint>("taskCount"),
      this.#read<bigint>("disputeCount"),
    ]);
    return { tasks, disputes };
  }

  /** The latest block's timestamp (the contract's clock). */
  async now(): Promise<bigint> {
    return (await this.publicClient.getBlock({ blockTag: "latest" })).timestamp;
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Simulates (so that a revert names the contract's error), sends and waits for the receipt.
   * Transactions of one client are sent one at a time, so that nonces never collide.
   */
  #send(
    target: "game" | "oracle",
    functionName: string,
    args: readonly unknown[],
    value?: bigint,
  ) {
    const run = async () => {
      const fn = `${target}.${functionName}`;
      const address = target === "game" ? this.address : await this.oracle();
      const abi = (target === "game" ? opmlGameAbi : preimageOracleAbi) as Abi;
      let request, gas;
      try {
        const call = { address, abi, functionName, args, value, account: this.#wallet().account };
        ({ request } = await this.publicClient.simulateContract(call));
        gas = await this.publicClient.estimateContractGas(call);
      } catch (e) {
        throw describeRevert(fn, e);
      }
      // The estimate is exact for the block it ran on; the mined block may differ (a later second,
      // another dispute's move first: a claim ticket, a clock), so a tight limit could run out of
      // gas: add a margin.
      const hash = await this.#wallet().writeContract(
        { ...request, gas: gas + gas / 4n + 20_000n } as Parameters<WalletClient["writeContract"]>[0],
      );
      const receipt = await this.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 100 });
      if (receipt.status !== "success") throw new GameTxError(`${fn} reverted (tx ${hash})`);
      const rec: TxRecord = { fn, hash, gasUsed: receipt.gasUsed, block: receipt.blockNumber };
      if (target === "game" && DISPUTE_FUNCTIONS.has(functionName)) rec.disputeId = args[0] as bigint;
      this.txs.push(rec);
      this.onTx?.(rec);
      return { receipt, logs: parseEventLogs({ abi: opmlGameAbi, logs: receipt.logs }) };
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  #game(fn: GameFunction, args: readonly unknown[], value?: bigint) {
    return this.#send("game", fn, args, value);
  }

  /**
   * `registerModel`: returns the model id (idempotent on chain). `maxSteps` bounds one node's
   * check, `maxWholeSteps` the whole model's (0: the model takes no single-phase tasks).
   */
  async registerModel(
    programKey: Hex,
    checkerInit: Hex,
    nodeCount: number,
    maxSteps: bigint,
    maxWholeSteps: bigint,
  ): Promise<Hex> {
    const id = await this.modelIdOf(programKey, checkerInit, nodeCount, maxSteps, maxWholeSteps);
    const known = await this.model(id);
    if (known.nodeCount === 0) {
      await this.#game("registerModel", [programKey, checkerInit, nodeCount, maxSteps, maxWholeSteps]);
    }
    return id;
  }

  /** `postTask` with the fee: returns the task id. */
  async postTask(
    modelId: Hex,
    inputKey: Hex,
    singlePhase: boolean,
    input: Hex,
    fee: bigint,
  ): Promise<bigint> {
    const { logs } = await this.#game("postTask", [modelId, inputKey, singlePhase, input], fee);
    const ev = logs.find((l) => l.eventName === "TaskPosted");
    if (!ev) throw new GameTxError("postTask: no TaskPosted event");
    return (ev.args as { taskId: bigint }).taskId;
  }

  /** `cancelTask`. */
  async cancelTask(taskId: bigint): Promise<void> {
    await this.#game("cancelTask", [taskId]);
  }

  /** `commitResult` with the server bond ({@link commitmentOf}). */
  async commitResult(taskId: bigint, commitment: Hex, bond: bigint): Promise<void> {
    await this.#game("commitResult", [taskId, commitment], bond);
  }

  /** `revealResult`: `outputs[i]` the bytes of output tensor i. */
  async revealResult(taskId: bigint, outputKey: Hex, salt: Hex, outputs: readonly Hex[]): Promise<void> {
    await this.#game("revealResult", [taskId, outputKey, salt, outputs]);
  }

  /** `forfeitCommitment`: ends an unrevealed commitment whose reveal window is over. */
  async forfeitCommitment(taskId: bigint): Promise<void> {
    await this.#game("forfeitCommitment", [taskId]);
  }

  /** `finalize`. */
  async finalize(taskId: bigint): Promise<void> {
    await this.#game("finalize", [taskId]);
  }

  /** `challenge` with the challenger bond: returns the dispute id. */
  async challenge(taskId: bigint, bond: bigint): Promise<bigint> {
    const { logs } = await this.#game("challenge", [taskId], bond);
    const ev = logs.find((l) => l.eventName === "DisputeOpened");
    if (!ev) throw new GameTxError("challenge: no DisputeOpened event");
    return (ev.args as { disputeId: bigint }).disputeId;
  }

  /** `bisect`. */
  async bisect(disputeId: bigint, states: readonly Hex[]): Promise<void> {
    await this.#game("bisect", [disputeId, states]);
  }

  /** `pick`. */
  async pick(disputeId: bigint, index: number, states: readonly Hex[]): Promise<void> {
    await this.#game("pick", [disputeId, BigInt(index), states]);
  }

  /** `claimCheck`. */
  async claimCheck(disputeId: bigint, steps: bigint, finalState: Hex): Promise<void> {
    await this.#game("claimCheck", [disputeId, steps, finalState]);
  }

  /** `step`: returns whether the defender won. */
  async step(disputeId: bigint, stateData: Hex, proof: Hex): Promise<boolean> {
    const { logs } = await this.#game("step", [disputeId, stateData, proof]);
    const ev = logs.find((l) => l.eventName === "DisputeResolved");
    return (ev?.args as { defenderWon: boolean } | undefined)?.defenderWon ?? false;
  }

  /** `timeout` (also ends at once, for its challenger, a dispute of a rejected result). */
  async timeout(disputeId: bigint): Promise<void> {
    await this.#game("timeout", [disputeId]);
  }

  /** `withdraw`: the amount withdrawn (0 when there was nothing to withdraw). */
  async withdraw(): Promise<bigint> {
    const credit = await this.credits(this.account);
    if (credit === 0n) return 0n;
    await this.#game("withdraw", []);
    return credit;
  }

  /** `withdrawTo`: sends our credit to `to`; the amount (0 when there was nothing). */
  async withdrawTo(to: Address): Promise<bigint> {
    const credit = await this.credits(this.account);
    if (credit === 0n) return 0n;
    await this.#game("withdrawTo", [to]);
    return credit;
  }

  /** Sends one PreimageOracle load (`loadKeccak256PreimagePart`, `loadMerkleDataPart`, ...). */
  async oracleLoad(functionName: string, args: readonly unknown[]): Promise<void> {
    await this.#send("oracle", functionName, args);
  }

  // ---------------------------------------------------------------- logs

  /**
   * The interior states the defender posted last in a dispute (its latest `StatesPosted`).
   *
   * @example
   * ```ts
   * const states = await game.postedStates(id, config.deployBlock);
   * ```
   */
  async postedStates(disputeId: bigint, fromBlock: bigint): Promise<Hex[]> {
    const logs = await this.publicClient.getContractEvents({
      address: this.address,
      abi: opmlGameAbi,
      eventName: "StatesPosted",
      args: { disputeId },
      fromBlock,
    });
    const last = logs.at(-1);
    if (!last) throw new GameTxError(`dispute ${disputeId}: no StatesPosted event since block ${fromBlock}`);
    return [...(last.args as { states: readonly Hex[] }).states];
  }

  /**
   * The data a task (`TaskPosted`: its input) or its result (`ResultPosted`: its outputs,
   * concatenated) carries on chain, from the latest such event of the task.
   *
   * @example
   * ```ts
   * const input = await game.taskData(taskId, "TaskPosted", config.deployBlock);
   * ```
   */
  async taskData(taskId: bigint, eventName: "TaskPosted" | "ResultPosted", fromBlock: bigint): Promise<Hex> {
    const logs = await this.publicClient.getContractEvents({
      address: this.address,
      abi: opmlGameAbi,
      eventName,
      args: { taskId },
      fromBlock,
    });
    const last = logs.at(-1);
    if (!last) throw new GameTxError(`task ${taskId}: no ${eventName} event since block ${fromBlock}`);
    const args = last.args as { input?: Hex; outputs?: readonly Hex[] };
    return (eventName === "TaskPosted" ? args.input : concatHex([...(args.outputs ?? [])])) ?? "0x";
  }

  /**
   * The decoded game events of a block range (all of them, or those named), oldest first.
   *
   * @example
   * ```ts
   * const posted = await game.events(["TaskPosted"], config.deployBlock);
   * ```
   */
  async events(names: readonly string[] | undefined, fromBlock: bigint, toBlock?: bigint) {
    const logs = await this.publicClient.getLogs({ address: this.address, fromBlock, toBlock });
    const parsed = parseEventLogs({ abi: opmlGameAbi, logs });
    return names ? parsed.filter((l) => names.includes(l.eventName)) : parsed;
  }
}
