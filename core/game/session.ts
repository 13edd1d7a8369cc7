/**
 * The local session file of a server or verifier: how far it has read the chain for each of its
 * models, the tasks it answered or checked (with how its party lies, `liesFrom`, the `--tamper`
 * it answered with, so that a restarted dishonest server keeps defending the same result), the tasks it must retry after a
 * local failure, and the disputes it plays. It is bound to one chain instance (the hash of the
 * game's deployment block), so a session of an earlier embedded chain (same chain id and
 * addresses after `opml chain down` and `up`) is not taken for the new one's. Written atomically
 * after every change; the chain stays the source of truth for the games themselves.
 * @module
 */
import { OpmlError } from "../errors.ts";
import type { Address, Hex } from "viem";
import { readJsonIfExists, writeJsonAtomic } from "../dispute/json_file.ts";

/** What an agent did with a task. */
export interface TaskRecord {
  /** The model's program key. */
  model: Hex;
  /**
   * answered: we posted the result (or are about to); agreed: we re-ran it and agree;
   * challenged; skipped: for good, for a reason on chain (bad data, the window closed, a revert).
   */
  state: "answered" | "agreed" | "challenged" | "skipped";
  outputKey?: Hex;
  /** The salt of our commitment (kept before it is sent: a restart reveals with it). */
  salt?: Hex;
  /** Our party lies from node K on (`--tamper node=K`); `tamper` in older files, read as this. */
  liesFrom?: number;
  note?: string;
}

/** A task to try again: its handling failed locally (our run, our node, our transaction). */
export interface PendingTask {
  /** The game's model id. */
  modelId: Hex;
  /** The last failure. */
  reason: string;
}

/** A dispute an agent plays. */
export interface DisputeRecord {
  taskId: string;
  role: "defender" | "challenger";
  /** Once over: whether we won, and why. */
  end?: { won: boolean; reason: string; node: number; step?: string };
}

/** The chain instance a session belongs to: the game's deployment block and its hash. */
export interface ChainAnchor {
  deployBlock: string;
  blockHash: Hex;
}

/** The session file (`opml-agent/2`). */
export interface AgentSession {
  format: "opml-agent/2";
  role: "server" | "verifier";
  chainId: number;
  game: Address;
  account: Address;
  anchor: ChainAnchor;
  /** The next block to read, per model (game model id); a model not listed starts at the deployment. */
  cursors: Record<string, string>;
  /** Tasks to retry, by task id. */
  pending: Record<string, PendingTask>;
  tasks: Record<string, TaskRecord>;
  disputes: Record<string, DisputeRecord>;
}

/** A session file that belongs to another chain, game, account or role, or is malformed. */
export class AgentSessionError extends OpmlError {
  override name = "AgentSessionError";
}

/** Who opens a session, on which chain instance. */
export interface SessionOwner {
  role: AgentSession["role"];
  chainId: number;
  game: Address;
  account: Address;
  anchor: ChainAnchor;
  /** The chain's latest block: a session without an anchor whose cursor is beyond it is stale. */
  head?: bigint;
}

const BLOCK = /^\d+$/;

/** Checks the parts of a session document an agent relies on; one line naming the file. */
function checkShape(path: string, doc: Record<string, unknown>): void {
  const bad = (what: string): never => {
    throw new AgentSessionError(
      `${path}: ${what} (a damaged or hand-edited session file: fix it, or delete it to start anew)`,
    );
  };
  const obj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (doc.cursor !== undefined && (typeof doc.cursor !== "string" || !BLOCK.test(doc.cursor))) {
    bad(`cursor ${JSON.stringify(doc.cursor)} is not a block number`);
  }
  if (doc.cursors !== undefined) {
    if (!obj(doc.cursors)) bad("cursors is not an object");
    for (const [m, c] of Object.entries(doc.cursors as object)) {
      if (typeof c !== "string" || !BLOCK.test(c)) {
        bad(`cursor of model ${m}: ${JSON.stringify(c)} is not a block number`);
      }
    }
  }
  if (!obj(doc.tasks)) bad("tasks is not an object");
  for (const [id, t] of Object.entries(doc.tasks as object)) {
    if (!BLOCK.test(id)) bad(`task id ${JSON.stringify(id)} is not a number`);
    if (!obj(t) || !["answered", "agreed", "challenged", "skipped"].includes((t as TaskRecord).state)) {
      bad(`task ${id} has no valid state`);
    }
    const salt = (t as TaskRecord).salt;
    if (salt !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(String(salt))) bad(`task ${id}: salt ${salt}`);
    // `tamper`: the field's name before it was `liesFrom` (still read)
    const old = t as TaskRecord & { tamper?: unknown };
    if (old.tamper !== undefined && old.liesFrom === undefined) {
      old.liesFrom = old.tamper as number;
      delete old.tamper;
    }
    const liesFrom = old.liesFrom;
    if (liesFrom !== undefined && !(Number.isSafeInteger(liesFrom) && liesFrom >= 1)) {
      bad(`task ${id}: liesFrom ${liesFrom}`);
    }
  }
  if (doc.disputes !== undefined) {
    if (!obj(doc.disputes)) bad("disputes is not an object");
    for (const [id, d] of Object.entries(doc.disputes as object)) {
      const r = d as DisputeRecord;
      if (!BLOCK.test(id) || !obj(d) || typeof r.taskId !== "string" || !BLOCK.test(r.taskId)) {
        bad(`dispute ${JSON.stringify(id)} is malformed`);
      }
      if (r.role !== "defender" && r.role !== "challenger") bad(`dispute ${id} has no valid role`);
    }
  }
  if (doc.pending !== undefined) {
    if (!obj(doc.pending)) bad("pending is not an object");
    for (const [id, p] of Object.entries(doc.pending as object)) {
      if (!BLOCK.test(id) || !obj(p) || typeof (p as PendingTask).modelId !== "string") {
        bad(`pending task ${JSON.stringify(id)} is malformed`);
      }
    }
  }
}

/**
 * Opens (or starts) the session of an agent. Refuses one of another chain id, game, account or
 * role, and a malformed one. A session of another instance of the chain (its anchor block hash
 * differs: the embedded chain was restarted) is set aside as `<path>.stale` and a new one starts;
 * `onNote` says so. Sessions of format `opml-agent/1` are read, their one cursor dropped (every
 * model is read again from the deployment; the tasks already handled are remembered).
 *
 * @example
 * ```ts
 * const s = openSession(".opml/server.json", { role: "server", chainId, game, account, anchor });
 * ```
 * @throws {AgentSessionError} for a session of other parameters or a malformed one;
 *   `JsonFileError` for an unreadable one.
 */
export function openSession(path: string, who: SessionOwner, onNote?: (line: string) => void): AgentSession {
  const fresh = (): AgentSession => ({
    format: "opml-agent/2",
    role: who.role,
    chainId: who.chainId,
    game: who.game,
    account: who.account,
    anchor: who.anchor,
    cursors: {},
    pending: {},
    tasks: {},
    disputes: {},
  });
  const raw = readJsonIfExists(path, "session file");
  if (raw === undefined) return fresh();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new AgentSessionError(`${path}: not an opml agent session (format opml-agent/2)`);
  }
  const doc = raw as Record<string, unknown>;
  if (doc.format !== "opml-agent/1" && doc.format !== "opml-agent/2") {
    throw new AgentSessionError(`${path}: not an opml agent session (format opml-agent/2)`);
  }
  for (const k of ["role", "chainId", "game", "account"] as const) {
    if (String(doc[k]).toLowerCase() !== String(who[k]).toLowerCase()) {
      throw new AgentSessionError(
        `${path}: a session of ${k} ${doc[k]}, not ${who[k]}: use another --session or delete it`,
      );
    }
  }
  checkShape(path, doc);
  const anchor = doc.anchor as ChainAnchor | undefined;
  const otherAnchor = anchor !== undefined &&
    (String(anchor.deployBlock) !== who.anchor.deployBlock ||
      String(anchor.blockHash).toLowerCase() !== who.anchor.blockHash.toLowerCase());
  // a session of format 1 has no anchor: its cursor beyond the chain's head gives it away
  const beyondHead = anchor === undefined && typeof doc.cursor === "string" && who.head !== undefined &&
    BigInt(doc.cursor) > who.head + 1n;
  if (otherAnchor || beyondHead) {
    const stale = `${path}.stale`;
    try {
      Deno.renameSync(path, stale);
    } catch (e) {
      throw new AgentSessionError(
        `${path}: a session of an earlier chain, and cannot be set aside: ${(e as Error).message}`,
      );
    }
    const why = anchor
      ? `its game was deployed in block ${anchor.deployBlock} with hash ${
        String(anchor.blockHash).slice(0, 10)
      }..., ` +
        `this chain's is ${who.anchor.blockHash.slice(0, 10)}...`
      : `its cursor ${doc.cursor} is beyond this chain's head ${who.head}`;
    onNote?.(
      `${path} is a session of an earlier chain (${why}): starting a new session, the old one kept as ${stale}`,
    );
    return fresh();
  }
  return {
    ...fresh(),
    cursors: (doc.cursors as Record<string, string> | undefined) ?? {},
    pending: (doc.pending as Record<string, PendingTask> | undefined) ?? {},
    tasks: doc.tasks as Record<string, TaskRecord>,
    disputes: (doc.disputes as Record<string, DisputeRecord> | undefined) ?? {},
  };
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
