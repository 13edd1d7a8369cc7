/**
 * `opml roots`, `opml challenge` and `opml prove --dispute` as a user runs them, on the real
 * models (mnist-cnn, mnist-mlp, stories260K): an honest party against a dishonest one
 * (`--tamper node=K`) at the first, a middle and the last node. The challenge must find exactly
 * node K and a VM step where the two checks diverge (recomputed independently with
 * `opml roots --phase 2 --at`), and the proof of `opml prove` must make the MIPS contract on a
 * local anvil return the honest post-state, not the dishonest one. Then: two honest parties, a
 * tamper that does not change the result, the offline exchange of files resumed at every move,
 * and bad input (inconsistent files, wrong lengths, lying or changing counterparts): one-line
 * errors, and the session file never corrupted.
 *
 * Run: deno test -A tests/cli/dispute_cli.test.ts
 */
import { assert, assertEquals } from "../_assert.ts";
import { anvilAvailable, startJudge } from "../dispute/_chain.ts";

const root = new URL("../..", import.meta.url).pathname;
const MODELS = new URL("../../../shared/onnx/models/", import.meta.url).pathname;
const tmp = Deno.makeTempDirSync({ prefix: "opml-dispute-cli-" });
const OPML = `deno run --allow-read --allow-write --allow-run --allow-env --allow-ffi ${root}cli/main.ts`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function opml(...args: string[]): Promise<Result> {
  const r = await new Deno.Command("deno", {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "--allow-ffi",
      `${root}cli/main.ts`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

async function ok(...args: string[]) {
  const r = await opml(...args);
  assertEquals(r.code, 0, `opml ${args.join(" ")}\n${r.stderr}`);
  return r;
}

async function json(...args: string[]) {
  return JSON.parse((await ok(...args, "--json")).stdout);
}

function assertOneLineError(r: Result, code: number, re: RegExp) {
  const lines = r.stderr.trim().split("\n");
  assertEquals(r.code, code, `exit code (stderr: ${r.stderr})`);
  assertEquals(lines.length, 1, `one line, got: ${r.stderr}`);
  assert(/^opml: /.test(lines[0]) && re.test(lines[0]), `message: ${lines[0]}`);
}

/** A compiled model directory, compiled once. */
const compiled = new Map<string, Promise<string>>();
function model(name: "cnn" | "mlp" | "stories"): Promise<string> {
  let p = compiled.get(name);
  if (!p) {
    const dir = `${tmp}/${name}`;
    const args = {
      cnn: ["mnist-cnn/mnist-12.onnx"],
      mlp: ["mnist-mlp/mnist-mlp.onnx", "--shape", "batch=1"],
      stories: ["stories260K-llama/stories260K.onnx", "--shape", "seq=49"],
    }[name];
    p = ok("compile", `${MODELS}${args[0]}`, "-o", dir, "--no-fidelity", ...args.slice(1)).then(() => dir);
    compiled.set(name, p);
  }
  return p;
}

/** An MNIST digit (0..999) as a float32 [1, 784] / [1, 1, 28, 28] .bin file, pixels / 255. */
function digit(i: number): string {
  const path = `${tmp}/digit${i}.bin`;
  const px = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(
    784 * i,
    784 * i + 784,
  );
  Deno.writeFileSync(path, new Uint8Array(Float32Array.from(px, (x) => x / 255).buffer));
  return path;
}

/** A deterministic random 28x28 image, values in [-scale / 2, 3 scale / 2). */
function crafted(seed: number, scale: number): string {
  const path = `${tmp}/crafted-${seed}-${scale}.bin`;
  let s = seed >>> 0;
  const rnd = () => {
    s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
    return s / 4294967296;
  };
  for (let i = 0; i < 32; i++) rnd();
  Deno.writeFileSync(
    path,
    new Uint8Array(Float32Array.from({ length: 784 }, () => (rnd() * 2 - 0.5) * scale).buffer),
  );
  return path;
}

const TOKENS = `${MODELS}stories260K-llama/test_data_set_0/input_tokens.bin`;

/** Commitments files of the honest party and of a dishonest one at node k (cached by input). */
const rootsCache = new Map<string, Promise<string>>();
function roots(dir: string, input: string, tamper?: number): Promise<string> {
  const key = `${dir}|${input}|${tamper}`;
  let p = rootsCache.get(key);
  if (!p) {
    const out = `${tmp}/roots-${crypto.randomUUID().slice(0, 8)}.json`;
    p = ok("roots", dir, "-i", input, ...(tamper ? ["--tamper", `node=${tamper}`] : []), "-o", out).then(() =>
      out
    );
    rootsCache.set(key, p);
  }
  return p;
}

function theirsCmd(dir: string, input: string, k: number): string {
  return `${OPML} roots ${dir} -i ${input} --tamper node=${k} --phase 2 --node {node} --serve`;
}

const readJson = (path: string) => JSON.parse(Deno.readTextFileSync(path));

/** One dispute: challenge, independent check of the diverging step, proof judged on chain. */
async function dispute(
  judge: Awaited<ReturnType<typeof startJudge>>,
  name: "cnn" | "mlp" | "stories",
  k: number,
  input: string,
  arity: number,
) {
  const dir = await model(name);
  const honest = await roots(dir, input), liar = await roots(dir, input, k);
  const h = readJson(honest), l = readJson(liar);
  const n = h.nodes;
  assert(
    h.states[n + 1] !== l.states[n + 1],
    `${name}: --tamper node=${k} must change the result on this input`,
  );
  const t0 = performance.now();
  const session = `${tmp}/${name}-${k}.session.json`, out = `${tmp}/${name}-${k}.dispute.json`;
  const c = await json(
    "challenge",
    "--ours",
    honest,
    "--theirs",
    liar,
    "--theirs-cmd",
    theirsCmd(dir, input, k),
    "--arity",
    String(arity),
    "--session",
    session,
    "-o",
    out,
  );
  const seconds = (performance.now() - t0) / 1000;
  assertEquals(c.dispute, true);
  assertEquals(c.node, k, `${name}: the challenge finds the tampered node`);
  assertEquals([c.pre, c.claim, c.ours], [h.states[k - 1], l.states[k], h.states[k]]);
  // the diverging step, recomputed: our check of their claim and their (dishonest) check
  const t = c.step;
  const ours = await json(
    "roots",
    dir,
    "-i",
    input,
    "--phase",
    "2",
    "--node",
    String(k),
    "--claim",
    l.states[k],
    "--at",
    `${t},${t + 1}`,
  );
  const theirs = await json(
    "roots",
    dir,
    "-i",
    input,
    "--tamper",
    `node=${k}`,
    "--phase",
    "2",
    "--node",
    String(k),
    "--at",
    `${t},${t + 1}`,
  );
  assertEquals(
    ours.states[0].hash,
    theirs.states[0].hash,
    "both checks agree at the disputed step's pre-state",
  );
  assert(ours.states[1].hash !== theirs.states[1].hash, "and diverge at its post-state");
  assertEquals([ours.states[0].hash, ours.states[1].hash, theirs.states[1].hash], [
    c.preState,
    c.oursPost,
    c.theirsPost,
  ]);
  assertEquals(ours.final.hash.slice(0, 4), "0x01", "our check of their claim ends invalid");
  assertEquals(theirs.final.hash.slice(0, 4), "0x00", "their check ends valid");
  assertEquals(c.final, theirs.final);
  // the contract judges the step
  const proof = await json("prove", "--dispute", out);
  assertEquals([proof.node, proof.step, proof.preStateHash, proof.postStateHash], [
    k,
    t,
    c.preState,
    c.oursPost,
  ]);
  const verdict = await judge.judge(proof);
  assert(verdict.ok, `step reverted: ${JSON.stringify(verdict)}`);
  assertEquals(verdict.postStateHash, c.oursPost, "MIPS.step returns the honest post-state");
  assert(verdict.postStateHash !== c.theirsPost, "and not the dishonest one");
  const log =
    `${name} node ${k}/${n} arity ${arity}: step ${t} of ${c.final.step}, rounds ${c.stats.rounds.phase1}+${c.stats.rounds.phase2}, ` +
    `asked ours ${c.stats.asked.ours} theirs ${c.stats.asked.theirs}, ${
      proof.oracle.map((o: { function: string }) => o.function).join(",") || "no oracle part"
    }, ${seconds.toFixed(1)} s`;
  console.log(log);
}

const SCENARIOS: Record<"mlp" | "cnn" | "stories", [k: number, input: () => string, arity: number][]> = {
  // inputs where the one-bit tamper reaches the result (most single-bit flips round away)
  mlp: [[1, () => digit(0), 2], [3, () => digit(25), 4], [5, () => digit(0), 8]],
  cnn: [[1, () => crafted(75, 3), 3], [4, () => crafted(1, 10), 5], [
    11,
    () => `${MODELS}mnist-cnn/test_data_set_0/input_Input3.bin`,
    8,
  ]],
  stories: [[1, () => TOKENS, 8], [177, () => TOKENS, 4], [353, () => TOKENS, 2]],
};

for (const name of ["mlp", "cnn", "stories"] as const) {
  Deno.test({
    name:
      `${name}: tampered at the first, a middle and the last node: the node, a diverging step, and the contract's verdict`,
    ignore: !anvilAvailable(),
    async fn() {
      const judge = await startJudge();
      try {
        for (const [k, input, arity] of SCENARIOS[name]) await dispute(judge, name, k, input(), arity);
      } finally {
        await judge.stop();
      }
    },
  });
}
