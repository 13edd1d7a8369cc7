/**
 * The on-chain opML game end to end on a local anvil with stories260K (seq 49, the shared test
 * tokens), multi-phase, in-process agents: a dishonest server tampered at a middle node against an
 * honest verifier (the task is rejected), and an honest server against a verifier tampered at a
 * middle node (the defender wins). In both the dispute lands on the tampered node and is decided
 * by one MIPS step on chain.
 *
 * Tamper nodes: 177 and 173 (of 353) sit in the middle of the second transformer block and their
 * one-bit flips reach the logits for these tokens (checked below: a flip that rounds away would
 * test nothing). Both are cheap to check in the VM: 177 is a Copy (a Reshape) of a [1, 49, 4, 8]
 * tensor and 173 an elementwise Add on [1, 49, 4, 4]: their checks take ~10 M VM steps (mostly the
 * checker's hashing), seconds rather than the minute of a matrix product's check.
 *
 * Run: deno test -A tests/game/e2e_stories.test.ts
 */
import { parseEther } from "viem";
import { assert, assertEquals } from "../_assert.ts";
import { anvilAvailable } from "../../core/chain/anvil.ts";
import { compileModelFile, loadModelDir } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { arrayFromBytes } from "../../core/onnx/mod.ts";
import { type DisputeEnd, keyOfTensors, requestTask, taskStory } from "../../core/game/mod.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";
import {
  bigints,
  ceilLog,
  type RunningAgent,
  startAgent,
  startGameChain,
  stopAll,
  waitFor,
} from "./_game.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-e2e-stories-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
await compileModelFile(`${MODELS}stories260K-llama/stories260K.onnx`, `${tmp}/stories`, {
  shapes: { seq: [49] },
});
const model = loadModelDir(`${tmp}/stories`);
const N = model.prog.program.nodes.length;
const tokens: TensorValue = {
  dtype: DType.int64,
  shape: [1, 49],
  data: arrayFromBytes(
    DType.int64,
    Deno.readFileSync(`${MODELS}stories260K-llama/test_data_set_0/input_tokens.bin`),
    49,
  ),
};
const SERVER_TAMPER = 177;
const VERIFIER_TAMPER = 173;

async function assertTamperChangesResult(k: number) {
  const honest = keyOfTensors((await runNative(model.native, model.prog, [tokens])).outputs);
  const lying = keyOfTensors((await runNative(model.native, model.prog, [tokens], { tamper: k })).outputs);
  assert(honest !== lying, `node ${k}'s flip does not change the logits: pick another node`);
  assert(k > N / 4 && k < (3 * N) / 4, `node ${k} of ${N} is not a middle node`);
}

const endOf = (a: RunningAgent): DisputeEnd | undefined => {
  const e = a.events.find((e) => e.kind === "dispute-end");
  return e?.kind === "dispute-end" ? e.end : undefined;
};

async function game(name: string, o: { serverTamper?: number; verifierTamper?: number }) {
  const k = (o.serverTamper ?? o.verifierTamper)!;
  await assertTamperChangesResult(k);
  const chain = await startGameChain();
  const agents: RunningAgent[] = [];
  try {
    const requester = chain.client(1);
    const server = startAgent({
      role: "server",
      chain,
      game: chain.client(2),
      models: [model],
      sessionPath: `${tmp}/${name}/server.json`,
      liesFrom: o.serverTamper,
    });
    const verifier = startAgent({
      role: "verifier",
      chain,
      game: chain.client(3),
      models: [model],
      sessionPath: `${tmp}/${name}/verifier.json`,
      liesFrom: o.verifierTamper,
    });
    agents.push(server, verifier);
    const t0 = performance.now();
    const { taskId } = await requestTask(requester, model, [tokens], { fee: parseEther("0.01") });
    const sEnd = await waitFor("the server's end of the dispute", () => endOf(server), agents);
    const vEnd = await waitFor("the verifier's end of the dispute", () => endOf(verifier), agents);
    const seconds = (performance.now() - t0) / 1000;
    const serverHonest = o.serverTamper === undefined;
    assertEquals([sEnd.won, sEnd.reason, sEnd.node], [serverHonest, "step", k]);
    assertEquals([vEnd.won, vEnd.reason, vEnd.node], [!serverHonest, "step", k]);
    const story = await taskStory(requester, taskId, chain.deployBlock);
    const msg = JSON.stringify(story, bigints);
    assertEquals(story.status, serverHonest ? "Pending" : "Rejected", msg);
    assertEquals(story.disputes.length, 1, msg);
    const d = story.disputes[0];
    assertEquals([d.node, d.outcome], [k, { defenderWon: serverHonest, reason: "step" }], msg);
    assert(d.step !== undefined && d.checkSteps !== undefined && d.step < d.checkSteps, msg);
    assert(d.rounds.phase1 >= 1 && d.rounds.phase1 <= ceilLog(chain.params.arity, BigInt(N + 1)), msg);
    assert(d.rounds.phase2 >= 1 && d.rounds.phase2 <= ceilLog(chain.params.arity, d.checkSteps), msg);
    console.log(
      `${name}: node ${k}, rounds ${d.rounds.phase1}+${d.rounds.phase2}, step ${d.step} of ${d.checkSteps}, ` +
        `${seconds.toFixed(1)} s`,
    );
  } finally {
    await stopAll(agents);
    await chain.stop();
  }
}

Deno.test({
  name: `stories260K: a server tampered at node ${SERVER_TAMPER} loses to an honest verifier`,
  ignore: !anvilAvailable(),
  fn: () => game("dishonest-server", { serverTamper: SERVER_TAMPER }),
});

Deno.test({
  name: `stories260K: an honest server beats a verifier tampered at node ${VERIFIER_TAMPER}`,
  ignore: !anvilAvailable(),
  fn: () => game("dishonest-verifier", { verifierTamper: VERIFIER_TAMPER }),
});
