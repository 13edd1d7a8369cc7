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
import { assertOneLineError, opml, OPML_COMMAND, opmlOk as ok } from "../_cli.ts";

const root = new URL("../..", import.meta.url).pathname;
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";
const tmp = Deno.makeTempDirSync({ prefix: "opml-dispute-cli-" });
async function json(...args: string[]) {
  return JSON.parse((await ok(...args, "--json")).stdout);
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
  return `${OPML_COMMAND} roots ${dir} -i ${input} --tamper node=${k} --phase 2 --node {node} --serve`;
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
  const proofOut = `${tmp}/${name}-${k}.proof.json`;
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
    "--prove",
    proofOut,
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
  // the challenge's own proof (from its checkpoints) is the plain rerun's, field for field
  assertEquals(readJson(proofOut), proof, "challenge --prove equals prove --dispute");
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

Deno.test("two honest parties: no dispute; a tamper that the result absorbs: no dispute either", async () => {
  const dir = await model("cnn");
  const x = `${MODELS}mnist-cnn/test_data_set_0/input_Input3.bin`;
  const honest = await roots(dir, x);
  const other = `${tmp}/honest-too.json`;
  await ok("roots", dir, "-i", `Input3=${x}`, "-o", other);
  assertEquals(readJson(other).states, readJson(honest).states, "the same commitments from another run");
  const c = await json(
    "challenge",
    "--ours",
    honest,
    "--theirs",
    other,
    "--session",
    `${tmp}/honest.session.json`,
  );
  assertEquals([c.dispute, c.reason, c.stats.rounds], [false, "same-result", { phase1: 0, phase2: 0 }]);
  const human = await ok(
    "challenge",
    "--ours",
    honest,
    "--theirs",
    other,
    "--session",
    `${tmp}/honest.session.json`,
  );
  assertEquals(human.stdout.trim(), "no dispute: both results are S_12");
  // node 6's one-bit flip is rounded away: wrong states S_6 .. S_11, but the right result
  const absorbed = await roots(dir, x, 6);
  const a = readJson(absorbed), h = readJson(honest);
  assertEquals(a.states.map((s: string, i: number) => s === h.states[i]), [
    ...Array(6).fill(true),
    ...Array(6).fill(false),
    true,
  ]);
  const d = await json(
    "challenge",
    "--ours",
    honest,
    "--theirs",
    absorbed,
    "--session",
    `${tmp}/absorbed.session.json`,
  );
  assertEquals([d.dispute, d.reason], [false, "same-result"]);
  // and `opml run --tamper` shows the same output keys
  const run = await json("run", dir, "-i", x, "--tamper", "node=6");
  const plain = await json("run", dir, "-i", x);
  assertEquals(run.tampered, 6);
  assertEquals(run.outputs, plain.outputs);
  const run11 = await json("run", dir, "-i", x, "--tamper", "node=11");
  assert(
    run11.outputs.Plus214_Output_0.key !== plain.outputs.Plus214_Output_0.key,
    "node 11 changes the result",
  );
});

Deno.test("offline exchange of files: the challenge waits for each of their answers and resumes at every move", async () => {
  const dir = await model("mlp");
  const x = digit(0);
  const honest = await roots(dir, x), liar = await roots(dir, x, 5);
  // the same dispute through a live counterpart, for reference
  const liveArgs = [
    "challenge",
    "--ours",
    honest,
    "--theirs",
    liar,
    "--theirs-cmd",
    theirsCmd(dir, x, 5),
    "--arity",
    "3",
    "--session",
    `${tmp}/live.session.json`,
  ];
  const live = await json(...liveArgs);
  const session = `${tmp}/offline.session.json`;
  const theirFiles: string[] = [];
  let runs = 0;
  for (;;) {
    runs++;
    assert(runs < 40, "no progress");
    const before = (() => {
      try {
        return Deno.readTextFileSync(session);
      } catch {
        return undefined;
      }
    })();
    const r = await opml(
      "challenge",
      "--ours",
      honest,
      "--theirs",
      liar,
      ...theirFiles.flatMap((f) => ["--theirs", f]),
      "--arity",
      "3",
      "--session",
      session,
      "-o",
      `${tmp}/offline.dispute.json`,
      "--prove",
      `${tmp}/offline.proof.json`,
      "--json",
    );
    if (r.code === 0) {
      const c = JSON.parse(r.stdout);
      assertEquals(c.resumed, true);
      for (const k of ["node", "step", "preState", "oursPost", "theirsPost", "final", "stats"]) {
        assertEquals(c[k], live[k], k);
      }
      break;
    }
    assertOneLineError(
      r,
      3,
      /^opml: waiting for their check of node 5 (\(its final state\) is needed first|at steps [\d,]+): add their file .*--phase 2 --node 5 --at [\d,]+/,
    );
    const w = JSON.parse(r.stdout).waiting;
    assertEquals(w.node, 5);
    // their answer: exactly the steps asked (or just their header, for the final state)
    const f = `${tmp}/their-answer-${runs}.json`;
    await ok(
      "roots",
      dir,
      "-i",
      x,
      "--tamper",
      "node=5",
      "--phase",
      "2",
      "--node",
      "5",
      "--at",
      w.final ? "0" : w.steps.join(","),
      "-o",
      f,
    );
    theirFiles.push(f);
    if (before !== undefined && runs > 2) {
      assert(Deno.readTextFileSync(session) !== before, `run ${runs} commits a move`);
    }
  }
  assertEquals(
    runs,
    live.stats.rounds.phase2 + 2,
    "one run per round, one for their final state, one to finish",
  );
  // the proof of the run that finished (from its check's checkpoints), and of a replay of the
  // finished live session (no check run: prove's plain rerun), are prove --dispute's
  const proof = await json("prove", "--dispute", `${tmp}/offline.dispute.json`);
  assertEquals(readJson(`${tmp}/offline.proof.json`), proof, "the resumed challenge's --prove");
  await json(...liveArgs, "--prove", `${tmp}/replayed.proof.json`);
  assertEquals(readJson(`${tmp}/replayed.proof.json`), proof, "a replayed session's --prove");
});

Deno.test("bad input: inconsistent or malformed files, lying and changing counterparts; the session is never corrupted", async () => {
  const dir = await model("mlp");
  const x = digit(0);
  const honest = await roots(dir, x), liar = await roots(dir, x, 5);
  const liarDoc = readJson(liar);
  const write = (name: string, v: unknown) => {
    const p = `${tmp}/${name}`;
    Deno.writeTextFileSync(p, typeof v === "string" ? v : JSON.stringify(v));
    return p;
  };
  const challengeWith = (theirs: string, ...rest: string[]) =>
    opml(
      "challenge",
      "--ours",
      honest,
      "--theirs",
      theirs,
      "--session",
      `${tmp}/bad-${crypto.randomUUID()}.json`,
      ...rest,
    );
  // commitments files
  const otherTask = await roots(dir, digit(1), 5);
  assertOneLineError(
    await challengeWith(otherTask),
    1,
    /their S_0 0x02\w+ differs from ours .*not a dispute about the same task/,
  );
  const otherModel = await roots(await model("cnn"), `${MODELS}mnist-cnn/test_data_set_0/input_Input3.bin`);
  assertOneLineError(
    await challengeWith(otherModel),
    1,
    /their commitments have 13 states, ours 7: not the same program/,
  );
  assertOneLineError(
    await challengeWith(write("short.json", { ...liarDoc, states: liarDoc.states.slice(1) })),
    1,
    /commitments file .*short\.json: 6 states for 5 nodes/,
  );
  assertOneLineError(
    await challengeWith(write("junk.json", "{ not json")),
    1,
    /commitments file .*junk\.json: not valid JSON/,
  );
  assertOneLineError(
    await challengeWith(write("other.json", { format: "something" })),
    1,
    /not an opml commitments file \(format "something"/,
  );
  const badState = structuredClone(liarDoc);
  badState.states[3] = "0x02" + "zz".repeat(31);
  assertOneLineError(
    await challengeWith(write("badstate.json", badState)),
    1,
    /badstate\.json: S_3 must be a 32-byte hex hash/,
  );
  assertOneLineError(
    await challengeWith(`${tmp}/missing.json`),
    1,
    /commitments file .*missing\.json: no such file/,
  );
  assertOneLineError(await challengeWith(liar, "--arity", "1"), 2, /--arity must be from 2 to 64, got 1/);
  assertOneLineError(
    await opml("challenge", "--ours", liar, "--theirs", honest, "--theirs", liar),
    2,
    /exactly one phase-1 commitments file \(got 2\)/,
  );
  assertOneLineError(
    await opml("roots", dir, "-i", x, "--tamper", "node=9"),
    2,
    /--tamper node=9: the nodes of .*mlp\S* are 1 \.\. 5/,
  );
  assertOneLineError(await opml("roots", dir, "-i", x, "--tamper", "9"), 2, /--tamper 9: expected node=K/);
  assertOneLineError(
    await opml("run", dir, "-i", x, "--tamper", "node=0"),
    2,
    /--tamper node=0: expected node=K with K >= 1/,
  );
  assertOneLineError(
    await opml("run", dir, "-i", x, "--tamper", "node=2", "--engine", "vm"),
    2,
    /--tamper runs with the native engine only/,
  );
  assertOneLineError(await opml("roots", dir, "-i", x, "--phase", "2"), 2, /--phase 2 needs --node K/);
  assertOneLineError(
    await opml("roots", dir, "-i", x, "--phase", "2", "--node", "7"),
    2,
    /--node 7: the checks are of nodes 1 \.\. 6/,
  );
  assertOneLineError(await opml("roots", dir, "-i", x, "--node", "2"), 2, /need --phase 2/);

  // counterparts: interrupted after two answers, then lying in every way; the session stays as it was
  const session = `${tmp}/lying.session.json`;
  const peer = (mode: string) =>
    `deno run -A ${root}tests/cli/_lying_peer.ts ${mode} -- ${theirsCmd(dir, x, 5)}`;
  const run = (...rest: string[]) =>
    opml("challenge", "--ours", honest, "--theirs", liar, "--arity", "4", "--session", session, ...rest);
  assertOneLineError(
    await run("--theirs-cmd", peer("exit-after=2")),
    1,
    /their command exited \(code 0\) without answering/,
  );
  const saved = Deno.readTextFileSync(session);
  assertEquals(JSON.parse(saved).phase2.moves.length, 2, "two committed moves");
  const unchanged = () =>
    assertEquals(Deno.readTextFileSync(session), saved, "the session file is unchanged");
  assertOneLineError(
    await run("--theirs-cmd", peer("garbage")),
    1,
    /^opml: their state at step \d+ is not a 32-byte hex hash: '0xnot-a-hash'$/,
  );
  unchanged();
  assertOneLineError(await run("--theirs-cmd", peer("short")), 1, /their source gave 2 answers for 3 steps/);
  unchanged();
  assertOneLineError(
    await run("--theirs-cmd", peer("final=12345")),
    1,
    /their final claim changed between queries: step \d+ 0x00\w+, now \{"step":12345/,
  );
  unchanged();
  const edited = structuredClone(liarDoc);
  const p = JSON.parse(saved).phase1.moves[0].points[0];
  edited.states[p] = readJson(honest).states[p] === edited.states[p]
    ? "0x02" + "ab".repeat(31)
    : readJson(honest).states[p];
  assertOneLineError(
    await opml(
      "challenge",
      "--ours",
      honest,
      "--theirs",
      write("edited.json", edited),
      "--arity",
      "4",
      "--session",
      session,
    ),
    1,
    new RegExp(`their S_${p} changed since the session began`),
  );
  unchanged();
  assertOneLineError(
    await opml("challenge", "--ours", honest, "--theirs", liar, "--arity", "2", "--session", session),
    1,
    /session file .* is for another dispute \(arity 4, not 2\); use another --session file/,
  );
  unchanged();
  Deno.writeTextFileSync(session, saved.slice(0, 100));
  assertOneLineError(
    await run("--theirs-cmd", theirsCmd(dir, x, 5)),
    1,
    /session file .*lying\.session\.json: not valid JSON/,
  );
  assertEquals(Deno.readTextFileSync(session), saved.slice(0, 100));
  Deno.writeTextFileSync(session, saved);
  // a fresh session: an exited state that changes again
  assertOneLineError(
    await opml(
      "challenge",
      "--ours",
      honest,
      "--theirs",
      liar,
      "--arity",
      "4",
      "--session",
      `${tmp}/exited.session.json`,
      "--theirs-cmd",
      peer("exited-then-running"),
    ),
    1,
    /^opml: their state at step \d+: the state at step \d+ has exited \(status 0\), so every later state must equal it$/,
  );
  // the interrupted session, resumed with an honest-to-itself counterpart, ends as a fresh run does
  const out = `${tmp}/resumed.dispute.json`;
  const resumed = JSON.parse((await run("--theirs-cmd", theirsCmd(dir, x, 5), "-o", out, "--json")).stdout);
  const fresh = await json(
    "challenge",
    "--ours",
    honest,
    "--theirs",
    liar,
    "--arity",
    "4",
    "--session",
    `${tmp}/fresh.session.json`,
    "--theirs-cmd",
    theirsCmd(dir, x, 5),
  );
  assertEquals([resumed.resumed, resumed.node, resumed.step, resumed.stats], [
    true,
    5,
    fresh.step,
    fresh.stats,
  ]);

  // dispute files
  const dispute = readJson(out);
  assertOneLineError(
    await opml("prove", "--dispute", write("d1.json", "[]")),
    1,
    /dispute file .*d1\.json: not a JSON object/,
  );
  assertOneLineError(
    await opml("prove", "--dispute", write("d2.json", { ...dispute, format: "opml-roots/1" })),
    1,
    /not an opml dispute file/,
  );
  assertOneLineError(
    await opml("prove", "--dispute", write("d3.json", { ...dispute, step: "x" })),
    1,
    /d3\.json: step must be an integer >= 0/,
  );
  assertOneLineError(
    await opml("prove", "--dispute", write("d4.json", { ...dispute, preState: dispute.oursPost })),
    1,
    new RegExp(
      `d4\\.json: the state at step ${dispute.step} is 0x\\w+, but our recomputation gives ${dispute.preState}`,
    ),
  );
  assertOneLineError(
    await opml("prove", "--dispute", write("d5.json", { ...dispute, pre: readJson(liar).states[2] })),
    1,
    /S_4 recomputed from the model and inputs is 0x\w+, not 0x/,
  );
  assertOneLineError(await opml("prove"), 2, /prove needs ELF --step N, or --dispute FILE/);
  assertOneLineError(await opml("prove", "x.elf", "--dispute", out), 2, /--dispute takes no ELF/);
});

Deno.test("a dishonest challenger gets no dispute: the honest defender's S_K passes its check", async () => {
  const dir = await model("mlp");
  const x = digit(0);
  const honest = await roots(dir, x), liar = await roots(dir, x, 5);
  const honestCmd = `${OPML_COMMAND} roots ${dir} -i ${x} --phase 2 --node {node} --serve`;
  const c = await json(
    "challenge",
    "--ours",
    liar,
    "--theirs",
    honest,
    "--theirs-cmd",
    honestCmd,
    "--session",
    `${tmp}/backwards.session.json`,
  );
  assertEquals([c.dispute, c.reason, c.node.node, c.node.claim], [
    false,
    "claim-holds",
    5,
    readJson(honest).states[5],
  ]);
  assertEquals(c.final.hash.slice(0, 4), "0x00");
});
