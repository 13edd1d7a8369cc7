/**
 * The contract's output key (`OpmlGame.outputKeyOf`, checked at every reveal) against the
 * TypeScript Merkle-data keys (core/vm/oracle.ts, core/engine/phase.ts) on a real node: leaf
 * boundaries (0, 1, 31, 32, 33, 64, 65, 96 bytes), odd and even leaf counts at every level of a
 * few KiB, stories260K's logits size (100,352 bytes), and several tensors at once.
 *
 * Skipped when `node_modules/.bin/anvil` is missing. Needs --allow-run --allow-read --allow-net.
 */
import assert from "node:assert/strict";
import { createPublicClient, createWalletClient, type Hex, http, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { opmlGameAbi } from "../../core/chain/abi/opml_game.ts";
import { ANVIL_DEV_KEY, anvilAvailable, startAnvil } from "../../core/chain/anvil.ts";
import { DEFAULT_GAME_PARAMS } from "../../core/chain/config.ts";
import { deployAll } from "../../core/chain/deploy.ts";
import { keyOfKeys } from "../../core/engine/mod.ts";
import { keyHex, merkleDataKey } from "../../core/vm/oracle.ts";

/** Deterministic bytes (a linear congruential generator: no zero runs to hide padding bugs). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

Deno.test({
  name: "chain: outputKeyOf on chain = the TypeScript output key",
  ignore: !anvilAvailable(),
  async fn() {
    const anvil = await startAnvil();
    try {
      const wallet = createWalletClient({
        account: privateKeyToAccount(ANVIL_DEV_KEY),
        chain: foundry,
        transport: http(anvil.url),
      });
      const client = createPublicClient({ chain: foundry, transport: http(anvil.url) });
      const { game } = await deployAll(wallet, DEFAULT_GAME_PARAMS);
      const onChain = (items: Uint8Array[]) =>
        client.readContract({
          address: game,
          abi: opmlGameAbi,
          functionName: "outputKeyOf",
          args: [items.map((b) => toHex(b))],
        });
      const reference = (items: Uint8Array[]) => keyHex(keyOfKeys(items.map(merkleDataKey))) as Hex;
      const cases: Uint8Array[][] = [[]];
      for (const n of [0, 1, 31, 32, 33, 64, 65, 96, 97, 160, 224, 1000, 2047, 4096, 4097, 100_352]) {
        cases.push([bytes(n, n + 1)]);
      }
      cases.push([bytes(40, 7), bytes(0, 8), bytes(3, 9)]); // several tensors, one empty
      cases.push(Array.from({ length: 5 }, (_, i) => bytes(100 * i + 1, i))); // 5 keys: odd count
      cases.push([new Uint8Array(64)]); // zeros: the padding must not collide with data
      for (const items of cases) {
        const sizes = items.map((b) => b.length).join(", ");
        assert.equal(await onChain(items), reference(items), `outputs of [${sizes}] bytes`);
      }
      // the key binds the split: the same bytes cut otherwise have another key
      const whole = bytes(64, 3);
      assert.notEqual(await onChain([whole]), await onChain([whole.slice(0, 32), whole.slice(32)]));
    } finally {
      await anvil.stop();
    }
  },
});
