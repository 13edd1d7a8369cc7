/**
 * The on-chain opML game end to end on a local anvil with mnist-cnn (digit 537 of the shared
 * MNIST set), in-process agents (`runAgent`) and a requester (`requestTask`):
 * (a) a dishonest server (tampered at node 10) against an honest verifier, multi-phase: the task
 *     is rejected, the disputed node is 10 and a phase-2 step was executed on chain, the rounds
 *     stay within ceil(log_arity) per phase, the story's gas is the parties' own, and every wei
 *     adds up (bonds, fee refund, withdrawals, gas = gasUsed * effectiveGasPrice of each receipt);
 * (b) an honest server against a dishonest verifier: the defender wins, the result is final after
 *     the window, the server collects fee + both bonds;
 * (c) a single-phase task with a dishonest server: the challenger wins on the whole-model check;
 * (d) two honest parties: no dispute, the result is final and decodes to the native outputs;
 * (e) a party that stops loses by timeout once its clock runs out (the server, then the verifier);
 * (f) a server restarted after its first bisect (without --tamper: its session remembers it) and a
 *     verifier restarted mid-phase-2 finish the game with the same outcome and the same moves;
 * (g) two challengers of one wrong result: both win, one by the step, the other because the
 *     result was rejected (its player ends it with `timeout`); each gets half the server bond.
 *
 * Each test starts its own anvil and stops it (and its agents) even on failure.
 * Run: deno test -A tests/game/e2e_mnist.test.ts
 */
import { parseEther } from "viem";
import { assert, assertEquals } from "../_assert.ts";
import { anvilAvailable } from "../../core/chain/anvil.ts";
import { Phase, TaskStatus } from "../../core/chain/game_client.ts";
import { compileModelFile, loadModelDir } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import {
  type AgentEvent,
  type DisputeEnd,
  keyOfTensors,
  playDispute,
  requestTask,
  taskResult,
  type TaskStory,
  taskStory,
} from "../../core/game/mod.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";
import {
  bigints,
  ceilLog,
  type GameChain,
  type RunningAgent,
  startAgent,
  startGameChain,
  stopAll,
  waitFor,
} from "./_game.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-e2e-mnist-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
await compileModelFile(`${MODELS}mnist-cnn/mnist-12.onnx`, `${tmp}/mnist-cnn`);
const model = loadModelDir(`${tmp}/mnist-cnn`);
const N = model.prog.program.nodes.length;

/** Digit 537, pixels / 255, float32 [1, 1, 28, 28] (Input3). */
const DIGIT = 537;
const x: TensorValue = {
  dtype: DType.float32,
  shape: [1, 1, 28, 28],
  data: Float32Array.from(
    Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(
      784 * DIGIT,
      784 * DIGIT + 784,
    ),
    (v) => v / 255,
  ),
};
/** The lie of the dishonest parties: node 10's one-bit flip reaches the output for this digit. */
const TAMPER = 10;
const FEE = parseEther("0.01");

/** Fails loudly when the tamper is rounded away: the test would test nothing. */
let tamperChecked: Promise<void> | undefined;
function tamperChangesResult(): Promise<void> {
  tamperChecked ??= (async () => {
    const honest = keyOfTensors((await runNative(model.native, model.prog, [x])).outputs);
    const lying = keyOfTensors((await runNative(model.native, model.prog, [x], { tamper: TAMPER })).outputs);
    assert(
      honest !== lying,
      `node ${TAMPER}'s flip does not change digit ${DIGIT}'s output: pick another node`,
    );
  })();
  return tamperChecked;
}

const ignore = !anvilAvailable();
const sessions = (name: string) => {
  const d = `${tmp}/${name}`;
  Deno.mkdirSync(d, { recursive: true });
  return d;
};

function endOf(a: RunningAgent): DisputeEnd | undefined {
  const e = a.events.find((e) => e.kind === "dispute-end");
  return e?.kind === "dispute-end" ? e.end : undefined;
}

const withdrawn = (events: AgentEvent[]) =>
  events.reduce((s, e) => s + (e.kind === "withdrawn" ? e.amount : 0n), 0n);

/** Story checks every dispute of these tests shares. */
function assertStory(s: TaskStory, chain: GameChain, o: { node: number; defenderWon: boolean }) {
  const msg = JSON.stringify(s, bigints);
  assertEquals(s.disputes.length, 1, msg);
  const d = s.disputes[0];
  assertEquals(d.node, o.node, `disputed node: ${msg}`);
  assertEquals(d.outcome, { defenderWon: o.defenderWon, reason: "step" }, msg);
  assertEquals(d.phase, "Resolved");
  assert(d.step !== undefined && d.checkSteps !== undefined && d.step < d.checkSteps, `phase-2 step: ${msg}`);
  const arity = chain.params.arity;
  const p1 = s.singlePhase ? 0 : ceilLog(arity, BigInt(N + 1));
  assert(s.singlePhase ? d.rounds.phase1 === 0 : d.rounds.phase1 >= 1 && d.rounds.phase1 <= p1, msg);
  const p2 = ceilLog(arity, d.checkSteps);
  assert(d.rounds.phase2 >= 1 && d.rounds.phase2 <= p2, `phase-2 rounds ${d.rounds.phase2} > ${p2}: ${msg}`);
  assert(d.defender.txs >= 1 && d.challengerCost.txs >= 2, msg);
}

/** Per-test setup: a chain, the requester and two agents; everything stopped in `finally`. */
async function withChain(
  params: Parameters<typeof startGameChain>[0],
  f: (chain: GameChain, agents: RunningAgent[]) => Promise<void>,
) {
  const chain = await startGameChain(params);
  const agents: RunningAgent[] = [];
  try {
    await f(chain, agents);
  } finally {
    await stopAll(agents);
    await chain.stop();
  }
}

let storyA: TaskStory | undefined;
const DISPUTE_TX = /^(game\.(challenge|bisect|pick|claimCheck|step|timeout)|oracle\.)/;

Deno.test({
  name:
    "(a) dishonest server vs honest verifier, multi-phase: rejected at the tamper node, every wei accounted",
  ignore,
  async fn() {
    await tamperChangesResult();
    await withChain({}, async (chain, agents) => {
      const requester = chain.client(1), sg = chain.client(2), vg = chain.client(3);
      const [r0, s0, v0] = await Promise.all([requester, sg, vg].map((g) => chain.balance(g.account)));
      const dir = sessions("a");
      const server = startAgent({
        role: "server",
        chain,
        game: sg,
        models: [model],
        sessionPath: `${dir}/server.json`,
        liesFrom: TAMPER,
      });
      const verifier = startAgent({
        role: "verifier",
        chain,
        game: vg,
        models: [model],
        sessionPath: `${dir}/verifier.json`,
      });
      agents.push(server, verifier);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE });
      assertEquals(taskId, 1n);
      const vEnd = await waitFor("the verifier's end of the dispute", () => endOf(verifier), agents);
      const sEnd = await waitFor("the server's end of the dispute", () => endOf(server), agents);
      assertEquals([vEnd.won, vEnd.role, vEnd.reason, vEnd.node], [true, "challenger", "step", TAMPER]);
      assertEquals([sEnd.won, sEnd.role, sEnd.reason, sEnd.node], [false, "defender", "step", TAMPER]);
      await waitFor("the verifier's withdrawal", () => withdrawn(verifier.events) > 0n, agents);
      await stopAll(agents);

      const { server: sb, challenger: cb, reward } = await requester.bonds();
      const task = await requester.task(taskId);
      assertEquals(task.status, TaskStatus.Rejected);
      // the verifier: its bond back plus the unburnt half of the server's, withdrawn; it paid
      // the bond and its gas
      assertEquals(reward, sb - sb / 2n);
      assertEquals(withdrawn(verifier.events), cb + reward);
      assertEquals(await vg.credits(vg.account), 0n);
      assertEquals(await chain.balance(vg.account), v0 - cb + (cb + reward) - (await chain.gasCost(vg.txs)));
      // the server lost its bond and paid its gas; it is owed nothing
      assertEquals(await sg.credits(sg.account), 0n);
      assertEquals(await chain.balance(sg.account), s0 - sb - (await chain.gasCost(sg.txs)));
      // the requester: its fee credited back, withdrawn
      assertEquals(await requester.credits(requester.account), FEE);
      assertEquals(await requester.withdraw(), FEE);
      assertEquals(await chain.balance(requester.account), r0 - (await chain.gasCost(requester.txs)));
      // nothing left in the game but the burnt half of the bond
      assertEquals(await chain.balance(chain.deployment.game), sb - reward);

      const story = await taskStory(requester, taskId, chain.deployBlock);
      assertEquals(story.status, "Rejected");
      assertStory(story, chain, { node: TAMPER, defenderWon: false });
      const d = story.disputes[0];
      assertEquals(d.step, vEnd.step);
      // the story's gas is exactly the parties' dispute transactions (not the register, result, withdraw)
      const inDispute = (g: typeof sg) => g.txs.filter((t) => DISPUTE_TX.test(t.fn));
      const sum = (txs: typeof sg.txs) => txs.reduce((s, t) => s + t.gasUsed, 0n);
      assertEquals([d.defender.txs, d.defender.gas], [inDispute(sg).length, sum(inDispute(sg))]);
      assertEquals([d.challengerCost.txs, d.challengerCost.gas], [inDispute(vg).length, sum(inDispute(vg))]);
      storyA = story;
      console.log(
        `(a) rounds ${d.rounds.phase1}+${d.rounds.phase2}, node ${d.node}, step ${d.step} of ${d.checkSteps}, ` +
          `gas defender ${d.defender.gas} (${d.defender.txs} txs), challenger ${d.challengerCost.gas} (${d.challengerCost.txs} txs)`,
      );
    });
  },
});

Deno.test({
  name: "(b) honest server vs dishonest verifier: the defender wins, the result is final, fee + bonds paid",
  ignore,
  async fn() {
    await tamperChangesResult();
    await withChain({}, async (chain, agents) => {
      const requester = chain.client(1), sg = chain.client(2), vg = chain.client(3);
      const [s0, v0] = await Promise.all([sg, vg].map((g) => chain.balance(g.account)));
      const dir = sessions("b");
      const server = startAgent({
        role: "server",
        chain,
        game: sg,
        models: [model],
        sessionPath: `${dir}/s.json`,
      });
      const verifier = startAgent({
        role: "verifier",
        chain,
        game: vg,
        models: [model],
        sessionPath: `${dir}/v.json`,
        liesFrom: TAMPER,
      });
      agents.push(server, verifier);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE });
      const sEnd = await waitFor("the server's end of the dispute", () => endOf(server), agents);
      const vEnd = await waitFor("the verifier's end of the dispute", () => endOf(verifier), agents);
      assertEquals([sEnd.won, sEnd.reason, sEnd.node], [true, "step", TAMPER]);
      assertEquals([vEnd.won, vEnd.reason], [false, "step"]);
      // still pending: a won dispute does not end the window
      assertEquals((await requester.task(taskId)).status, TaskStatus.Pending);
      await chain.increaseTime(chain.params.challengeWindow + 1);
      await waitFor(
        "the server's finalization",
        () => server.events.some((e) => e.kind === "finalized"),
        agents,
      );
      const { server: sb, challenger: cb } = await requester.bonds();
      await waitFor("the server's withdrawals", () => withdrawn(server.events) === FEE + sb + cb, agents);
      await stopAll(agents);

      assertEquals((await requester.task(taskId)).status, TaskStatus.Finalized);
      assertEquals(
        await chain.balance(sg.account),
        s0 - sb + (FEE + sb + cb) - (await chain.gasCost(sg.txs)),
      );
      assertEquals(await chain.balance(vg.account), v0 - cb - (await chain.gasCost(vg.txs)));
      assertEquals(await chain.balance(chain.deployment.game), 0n);
      const story = await taskStory(requester, taskId, chain.deployBlock);
      assertEquals(story.status, "Finalized");
      assertStory(story, chain, { node: TAMPER, defenderWon: true });
      // the requester reads the honest outputs
      const r = await taskResult(requester, taskId, model, chain.deployBlock);
      const native = (await runNative(model.native, model.prog, [x])).outputs;
      assertEquals(
        r.outputs?.map((t) => Array.from(t.data as Float32Array)),
        native.map((t) => Array.from(t.data as Float32Array)),
      );
    });
  },
});

Deno.test({
  name: "(c) single-phase task, dishonest server: the challenger wins on the whole-model check",
  ignore,
  async fn() {
    await tamperChangesResult();
    await withChain({}, async (chain, agents) => {
      const requester = chain.client(1);
      const dir = sessions("c");
      const server = startAgent({
        role: "server",
        chain,
        game: chain.client(2),
        models: [model],
        sessionPath: `${dir}/s.json`,
        liesFrom: TAMPER,
      });
      const verifier = startAgent({
        role: "verifier",
        chain,
        game: chain.client(3),
        models: [model],
        sessionPath: `${dir}/v.json`,
      });
      agents.push(server, verifier);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE, singlePhase: true });
      const vEnd = await waitFor("the verifier's end of the dispute", () => endOf(verifier), agents);
      const sEnd = await waitFor("the server's end of the dispute", () => endOf(server), agents);
      assertEquals([vEnd.won, vEnd.reason, vEnd.node], [true, "step", N + 1]);
      assertEquals(sEnd.won, false);
      const story = await taskStory(requester, taskId, chain.deployBlock);
      assertEquals([story.status, story.singlePhase], ["Rejected", true]);
      assertStory(story, chain, { node: N + 1, defenderWon: false });
      const d = story.disputes[0];
      console.log(`(c) single-phase: ${d.rounds.phase2} rounds, step ${d.step} of ${d.checkSteps}`);
    });
  },
});

Deno.test({
  name: "(d) honest server and honest verifier: no dispute, the result is final",
  ignore,
  async fn() {
    await withChain({}, async (chain, agents) => {
      const requester = chain.client(1), sg = chain.client(2);
      const dir = sessions("d");
      const server = startAgent({
        role: "server",
        chain,
        game: sg,
        models: [model],
        sessionPath: `${dir}/s.json`,
      });
      const verifier = startAgent({
        role: "verifier",
        chain,
        game: chain.client(3),
        models: [model],
        sessionPath: `${dir}/v.json`,
      });
      agents.push(server, verifier);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE });
      await waitFor(
        "the verifier's agreement",
        () => verifier.events.some((e) => e.kind === "agreed"),
        agents,
      );
      assertEquals((await requester.task(taskId)).status, TaskStatus.Pending);
      await chain.increaseTime(chain.params.challengeWindow + 1);
      const { server: sb } = await requester.bonds();
      await waitFor("the server's withdrawal", () => withdrawn(server.events) === FEE + sb, agents);
      await stopAll(agents);
      assertEquals((await requester.counts()).disputes, 0n);
      const story = await taskStory(requester, taskId, chain.deployBlock);
      assertEquals([story.status, story.disputes.length], ["Finalized", 0]);
      assertEquals(verifier.events.map((e) => e.kind), ["agreed"]);
      assertEquals(server.events.map((e) => e.kind), ["answered", "finalized", "withdrawn"]);
      const r = await taskResult(requester, taskId, model, chain.deployBlock);
      assertEquals(r.status, "Finalized");
      assertEquals(
        keyOfTensors(r.outputs!),
        keyOfTensors((await runNative(model.native, model.prog, [x])).outputs),
      );
    });
  },
});

/** The clock budget of the timeout tests (seconds of chain time; the chain is moved past it). */
const CLOCK = 20;

/** Waits until the party to move in dispute 1 is `who` (it then never moves again). */
async function stalledOn(chain: GameChain, who: "defender" | "challenger", agents: RunningAgent[]) {
  const g = chain.client(0);
  await waitFor(`the ${who} to be the one to move`, async () => {
    const d = await g.dispute(1n);
    const defender = d.phase === Phase.Bisect1 || d.phase === Phase.Claim || d.phase === Phase.Bisect2;
    return d.phase !== Phase.Resolved && d.phase !== Phase.None && defender === (who === "defender");
  }, agents);
}

Deno.test({
  name: "(e) timeouts: a server that stops loses once its clock runs out; so does a verifier that stops",
  ignore,
  async fn() {
    await tamperChangesResult();
    // the dishonest server stops as soon as the dispute is opened
    await withChain({ clockBudget: CLOCK }, async (chain, agents) => {
      const requester = chain.client(1);
      const dir = sessions("e1");
      const server = startAgent({
        role: "server",
        chain,
        game: chain.client(2),
        models: [model],
        sessionPath: `${dir}/s.json`,
        liesFrom: TAMPER,
      });
      const verifier = startAgent({
        role: "verifier",
        chain,
        game: chain.client(3),
        models: [model],
        sessionPath: `${dir}/v.json`,
        onEvent: (e) => e.kind === "challenged" && server.ctl.abort(),
      });
      agents.push(server, verifier);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE });
      await server.done;
      await stalledOn(chain, "defender", [verifier]);
      await chain.increaseTime(CLOCK + 1);
      const vEnd = await waitFor("the verifier's end of the dispute", () => endOf(verifier), [verifier]);
      assertEquals([vEnd.won, vEnd.reason], [true, "timeout"]);
      assertEquals(endOf(server), undefined);
      const story = await taskStory(requester, taskId, chain.deployBlock);
      assertEquals(story.status, "Rejected");
      assertEquals(story.disputes[0].outcome, { defenderWon: false, reason: "timeout" });
      const { challenger: cb, reward } = await requester.bonds();
      await waitFor("the verifier's withdrawal", () => withdrawn(verifier.events) === reward + cb, [
        verifier,
      ]);
    });
    // the dishonest verifier stops as soon as it has challenged
    await withChain({ clockBudget: CLOCK }, async (chain, agents) => {
      const requester = chain.client(1);
      const dir = sessions("e2");
      const server = startAgent({
        role: "server",
        chain,
        game: chain.client(2),
        models: [model],
        sessionPath: `${dir}/s.json`,
      });
      const verifier: RunningAgent = startAgent({
        role: "verifier",
        chain,
        game: chain.client(3),
        models: [model],
        sessionPath: `${dir}/v.json`,
        liesFrom: TAMPER,
        onEvent: (e) => e.kind === "challenged" && verifier.ctl.abort(),
      });
      agents.push(server, verifier);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE });
      await verifier.done;
      await stalledOn(chain, "challenger", [server]);
      await chain.increaseTime(CLOCK + 1);
      const sEnd = await waitFor("the server's end of the dispute", () => endOf(server), [server]);
      assertEquals([sEnd.won, sEnd.reason], [true, "timeout"]);
      const story = await taskStory(requester, taskId, chain.deployBlock);
      assertEquals(story.status, "Pending");
      assertEquals(story.disputes[0].outcome, { defenderWon: true, reason: "timeout" });
      const { challenger: cb } = await requester.bonds();
      await waitFor(
        "the server's withdrawal of the challenger's bond",
        () => withdrawn(server.events) === cb,
        [server],
      );
    });
  },
});

Deno.test({
  name:
    "(f) a server restarted after its first bisect and a verifier restarted mid-game: same outcome, same moves",
  ignore,
  async fn() {
    await tamperChangesResult();
    await withChain({}, async (chain, agents) => {
      const requester = chain.client(1);
      const dir = sessions("f");
      let picks = 0;
      const server1: RunningAgent = startAgent({
        role: "server",
        chain,
        game: chain.client(2, (tx) => tx.fn === "game.bisect" && server1.ctl.abort()),
        models: [model],
        sessionPath: `${dir}/s.json`,
        liesFrom: TAMPER,
      });
      const verifier1: RunningAgent = startAgent({
        role: "verifier",
        chain,
        // its second pick is in phase 2 (phase 1 takes one round at arity 16)
        game: chain.client(3, (tx) => tx.fn === "game.pick" && ++picks === 2 && verifier1.ctl.abort()),
        models: [model],
        sessionPath: `${dir}/v.json`,
      });
      agents.push(server1, verifier1);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE });
      await server1.done;
      assertEquals(endOf(server1), undefined);
      assertEquals(server1.game.txs.filter((t) => t.fn === "game.bisect").length, 1);
      // restarted without --tamper: the session remembers what it answered with
      const saved = JSON.parse(Deno.readTextFileSync(`${dir}/s.json`));
      assertEquals([saved.tasks["1"].state, saved.tasks["1"].liesFrom, saved.disputes["1"].role], [
        "answered",
        TAMPER,
        "defender",
      ]);
      const server2 = startAgent({
        role: "server",
        chain,
        game: chain.client(2),
        models: [model],
        sessionPath: `${dir}/s.json`,
      });
      agents.push(server2);
      await verifier1.done;
      assertEquals(endOf(verifier1), undefined);
      assertEquals(picks, 2);
      const verifier2 = startAgent({
        role: "verifier",
        chain,
        game: chain.client(3),
        models: [model],
        sessionPath: `${dir}/v.json`,
      });
      agents.push(verifier2);
      const vEnd = await waitFor("the restarted verifier's end of the dispute", () => endOf(verifier2), [
        server2,
        verifier2,
      ]);
      const sEnd = await waitFor("the restarted server's end of the dispute", () => endOf(server2), [
        server2,
      ]);
      assertEquals([vEnd.won, vEnd.reason, vEnd.node], [true, "step", TAMPER]);
      assertEquals([sEnd.won, sEnd.reason, sEnd.node], [false, "step", TAMPER]);
      // nothing answered or challenged twice
      assertEquals(server2.events.filter((e) => e.kind === "answered").length, 0);
      assertEquals(verifier2.events.filter((e) => e.kind === "challenged").length, 0);
      const story = await taskStory(requester, taskId, chain.deployBlock);
      assertEquals(story.status, "Rejected");
      assertStory(story, chain, { node: TAMPER, defenderWon: false });
      if (storyA) {
        // the same game as (a), move for move
        const [a, f] = [storyA.disputes[0], story.disputes[0]];
        assertEquals([f.rounds, f.node, f.checkSteps, f.step], [a.rounds, a.node, a.checkSteps, a.step]);
        assertEquals([f.defender.txs, f.challengerCost.txs], [a.defender.txs, a.challengerCost.txs]);
      }
      assertEquals(JSON.parse(Deno.readTextFileSync(`${dir}/s.json`)).disputes["1"].end.won, false);
      assertEquals(JSON.parse(Deno.readTextFileSync(`${dir}/v.json`)).disputes["1"].end.won, true);
    });
  },
});

Deno.test({
  name:
    "(g) two challengers of one wrong result: both win, the other dispute ends `rejected`, the bond is split",
  ignore,
  async fn() {
    await tamperChangesResult();
    await withChain({}, async (chain, agents) => {
      const requester = chain.client(1), other = chain.client(4);
      const dir = sessions("g");
      const server = startAgent({
        role: "server",
        chain,
        game: chain.client(2),
        models: [model],
        sessionPath: `${dir}/s.json`,
        liesFrom: TAMPER,
      });
      agents.push(server);
      const { taskId } = await requestTask(requester, model, [x], { fee: FEE });
      await waitFor("the server's answer", () => server.events.some((e) => e.kind === "answered"), agents);
      // a second challenger opens its dispute first, then the verifier its own: both are open
      // before either ends, so the first win rejects the result and the other dispute is settled
      const { challenger: cb, reward } = await requester.bonds();
      const first = await other.challenge(taskId, cb);
      const verifier = startAgent({
        role: "verifier",
        chain,
        game: chain.client(3),
        models: [model],
        sessionPath: `${dir}/v.json`,
      });
      agents.push(verifier);
      await waitFor(
        "the verifier's challenge",
        () => verifier.events.some((e) => e.kind === "challenged"),
        agents,
      );
      const otherEnd = await playDispute({
        game: other,
        disputeId: first,
        role: "challenger",
        party: { model, inputs: [x] },
        fromBlock: chain.deployBlock,
      });
      const vEnd = await waitFor("the verifier's end of the dispute", () => endOf(verifier), agents);
      assert(otherEnd !== undefined);
      assertEquals([otherEnd.won, vEnd.won], [true, true]);
      // one dispute was decided by the step, the other ended with the rejection
      assertEquals([otherEnd.reason, vEnd.reason].sort(), ["rejected", "step"]);
      const task = await requester.task(taskId);
      // half the server bond is burnt, the other half shared by the two challengers
      const part = reward / 2n;
      assertEquals([task.status, task.openDisputes, task.share], [TaskStatus.Rejected, 0, part]);
      // each challenger: its bond and half the reward; the server nothing
      assertEquals(await other.credits(other.account), cb + part);
      await waitFor("the verifier's withdrawal", () => withdrawn(verifier.events) === cb + part, agents);
      assertEquals(await requester.credits(chain.client(2).account), 0n);
      assertEquals(await requester.credits(requester.account), FEE);
      // both disputes reached the server's claim of one transition: one check run served both
      const claims = server.lines.filter((l) => / claiming the check of node /.test(l));
      const runs = server.lines.filter((l) => / running our check of transition /.test(l));
      const nodes = new Set(claims.map((l) => l.match(/node (\d+)/)![1]));
      console.log(
        `(g) server: ${claims.length} claims of ${nodes.size} node(s), ${runs.length} check run(s)`,
      );
      assertEquals(runs.length, nodes.size);
    });
  },
});
