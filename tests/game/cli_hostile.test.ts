/**
 * The chain commands under hostile input and bad situations, as a user runs them (subprocesses
 * with the permissions of `deno task opml`; helpers in tests/_cli.ts):
 * - one-line errors before anything is posted or written: inputs of another dtype than the
 *   model's, an explicitly named key variable that is unset, `challenge --task` of no task,
 *   `serve --tamper` outside the model's nodes, `localhost` refused by Deno's net permission,
 *   a hand-edited session with a non-numeric cursor; read-only `status` needs no key;
 * - waiting commands: `request --wait` prints the task id at once and ends after `--timeout`
 *   (exit 3); SIGINT/SIGTERM end `request --wait` and `challenge --task` with 130/143;
 * - agents: a server whose native runs fail defers the tasks and answers them once runs work
 *   again; a verifier through a node that fails requests retries with back-off, then gives up
 *   naming the URL; a verifier of another model does not move the cursor past a wrong result,
 *   which the same session then challenges with the right model;
 * - the embedded chain's clock moves while idle (fees collected after the window), and a session
 *   of an earlier embedded chain (same chain id and addresses after `chain down`/`up`) starts
 *   anew so the new chain's tasks are answered.
 *
 * Skipped when node_modules/.bin/anvil is missing.
 */
import assert from "node:assert/strict";
import { createPublicClient, http, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ANVIL_MNEMONIC, devAccount } from "../../core/chain/accounts.ts";
import { anvilAvailable } from "../../core/chain/anvil.ts";
import { readChainConfig } from "../../core/chain/config.ts";
import { stopLocalChain } from "../../core/chain/local_chain.ts";
import { compileModelFile } from "../../core/compiler/mod.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";
import {
  assertLastLineError,
  assertOneLineError,
  type Background,
  Cli,
  exists,
  waitForLine,
  waitUntil,
} from "../_cli.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-cli-hostile-" });
const CONFIG = `${tmp}/chain/chain.json`;
const cli = new Cli({ OPML_CHAIN_CONFIG: CONFIG });
const IGNORE = !anvilAvailable();

const CNN = `${tmp}/mnist-cnn`;
const MLP = `${tmp}/mnist-mlp`;
/** Digit 537, float32 [1, 1, 28, 28] (the mnist-cnn input). */
const DIGIT = `${tmp}/digit537.bin`;
const pixels = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(
  784 * 537,
  784 * 538,
);
if (!IGNORE) {
  await compileModelFile(`${MODELS}mnist-cnn/mnist-12.onnx`, CNN);
  await compileModelFile(`${MODELS}mnist-mlp/mnist-mlp.onnx`, MLP, { shapes: { input: [1, 784] } });
  Deno.writeFileSync(DIGIT, new Uint8Array(Float32Array.from(pixels, (v) => v / 255).buffer));
}

/** The address of anvil dev account i. */
const addr = (i: number) => devAccount(i).address;

let chainUp: Promise<Record<string, unknown>> | undefined;
/** The test file's embedded chain (window 300 s), started once. */
function chain(): Promise<Record<string, unknown>> {
  chainUp ??= cli.ok(["chain", "up", "--window", "300", "--json"]).then((r) => JSON.parse(r.stdout));
  return chainUp;
}

async function blockNumber(rpc: string): Promise<bigint> {
  return await createPublicClient({ transport: http(rpc) }).getBlockNumber({ cacheTime: 0 });
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

Deno.test({
  name: "hostile: wrong dtype, unset named key, no such task, --tamper out of range, localhost, bad session",
  ignore: IGNORE,
  sanitizeResources: false,
  async fn() {
    const up = await chain();
    const game = (up.contracts as Record<string, string>).game;
    // int32 data for the float input: the servers would read its bytes as floats
    const int32 = `${tmp}/int32.json`;
    Deno.writeTextFileSync(
      int32,
      JSON.stringify({ Input3: { dtype: "int32", shape: [1, 1, 28, 28], data: Array.from(pixels) } }),
    );
    assertOneLineError(
      await cli.run(["request", CNN, "-i", int32, "--account", "1"]),
      1,
      /input 'Input3' is int32\[1x1x28x28\], the model expects float\[1x1x28x28\]/,
    );
    // a key variable named explicitly but unset: never a dev account instead
    assertOneLineError(
      await cli.run(["request", CNN, "-i", DIGIT, "--account", "1", "--key-env", "OPML_TEST_UNSET_KEY"]),
      1,
      /OPML_TEST_UNSET_KEY is not set/,
    );
    // nothing was posted
    assertOneLineError(await cli.run(["status", "--task", "1"]), 1, /task 1: no such task \(0 posted\)/);
    // no such task: at once, not a wait
    assertOneLineError(
      await cli.run(["challenge", "--task", "99", "--model", CNN, "--account", "4"]),
      1,
      /task 99: no such task \(0 posted\)/,
    );
    // --tamper outside the model's nodes: a usage error at start, no session written
    const session = `${tmp}/tamper-session.json`;
    assertOneLineError(
      await cli.run(["serve", CNN, "--tamper", "node=99", "--account", "2", "--session", session]),
      2,
      /--tamper node=99: the nodes of .*mnist-cnn are 1 \.\. \d+/,
    );
    assert.ok(!exists(session));
    // localhost is not 127.0.0.1 for Deno's net permission: say so
    const port = new URL(up.rpc as string).port;
    assertOneLineError(
      await cli.run(["status", "--task", "1", "--rpc", `http://localhost:${port}`, "--game", game]),
      1,
      new RegExp(
        `cannot reach http://localhost:${port}: Deno's network permission does not cover localhost.*use http://127\\.0\\.0\\.1:${port}`,
      ),
    );
    // a hand-edited session: one line naming the file, the file untouched
    const bad = `${tmp}/bad-session.json`;
    const who = { role: "verifier", chainId: up.chainId, game, account: addr(3), tasks: {}, disputes: {} };
    for (
      const doc of [
        { format: "opml-agent/1", ...who, cursor: "abc" },
        { format: "opml-agent/2", ...who, cursors: { "0x01": "12x" } },
      ]
    ) {
      Deno.writeTextFileSync(bad, JSON.stringify(doc));
      assertOneLineError(
        await cli.run(["verify", CNN, "--account", "3", "--session", bad]),
        1,
        /bad-session\.json: .*cursor.* is not a block number/,
      );
      assert.deepEqual(JSON.parse(Deno.readTextFileSync(bad)), doc);
    }
  },
});

Deno.test({
  name: "hostile: request --wait prints the task id at once, --timeout exits 3; SIGINT/SIGTERM exit 130/143",
  ignore: IGNORE,
  sanitizeResources: false,
  async fn() {
    await chain();
    const agents: Background[] = [];
    try {
      // no server: the wait ends after --timeout, the task id is on stdout already
      const r = await cli.run([
        "request",
        CNN,
        "-i",
        DIGIT,
        "--account",
        "1",
        "--wait",
        "--timeout",
        "2",
        "--json",
      ]);
      assertLastLineError(r, 3, /task 1: no result after 2 s/);
      const first = JSON.parse(r.stdout.trim().split("\n")[0]);
      assert.deepEqual([first.taskId, first.status], ["1", "Open"]);
      // status reads only: a malformed key is not its business
      const st = await cli.ok(["status", "--task", "1", "--json"], { OPML_PRIVATE_KEY: "0x1234" });
      assert.equal(JSON.parse(st.stdout).status, "Open");

      const wait = cli.spawn("request --wait", ["request", CNN, "-i", DIGIT, "--account", "1", "--wait"]);
      agents.push(wait);
      await waitUntil("the task id on stdout", () => wait.lines.includes("task 2"), () => wait.stderr);
      assert.equal(await wait.stop("SIGINT"), 130, wait.stderr);
      assertLastLineError({ code: 130, stdout: "", stderr: wait.stderr }, 130, /stopped by SIGINT .* task 2/);

      // a task without a result: challenge --task waits; SIGTERM ends it with 143, not 0
      const ch = cli.spawn("challenge --task", [
        "challenge",
        "--task",
        "1",
        "--model",
        CNN,
        "--account",
        "4",
      ]);
      agents.push(ch);
      await waitUntil("the verifier's banner", () => ch.stderr.includes("opml verifier:"), () => ch.stderr);
      assert.equal(await ch.stop("SIGTERM"), 143, ch.stderr);
      assertLastLineError(
        { code: 143, stdout: "", stderr: ch.stderr },
        143,
        /stopped by SIGTERM before task 1 was settled/,
      );
    } finally {
      for (const a of agents) await a.kill();
    }
  },
});

/** An HTTP proxy to a node that can fail requests: the first `failLogs` eth_getLogs, or all. */
function startProxy(target: string) {
  const state = { failLogs: 0, failAll: false, failed: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    if (state.failAll || (state.failLogs > 0 && body.includes('"eth_getLogs"'))) {
      if (!state.failAll) state.failLogs--;
      state.failed++;
      return new Response("node unavailable", { status: 503 });
    }
    const r = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    return new Response(await r.text(), {
      status: r.status,
      headers: { "content-type": "application/json" },
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, state, server };
}

Deno.test({
  name: "hostile: local failures retried, a failing node survived then given up, cursors per model",
  ignore: IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const up = await chain();
    const rpc = up.rpc as string;
    const game = (up.contracts as Record<string, string>).game;
    const agents: Background[] = [];
    let proxy: ReturnType<typeof startProxy> | undefined;
    try {
      // tasks 1 and 2 are open (the test before). A server whose native runner fails defers them
      // (nothing is skipped for good) and answers them once the runner works again.
      const flaky = `${tmp}/mnist-cnn-flaky`;
      Deno.mkdirSync(flaky);
      for (const e of Deno.readDirSync(CNN)) Deno.copyFileSync(`${CNN}/${e.name}`, `${flaky}/${e.name}`);
      Deno.writeTextFileSync(
        `${flaky}/model`,
        "#!/bin/sh\necho 'simulated failure of the runner' >&2\nexit 1\n",
      );
      Deno.chmodSync(`${flaky}/model`, 0o755);
      const s2 = `${tmp}/server2.json`;
      const server = cli.spawn("serve (flaky)", [
        "serve",
        flaky,
        "--account",
        "2",
        "--session",
        s2,
        "--poll",
        "100",
        "--json",
      ]);
      agents.push(server);
      for (const id of ["1", "2"]) {
        const e = await waitForLine(
          server,
          `task ${id} deferred`,
          (e) => e.kind === "deferred" && e.taskId === id,
        );
        assert.match(String(e.reason), /simulated failure of the runner/);
      }
      const pending = readJson(s2) as { pending: Record<string, unknown>; tasks: Record<string, unknown> };
      assert.deepEqual(Object.keys(pending.pending).sort(), ["1", "2"]);
      assert.equal(pending.tasks["1"], undefined, "a local failure must not skip a task for good");
      Deno.copyFileSync(`${CNN}/model`, `${flaky}/model.new`);
      Deno.renameSync(`${flaky}/model.new`, `${flaky}/model`);
      for (const id of ["1", "2"]) {
        await waitForLine(server, `task ${id} answered`, (e) => e.kind === "answered" && e.taskId === id);
      }
      assert.deepEqual((readJson(s2) as { pending: object }).pending, {});
      assert.equal(await server.stop(), 0, server.stderr);

      // a verifier through a node that fails eth_getLogs a few times: it retries with back-off
      proxy = startProxy(rpc);
      proxy.state.failLogs = 12;
      const key7 = toHex(mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 7 }).getHdKey().privateKey!);
      const v7 = cli.spawn("verify (proxy)", [
        "verify",
        CNN,
        "--rpc",
        proxy.url,
        "--game",
        game,
        "--session",
        `${tmp}/verifier7.json`,
        "--give-up",
        "4",
        "--poll",
        "100",
        "--json",
      ], { OPML_PRIVATE_KEY: key7 });
      agents.push(v7);
      for (const id of ["1", "2"]) {
        await waitForLine(v7, `task ${id} agreed`, (e) => e.kind === "agreed" && e.taskId === id);
      }
      assert.ok(proxy.state.failed >= 12 && /retrying in \d+ ms/.test(v7.stderr), v7.stderr);
      // then the node is gone: it gives up, naming the URL
      proxy.state.failAll = true;
      const code = await v7.exit(120_000);
      assertLastLineError(
        { code, stdout: "", stderr: v7.stderr },
        1,
        new RegExp(`${proxy.url.replaceAll(".", "\\.")} has not answered for \\d+ s .*giving up`),
      );

      // a wrong result (task 3) ...
      const posted = JSON.parse(
        (await cli.ok(["request", CNN, "-i", DIGIT, "--account", "1", "--json"])).stdout,
      );
      assert.equal(posted.taskId, "3");
      const liar = cli.spawn("serve --tamper", [
        "serve",
        CNN,
        "--account",
        "5",
        "--tamper",
        "node=10",
        "--session",
        `${tmp}/server5.json`,
        "--poll",
        "100",
        "--json",
      ]);
      agents.push(liar);
      await waitForLine(liar, "task 3 answered", (e) => e.kind === "answered" && e.taskId === "3");
      assert.equal(await liar.stop(), 0, liar.stderr);
      // ... read by a verifier of another model: its cursor moves past the block, for that model only
      const s3 = `${tmp}/verifier3.json`;
      const after = await blockNumber(rpc);
      const other = cli.spawn("verify (mlp)", [
        "verify",
        MLP,
        "--account",
        "3",
        "--session",
        s3,
        "--poll",
        "100",
        "--json",
      ]);
      agents.push(other);
      await waitUntil("the mlp verifier's cursor past the wrong result", () => {
        const c = Object.values((readJson(s3)?.cursors ?? {}) as Record<string, string>);
        return c.length > 0 && c.every((b) => BigInt(b) > after);
      }, () => other.stderr);
      assert.equal(await other.stop(), 0, other.stderr);
      assert.deepEqual(other.lines, []);
      // the same session with the right model still sees it, and challenges it
      const right = cli.spawn("verify (cnn)", [
        "verify",
        CNN,
        "--account",
        "3",
        "--session",
        s3,
        "--poll",
        "100",
        "--json",
      ]);
      agents.push(right);
      await waitForLine(right, "task 3 challenged", (e) => e.kind === "challenged" && e.taskId === "3");
      for (const id of ["1", "2"]) {
        await waitForLine(right, `task ${id} agreed`, (e) => e.kind === "agreed" && e.taskId === id);
      }
      assert.equal(await right.stop(), 0, right.stderr);
    } finally {
      for (const a of agents) await a.kill();
      await proxy?.server.shutdown();
    }
  },
});

Deno.test({
  name: "hostile: an idle embedded chain passes the window (fees collected); a session of an earlier chain",
  ignore: IGNORE,
  sanitizeResources: false,
  async fn() {
    const config = `${tmp}/c2/chain.json`;
    const on = ["--config", config];
    const agents: Background[] = [];
    const session = `${tmp}/c2/sessions/server-${addr(2).toLowerCase()}.json`;
    try {
      const first = JSON.parse((await cli.ok(["chain", "up", ...on, "--window", "2", "--json"])).stdout);
      const serve = () => {
        const s = cli.spawn("serve", ["serve", CNN, ...on, "--account", "2", "--poll", "100", "--json"]);
        agents.push(s);
        return s;
      };
      const request = async () => {
        const r = await cli.ok([
          "request",
          CNN,
          "-i",
          DIGIT,
          ...on,
          "--account",
          "1",
          "--fee",
          "0.01",
          "--wait",
          "--timeout",
          "120",
          "--json",
        ]);
        return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
      };
      const s1 = serve();
      assert.equal((await request()).status, "Pending");
      // nothing else happens on chain: the chain's own blocks carry it past the window
      await waitForLine(s1, "task 1 finalized", (e) => e.kind === "finalized" && e.taskId === "1");
      await waitForLine(s1, "the fee withdrawn", (e) => e.kind === "withdrawn");
      assert.equal(await s1.stop(), 0, s1.stderr);
      assert.ok(exists(session));

      // the same chain id and addresses, another chain: the old session must not hide task 1
      await cli.ok(["chain", "down", ...on]);
      const second = JSON.parse((await cli.ok(["chain", "up", ...on, "--window", "2", "--json"])).stdout);
      assert.deepEqual([second.chainId, second.contracts.game], [first.chainId, first.contracts.game]);
      const s2 = serve();
      const doc = await request();
      assert.deepEqual([doc.taskId, doc.status], ["1", "Pending"]);
      await waitForLine(
        s2,
        "task 1 answered on the new chain",
        (e) => e.kind === "answered" && e.taskId === "1",
      );
      assert.match(
        s2.stderr,
        /is a session of an earlier chain .*starting a new session, the old one kept as .*\.stale/,
      );
      assert.ok(exists(`${session}.stale`));
      await waitForLine(
        s2,
        "task 1 finalized on the new chain",
        (e) => e.kind === "finalized" && e.taskId === "1",
      );
      assert.equal(await s2.stop(), 0, s2.stderr);
      await cli.ok(["chain", "down", ...on]);
    } finally {
      for (const a of agents) await a.kill();
      try {
        await stopLocalChain(readChainConfig(config));
      } catch { /* down already */ }
    }
  },
});

Deno.test({
  name: "hostile: chain down",
  ignore: IGNORE,
  sanitizeResources: false,
  async fn() {
    try {
      if (chainUp) await cli.ok(["chain", "down"]);
    } finally {
      try {
        await stopLocalChain(readChainConfig(CONFIG));
      } catch { /* down already */ }
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
