/**
 * `deno task demo`: the opML flow on the embedded local chain, with the real command line.
 *
 * mnist-cnn and stories260K are compiled; `opml chain up` starts anvil and deploys the
 * contracts; an honest server answers one task per model and the verifier, re-running each
 * result, leaves them alone; then two dishonest servers (`--tamper`) answer one task per model
 * with a wrong result, and the verifier challenges each and wins the dispute on chain: phase 1
 * over the model's node states, phase 2 over the VM steps of the disputed node's check, one MIPS
 * step executed by the contract. The honest server, restarted, resumes from its session and
 * collects its fees once the challenge window is over. Prints the story of each game and stops
 * everything it started.
 * @module
 */
import { createPublicClient, formatEther, type Hex, http, type PublicClient } from "viem";
import { foundry } from "viem/chains";
import { compileModelFile, loadModelDir, type ModelDir } from "../core/compiler/mod.ts";
import { readChainConfig } from "../core/chain/config.ts";
import { devAccount } from "../core/chain/accounts.ts";
import { GameClient, STATUS_NAMES } from "../core/chain/game_client.ts";
import { runNative, runVm } from "../core/engine/mod.ts";
import { DType } from "../core/ir/mod.ts";
import { keyOfTensors, taskStory } from "../core/game/mod.ts";
import { SHARED_MODELS as MODELS } from "./_data.ts";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}build/demo`;
const config = `${out}/chain.json`;
const logs = `${out}/logs`;
const t00 = performance.now();
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);
const num = (v: bigint | number) => v.toLocaleString("en-US");

function fail(msg: string): never {
  console.error(`demo: ${msg}`);
  throw new DemoFailure(msg);
}
class DemoFailure extends Error {}

const OPML = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net=127.0.0.1",
  "--allow-ffi",
  `${root}cli/main.ts`,
];
const env = { OPML_CHAIN_CONFIG: config, OPML_PRIVATE_KEY: "" };

/** Runs `opml ARGS` to completion; its stdout (JSON with --json). */
async function opml(args: string[]): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [...OPML, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const err = new TextDecoder().decode(r.stderr).trim();
  if (r.code !== 0) fail(`opml ${args.join(" ")} exited ${r.code}: ${err.split("\n").pop()}`);
  return new TextDecoder().decode(r.stdout);
}

/** A long-running `opml serve|verify`, its output in build/demo/logs. */
interface Agent {
  name: string;
  child: Deno.ChildProcess;
  done: Promise<void>;
}
const agents: Agent[] = [];

function startAgent(name: string, args: string[]): Agent {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...OPML, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const file = (ext: string) =>
    Deno.openSync(`${logs}/${name}.${ext}`, { write: true, create: true, append: true });
  const pipe = async (s: ReadableStream<Uint8Array>, f: Deno.FsFile) => {
    for await (const chunk of s) f.writeSync(chunk);
    f.close();
  };
  const done = Promise.all([pipe(child.stdout, file("out")), pipe(child.stderr, file("err"))]).then(() => {});
  const a = { name, child, done };
  agents.push(a);
  return a;
}

async function stopAgent(a: Agent): Promise<void> {
  try {
    a.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  const status = await a.child.status;
  await a.done;
  agents.splice(agents.indexOf(a), 1);
  if (status.code !== 0) fail(`${a.name} exited ${status.code} (see ${logs}/${a.name}.err)`);
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 600_000): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (performance.now() - t0 > timeoutMs) fail(`timed out waiting for ${what}`);
    for (const a of agents) {
      // an agent that died stops the demo at once, with its last words
      const dead = await Promise.race([a.child.status.then((s) => s), Promise.resolve(undefined)]);
      if (dead) {
        const err = Deno.readTextFileSync(`${logs}/${a.name}.err`).trim().split("\n").pop();
        fail(`${a.name} exited ${dead.code}: ${err}`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

console.log("opml demo: verifiable ML inference on a local chain, decided by fraud proofs\n");
Deno.mkdirSync(logs, { recursive: true });
for (const f of Deno.readDirSync(logs)) Deno.removeSync(`${logs}/${f.name}`);
try {
  Deno.removeSync(`${out}/sessions`, { recursive: true });
} catch {
  // first run
}

try {
  // 1. compile
  let t0 = performance.now();
  const cnnDir = `${out}/mnist-cnn`, storiesDir = `${out}/stories260K`;
  const cnnManifest = await compileModelFile(`${MODELS}mnist-cnn/mnist-12.onnx`, cnnDir);
  const storiesManifest = await compileModelFile(`${MODELS}stories260K-llama/stories260K.onnx`, storiesDir, {
    shapes: { seq: [49] },
  });
  const cnn = loadModelDir(cnnDir), stories = loadModelDir(storiesDir);
  console.log(
    `1. opml compile: mnist-cnn (${cnnManifest.nodes} nodes) and stories260K (${storiesManifest.nodes} nodes) in ${
      secs(t0)
    } s`,
  );

  // 2. inputs; native and VM agree bit for bit
  const digits = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`);
  const labels = Deno.readFileSync(`${MODELS}mnist-digits/labels-1000-u8.bin`);
  const pick = 537;
  const pixels = Float32Array.from(digits.subarray(784 * pick, 784 * (pick + 1)), (v) => v / 255);
  const digitFile = `${out}/digit.json`;
  Deno.writeTextFileSync(
    digitFile,
    JSON.stringify({ Input3: { shape: [1, 1, 28, 28], dtype: "float32", data: [...pixels] } }),
  );
  const tokensFile = `${MODELS}stories260K-llama/test_data_set_0/input_tokens.bin`;
  const x = { dtype: DType.float32, shape: [1, 1, 28, 28], data: pixels };
  t0 = performance.now();
  const native = await runNative(cnn.native, cnn.prog, [x]);
  const vm = runVm(Deno.readFileSync(cnn.mips), cnn.prog, [x]);
  if (keyOfTensors(native.outputs) !== keyOfTensors(vm.outputs)) fail("native and VM outputs differ");
  const scores = [...native.outputs[0].data as Float32Array];
  console.log(
    `2. digit #${pick} (label ${labels[pick]}): mnist-cnn predicts ${scores.indexOf(Math.max(...scores))}, ` +
      `native and VM outputs byte-identical (${(vm.steps / 1e6).toFixed(0)} M VM steps, ${secs(t0)} s)`,
  );

  // 3. the chain
  t0 = performance.now();
  await opml(["chain", "down"]);
  await opml(["chain", "up"]);
  const cfg = readChainConfig(config);
  const client = createPublicClient({
    chain: foundry,
    transport: http(cfg.rpc),
    cacheTime: 0,
  }) as PublicClient;
  const game = new GameClient(client, undefined as never, cfg.contracts.game);
  const g = cfg.game;
  console.log(
    `3. opml chain up: anvil at ${cfg.rpc}, OpmlGame at ${cfg.contracts.game} (${secs(t0)} s)\n` +
      `   ${g.arity}-ary dissection, ${g.clockBudget} s chess clocks, bonds ${
        formatEther(g.serverBond)
      } ETH, ` +
      `challenge window ${g.challengeWindow} s`,
  );

  const who = (i: number) => devAccount(i).address;
  const REQUESTER = 1, HONEST = 2, LIAR_CNN = 3, VERIFIER = 4, LIAR_STORIES = 5;
  const request = async (dir: string, input: string) =>
    BigInt(
      JSON.parse(
        await opml(["request", dir, "-i", input, "--fee", "0.01", "--account", `${REQUESTER}`, "--json"]),
      ).taskId,
    );
  const pending = (id: bigint) =>
    waitFor(`task ${id}'s result`, async () => (await game.task(id)).status >= 2 ? true : undefined);

  // 4. honest server, verifier
  console.log(`\n4. an honest server (${who(HONEST)}) and a verifier (${who(VERIFIER)}) start`);
  const verifierStart = await client.getBalance({ address: who(VERIFIER) });
  const honest = startAgent("honest-server", [
    "serve",
    cnnDir,
    storiesDir,
    "--account",
    `${HONEST}`,
    "--json",
  ]);
  startAgent("verifier", [
    "verify",
    cnnDir,
    storiesDir,
    "--account",
    `${VERIFIER}`,
    "--json",
  ]);
  const honestTasks: bigint[] = [];
  for (
    const [name, dir, input] of [["mnist-cnn", cnnDir, digitFile], ["stories260K", storiesDir, tokensFile]]
  ) {
    t0 = performance.now();
    const id = await request(dir, input);
    await pending(id);
    const agreed = await waitFor(`the verifier's check of task ${id}`, () => {
      const lines = Deno.readTextFileSync(`${logs}/verifier.out`).trim().split("\n").filter(Boolean);
      return Promise.resolve(lines.map((l) => JSON.parse(l)).find((e) => e.taskId === `${id}`));
    });
    if (agreed.kind !== "agreed") {
      fail(`the verifier did not agree with the honest result of task ${id}: ${agreed.kind}`);
    }
    console.log(
      `   task ${id} (${name}): answered by the honest server; the verifier re-ran it and agrees (${
        secs(t0)
      } s)`,
    );
    honestTasks.push(id);
  }
  await stopAgent(honest);

  // 5. dishonest servers
  const lies: [string, ModelDir, string, string, number, number][] = [
    ["mnist-cnn", cnn, cnnDir, digitFile, 10, LIAR_CNN],
    ["stories260K", stories, storiesDir, tokensFile, 177, LIAR_STORIES],
  ];
  console.log(`\n5. two dishonest servers start (opml serve --tamper node=K: a wrong result from node K on)`);
  const games: { name: string; taskId: bigint; node: number; t0: number; wall?: number }[] = [];
  for (const [name, , dir, , node, account] of lies) {
    startAgent(`liar-${name}`, [
      "serve",
      dir,
      "--account",
      `${account}`,
      "--tamper",
      `node=${node}`,
      "--json",
    ]);
  }
  for (const [name, , dir, input, node] of lies) {
    const t = performance.now();
    const id = await request(dir, input);
    games.push({ name, taskId: id, node, t0: t });
    console.log(`   task ${id} (${name}): posted`);
  }
  for (const gm of games) {
    await waitFor(`the dispute on task ${gm.taskId}`, async () => {
      const s = (await game.task(gm.taskId)).status;
      return s === 4 || s === 3 ? true : undefined;
    });
    gm.wall = (performance.now() - gm.t0) / 1000;
  }
  for (const gm of games) {
    const story = await taskStory(game, gm.taskId, BigInt(cfg.deployBlock));
    const d = story.disputes[0];
    if (!d?.outcome || d.outcome.defenderWon) fail(`task ${gm.taskId}: the verifier did not win`);
    if (d.node !== gm.node) {
      fail(`task ${gm.taskId}: disputed node ${d.node}, the server lied from node ${gm.node}`);
    }
    console.log(
      `\n   game on task ${gm.taskId} (${gm.name}), the server lying from node ${gm.node}: ${story.status}`,
    );
    console.log(
      `     phase 1: ${d.rounds.phase1} round(s) over the ${
        gm.name === "mnist-cnn" ? cnnManifest.nodes + 2 : storiesManifest.nodes + 2
      } node states: node ${d.node} disputed (its input state agreed)`,
    );
    console.log(
      `     phase 2: ${d.rounds.phase2} rounds over the ${
        num(d.checkSteps!)
      } VM steps of node ${d.node}'s check: step ${num(d.step!)}`,
    );
    console.log(`     MIPS.step executed step ${num(d.step!)} on chain: the verifier wins`);
    console.log(
      `     gas: verifier ${num(d.challengerCost.gas)} in ${d.challengerCost.txs} txs, ` +
        `server ${num(d.defender.gas)} in ${d.defender.txs} txs; ${
          gm.wall!.toFixed(1)
        } s from the request to the verdict`,
    );
  }

  // 6. the window passes; the honest server resumes and collects
  console.log(`\n6. the challenge window passes (anvil evm_increaseTime ${g.challengeWindow} s)`);
  await client.request({ method: "evm_increaseTime" as never, params: [g.challengeWindow] as never });
  await client.request({ method: "evm_mine" as never, params: [] as never });
  const before = await client.getBalance({ address: who(HONEST) });
  startAgent("honest-server-2", ["serve", cnnDir, storiesDir, "--account", `${HONEST}`, "--json"]);
  for (const id of honestTasks) {
    await waitFor(`task ${id} final`, async () => (await game.task(id)).status === 3 ? true : undefined);
  }
  await waitFor(
    "the honest server's withdrawal",
    async () =>
      (await game.credits(who(HONEST))) === 0n && (await client.getBalance({ address: who(HONEST) })) > before
        ? true
        : undefined,
  );
  const got = (await client.getBalance({ address: who(HONEST) })) - before;
  console.log(
    `   the honest server, restarted, resumes from its session: tasks ${honestTasks.join(", ")} ${
      STATUS_NAMES[3]
    }, it withdrew ${formatEther(got)} ETH (its two bonds back and two fees, less gas)`,
  );
  const vNow = await client.getBalance({ address: who(VERIFIER) });
  console.log(
    `   the verifier's balance: ${
      formatEther(vNow - verifierStart)
    } ETH (half of each lying server's bond; the other half is burnt; less its gas)`,
  );

  for (const a of [...agents]) await stopAgent(a);
  await opml(["chain", "down"]);
  console.log(
    `\ndemo done in ${secs(t00)} s: every command above is \`deno task opml ...\` (docs/CHAIN.md); logs in ${
      logs.slice(root.length)
    }`,
  );
} catch (e) {
  for (const a of [...agents]) {
    try {
      a.child.kill("SIGTERM");
    } catch {
      // gone
    }
    await a.child.status;
  }
  await new Deno.Command(Deno.execPath(), {
    args: [...OPML, "chain", "down"],
    env,
    stdout: "null",
    stderr: "null",
  }).output();
  if (!(e instanceof DemoFailure)) console.error(`demo: ${(e as Error).message}`);
  Deno.exit(1);
}

export type { Hex };
