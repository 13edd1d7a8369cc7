/**
 * Helpers of the tests that run `opml` as a user does: subprocesses with exactly
 * the permissions of `deno task opml` (never -A: it would hide what the CLI may not do), a fixed
 * base environment (never a key or config path from the developer's), one-line error checks,
 * and background agents whose stdout lines and stderr are collected as they come.
 * @module
 */
import assert from "node:assert/strict";

/** The repository root, with a trailing slash. */
export const ROOT = new URL("..", import.meta.url).pathname;

/** The permissions of `deno task opml` (deno.json), nothing more. */
export const TASK_PERMISSIONS: string[] = (() => {
  const task: string = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks.opml;
  const flags = task.match(/--allow-[a-z]+(=\S+)?/g) ?? [];
  if (!task.includes("cli/main.ts") || flags.length === 0) {
    throw new Error(`deno.json's opml task changed shape: ${task}`);
  }
  return flags;
})();

/** `opml` as one shell command line with the task's permissions (for `--theirs-cmd` and the like). */
export const OPML_COMMAND = `${Deno.execPath()} run ${TASK_PERMISSIONS.join(" ")} ${ROOT}cli/main.ts`;

/** A finished command. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The last non-empty line of a text. */
export const lastLine = (s: string): string => s.trim().split("\n").at(-1) ?? "";

/** Asserts a one-line `opml: ...` error (stderr is exactly that line), its exit code, no stack trace. */
export function assertOneLineError(r: Run, code: number, re: RegExp): string {
  const lines = r.stderr.trim().split("\n");
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  return assertLastLineError(r, code, re);
}

/** Like {@link assertOneLineError} for commands that print progress first: the LAST line is the error. */
export function assertLastLineError(r: Run, code: number, re: RegExp): string {
  const line = lastLine(r.stderr);
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.match(line, /^opml: /);
  assert.match(line, re);
  assert.ok(!/internal error|\n\s+at /.test(r.stderr), `stack trace or internal error: ${r.stderr}`);
  return line;
}

/** The `opml` runner of a test file, with its base environment. */
export class Cli {
  /** `cwd`: the folder commands run in (default: this process's). */
  constructor(readonly baseEnv: Record<string, string>, readonly cwd?: string) {}

  command(args: string[], env: Record<string, string> = {}): Deno.Command {
    return new Deno.Command(Deno.execPath(), {
      args: ["run", ...TASK_PERMISSIONS, `${ROOT}cli/main.ts`, ...args],
      // never a key or config path from the developer's environment
      env: { OPML_PRIVATE_KEY: "", NO_COLOR: "1", ...this.baseEnv, ...env },
      cwd: this.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  }

  async run(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const r = await this.command(args, env).output();
    const dec = new TextDecoder();
    return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
  }

  /** Runs and asserts exit 0. */
  async ok(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const r = await this.run(args, env);
    assert.equal(r.code, 0, `opml ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
    return r;
  }

  /** Starts a command in the background. */
  spawn(name: string, args: string[], env: Record<string, string> = {}): Background {
    return new Background(name, this.command(args, env));
  }
}

const plain = new Cli({});

/** Runs `opml ARGS...` with the task's permissions and no key or config from the environment. */
export function opml(...args: string[]): Promise<Run> {
  return plain.run(args);
}

/** Runs opml and asserts exit code 0. */
export function opmlOk(...args: string[]): Promise<Run> {
  return plain.ok(args);
}

/** A background command: its stdout lines and stderr as they come. */
export class Background {
  readonly lines: string[] = [];
  stderr = "";
  readonly child: Deno.ChildProcess;
  readonly drained: Promise<void>;
  constructor(readonly name: string, command: Deno.Command) {
    this.child = command.spawn();
    const read = async (s: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
      for await (const t of s.pipeThrough(new TextDecoderStream())) onText(t);
    };
    let partial = "";
    this.drained = Promise.all([
      read(this.child.stdout, (t) => {
        const parts = (partial + t).split("\n");
        partial = parts.pop()!;
        this.lines.push(...parts.filter((l) => l.trim() !== ""));
      }),
      read(this.child.stderr, (t) => (this.stderr = (this.stderr + t).slice(-20_000))),
    ]).then(() => {});
  }
  /** The stdout lines as JSON (agents with --json). */
  events(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l));
  }
  /** Sends a signal (ignored if it has exited). */
  signal(sig: Deno.Signal): void {
    try {
      this.child.kill(sig);
    } catch { /* already exited */ }
  }
  /** The exit code once it exits by itself (fails after `limitMs`: a hang). */
  async exit(limitMs = 60_000): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.child.status,
      new Promise<null>((r) => timer = setTimeout(() => r(null), limitMs)),
    ]);
    clearTimeout(timer);
    if (status === null) {
      this.signal("SIGKILL");
      await this.child.status;
      await this.drained;
      throw new Error(`${this.name} did not exit:\n${this.stderr}`);
    }
    await this.drained;
    return status.code;
  }
  /** SIGTERM (or `sig`), then the exit code (fails if it does not exit within a minute: a hang). */
  stop(sig: Deno.Signal = "SIGTERM"): Promise<number> {
    this.signal(sig);
    return this.exit();
  }
  /** SIGKILL and wait, for a finally block. */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    await this.child.status;
    await this.drained;
  }
}

/** How long {@link waitUntil} waits before it fails (a hang, not a slow machine). */
export const WAIT_LIMIT_MS = 300_000;

/** Polls `f` until it returns a value other than undefined/false; fails naming `what` (and `context()`). */
export async function waitUntil<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  context: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for a JSON event line of a background agent. */
export function waitForLine(
  agent: Background,
  what: string,
  f: (e: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return waitUntil(what, () => agent.events().find(f), () => `${agent.name}:\n${agent.stderr}`);
}

/** Whether a process runs (from `ps`: `deno task test` may not read /proc/PID without -A). */
export function running(pid: number): boolean {
  const r = new Deno.Command("ps", {
    args: ["-o", "stat=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  })
    .outputSync();
  const state = new TextDecoder().decode(r.stdout).trim();
  return state !== "" && !/^[ZX]/.test(state);
}

/** Whether a path exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
