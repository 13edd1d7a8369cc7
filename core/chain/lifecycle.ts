/**
 * What `opml chain up | down | deploy | info` do, without printing: the embedded local chain's
 * lifecycle (start anvil, deploy, record; stop, forget), deployment to any EVM chain, and the
 * live facts of a configured chain. The CLI only parses options and prints the results.
 *
 * @module
 */

import type { Address } from "viem";
import { devAccount, resolveAccount } from "./accounts.ts";
import {
  type ChainConfig,
  ChainConfigError,
  checkGameParams,
  DEFAULT_GAME_PARAMS,
  diffGameParams,
  type GameParams,
  readChainConfig,
  removeChainConfig,
  writeChainConfig,
} from "./config.ts";
import { ConnectError, publicClientFor, readGameInfo, walletClientFor } from "./connect.ts";
import { deployAll } from "./deploy.ts";
import {
  DEFAULT_BLOCK_GAS_LIMIT,
  localChainAlive,
  processRunning,
  startLocalChain,
  stopLocalChain,
} from "./local_chain.ts";

/** Progress lines (for stderr). */
export type Progress = (line: string) => void;

/** Options of {@link chainUp}. */
export interface ChainUpOptions {
  /** The configuration file to write (its directory also gets `anvil.log`). */
  configPath: string;
  /** The port on 127.0.0.1 (default: a free one). */
  port?: number;
  /**
   * The block gas limit, at least {@link DEFAULT_BLOCK_GAS_LIMIT} (its default): raise it for
   * results of megabytes (a 1.6 MB result costs ~64 M gas at the calldata floor).
   */
  gasLimit?: number;
  /** Game parameters; the ones not given are {@link DEFAULT_GAME_PARAMS}'. */
  params?: Partial<GameParams>;
  onProgress?: Progress;
}

/** The result of {@link chainUp}. */
export interface ChainUpResult {
  config: ChainConfig;
  /** True when the chain was already running and nothing was done. */
  reused: boolean;
}

/**
 * Starts the embedded chain and deploys the contracts with anvil's dev account 0, or, if the
 * configuration's chain is alive with its game, returns it unchanged (idempotent). A stale
 * configuration (anvil gone, or without the game) is replaced.
 *
 * @example
 * ```ts
 * const { config, reused } = await chainUp({ configPath: ".opml/chain.json", params: { arity: 4 } });
 * ```
 * @throws {ChainConfigError} for parameters out of range, given parameters (or port) that
 *   differ from the running chain's, an unreadable configuration, or one of a remote chain.
 * @throws {LocalChainError} when anvil does not start.
 */
export async function chainUp(opts: ChainUpOptions): Promise<ChainUpResult> {
  if (
    opts.gasLimit !== undefined &&
    !(Number.isSafeInteger(opts.gasLimit) && opts.gasLimit >= DEFAULT_BLOCK_GAS_LIMIT)
  ) {
    throw new ChainConfigError(
      `the gas limit must be an integer of at least ${DEFAULT_BLOCK_GAS_LIMIT}, got ${opts.gasLimit}`,
    );
  }
  const given = defined(opts.params ?? {});
  const params: GameParams = { ...DEFAULT_GAME_PARAMS, ...given };
  checkGameParams(params);
  return await withConfigLock(opts.configPath, opts.onProgress, () => chainUpLocked(opts, given, params));
}

async function chainUpLocked(
  opts: ChainUpOptions,
  given: Partial<GameParams>,
  params: GameParams,
): Promise<ChainUpResult> {
  const progress = opts.onProgress ?? (() => {});
  const existing = readExisting(opts.configPath);
  if (existing !== undefined) {
    if (existing.local === undefined) {
      throw new ChainConfigError(
        `${opts.configPath} describes a chain deployed with \`opml chain deploy\` (${existing.rpc}), ` +
          `not the embedded one: use another --config, or remove the file`,
      );
    }
    if (localChainAlive(existing) && (await gameHasCode(existing))) {
      const differ = diffGameParams(existing.game, given).map((k) =>
        `${k} ${existing.game[k]} (asked ${given[k]})`
      );
      if (opts.port !== undefined && opts.port !== existing.local.port) {
        differ.unshift(`port ${existing.local.port} (asked ${opts.port})`);
      }
      const gasLimit = existing.local.gasLimit ?? DEFAULT_BLOCK_GAS_LIMIT;
      if (opts.gasLimit !== undefined && opts.gasLimit !== gasLimit) {
        differ.unshift(`gas limit ${gasLimit} (asked ${opts.gasLimit})`);
      }
      if (differ.length > 0) {
        throw new ChainConfigError(
          `the embedded chain is already up with ${differ.join(", ")}: run \`opml chain down\` first`,
        );
      }
      return { config: existing, reused: true };
    }
    if (await stopLocalChain(existing)) {
      progress(`stopped the stale embedded chain (pid ${existing.local.pid})`);
    } else progress(`replacing the stale configuration ${opts.configPath} (its chain is gone)`);
    removeChainConfig(opts.configPath);
  }

  progress("starting anvil ...");
  const chain = await startLocalChain({
    log: siblingPath(opts.configPath, "anvil.log"),
    port: opts.port,
    gasLimit: opts.gasLimit,
  });
  progress(`anvil (pid ${chain.pid}) listening at ${chain.rpc}, chain id ${chain.chainId}`);
  try {
    // Always dev account 0, whatever OPML_PRIVATE_KEY holds (that key may be for a real chain).
    const account = devAccount(0);
    const wallet = walletClientFor(chain.rpc, chain.chainId, account, true);
    progress(`deploying PreimageOracle, MIPS, OpmlGame (arity ${params.arity}) from ${account.address} ...`);
    const d = await deployAll(wallet, params);
    const info = await readGameInfo(publicClientFor(chain.rpc, chain.chainId, true), d.game);
    const config: ChainConfig = {
      format: "opml-chain/1",
      rpc: chain.rpc,
      chainId: chain.chainId,
      contracts: { oracle: d.oracle, mips: d.mips, game: d.game },
      deployBlock: d.deployBlock,
      game: info.params,
      local: {
        pid: chain.pid,
        port: chain.port,
        log: chain.log,
        ...(opts.gasLimit !== undefined ? { gasLimit: opts.gasLimit } : {}),
      },
    };
    writeChainConfig(opts.configPath, config);
    return { config, reused: false };
  } catch (e) {
    await stopLocalChain({ pid: chain.pid, port: chain.port, log: chain.log });
    throw e;
  }
}

/** The result of {@link chainDown}. */
export interface ChainDownResult {
  /** The pid of the anvil stopped, if one was running. */
  stoppedPid?: number;
  /** Whether a configuration file was removed. */
  removedConfig: boolean;
}

/**
 * Stops the embedded chain and removes its configuration; nothing to do is not an error.
 *
 * @example
 * ```ts
 * const { stoppedPid, removedConfig } = await chainDown(".opml/chain.json");
 * ```
 * @throws {ChainConfigError} for an unreadable configuration or one of a remote chain (which
 *   `down` does not forget: its addresses would be lost).
 * @throws {LocalChainError} when anvil does not stop.
 */
export async function chainDown(configPath: string): Promise<ChainDownResult> {
  return await withConfigLock(configPath, undefined, () => chainDownLocked(configPath));
}

async function chainDownLocked(configPath: string): Promise<ChainDownResult> {
  const existing = readExisting(configPath);
  if (existing === undefined) return { removedConfig: false };
  if (existing.local === undefined) {
    throw new ChainConfigError(
      `${configPath} describes a chain deployed with \`opml chain deploy\` (${existing.rpc}): nothing to stop; ` +
        `remove the file to forget it`,
    );
  }
  const stopped = await stopLocalChain(existing);
  removeChainConfig(configPath);
  return { stoppedPid: stopped ? existing.local.pid : undefined, removedConfig: true };
}

/** Options of {@link chainDeploy}. */
export interface ChainDeployOptions {
  configPath: string;
  /** The node's JSON-RPC endpoint. */
  rpc: string;
  params?: Partial<GameParams>;
  /** The environment variable holding the deployer's private key (default OPML_PRIVATE_KEY). */
  keyEnv?: string;
  onProgress?: Progress;
}

/**
 * Deploys the contracts on any EVM chain with the key from the environment and writes the
 * configuration (without `local`).
 *
 * @example
 * ```ts
 * const config = await chainDeploy({ configPath: "sepolia.json", rpc: "https://rpc.example" });
 * ```
 * @throws {AccountError} without a (valid) key.
 * @throws {ConnectError} when the node does not answer.
 * @throws {ChainConfigError} for parameters out of range, or when the configuration path
 *   holds a running embedded chain.
 */
export async function chainDeploy(opts: ChainDeployOptions): Promise<ChainConfig> {
  const progress = opts.onProgress ?? (() => {});
  const params: GameParams = { ...DEFAULT_GAME_PARAMS, ...defined(opts.params ?? {}) };
  checkGameParams(params);
  if (!/^(https?):\/\/\S+$/.test(opts.rpc)) {
    throw new ConnectError(`--rpc must be an http(s) URL, got ${opts.rpc}`);
  }
  return await withConfigLock(opts.configPath, progress, () => chainDeployLocked(opts, params));
}

async function chainDeployLocked(opts: ChainDeployOptions, params: GameParams): Promise<ChainConfig> {
  const progress = opts.onProgress ?? (() => {});
  const existing = readExisting(opts.configPath);
  if (existing?.local !== undefined && localChainAlive(existing)) {
    throw new ChainConfigError(
      `${opts.configPath} holds the running embedded chain: \`opml chain down\` first, or use another --config`,
    );
  }
  const account = resolveAccount({ keyEnv: opts.keyEnv, local: false });
  const probe = publicClientFor(opts.rpc, 1, false);
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (e) {
    throw new ConnectError(`cannot reach ${opts.rpc} (${firstLine(e)})`);
  }
  const wallet = walletClientFor(opts.rpc, chainId, account, false);
  progress(`deploying PreimageOracle, MIPS, OpmlGame on chain ${chainId} from ${account.address} ...`);
  const d = await deployAll(wallet, params);
  const info = await readGameInfo(publicClientFor(opts.rpc, chainId, false), d.game);
  const config: ChainConfig = {
    format: "opml-chain/1",
    rpc: opts.rpc,
    chainId,
    contracts: { oracle: d.oracle, mips: d.mips, game: d.game },
    deployBlock: d.deployBlock,
    game: info.params,
  };
  writeChainConfig(opts.configPath, config);
  return config;
}

/** Live facts of a configured chain. */
export interface ChainInfo {
  config: ChainConfig;
  /** The node answers, is the configured chain, and the game has code. */
  alive: boolean;
  /** The embedded chain's anvil process is running (undefined for remote chains). */
  processAlive?: boolean;
  blockNumber?: number;
  /** Why the chain is not alive. */
  problem?: string;
}

/**
 * Reads the configuration and asks the node for its live facts; a dead chain is reported in
 * the result (`alive: false`, `problem`), not thrown.
 *
 * @example
 * ```ts
 * const info = await chainInfo(".opml/chain.json");
 * if (!info.alive) console.error(info.problem);
 * ```
 * @throws {ChainConfigError} for a missing or malformed configuration.
 */
export async function chainInfo(configPath: string): Promise<ChainInfo> {
  const config = readChainConfig(configPath);
  const processAlive = config.local ? localChainAlive(config) : undefined;
  if (processAlive === false) {
    return {
      config,
      alive: false,
      processAlive,
      problem: `the embedded chain (anvil pid ${config.local!.pid}) is not running: run \`opml chain up\``,
    };
  }
  const client = publicClientFor(config.rpc, config.chainId, config.local !== undefined);
  try {
    const chainId = await client.getChainId();
    if (chainId !== config.chainId) {
      return {
        config,
        alive: false,
        processAlive,
        problem: `${config.rpc} is chain ${chainId}, not ${config.chainId}`,
      };
    }
    const blockNumber = Number(await client.getBlockNumber());
    const code = await client.getCode({ address: config.contracts.game });
    if (code === undefined || code === "0x") {
      return {
        config,
        alive: false,
        processAlive,
        blockNumber,
        problem: `no contract at ${config.contracts.game} on ${config.rpc}`,
      };
    }
    return { config, alive: true, processAlive, blockNumber };
  } catch (e) {
    return { config, alive: false, processAlive, problem: `cannot reach ${config.rpc} (${firstLine(e)})` };
  }
}

/** How long a command waits for another one holding the configuration's lock. */
const LOCK_WAIT_MS = 120_000;

/**
 * Runs `f` holding `<config>.lock` (created exclusively, holding our pid), so that concurrent
 * `opml chain up | down | deploy` on one configuration run one after the other: the second `up`
 * then finds the first one's chain and reuses it instead of starting another anvil. A lock whose
 * process is gone is taken over.
 */
async function withConfigLock<T>(
  configPath: string,
  progress: Progress | undefined,
  f: () => Promise<T>,
): Promise<T> {
  const lock = `${configPath}.lock`;
  const slash = configPath.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(configPath.slice(0, slash), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  let said = false;
  for (;;) {
    try {
      const file = Deno.openSync(lock, { write: true, createNew: true });
      try {
        file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      } finally {
        file.close();
      }
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        throw new ChainConfigError(`${lock}: cannot create the lock file (${firstLine(e)})`);
      }
    }
    let holder = NaN;
    try {
      holder = Number(Deno.readTextFileSync(lock).trim());
    } catch { /* just released */ }
    // a lock being written has no pid yet; a lock of a process that is gone is stale
    if (Number.isSafeInteger(holder) && holder > 0 && !processRunning(holder)) {
      try {
        Deno.removeSync(lock);
      } catch { /* another waiter took it over first */ }
      continue;
    }
    if (Date.now() > deadline) {
      throw new ChainConfigError(
        `${lock} is held by another opml chain command (pid ${holder}) for over ${LOCK_WAIT_MS / 1000} s: ` +
          `remove the file if no such command runs`,
      );
    }
    if (!said) progress?.(`waiting for another opml chain command on ${configPath} (pid ${holder}) ...`);
    said = true;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await f();
  } finally {
    try {
      Deno.removeSync(lock);
    } catch { /* already gone */ }
  }
}

/** The configuration at `path`, or undefined when there is none. */
function readExisting(path: string): ChainConfig | undefined {
  try {
    return readChainConfig(path);
  } catch (e) {
    if (e instanceof ChainConfigError && !fileExists(path)) return undefined;
    if (e instanceof ChainConfigError) {
      throw new ChainConfigError(`${e.message} (fix or remove the file)`);
    }
    throw e;
  }
}

async function gameHasCode(c: ChainConfig): Promise<boolean> {
  try {
    const code = await publicClientFor(c.rpc, c.chainId, true).getCode({
      address: c.contracts.game as Address,
    });
    return code !== undefined && code !== "0x";
  } catch {
    return false;
  }
}

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `name` in the directory of `path`. */
function siblingPath(path: string, name: string): string {
  const slash = path.lastIndexOf("/");
  return slash >= 0 ? `${path.slice(0, slash + 1)}${name}` : name;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function firstLine(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split("\n")[0];
}
