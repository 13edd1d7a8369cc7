/**
 * The same mistake gets the same answer from every command: the command tree is walked from
 * cli/main.ts and every leaf command is run as a subprocess (with the task's permissions) with
 * an unknown option, and with a file that does not exist. Usage errors are one line
 * `opml: ... (see opml CMD --help)` with exit 2; a missing file is one line naming it, exit 1
 * (`vm run`: 125, its documented code for opml's own failures).
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { buildProgram } from "../../cli/main.ts";
import { Cli } from "../_cli.ts";

const root = new URL("../..", import.meta.url).pathname;

/** `opml ARGS...` with the task's permissions, in folder `cwd`. */
const opml = (args: string[], cwd: string) => new Cli({}, cwd).run(args);

/** Every leaf command's words, e.g. ["vm", "run"], and its first required argument, if any. */
function leaves(): { words: string[]; argument: boolean }[] {
  const out: { words: string[]; argument: boolean }[] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, words: string[]) => {
    const subs = cmd.commands as unknown as ReturnType<typeof buildProgram>[];
    if (subs.length === 0) {
      const args = (cmd as unknown as { registeredArguments: { required: boolean }[] }).registeredArguments;
      out.push({ words, argument: args.length > 0 });
    }
    for (const s of subs) walk(s, [...words, s.name()]);
  };
  walk(buildProgram(), []);
  // `complete` is the shells' completion protocol (@bomb.sh/tab), not a command for people
  return out.filter((l) => l.words[0] !== "completion" && l.words[0] !== "complete");
}

function assertOneLine(stderr: string, what: string): string {
  const lines = stderr.trim().split("\n");
  assertEquals(lines.length, 1, `${what}: one line on stderr, got:\n${stderr}`);
  assert(lines[0].startsWith("opml: "), `${what}: starts with 'opml: ': ${lines[0]}`);
  return lines[0];
}

Deno.test("every command: a usage error is one 'opml:' line naming the command's help, exit 2", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-usage-" });
  try {
    const all = leaves();
    assert(all.length >= 15, `the command tree has its commands (${all.length})`);
    for (const { words } of all) {
      const r = await opml([...words, "--no-such-option"], tmp);
      const line = assertOneLine(r.stderr, words.join(" "));
      assertEquals(r.code, 2, `opml ${words.join(" ")} --no-such-option: ${line}`);
      // commander names a missing required option before an unknown one: either is a usage error
      assert(/--no-such-option|required option/.test(line), line);
      assertStringIncludes(line, `(see opml ${words.join(" ")} --help)`);
      assertEquals(r.stdout, "");
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("every command taking a file or folder: a missing one is one line naming it, exit 1", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-usage-" });
  // what each command needs besides its positional argument to get as far as reading it
  const extra: Record<string, string[]> = {
    "compile": ["-o", "out"],
    "vm state": ["--at", "1"],
    "roots": ["-i", "in.json"],
    "prove": ["--step", "1"],
    "request": ["-i", "in.json"],
    "serve": [],
    "verify": [],
  };
  try {
    for (const { words, argument } of leaves()) {
      const name = words.join(" ");
      if (!argument || name === "status") continue;
      const r = await opml([...words, "missing-thing", ...(extra[name] ?? [])], tmp);
      const line = assertOneLine(r.stderr, name);
      assertStringIncludes(line, "missing-thing", `opml ${name}: names the missing path`);
      assertEquals(r.code, name === "vm run" ? 125 : 1, `opml ${name}: ${line}`);
      assert(!line.includes("internal error"), `opml ${name}: ${line}`);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("opml vm state --at beyond --max-steps is a usage error, not an endless run", async () => {
  const r = await opml(["vm", "state", `${root}README.md`, "--at", "9007199254740991"], root);
  const line = assertOneLine(r.stderr, "vm state");
  assertEquals(r.code, 2, line);
  assertStringIncludes(line, "beyond --max-steps 10000000000");
});
