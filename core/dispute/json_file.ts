/**
 * JSON files written atomically (a temporary file in the same folder, flushed, then renamed
 * over the target): a reader or a crash sees the old document or the new one, never a mix.
 * @module
 */
import { OpmlError } from "../errors.ts";

/** A JSON file that cannot be read: the message names the file and the problem. */
export class JsonFileError extends OpmlError {
  override name = "JsonFileError";
}

/**
 * Writes `value` as JSON to `path` atomically.
 *
 * @example
 * ```ts
 * writeJsonAtomic("dispute.session.json", session);
 * ```
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash + 1) : "";
  const tmp = `${dir}.${path.slice(slash + 1)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const text = new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
  try {
    const f = Deno.openSync(tmp, { write: true, createNew: true });
    try {
      let off = 0;
      while (off < text.length) off += f.writeSync(text.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never created */ }
    throw new JsonFileError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/**
 * Reads a JSON document, or undefined when the file does not exist.
 *
 * @example
 * ```ts
 * const doc = readJson("roots.json", "commitments file");
 * ```
 * @throws {JsonFileError} for an unreadable file or invalid JSON, naming `what` and the path.
 */
export function readJsonIfExists(path: string, what: string): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.IsADirectory) throw new JsonFileError(`${what} ${path}: is a directory`);
    throw new JsonFileError(`${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonFileError(`${what} ${path}: not valid JSON`);
  }
}

/** Like {@link readJsonIfExists}, but a missing file is an error too. */
export function readJson(path: string, what: string): unknown {
  const doc = readJsonIfExists(path, what);
  if (doc === undefined) throw new JsonFileError(`${what} ${path}: no such file`);
  return doc;
}
