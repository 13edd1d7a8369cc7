/**
 * Helpers of the end-to-end game tests: a fresh anvil with the contracts deployed, a GameClient
 * per dev account, agents started and stopped in-process, time travel (`evm_increaseTime` +
 * `evm_mine`), exact gas costs of an account's transactions, and waiting for a condition with a
 * generous deadline (a hang fails with what it waited for; no test asserts a duration).
 * @module
 */
import type { Hex } from "viem";
import { type Anvil, startAnvil } from "../../core/chain/anvil.ts";
import { devAccount } from "../../core/chain/accounts.ts";
import { DEFAULT_GAME_PARAMS, type GameParams } from "../../core/chain/config.ts";
import { publicClientFor, walletClientFor } from "../../core/chain/connect.ts";
import { deployAll, type FullDeployment } from "../../core/chain/deploy.ts";
import { GameClient } from "../../core/chain/game_client.ts";
import type { TxRecord } from "../../core/chain/game_client.ts";
import type { ModelDir } from "../../core/compiler/mod.ts";
import { type AgentEvent, type AgentSummary, runAgent } from "../../core/game/mod.ts";

/** anvil's chain id. */
export const CHAIN_ID = 31337;

/** A fresh chain with the game deployed. */
export interface GameChain {
  anvil: Anvil;
  params: GameParams;
  deployment: FullDeployment;
  deployBlock: bigint;
  publicClient: ReturnType<typeof publicClientFor>;
  /** A new client of the game for anvil dev account `i` (its txs recorded, `onTx` called). */
  client(i: number, onTx?: (tx: TxRecord) => void): GameClient;
  /** Moves the chain's clock forward and mines a block with the new time. */
  increaseTime(seconds: number): Promise<void>;
  /** The balance of an address (wei). */
  balance(address: Hex): Promise<bigint>;
  /** The exact ETH an account paid for gas in these transactions: sum of gasUsed * effectiveGasPrice. */
  gasCost(txs: readonly TxRecord[]): Promise<bigint>;
  stop(): Promise<void>;
}

/** Starts anvil and deploys PreimageOracle, MIPS and OpmlGame with dev account 0. */
export async function startGameChain(params: Partial<GameParams> = {}): Promise<GameChain> {
  const anvil = await startAnvil();
  try {
    const p: GameParams = { ...DEFAULT_GAME_PARAMS, ...params };
    const publicClient = publicClientFor(anvil.url, CHAIN_ID, true);
    const deployment = await deployAll(walletClientFor(anvil.url, CHAIN_ID, devAccount(0), true), p);
    const rpc = (method: string, params: unknown[]) =>
      (publicClient.request as (a: { method: string; params: unknown[] }) => Promise<unknown>)({
        method,
        params,
      });
    return {
      anvil,
      params: p,
      deployment,
      deployBlock: BigInt(deployment.deployBlock),
      publicClient,
      client: (i, onTx) =>
        new GameClient(
          publicClient,
          walletClientFor(anvil.url, CHAIN_ID, devAccount(i), true),
          deployment.game,
          onTx,
        ),
      async increaseTime(seconds) {
        await rpc("evm_increaseTime", [seconds]);
        await rpc("evm_mine", []);
      },
      balance: (address) => publicClient.getBalance({ address }),
      async gasCost(txs) {
        let sum = 0n;
        for (const tx of txs) {
          const r = await publicClient.getTransactionReceipt({ hash: tx.hash });
          sum += r.gasUsed * r.effectiveGasPrice;
        }
        return sum;
      },
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

/** A running agent. */
export interface RunningAgent {
  game: GameClient;
  events: AgentEvent[];
  lines: string[];
  ctl: AbortController;
  done: Promise<AgentSummary>;
  /** Aborts and waits for the agent to return. */
  stop(): Promise<AgentSummary>;
}

/** Options of {@link startAgent}. */
export interface StartAgentOptions {
  role: "server" | "verifier";
  chain: GameChain;
  game: GameClient;
  models: ModelDir[];
  sessionPath: string;
  /** The agent lies from node K on (`--tamper node=K`). */
  liesFrom?: number;
  onEvent?: (e: AgentEvent) => void;
}

/** Starts runAgent in-process (polling every 100 ms), logging into `lines` (printed on failure). */
export function startAgent(o: StartAgentOptions): RunningAgent {
  const ctl = new AbortController();
  const events: AgentEvent[] = [];
  const lines: string[] = [];
  const done = runAgent({
    role: o.role,
    game: o.game,
    chainId: CHAIN_ID,
    models: o.models,
    liesFrom: o.liesFrom,
    sessionPath: o.sessionPath,
    startBlock: o.chain.deployBlock,
    pollMs: 100,
    signal: ctl.signal,
    log: (l) => lines.push(l),
    onEvent: (e) => {
      events.push(e);
      o.onEvent?.(e);
    },
  });
  // a failure is reported by whoever awaits `done`; never an unhandled rejection meanwhile
  done.catch(() => {});
  return {
    game: o.game,
    events,
    lines,
    ctl,
    done,
    async stop() {
      ctl.abort();
      return await done;
    },
  };
}

/** Stops agents (ignoring their failures: the test reports its own), e.g. in a finally. */
export async function stopAll(agents: readonly (RunningAgent | undefined)[]): Promise<void> {
  for (const a of agents) a?.ctl.abort();
  await Promise.allSettled(agents.map((a) => a?.done));
}

/** How long {@link waitFor} waits before it fails (a hang, not a slow machine). */
export const WAIT_LIMIT_MS = 300_000;

/**
 * Polls `f` until it returns a value other than undefined/false; fails naming `what` after
 * {@link WAIT_LIMIT_MS}, or at once when one of `agents` has failed.
 */
export async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  agents: readonly RunningAgent[] = [],
): Promise<T> {
  const failed: unknown[] = [];
  for (const a of agents) a.done.catch((e) => failed.push(e));
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v as T;
    if (failed.length > 0) throw new Error(`while waiting for ${what}: an agent failed: ${failed[0]}`);
    for (const a of agents) {
      const err = a.events.find((e) => e.kind === "dispute-error");
      if (err) {
        throw new Error(`while waiting for ${what}: ${JSON.stringify(err, bigints)}\n${logsOf(agents)}`);
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what}\n${logsOf(agents)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The last lines the agents logged. */
export function logsOf(agents: readonly RunningAgent[]): string {
  return agents.map((a, i) => `agent ${i} (${a.game.account}):\n  ${a.lines.slice(-40).join("\n  ")}`).join(
    "\n",
  );
}

/** JSON.stringify replacer for bigints. */
export const bigints = (_: string, v: unknown) => typeof v === "bigint" ? v.toString() : v;

/** ceil(log_arity(n)) for n >= 1 (0 for n = 1), exactly, in integers. */
export function ceilLog(arity: number, n: bigint): number {
  let r = 0;
  let p = 1n;
  while (p < n) {
    p *= BigInt(arity);
    r++;
  }
  return r;
}
