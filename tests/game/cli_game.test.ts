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
 * Skipped when node_modules/.bin/anvil is missing. Helpers: tests/_cli.ts.
 */
import { assert, assertEquals } from "../_assert.ts";
import { anvilAvailable } from "../../core/chain/anvil.ts";
import { readChainConfig } from "../../core/chain/config.ts";
import { stopLocalChain } from "../../core/chain/local_chain.ts";
import { compileModelFile } from "../../core/compiler/mod.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";
import { assertOneLineError, type Background, Cli, waitForLine } from "../_cli.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-cli-game-" });
const CONFIG = `${tmp}/chain/chain.json`;
const cli = new Cli({ OPML_CHAIN_CONFIG: CONFIG });
const opml = cli.run.bind(cli);
const ok = cli.ok.bind(cli);

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

      const server = cli.spawn("serve", [
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
      const verifier = cli.spawn("verify", [
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
      // --wait --json: one line as soon as the task is posted, one with the result
      const [posted, doc] = req.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assertEquals([posted.taskId, posted.status], ["1", "Open"], req.stdout);
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
      assert(
        server.events().some((e) => e.kind === "answered" && e.liesFrom === 10),
        server.lines.join("\n"),
      );

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
        (await ok(["request", MODEL, "-i", DIGIT, "--account", "1", "--wait", "--json"])).stdout.trim().split(
          "\n",
        )
          .at(-1)!,
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
      for (const a of agents) await a.kill();
      try {
        await stopLocalChain(readChainConfig(CONFIG));
      } catch { /* down already, or never up */ }
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
