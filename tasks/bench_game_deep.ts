/**
 * Gas of each transaction of a deep on-chain dispute, without a model: the shape of the 1 B-parameter
 * transformer's LM-head dispute (docs/BENCHMARKS.md section 5) replayed with synthetic states on a
 * fresh local anvil: a model of N = 545 nodes (phase 1: 3 rounds of 16) whose disputed check is
 * 3,267,500,000 steps (phase 2: 8 rounds of 16), arity 16, the defender lying; the final step is a
 * real `MIPS.step` (an ALU step of the fixtures' `O2-alu` guest, whose hash the defender posts as
 * the agreed state). Gas does not depend on the states' values beyond their zero bytes (random
 * states: none), so every figure is the real transactions' `gasUsed`, exactly. Each move comes
 * 12 s after the previous one (`evm_increaseTime`), as on a real chain: the mover's clock and
 * last move change, so no move is measured with an unchanged clock slot.
 *
 *   deno run -A tasks/bench_game_deep.ts [--nodes N] [--steps S] [--json FILE]
 *
 * Prints each party's transactions (function, gas) and totals.
 * @module
 */
import { bytesToHex, type Hex, keccak256 } from "viem";
import { startAnvil } from "../core/chain/anvil.ts";
import { devAccount } from "../core/chain/accounts.ts";
import { DEFAULT_GAME_PARAMS } from "../core/chain/config.ts";
import { publicClientFor, walletClientFor } from "../core/chain/connect.ts";
import { deployAll } from "../core/chain/deploy.ts";
import { commitmentOf, GameClient, Phase } from "../core/chain/game_client.ts";
import { opmlGameAbi } from "../core/chain/abi/opml_game.ts";
import { guestFixtures } from "./gen_fixtures.ts";

const CHAIN_ID = 31337;

function parse(args: string[]) {
  let nodes = 545, steps = 3_267_500_000n, json: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--nodes") nodes = Number(args[++i]);
    else if (args[i] === "--steps") steps = BigInt(args[++i]);
    else if (args[i] === "--json") json = args[++i];
    else throw new Error(`unknown option ${args[i]} (--nodes N, --steps S, --json FILE)`);
  }
  return { nodes, steps, json };
}

/** Deterministic distinct states: keccak of a counter (no zero bytes in practice). */
let counter = 0;
const fresh = (): Hex => keccak256(`0x${(++counter).toString(16).padStart(64, "0")}`);

async function main() {
  const { nodes, steps, json } = parse(Deno.args);
  const fx = guestFixtures("O2-alu", 1, 20, 7).find((f) => !f.load && "hash" in f.expect)!;
  const anvil = await startAnvil();
  try {
    const pub = publicClientFor(anvil.url, CHAIN_ID, true);
    const dep = await deployAll(
      walletClientFor(anvil.url, CHAIN_ID, devAccount(0), true),
      DEFAULT_GAME_PARAMS,
    );
    const later = async () => {
      await pub.request({ method: "evm_increaseTime", params: [12] } as never);
    };
    const client = (i: number) =>
      new GameClient(pub, walletClientFor(anvil.url, CHAIN_ID, devAccount(i), true), dep.game);
    const req = client(1), srv = client(2), chl = client(3);
    const checkerInit = `0x03${fresh().slice(4)}` as Hex;
    const modelId = await req.registerModel(fresh(), checkerInit, nodes, 1n << 40n, 0n);
    const taskId = await req.postTask(modelId, fresh(), false, "0x", 10n ** 15n);
    const outputs: Hex[] = ["0x0102030405060708"];
    const outputKey = await pub.readContract({
      address: dep.game,
      abi: opmlGameAbi,
      functionName: "outputKeyOf",
      args: [outputs],
    }) as Hex;
    const salt = fresh();
    await srv.commitResult(
      taskId,
      commitmentOf(taskId, outputKey, salt, srv.account),
      DEFAULT_GAME_PARAMS.serverBond,
    );
    await srv.revealResult(taskId, outputKey, salt, outputs);
    srv.txs.length = 0;
    const id = await chl.challenge(taskId, DEFAULT_GAME_PARAMS.challengerBond);
    const preHash = await pub.readContract({
      address: dep.game,
      abi: opmlGameAbi,
      functionName: "stateHash",
      args: [bytesToHex(fx.stateData)],
    }) as Hex;
    let round = 0;
    for (;;) {
      const d = await chl.dispute(id);
      await later();
      if (d.phase === Phase.Claim) {
        await srv.claimCheck(id, steps, `0x00${fresh().slice(4)}` as Hex);
        continue;
      }
      if (d.phase === Phase.Step) break;
      const points = await chl.splitPoints(id);
      const count = points.length - 1;
      // the challenger's pick: a pseudo-random sub-interval; when it is one step wide (the last
      // round of phase 2, whichever it is), one with a posted left end, which becomes the agreed
      // pre-state of the step: the fixture's
      const oneStep = (k: number) =>
        d.phase === Phase.Bisect2 && BigInt(points[k + 1]) - BigInt(points[k]) === 1n;
      let index = (round * 7 + 3) % count;
      if (oneStep(index) && index === 0) index = 1;
      const states = Array.from({ length: count - 1 }, fresh);
      if (oneStep(index)) states[index - 1] = preHash;
      await srv.bisect(id, states);
      await later();
      await chl.pick(id, index, states);
      round++;
    }
    await later();
    const defenderWon = await chl.step(id, bytesToHex(fx.stateData), bytesToHex(fx.proof));
    if (defenderWon) throw new Error("the lying defender won the step");
    const table = (name: string, g: GameClient) => {
      const total = g.txs.reduce((s, t) => s + t.gasUsed, 0n);
      console.log(`${name}: ${g.txs.length} transactions, ${total} gas`);
      for (const t of g.txs) console.log(`  ${t.fn.padEnd(18)} ${t.gasUsed}`);
      return { txs: g.txs.map((t) => ({ fn: t.fn, gas: Number(t.gasUsed) })), total: Number(total) };
    };
    const figures = {
      nodes,
      steps: `${steps}`,
      rounds: round,
      defender: table("defender", srv),
      challenger: table("challenger", chl),
    };
    if (json) Deno.writeTextFileSync(json, JSON.stringify(figures, null, 2) + "\n");
  } finally {
    await anvil.stop();
  }
}

if (import.meta.main) await main();
