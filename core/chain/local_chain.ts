/**
 * The embedded local chain of `opml chain up`: an anvil started DETACHED (its own session and
 * process group, output to a log file), so it outlives the command that started it, and is
 * found again from the pid recorded in the chain configuration.
 *
 * (core/chain/anvil.ts is the other kind: an anvil owned by the calling process, for tests.)
 *
 * @module
 */

import { OpmlError } from "../errors.ts";
import { ANVIL_PATH } from "./anvil.ts";
import type { ChainConfig, LocalChainInfo } from "./config.ts";

/** The embedded chain did not start, or could not be stopped. */
export class LocalChainError extends OpmlError {
  override name = "LocalChainError";
}

/**
 * The embedded chain's block time: anvil mines every transaction at once (automine) and also an
 * empty block every this many seconds (`--block-time 1 --mixed-mining`).
 */
export const BLOCK_TIME_SECONDS = 1;

/** anvil's default block gas limit, the smallest `gasLimit` taken (the deployment needs it). */
export const DEFAULT_BLOCK_GAS_LIMIT = 30_000_000;

/** Options of {@link startLocalChain}. */
export interface StartLocalChainOptions {
  /** The log file for anvil's stdout and stderr (created; its directory too). */
  log: string;
  /** The port on 127.0.0.1 (default: a free one, chosen by anvil). */
  port?: number;
  /** The block gas limit (default anvil's, {@link DEFAULT_BLOCK_GAS_LIMIT}). */
  gasLimit?: number;
  /** The anvil binary (default {@link ANVIL_PATH}). */
  anvilPath?: string;
  /** How long to wait until it answers JSON-RPC (default 20 s). */
  timeoutMs?: number;
}

/** A started embedded chain. */
export interface LocalChain extends LocalChainInfo {
  /** `http://127.0.0.1:PORT`. */
  rpc: string;
  /** The chain id it answers. */
  chainId: number;
}

/**
 * Starts anvil detached on 127.0.0.1 and resolves once it answers `eth_chainId`.
 *
 * @example
 * ```ts
 * const chain = await startLocalChain({ log: ".opml/anvil.log" });
 * console.log(chain.rpc, chain.pid); // http://127.0.0.1:PORT, the anvil's pid
 * ```
 * @throws {LocalChainError} with the tail of anvil's log when it exits (e.g. the port is
 *   taken) or does not answer in time; the process is stopped then.
 */
export async function startLocalChain(opts: StartLocalChainOptions): Promise<LocalChain> {
  const anvil = opts.anvilPath ?? ANVIL_PATH;
  try {
    if (!Deno.statSync(anvil).isFile) throw new Error();
  } catch {
    throw new LocalChainError(`anvil is missing (${anvil}): run \`deno task setup\``);
  }
  const slash = opts.log.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(opts.log.slice(0, slash), { recursive: true });
  Deno.writeTextFileSync(opts.log, "");
  const timeoutMs = opts.timeoutMs ?? 20_000;
  // sh redirects the output to the log and execs anvil (same pid); `detached` makes it a
  // session leader, so neither the end of this process nor a Ctrl-C in its terminal stops it.
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'log="$1"; shift; exec "$@" >>"$log" 2>&1',
      "sh",
      opts.log,
      anvil,
      "--host",
      "127.0.0.1",
      "--port",
      String(opts.port ?? 0),
      // a block every second besides the block of every transaction: the chain's clock moves
      // while it is idle, so challenge windows pass and results can be finalized
      "--block-time",
      String(BLOCK_TIME_SECONDS),
      "--mixed-mining",
      // loopback only, so no request size limit: the block gas limit bounds a transaction (a
      // large model's result is megabytes of calldata, over anvil's default 2 MB request limit)
      "--no-request-size-limit",
      ...(opts.gasLimit !== undefined ? ["--gas-limit", String(opts.gasLimit)] : []),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  let exited: Deno.CommandStatus | undefined;
  child.status.then((s) => (exited = s));
  const pid = child.pid;
  const deadline = Date.now() + timeoutMs;
  const fail = async (why: string): Promise<never> => {
    await stopPid(pid, 3000);
    throw new LocalChainError(`anvil ${why}: ${logTail(opts.log)}`);
  };
  let port: number | undefined;
  while (port === undefined) {
    if (exited) return fail(`exited with code ${exited.code} before listening`);
    if (Date.now() > deadline) return fail(`did not listen in ${timeoutMs} ms`);
    const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(readText(opts.log));
    if (m) port = Number(m[1]);
    else await sleep(50);
  }
  const rpc = `http://127.0.0.1:${port}`;
  for (;;) {
    const chainId = await rpcChainId(rpc);
    if (chainId !== undefined) return { pid, port, log: opts.log, rpc, chainId };
    if (exited) return fail(`exited with code ${exited.code}`);
    if (Date.now() > deadline) return fail(`did not answer JSON-RPC in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Whether the embedded chain of a configuration is running: its pid is a live anvil process
 * (not a zombie, and not an unrelated process that got the pid after a reboot).
 *
 * @example
 * ```ts
 * if (cfg.local && !localChainAlive(cfg)) console.error("the embedded chain is gone");
 * ```
 */
export function localChainAlive(cfg: ChainConfig | LocalChainInfo): boolean {
  const local = "format" in cfg ? cfg.local : cfg;
  return local !== undefined && isAnvilPid(local.pid);
}

/**
 * Stops the embedded chain of a configuration: SIGTERM, then SIGKILL if it has not exited
 * after `graceMs` (default 5 s). Returns false when it was not running.
 *
 * @example
 * ```ts
 * const cfg = readChainConfig(path);
 * if (await stopLocalChain(cfg)) console.error(`stopped anvil (pid ${cfg.local!.pid})`);
 * ```
 * @throws {LocalChainError} when the process survives SIGKILL.
 */
export async function stopLocalChain(cfg: ChainConfig | LocalChainInfo, graceMs = 5000): Promise<boolean> {
  const local = "format" in cfg ? cfg.local : cfg;
  if (local === undefined || !isAnvilPid(local.pid)) return false;
  await stopPid(local.pid, graceMs);
  if (isAnvilPid(local.pid)) throw new LocalChainError(`anvil (pid ${local.pid}) does not stop`);
  return true;
}

async function stopPid(pid: number, graceMs: number): Promise<void> {
  if (!signal(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!processRunning(pid)) return;
    await sleep(25);
  }
  signal(pid, "SIGKILL");
  const killDeadline = Date.now() + 2000;
  while (processRunning(pid) && Date.now() < killDeadline) await sleep(25);
}

function signal(pid: number, sig: Deno.Signal): boolean {
  try {
    Deno.kill(pid, sig);
    return true;
  } catch {
    return false; // no such process (or not ours)
  }
}

/**
 * The state and program name of a process, from `ps` (Deno asks for --allow-all to read
 * /proc/PID, which the CLI does not have); undefined when there is no such process.
 */
function processInfo(pid: number): { state: string; comm: string } | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    const r = new Deno.Command("ps", {
      args: ["-o", "stat=,comm=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    })
      .outputSync();
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(new TextDecoder().decode(r.stdout));
    return m ? { state: m[1], comm: m[2] } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process runs (a zombie has exited: it only waits for its parent to reap it).
 *
 * @example
 * ```ts
 * if (!processRunning(pid)) Deno.removeSync(lockFile);
 * ```
 */
export function processRunning(pid: number): boolean {
  const info = processInfo(pid);
  return info !== undefined && !info.state.startsWith("Z") && !info.state.startsWith("X");
}

function isAnvilPid(pid: number): boolean {
  const info = processInfo(pid);
  return info !== undefined && !info.state.startsWith("Z") && info.comm === "anvil";
}

async function rpcChainId(rpc: string): Promise<number | undefined> {
  try {
    const res = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(2000),
    });
    const body = await res.json();
    return typeof body?.result === "string" ? Number(BigInt(body.result)) : undefined;
  } catch {
    return undefined;
  }
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** The last non-empty lines of the log, on one line (for one-line error messages). */
function logTail(path: string): string {
  const lines = readText(path).split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const tail = lines.slice(-3).join(" | ");
  return tail === "" ? `(no output; log ${path})` : `${tail} (log ${path})`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
