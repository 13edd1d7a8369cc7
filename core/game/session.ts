/**
 * The local session file of a server or verifier: how far it has read the chain, the tasks it
 * answered or checked (with the `--tamper` it answered with, so that a restarted dishonest
 * server keeps defending the same result) and the disputes it plays. Written atomically after
 * every change; the chain stays the source of truth for the games themselves.
 * @module
 */
import { OpmlError } from "../errors.ts";
import type { Address, Hex } from "viem";
import { readJsonIfExists, writeJsonAtomic } from "../dispute/json_file.ts";

/** What an agent did with a task. */
export interface TaskRecord {
  /** The model's program key. */
  model: Hex;
  /** answered: we posted the result; agreed: we re-ran it and agree; challenged; skipped (bad data). */
  state: "answered" | "agreed" | "challenged" | "skipped";
  outputKey?: Hex;
  tamper?: number;
  note?: string;
}

/** A dispute an agent plays. */
export interface DisputeRecord {
  taskId: string;
  role: "defender" | "challenger";
  /** Once over: whether we won, and why. */
  end?: { won: boolean; reason: string; node: number; step?: string };
}

/** The session file (`opml-agent/1`). */
export interface AgentSession {
  format: "opml-agent/1";
  role: "server" | "verifier";
  chainId: number;
  game: Address;
  account: Address;
  /** The next block to read. */
  cursor: string;
  tasks: Record<string, TaskRecord>;
  disputes: Record<string, DisputeRecord>;
}

/** A session file that belongs to another chain, game, account or role. */
export class AgentSessionError extends OpmlError {
  override name = "AgentSessionError";
}

/**
 * Opens (or starts) the session of an agent; refuses one of another chain, game, account or role.
 *
 * @example
 * ```ts
 * const s = openSession(".opml/server.json", { role: "server", chainId, game, account }, deployBlock);
 * ```
 * @throws {AgentSessionError} for a session of other parameters; `JsonFileError` for an unreadable one.
 */
export function openSession(
  path: string,
  who: { role: AgentSession["role"]; chainId: number; game: Address; account: Address },
  startBlock: bigint,
): AgentSession {
  const doc = readJsonIfExists(path, "session file") as AgentSession | undefined;
  if (doc === undefined) {
    return { format: "opml-agent/1", ...who, cursor: startBlock.toString(), tasks: {}, disputes: {} };
  }
  if (doc.format !== "opml-agent/1" || typeof doc.cursor !== "string" || typeof doc.tasks !== "object") {
    throw new AgentSessionError(`${path}: not an opml agent session (format opml-agent/1)`);
  }
  for (const k of ["role", "chainId", "game", "account"] as const) {
    if (String(doc[k]).toLowerCase() !== String(who[k]).toLowerCase()) {
      throw new AgentSessionError(
        `${path}: a session of ${k} ${doc[k]}, not ${who[k]}: use another --session or delete it`,
      );
    }
  }
  doc.disputes ??= {};
  return doc;
}

/**
 * Writes the session atomically.
 *
 * @example
 * ```ts
 * saveSession(path, session);
 * ```
 */
export function saveSession(path: string, s: AgentSession): void {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  Deno.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(path, s);
}
