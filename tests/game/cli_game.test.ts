/**
 * The opML flow from the command line, as a user runs it: subprocesses with exactly the
 * permissions of `deno task opml` (never -A: it would hide what the CLI may not do), a temporary
 * chain configuration through $OPML_CHAIN_CONFIG (the repository's .opml/ is never touched):
 * `opml chain up`, a dishonest `opml serve --tamper node=10 --json` and an honest
 * `opml verify --json` in the background, `opml request --wait --json`, the verifier's
 * dispute-end line, `opml status --task 1 DIR --json` (Rejected, with the dispute's story),
 * `opml challenge --task 2` (the on-chain challenge of one task, run twice: the same outcome),
 * the agents stopped by SIGTERM (exit 0), `opml chain down`. Then bad input: a one-line `opml: ...`
 * error, a non-zero exit and no stack trace for a missing model directory, an input of the wrong
 * shape, an unknown or malformed task id, no chain configured, a malformed key, `challenge --task`
 * without `--model`, and another account's session file.
 *
 * Skipped when node_modules/.bin/anvil is missing. Run: deno test -A tests/game/cli_game.test.ts
 */
import { assert, assertEquals } from "../_assert.ts";
import { anvilAvailable } from "../../core/chain/anvil.ts";
import { readChainConfig } from "../../core/chain/config.ts";
import { stopLocalChain } from "../../core/chain/local_chain.ts";
import { compileModelFile } from "../../core/compiler/mod.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";

const root = new URL("../..", import.meta.url).pathname;
const tmp = Deno.makeTempDirSync({ prefix: "opml-cli-game-" });
const CONFIG = `${tmp}/chain/chain.json`;

/** The permissions of `deno task opml` (deno.json), nothing more. */
const TASK_PERMISSIONS = (() => {
  const task: string = JSON.parse(Deno.readTextFileSync(`${root}deno.json`)).tasks.opml;
  const m = /^deno run (.*) cli\/main\.ts$/.exec(task);
  if (!m) throw new Error(`deno.json's opml task changed shape: ${task}`);
  return m[1].split(" ");
})();

function command(args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...TASK_PERMISSIONS, `${root}cli/main.ts`, ...args],
    // never a key or config path from the developer's environment
    env: { OPML_PRIVATE_KEY: "", OPML_CHAIN_CONFIG: CONFIG, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function opml(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const r = await command(args, env).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const r = await opml(args, env);
  assertEquals(r.code, 0, `opml ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
  return r;
}

function assertOneLineError(r: Run, code: number, re: RegExp): string {
  const lines = r.stderr.trim().split("\n");
  assertEquals(r.code, code, `exit code (stderr: ${r.stderr})`);
  assertEquals(lines.length, 1, `one line, got: ${r.stderr}`);
  assert(/^opml: /.test(lines[0]), lines[0]);
  assert(re.test(lines[0]), `${lines[0]} does not match ${re}`);
  assert(!/internal error|\n\s+at /.test(r.stderr), `stack trace or internal error: ${r.stderr}`);
  return lines[0];
}

/** A background agent: its stdout lines (JSON events) and stderr as they come. */
class Background {
  readonly lines: string[] = [];
  stderr = "";
  readonly child: Deno.ChildProcess;
  readonly drained: Promise<void>;
  constructor(readonly name: string, args: string[]) {
    this.child = command(args, {}).spawn();
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
  events(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l));
  }
  /** SIGTERM, then the exit code (fails if it does not exit within a minute: a hang). */
  async stop(): Promise<number> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already exited */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.child.status,
      new Promise<null>((r) => timer = setTimeout(() => r(null), 60_000)),
    ]);
    clearTimeout(timer);
    if (status === null) {
      this.child.kill("SIGKILL");
      await this.child.status;
      await this.drained;
      throw new Error(`${this.name} did not exit after SIGTERM:\n${this.stderr}`);
    }
    await this.drained;
    return status.code;
  }
}

async function waitForLine(agent: Background, what: string, f: (e: Record<string, unknown>) => boolean) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const e = agent.events().find(f);
    if (e) return e;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}:\n${agent.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

await compileModelFile(`${MODELS}mnist-cnn/mnist-12.onnx`, `${tmp}/mnist-cnn`);
const MODEL = `${tmp}/mnist-cnn`;
/** Digit 537 (node 10's flip reaches its output; e2e_mnist checks it), float32 [1, 1, 28, 28]. */
const DIGIT = `${tmp}/digit537.bin`;
Deno.writeFileSync(
  DIGIT,
  new Uint8Array(
    Float32Array.from(
      Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(784 * 537, 784 * 538),
      (v) => v / 255,
    ).buffer,
  ),
);

Deno.test({
  name: "cli: chain up, a dishonest serve and an honest verify, request --wait, status, SIGTERM, chain down",
  ignore: !anvilAvailable(),
  async fn() {
    const agents: Background[] = [];
    try {
      // errors that need no chain
      assertOneLineError(
        await opml(["serve", MODEL, "--account", "2"], { OPML_CHAIN_CONFIG: `${tmp}/none/chain.json` }),
        1,
        /no chain configured \(.*none\/chain\.json does not exist\): run `opml chain up`/,
      );
      assertOneLineError(
        await opml(["request", `${tmp}/no-such-model`, "-i", DIGIT, "--account", "1"]),
        1,
        /no-such-model/,
      );
      assertOneLineError(await opml(["challenge", "--task", "1"]), 2, /--task needs --model/);
      assertOneLineError(await opml(["status", "--task", "abc"]), 2, /--task must be a non-negative integer/);

      const up = JSON.parse((await ok(["chain", "up", "--window", "120", "--json"])).stdout);
      assertEquals(up.game?.challengeWindow ?? readChainConfig(CONFIG).game.challengeWindow, 120);

      const server = new Background("serve", [
        "serve",
        MODEL,
        "--account",
        "2",
        "--tamper",
        "node=10",
        "--session",
        `${tmp}/server.json`,
        "--poll",
        "100",
        "--json",
      ]);
      agents.push(server);
      const verifier = new Background("verify", [
        "verify",
        MODEL,
        "--account",
        "3",
        "--session",
        `${tmp}/verifier.json`,
        "--poll",
        "100",
        "--json",
      ]);
      agents.push(verifier);

      const req = await ok([
        "request",
        MODEL,
        "-i",
        DIGIT,
        "--account",
        "1",
        "--fee",
        "0.01",
        "--wait",
        "--json",
      ]);
      const doc = JSON.parse(req.stdout);
      assertEquals([doc.taskId, doc.status], ["1", "Pending"], req.stdout);
      assertEquals(doc.outputs?.[0]?.shape, [1, 10], req.stdout);

      const end = await waitForLine(
        verifier,
        "the verifier's dispute-end line",
        (e) => e.kind === "dispute-end",
      );
      assertEquals(end.taskId, "1");
      const e = end.end as Record<string, unknown>;
      assertEquals([e.won, e.role, e.reason, e.node], [true, "challenger", "step", 10]);
      assert(verifier.events().some((e) => e.kind === "challenged"), verifier.lines.join("\n"));
      assert(server.events().some((e) => e.kind === "answered" && e.tamper === 10), server.lines.join("\n"));

      const st = JSON.parse((await ok(["status", "--task", "1", MODEL, "--json"])).stdout);
      assertEquals(st.status, "Rejected", JSON.stringify(st));
      assertEquals(st.disputes.length, 1);
      const d = st.disputes[0];
      assertEquals([d.node, d.phase, d.outcome], [10, "Resolved", { defenderWon: false, reason: "step" }]);
      assert(d.rounds.phase1 >= 1 && d.rounds.phase2 >= 1 && d.step !== undefined, JSON.stringify(d));
      assert(Number(d.defender.gas) > 0 && Number(d.challengerCost.gas) > 0, JSON.stringify(d));
      assertEquals(st.outputs?.[0]?.shape, [1, 10]);
      // the human form says the same
      const human = (await ok(["status", "--task", "1"])).stdout;
      assert(
        /task 1: Rejected/.test(human) && /challenger won by step/.test(human) && /node 10/.test(human),
        human,
      );

      // the on-chain challenge of one task: the verifier stops; task 2 (the liar answers it)
      // is challenged by `opml challenge --task`, which plays to the end and reports the outcome;
      // run again, it reports the same outcome from its session without moving
      assertEquals(await verifier.stop(), 0, `verify after SIGTERM:\n${verifier.stderr}`);
      agents.splice(agents.indexOf(verifier), 1);
      const req2 = JSON.parse(
        (await ok(["request", MODEL, "-i", DIGIT, "--account", "1", "--wait", "--json"])).stdout,
      );
      assertEquals([req2.taskId, req2.status], ["2", "Pending"]);
      const challengeArgs = ["challenge", "--task", "2", "--model", MODEL, "--account", "4", "--json"];
      const c1 = JSON.parse((await ok(challengeArgs)).stdout);
      assertEquals([c1.taskId, c1.state, c1.disputes.length], ["2", "challenged", 1], JSON.stringify(c1));
      assertEquals([c1.disputes[0].role, c1.disputes[0].end?.won, c1.disputes[0].end?.node], [
        "challenger",
        true,
        10,
      ]);
      const c2 = JSON.parse((await ok(challengeArgs)).stdout);
      assertEquals(c2, c1);
      assertEquals(JSON.parse((await ok(["status", "--task", "2", "--json"])).stdout).status, "Rejected");

      // errors on a live chain
      assertOneLineError(await opml(["status", "--task", "999"]), 1, /task 999: no such task \(2 posted\)/);
      const wrongShape = `${tmp}/wrong-shape.bin`;
      Deno.writeFileSync(wrongShape, new Uint8Array(4 * 100));
      assertOneLineError(
        await opml(["request", MODEL, "-i", wrongShape, "--account", "1"]),
        1,
        /wrong-shape\.bin: 400 bytes, but float\[1x1x28x28\] takes 3136/,
      );
      assertOneLineError(
        await opml(["verify", MODEL, "--account", "3"], { OPML_PRIVATE_KEY: "0x1234" }),
        1,
        /OPML_PRIVATE_KEY does not hold a private key/,
      );
      const before = Deno.readTextFileSync(`${tmp}/verifier.json`);
      const other = assertOneLineError(
        await opml(["verify", MODEL, "--account", "4", "--session", `${tmp}/verifier.json`]),
        1,
        /verifier\.json: a session of account 0x[0-9a-fA-F]{40}, not 0x[0-9a-fA-F]{40}/,
      );
      assert(other.includes("use another --session or delete it"), other);
      assertEquals(Deno.readTextFileSync(`${tmp}/verifier.json`), before, "the session file is untouched");
      // nothing happened on chain meanwhile
      assertEquals(JSON.parse((await ok(["status", "--task", "1", "--json"])).stdout).status, "Rejected");

      for (const a of agents) assertEquals(await a.stop(), 0, `${a.name} after SIGTERM:\n${a.stderr}`);
      const down = await ok(["chain", "down"]);
      assert(!/internal error/.test(down.stderr), down.stderr);
    } finally {
      for (const a of agents) {
        try {
          a.child.kill("SIGKILL");
        } catch { /* exited */ }
        await a.child.status;
        await a.drained;
      }
      try {
        await stopLocalChain(readChainConfig(CONFIG));
      } catch { /* down already, or never up */ }
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
