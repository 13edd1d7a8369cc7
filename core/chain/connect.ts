/**
 * Connecting a chain command to its deployment: reads the chain configuration (or builds one
 * from `--rpc` and `--game`), makes the viem clients, and checks that the node is the chain
 * the configuration describes and that the game is still there, so later calls fail for their
 * own reasons, not because the chain was restarted.
 *
 * @module
 */

import { OpmlError } from "../errors.ts";
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  isAddress,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import type { LocalAccount } from "viem/accounts";
import { opmlGameAbi } from "./abi/opml_game.ts";
import { resolveAccount } from "./accounts.ts";
import { type ChainConfig, configPath, type GameParams, readChainConfig } from "./config.ts";

/** The node is unreachable, is another chain, or has no game at the configured address. */
export class ConnectError extends OpmlError {
  override name = "ConnectError";
}

/** Clients bound to a deployment, with the account that signs. */
export interface Connection {
  config: ChainConfig;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, LocalAccount>;
  account: LocalAccount;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The configuration file (default: {@link configPath}'s choice). */
  config?: string;
  /** With `game`: use this node and game instead of a configuration file. */
  rpc?: string;
  /** With `rpc`: the OpmlGame contract; its oracle, MIPS and parameters are read from it. */
  game?: Address;
  /** The environment variable holding the private key (default OPML_PRIVATE_KEY). */
  keyEnv?: string;
  /** The anvil dev account index on the embedded local chain (default 0). */
  account?: number;
}

/**
 * The viem chain of a deployment (viem needs one to sign transactions; the id is the node's).
 *
 * @example
 * ```ts
 * const chain = chainOf(31337, "http://127.0.0.1:8545");
 * ```
 */
export function chainOf(chainId: number, rpc: string): Chain {
  return defineChain({
    id: chainId,
    name: `opml chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  });
}

/**
 * A public client for a node. On the local chain blocks come every transaction, so nothing is
 * cached (`cacheTime: 0`) and receipts are polled every 50 ms; remote chains keep viem's
 * defaults.
 *
 * @example
 * ```ts
 * const client = publicClientFor("http://127.0.0.1:8545", 31337, true);
 * ```
 */
export function publicClientFor(
  rpc: string,
  chainId: number,
  local: boolean,
): PublicClient<Transport, Chain> {
  return createPublicClient({
    chain: chainOf(chainId, rpc),
    transport: transportFor(rpc, local),
    ...(local ? { cacheTime: 0, pollingInterval: 50 } : {}),
  });
}

/**
 * A wallet client for a node that signs locally with `account`.
 *
 * @example
 * ```ts
 * const wallet = walletClientFor(cfg.rpc, cfg.chainId, resolveAccount({ local: true }), true);
 * ```
 */
export function walletClientFor(
  rpc: string,
  chainId: number,
  account: LocalAccount,
  local: boolean,
): WalletClient<Transport, Chain, LocalAccount> {
  return createWalletClient({
    account,
    chain: chainOf(chainId, rpc),
    transport: transportFor(rpc, local),
    ...(local ? { cacheTime: 0, pollingInterval: 50 } : {}),
  });
}

function transportFor(rpc: string, local: boolean): Transport {
  // A local node either answers at once or is gone: retrying only delays the error.
  return http(rpc, local ? { retryCount: 0, timeout: 10_000 } : {});
}

/** What a game contract says about itself. */
export interface GameInfo {
  oracle: Address;
  mips: Address;
  params: GameParams;
}

/**
 * Reads a game's oracle, MIPS and parameters from its immutables.
 *
 * @example
 * ```ts
 * const { oracle, mips, params } = await readGameInfo(client, cfg.contracts.game);
 * ```
 */
export async function readGameInfo(client: PublicClient<Transport, Chain>, game: Address): Promise<GameInfo> {
  const read = <F extends GameView>(functionName: F) =>
    client.readContract({ address: game, abi: opmlGameAbi, functionName });
  const [oracle, mips, arity, clockBudget, serverBond, challengerBond, challengeWindow] = await Promise.all([
    read("oracle"),
    read("mips"),
    read("arity"),
    read("clockBudget"),
    read("serverBond"),
    read("challengerBond"),
    read("challengeWindow"),
  ]);
  return {
    oracle: oracle as Address,
    mips: mips as Address,
    params: {
      arity: Number(arity),
      clockBudget: Number(clockBudget),
      serverBond: serverBond as bigint,
      challengerBond: challengerBond as bigint,
      challengeWindow: Number(challengeWindow),
    },
  };
}

type GameView =
  | "oracle"
  | "mips"
  | "arity"
  | "clockBudget"
  | "serverBond"
  | "challengerBond"
  | "challengeWindow";

/**
 * The first block at which `address` has code, by bisection over `eth_getCode` at past blocks;
 * 0 when the node cannot answer for past blocks (a pruned node): log queries then start at
 * genesis, which is correct, only slower.
 *
 * @example
 * ```ts
 * const deployBlock = await findDeployBlock(client, game);
 * ```
 */
export async function findDeployBlock(
  client: PublicClient<Transport, Chain>,
  address: Address,
): Promise<number> {
  let hi = await client.getBlockNumber();
  let lo = 0n;
  const hasCode = async (b: bigint) => ((await client.getCode({ address, blockNumber: b })) ?? "0x") !== "0x";
  try {
    if (!(await hasCode(hi))) return Number(hi);
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      if (await hasCode(mid)) hi = mid;
      else lo = mid + 1n;
    }
    return Number(lo);
  } catch {
    return 0;
  }
}

/**
 * Checks that the node answers, is the configured chain, and has code at the game's address.
 *
 * @example
 * ```ts
 * await checkDeployment(publicClientFor(cfg.rpc, cfg.chainId, !!cfg.local), cfg);
 * ```
 * @throws {ConnectError} one line naming the node and the problem.
 */
export async function checkDeployment(
  client: PublicClient<Transport, Chain>,
  config: ChainConfig,
): Promise<void> {
  const chainId = await nodeChainId(client, config.rpc);
  if (chainId !== config.chainId) {
    throw new ConnectError(
      `${config.rpc} is chain ${chainId}, the configuration says ${config.chainId}: wrong --rpc or configuration`,
    );
  }
  const code = await client.getCode({ address: config.contracts.game });
  if (code === undefined || code === "0x") {
    const hint = config.local ? "the chain was restarted? run `opml chain up`" : "wrong address or chain?";
    throw new ConnectError(`no contract at ${config.contracts.game} on ${config.rpc}: ${hint}`);
  }
}

async function nodeChainId(client: PublicClient<Transport, Chain>, rpc: string): Promise<number> {
  try {
    return await client.getChainId();
  } catch (e) {
    throw unreachable(rpc, e);
  }
}

/**
 * Why a node did not answer, in one line naming its URL: Deno's network permission (the CLI may
 * reach 127.0.0.1 only, so `localhost` or a remote host is refused before any connection is
 * tried), or the node itself.
 *
 * @example
 * ```ts
 * try { await client.getChainId(); } catch (e) { throw unreachable(rpc, e); }
 * ```
 */
export function unreachable(rpc: string, e: unknown): ConnectError {
  for (let x: unknown = e; x; x = (x as { cause?: unknown }).cause) {
    if (x instanceof Deno.errors.NotCapable || x instanceof Deno.errors.PermissionDenied) {
      const host = /^\w+:\/\/([^/:]+)/.exec(rpc)?.[1] ?? rpc;
      const hint = host === "localhost"
        ? `: use ${rpc.replace("localhost", "127.0.0.1")}`
        : ": run opml with --allow-net for that host";
      return new ConnectError(
        `cannot reach ${rpc}: Deno's network permission does not cover ${host} (opml may reach 127.0.0.1 only)${hint}`,
      );
    }
    if ((x as { cause?: unknown }).cause === x) break;
  }
  const detail = ((e as Error)?.message ?? String(e)).split("\n")[0];
  return new ConnectError(`cannot reach ${rpc} (${detail}): is the chain running? (\`opml chain up\`)`);
}

/**
 * Reads the configuration (or builds one from `rpc` and `game`) and checks it against the
 * node, without an account: for commands that only read.
 *
 * @example
 * ```ts
 * const { config, publicClient } = await connectReadOnly({ config: opts.config });
 * ```
 * @throws {ChainConfigError} for a missing or malformed configuration file.
 * @throws {ConnectError} when the node is unreachable, another chain, or has no game.
 */
export async function connectReadOnly(
  opts: Pick<ConnectOptions, "config" | "rpc" | "game"> = {},
): Promise<{ config: ChainConfig; publicClient: PublicClient<Transport, Chain> }> {
  if (opts.rpc !== undefined || opts.game !== undefined) {
    if (opts.rpc === undefined || opts.game === undefined) {
      throw new ConnectError("--rpc and --game go together (or neither: the configuration file is used)");
    }
    if (!isAddress(opts.game, { strict: false })) {
      throw new ConnectError(`--game is not an address: ${opts.game}`);
    }
    const probe = publicClientFor(opts.rpc, 1, false);
    const chainId = await nodeChainId(probe, opts.rpc);
    const publicClient = publicClientFor(opts.rpc, chainId, false);
    const code = await publicClient.getCode({ address: opts.game });
    if (code === undefined || code === "0x") {
      throw new ConnectError(`no contract at ${opts.game} on ${opts.rpc}`);
    }
    let info: GameInfo;
    try {
      info = await readGameInfo(publicClient, opts.game);
    } catch {
      throw new ConnectError(
        `${opts.game} on ${opts.rpc} does not answer OpmlGame's views: not a game contract?`,
      );
    }
    const config: ChainConfig = {
      format: "opml-chain/1",
      rpc: opts.rpc,
      chainId,
      contracts: { oracle: info.oracle, mips: info.mips, game: opts.game },
      deployBlock: await findDeployBlock(publicClient, opts.game),
      game: info.params,
    };
    return { config, publicClient };
  }
  const config = readChainConfig(configPath(opts.config));
  const publicClient = publicClientFor(config.rpc, config.chainId, config.local !== undefined);
  await checkDeployment(publicClient, config);
  return { config, publicClient };
}

/**
 * Connects to a deployment with a signing account (see {@link resolveAccount}: the key in
 * `$OPML_PRIVATE_KEY`, else anvil's dev account on the embedded local chain).
 *
 * @example
 * ```ts
 * const { config, publicClient, walletClient, account } = await connect({ account: 1 });
 * await walletClient.writeContract({ address: config.contracts.game, abi: opmlGameAbi,
 *   functionName: "withdraw" });
 * ```
 * @throws {ChainConfigError} for a missing or malformed configuration file.
 * @throws {ConnectError} when the node is unreachable, another chain, or has no game.
 * @throws {AccountError} for a missing or malformed key.
 */
export async function connect(opts: ConnectOptions = {}): Promise<Connection> {
  const fromFile = opts.rpc === undefined && opts.game === undefined;
  if (!fromFile && (opts.rpc === undefined || opts.game === undefined)) {
    throw new ConnectError("--rpc and --game go together (or neither: the configuration file is used)");
  }
  if (fromFile) {
    // A bad key is reported before any network call (and whatever the chain's state).
    const config = readChainConfig(configPath(opts.config));
    resolveAccount({ keyEnv: opts.keyEnv, account: opts.account, local: config.local !== undefined });
  } else {
    resolveAccount({ keyEnv: opts.keyEnv, account: opts.account, local: false });
  }
  const { config, publicClient } = await connectReadOnly(opts);
  const local = config.local !== undefined;
  const account = resolveAccount({ keyEnv: opts.keyEnv, account: opts.account, local });
  const walletClient = walletClientFor(config.rpc, config.chainId, account, local);
  return { config, publicClient, walletClient, account };
}
