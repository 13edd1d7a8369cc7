/**
 * The opml command line as a subprocess with the task's permissions, and the assertion of a
 * one-line error (`opml: ...` on stderr, the documented exit code), for the CLI tests.
 * @module
 */
import { assert, assertEquals } from "../_assert.ts";

const root = new URL("../..", import.meta.url).pathname;

/** The permissions opml runs with (README). */
export const OPML_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net=127.0.0.1",
  "--allow-ffi",
];

/** What a run of opml gave. */
export interface OpmlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `opml ARGS...` (deno run with {@link OPML_PERMISSIONS}). */
export async function opml(...args: string[]): Promise<OpmlResult> {
  const r = await new Deno.Command("deno", {
    args: ["run", ...OPML_PERMISSIONS, `${root}cli/main.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** Runs opml and asserts exit code 0; returns the result. */
export async function opmlOk(...args: string[]): Promise<OpmlResult> {
  const r = await opml(...args);
  assertEquals(r.code, 0, `opml ${args.join(" ")}\n${r.stderr}`);
  return r;
}

/** Exactly one line on stderr, `opml: ` and matching `re`, and exit code `code`. */
export function assertOneLineError(r: OpmlResult, code: number, re: RegExp): void {
  const lines = r.stderr.trim().split("\n");
  assertEquals(r.code, code, `exit code (stderr: ${r.stderr})`);
  assertEquals(lines.length, 1, `one line, got: ${r.stderr}`);
  assert(/^opml: /.test(lines[0]) && re.test(lines[0]), `message: ${lines[0]}`);
}
