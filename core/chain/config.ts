/**
 * The chain configuration file (`.opml/chain.json` by default): where the contracts live, the
 * block to start log queries at, and the game's parameters as deployed. Written by
 * `opml chain up` / `opml chain deploy`, read by every chain command.
 *
 * @module
 */

import { OpmlError } from "../errors.ts";
import { type Address, getAddress, isAddress } from "viem";

/** The game's constructor parameters (docs/GAME.md, "Deployment"). */
export interface GameParams {
  /** Sub-intervals per dissection round, 2 .. 1024. */
  arity: number;
  /** Each party's time budget per dispute, in seconds (> 0). */
  clockBudget: number;
  /** The bond of a result, in wei. */
  serverBond: bigint;
  /** The bond of a dispute, in wei. */
  challengerBond: bigint;
  /** Seconds after a result during which it can be challenged (> 0). */
  challengeWindow: number;
}

/** The parameters `opml chain up` deploys when none are given. */
export const DEFAULT_GAME_PARAMS: GameParams = Object.freeze({
  arity: 16,
  clockBudget: 3600,
  serverBond: 10n ** 18n,
  challengerBond: 10n ** 18n,
  challengeWindow: 600,
});

/** The largest challenge window accepted (the contract stores uint64). */
const MAX_SECONDS = Number.MAX_SAFE_INTEGER;
/** The largest clock budget accepted (the contract packs the clocks in 40 bits). */
const MAX_CLOCK = 2 ** 40 - 1;
/** Bound of the bonds: the server bond is split in uint96 parts, the challenger bond is a uint256. */
const MAX_SERVER_BOND = (1n << 96n) - 1n;
const MAX_WEI = (1n << 256n) - 1n;

/**
 * Checks game parameters against the contract's constructor rules before spending gas on a
 * deployment that would revert (`InvalidConfig`).
 *
 * @example
 * ```ts
 * checkGameParams({ ...DEFAULT_GAME_PARAMS, arity: 1 }); // throws "arity must be 2 .. 1024, got 1"
 * ```
 * @throws {ChainConfigError} naming the first parameter out of range.
 */
export function checkGameParams(p: GameParams): void {
  if (!Number.isSafeInteger(p.arity) || p.arity < 2 || p.arity > 1024) {
    throw new ChainConfigError(`arity must be 2 .. 1024, got ${p.arity}`);
  }
  if (!Number.isSafeInteger(p.clockBudget) || p.clockBudget < 1 || p.clockBudget > MAX_CLOCK) {
    throw new ChainConfigError(`clock budget must be 1 .. ${MAX_CLOCK} seconds, got ${p.clockBudget}`);
  }
  if (!Number.isSafeInteger(p.challengeWindow) || p.challengeWindow < 1 || p.challengeWindow > MAX_SECONDS) {
    throw new ChainConfigError(
      `challenge window must be a positive number of seconds, got ${p.challengeWindow}`,
    );
  }
  const bonds = [["server bond", p.serverBond, MAX_SERVER_BOND], [
    "challenger bond",
    p.challengerBond,
    MAX_WEI,
  ]] as const;
  for (const [name, v, max] of bonds) {
    // a zero bond would make a lie (or a challenge) free: the contract refuses it
    if (v < 1n || v > max) throw new ChainConfigError(`${name} must be 1 .. ${max} wei, got ${v}`);
  }
}

/**
 * The parameters of `b` that differ from `a`, by name (empty when they are equal).
 *
 * @example
 * ```ts
 * diffGameParams(cfg.game, wanted); // ["arity"]
 * ```
 */
export function diffGameParams(a: GameParams, b: Partial<GameParams>): (keyof GameParams)[] {
  return (Object.keys(b) as (keyof GameParams)[]).filter((k) => b[k] !== undefined && b[k] !== a[k]);
}

/** The embedded anvil started by `opml chain up`. */
export interface LocalChainInfo {
  /** Its process id (the leader of its own process group). */
  pid: number;
  /** Its JSON-RPC port on 127.0.0.1. */
  port: number;
  /** Its log file (stdout and stderr). */
  log: string;
  /** Its block gas limit when `opml chain up --gas-limit` set one (else anvil's default). */
  gasLimit?: number;
}

/** A deployment of opml's contracts on one chain. */
export interface ChainConfig {
  format: "opml-chain/1";
  /** The JSON-RPC endpoint. */
  rpc: string;
  chainId: number;
  contracts: { oracle: Address; mips: Address; game: Address };
  /** The block of the game's deployment: log queries start here. */
  deployBlock: number;
  /** The game's parameters as deployed (read back from the contract's immutables). */
  game: GameParams;
  /** Present when the chain is the embedded anvil of `opml chain up`. */
  local?: LocalChainInfo;
}

/** Where the chain commands keep their configuration unless told otherwise. */
export const DEFAULT_CONFIG_PATH = ".opml/chain.json";

/** A missing, unreadable or malformed configuration; the message is one line naming the file. */
export class ChainConfigError extends OpmlError {
  override name = "ChainConfigError";
}

/**
 * The configuration path to use: the `--config` option, else `$OPML_CHAIN_CONFIG`, else
 * {@link DEFAULT_CONFIG_PATH} (relative paths are relative to the working directory).
 *
 * @example
 * ```ts
 * const path = configPath(opts.config); // ".opml/chain.json" when nothing is set
 * ```
 */
export function configPath(option?: string): string {
  if (option) return option;
  const env = Deno.env.get("OPML_CHAIN_CONFIG");
  return env ? env : DEFAULT_CONFIG_PATH;
}

/**
 * Reads and validates a configuration file.
 *
 * @example
 * ```ts
 * const cfg = readChainConfig(configPath());
 * console.log(cfg.rpc, cfg.contracts.game);
 * ```
 * @throws {ChainConfigError} "no chain configured: run `opml chain up`" when the file is
 *   missing; otherwise a message naming the file and the first problem found.
 */
export function readChainConfig(path: string): ChainConfig {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ChainConfigError(
        `no chain configured (${path} does not exist): run \`opml chain up\` (or \`opml chain deploy\`)`,
      );
    }
    throw new ChainConfigError(`${path}: cannot read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ChainConfigError(`${path}: not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  try {
    return parseChainConfig(raw);
  } catch (e) {
    if (e instanceof ChainConfigError) throw new ChainConfigError(`${path}: ${e.message}`);
    throw e;
  }
}

/**
 * Validates a parsed configuration document (bigints as decimal strings), without file I/O.
 *
 * @example
 * ```ts
 * const cfg = parseChainConfig(JSON.parse(text));
 * ```
 * @throws {ChainConfigError} naming the first invalid field.
 */
export function parseChainConfig(raw: unknown): ChainConfig {
  const obj = (v: unknown, field: string): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new ChainConfigError(`${field} must be an object`);
    }
    return v as Record<string, unknown>;
  };
  const int = (v: unknown, field: string, min = 0): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw new ChainConfigError(`${field} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const addr = (v: unknown, field: string): Address => {
    if (typeof v !== "string" || !isAddress(v, { strict: false })) {
      throw new ChainConfigError(`${field} must be an address, got ${JSON.stringify(v)}`);
    }
    return getAddress(v);
  };
  const wei = (v: unknown, field: string): bigint => {
    if (typeof v !== "string" || !/^\d+$/.test(v)) {
      throw new ChainConfigError(`${field} must be a decimal string of wei, got ${JSON.stringify(v)}`);
    }
    return BigInt(v);
  };
  const o = obj(raw, "the configuration");
  if (o.format !== "opml-chain/1") {
    throw new ChainConfigError(`format must be "opml-chain/1", got ${JSON.stringify(o.format)}`);
  }
  if (typeof o.rpc !== "string" || !/^(https?|wss?):\/\/\S+$/.test(o.rpc)) {
    throw new ChainConfigError(`rpc must be an http(s) or ws(s) URL, got ${JSON.stringify(o.rpc)}`);
  }
  const c = obj(o.contracts, "contracts");
  const g = obj(o.game, "game");
  const cfg: ChainConfig = {
    format: "opml-chain/1",
    rpc: o.rpc,
    chainId: int(o.chainId, "chainId", 1),
    contracts: {
      oracle: addr(c.oracle, "contracts.oracle"),
      mips: addr(c.mips, "contracts.mips"),
      game: addr(c.game, "contracts.game"),
    },
    deployBlock: int(o.deployBlock, "deployBlock"),
    game: {
      arity: int(g.arity, "game.arity", 2),
      clockBudget: int(g.clockBudget, "game.clockBudget", 1),
      serverBond: wei(g.serverBond, "game.serverBond"),
      challengerBond: wei(g.challengerBond, "game.challengerBond"),
      challengeWindow: int(g.challengeWindow, "game.challengeWindow", 1),
    },
  };
  try {
    checkGameParams(cfg.game);
  } catch (e) {
    throw new ChainConfigError(`game: ${(e as Error).message}`);
  }
  if (o.local !== undefined) {
    const l = obj(o.local, "local");
    if (typeof l.log !== "string") throw new ChainConfigError(`local.log must be a path`);
    cfg.local = { pid: int(l.pid, "local.pid", 1), port: int(l.port, "local.port", 1), log: l.log };
    if (l.gasLimit !== undefined) cfg.local.gasLimit = int(l.gasLimit, "local.gasLimit", 1);
  }
  return cfg;
}

/**
 * The JSON document of a configuration (bigints as decimal strings), as written to disk.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(chainConfigJson(cfg), null, 2));
 * ```
 */
export function chainConfigJson(c: ChainConfig): Record<string, unknown> {
  return {
    ...c,
    game: {
      ...c.game,
      serverBond: c.game.serverBond.toString(),
      challengerBond: c.game.challengerBond.toString(),
    },
  };
}

/**
 * Writes a configuration atomically: a temporary file beside it, fsync, then rename, so a
 * reader sees the old file or the new one, never half of one. Creates the directory.
 *
 * @example
 * ```ts
 * writeChainConfig(configPath(), { ...cfg, deployBlock: 1 });
 * ```
 */
export function writeChainConfig(path: string, c: ChainConfig): void {
  const slash = path.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  const data = new TextEncoder().encode(JSON.stringify(chainConfigJson(c), null, 2) + "\n");
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < data.length) off += f.writeSync(data.subarray(off));
    f.syncSync();
  } finally {
    f.close();
  }
  try {
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
    throw e;
  }
}

/**
 * Removes a configuration file; returns false when there was none.
 *
 * @example
 * ```ts
 * if (!removeChainConfig(path)) console.error("no configuration to remove");
 * ```
 */
export function removeChainConfig(path: string): boolean {
  try {
    Deno.removeSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
