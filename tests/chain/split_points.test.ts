/**
 * The contract's split points are the offline dissection's: OpmlGame.splitPoints (the
 * contract's integer arithmetic) against splitPointsOf (core/dispute/dissection.ts, which
 * interiorPoints uses offline) on every round of disputes walked to their last round by random
 * picks, at arities 2, 5, 16 and 1024, over phase 1 of 2^24 nodes and phase 2 of 2^40 - 7 steps.
 *
 * Skipped when node_modules/.bin/anvil is missing.
 */
import { assertEquals } from "../_assert.ts";
import {
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  toHex,
} from "viem";
import { foundry } from "viem/chains";
import { anvilAvailable, startAnvil } from "../../core/chain/anvil.ts";
import { devAccount } from "../../core/chain/accounts.ts";
import { deployGame, deployVm } from "../../core/chain/deploy.ts";
import { commitmentOf, GameClient, Phase } from "../../core/chain/game_client.ts";
import { keyOfKeys } from "../../core/engine/mod.ts";
import { keyHex, merkleDataKey } from "../../core/vm/oracle.ts";
import { splitPointsOf } from "../../core/dispute/dissection.ts";

const RUNNING_CHECKER = `0x03${keccak256("0x02").slice(4)}` as Hex;
const NODES = 2 ** 24 - 1;
const STEPS = 2n ** 40n - 7n;

Deno.test({
  name: "split points: the contract's splitPoints = splitPointsOf on every round, arities 2 to 1024",
  ignore: !anvilAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const anvil = await startAnvil();
    try {
      const client = createPublicClient({
        chain: foundry,
        transport: http(anvil.url),
        cacheTime: 0,
      }) as PublicClient;
      const wallet = (i: number) =>
        createWalletClient({ account: devAccount(i), chain: foundry, transport: http(anvil.url) });
      const vm = await deployVm(wallet(0));
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const hash = () => keccak256(toHex(`${rand(2 ** 30)}-${rand(2 ** 30)}`));
      for (const arity of [2, 5, 16, 1024]) {
        const params = {
          arity,
          clockBudget: 3600,
          serverBond: 1n,
          challengerBond: 1n,
          challengeWindow: 3600,
        };
        const { game: address } = await deployGame(wallet(0), vm, params);
        const server = new GameClient(client, wallet(1), address);
        const challenger = new GameClient(client, wallet(2), address);
        const modelId = await server.registerModel(keccak256("0x01"), RUNNING_CHECKER, NODES, STEPS, 0n);
        const input = "0x00" as Hex;
        const taskId = await server.postTask(modelId, keccak256(input), false, input, 1n);
        const output = new Uint8Array([1, 2, 3, 4]);
        const outputKey = keyHex(keyOfKeys([merkleDataKey(output)])) as Hex;
        const salt = keccak256("0x5a17");
        await server.commitResult(taskId, commitmentOf(taskId, outputKey, salt, server.account), 1n);
        await server.revealResult(taskId, outputKey, salt, [toHex(output)]);
        const id = await challenger.challenge(taskId, 1n);
        let rounds = 0;
        for (;;) {
          const d = await server.dispute(id);
          if (d.phase === Phase.Claim) {
            await server.claimCheck(id, STEPS, `0x00${hash().slice(4)}`);
            continue;
          }
          if (d.phase !== Phase.Bisect1 && d.phase !== Phase.Bisect2) break;
          const points = await server.splitPoints(id);
          assertEquals(
            points.map(Number),
            splitPointsOf({ lo: Number(d.lo), hi: Number(d.hi) }, arity),
            `arity ${arity}, [${d.lo}, ${d.hi}]`,
          );
          const states = points.slice(1, -1).map(hash);
          await server.bisect(id, states);
          await challenger.pick(id, rand(points.length - 1), states);
          rounds++;
        }
        assertEquals((await server.dispute(id)).phase, Phase.Step, `arity ${arity}: walked to the step`);
        const expected = Math.ceil(24 / Math.log2(arity)) + Math.ceil(40 / Math.log2(arity));
        // random picks may shorten a round (the last sub-interval of an uneven split is shorter)
        if (rounds > expected) throw new Error(`arity ${arity}: ${rounds} rounds, more than ${expected}`);
      }
    } finally {
      await anvil.stop();
    }
  },
});
