/**
 * Shared CLI plumbing: the error type that becomes a one-line message and an exit code,
 * reading input files with clear errors, and printing data.
 * @module
 */
import { OpmlError } from "../core/errors.ts";

/** A failure of the command line itself (options, files), reported like every {@link OpmlError}. */
export class CliError extends OpmlError {
  override name = "CliError";
}

/** Reads a whole file, turning OS errors into a one-line {@link CliError} naming the file. */
export function readInputFile(path: string, what = "file"): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new CliError(`${what} ${path}: no such file`);
    if (e instanceof Deno.errors.IsADirectory) throw new CliError(`${what} ${path}: is a directory`);
    if (e instanceof Deno.errors.PermissionDenied) throw new CliError(`${what} ${path}: permission denied`);
    throw new CliError(`${what} ${path}: ${(e as Error).message}`);
  }
}

/** `0x`-prefixed lowercase hex. */
export function hex(bytes: Uint8Array): string {
  let s = "0x";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** `0x`-prefixed 8-digit hex of a u32. */
export function hex32(v: number): string {
  return "0x" + (v >>> 0).toString(16).padStart(8, "0");
}

/** Prints a value as one JSON document on stdout. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Parses a non-negative integer option, or throws a {@link CliError} naming the option. */
export function parseCount(value: string, option: string): number {
  if (!/^\d+(e\d+)?$/i.test(value.replaceAll("_", ""))) {
    throw new CliError(`${option} must be a non-negative integer, got '${value}'`, 2);
  }
  const n = Number(value.replaceAll("_", ""));
  if (!Number.isSafeInteger(n)) throw new CliError(`${option} is too large: ${value}`, 2);
  return n;
}
