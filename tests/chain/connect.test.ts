/**
 * core/chain on a real embedded chain (started with chainUp, stopped with chainDown):
 * - connect() gives clients that sign with dev accounts; a task's input bytes and a result's
 *   output bytes come back from the logs (data availability, docs/GAME.md);
 * - connect({rpc, game}) rebuilds the same configuration from the chain alone (deploy block by
 *   bisection);
 * - a game address without code, another chain id, a malformed key, a taken port: clear errors.
 *
 * Skipped when node_modules/.bin/anvil is missing. Needs -A.
 */

import assert from "node:assert/strict";
import { keccak256, parseEventLogs, toHex } from "viem";
import { opmlGameAbi } from "../../core/chain/abi/opml_game.ts";
import { commitmentOf } from "../../core/chain/game_client.ts";
import { keyOfKeys } from "../../core/engine/mod.ts";
import { keyHex, merkleDataKey } from "../../core/vm/oracle.ts";
import { AccountError } from "../../core/chain/accounts.ts";
import { anvilAvailable } from "../../core/chain/anvil.ts";
import { readChainConfig, writeChainConfig } from "../../core/chain/config.ts";
import { connect, ConnectError } from "../../core/chain/connect.ts";
import { chainDown, chainUp } from "../../core/chain/lifecycle.ts";
import { localChainAlive, LocalChainError, startLocalChain } from "../../core/chain/local_chain.ts";

/** A checker initial state hash with status byte 3 (running): the game refuses an exited one. */
const RUNNING_CHECKER = `0x03${keccak256("0x02").slice(4)}` as const;

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    assert.match((e as Error).message, re);
    assert.ok(!(e as Error).message.includes("\n"), `multi-line: ${(e as Error).message}`);
    return;
  }
  throw new Error(`expected ${cls.name} matching ${re}`);
}

Deno.test({
  name: "connect: dev accounts sign, input/output bytes from the logs, rebuilt config, clear errors",
  ignore: !anvilAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "opml-connect-" });
    const path = `${dir}/chain.json`;
    const savedKey = Deno.env.get("OPML_PRIVATE_KEY");
    Deno.env.delete("OPML_PRIVATE_KEY");
    try {
      const { config } = await chainUp({ configPath: path, params: { arity: 3, challengeWindow: 5 } });
      assert.ok(localChainAlive(config));

      const requester = await connect({ config: path, account: 1 });
      const server = await connect({ config: path, account: 2 });
      assert.notEqual(requester.account.address, server.account.address);
      const game = config.contracts.game;
      const pc = requester.publicClient;
      const send = async (c: typeof requester, req: Parameters<typeof c.walletClient.writeContract>[0]) => {
        const hash = await c.walletClient.writeContract(req);
        const r = await pc.waitForTransactionReceipt({ hash });
        assert.equal(r.status, "success");
        return r;
      };
      await send(requester, {
        address: game,
        abi: opmlGameAbi,
        functionName: "registerModel",
        args: [keccak256("0x01"), RUNNING_CHECKER, 3, 100n, 0n],
      } as never);
      const modelId = await pc.readContract({
        address: game,
        abi: opmlGameAbi,
        functionName: "modelIdOf",
        args: [keccak256("0x01"), RUNNING_CHECKER, 3, 100n, 0n],
      });
      const input = toHex(Uint8Array.from({ length: 3136 }, (_, i) => (i * 31) & 255));
      const output = toHex(new Uint8Array([0x3f, 0x80, 0, 0]));
      await send(requester, {
        address: game,
        abi: opmlGameAbi,
        functionName: "postTask",
        args: [modelId, keccak256(input), false, input],
        value: 10n,
      } as never);
      // the output key as the TypeScript side computes it (the contract checks it at the reveal)
      const outputKey = keyHex(
        keyOfKeys([merkleDataKey(new Uint8Array([0x3f, 0x80, 0, 0]))]),
      ) as `0x${string}`;
      const salt = keccak256("0x5a17");
      await send(server, {
        address: game,
        abi: opmlGameAbi,
        functionName: "commitResult",
        args: [1n, commitmentOf(1n, outputKey, salt, server.account.address)],
        value: config.game.serverBond,
      } as never);
      await send(server, {
        address: game,
        abi: opmlGameAbi,
        functionName: "revealResult",
        args: [1n, outputKey, salt, [output]],
      } as never);
      // a reader that knows only the config finds both from the deploy block on
      const logs = parseEventLogs({
        abi: opmlGameAbi,
        logs: await pc.getLogs({ address: game, fromBlock: BigInt(config.deployBlock) }),
      });
      const posted = logs.find((l) => l.eventName === "TaskPosted");
      const result = logs.find((l) => l.eventName === "ResultPosted");
      assert.ok(posted && posted.eventName === "TaskPosted" && result && result.eventName === "ResultPosted");
      assert.equal(posted.args.input, input);
      assert.equal(posted.args.requester, requester.account.address);
      assert.deepEqual(result.args.outputs, [output]);
      assert.equal(result.args.server, server.account.address);

      // the same configuration from the chain alone
      const rebuilt = await connect({ rpc: config.rpc, game, keyEnv: "OPML_TEST_KEY_UNSET" }).catch((e) => e);
      assert.ok(rebuilt instanceof AccountError, "not local: a key is required");
      Deno.env.set("OPML_PRIVATE_KEY", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
      const viaRpc = await connect({ rpc: config.rpc, game });
      Deno.env.delete("OPML_PRIVATE_KEY");
      const { local: _local, ...remote } = config;
      assert.deepEqual(viaRpc.config, remote);
      assert.equal(viaRpc.account.address, requester.account.address);
      await rejects(connect({ rpc: config.rpc }), ConnectError, /--rpc and --game go together/);

      // a config whose game has no code, or of another chain
      const noGame = `${dir}/nogame.json`;
      writeChainConfig(noGame, {
        ...config,
        contracts: { ...config.contracts, game: requester.account.address },
      });
      await rejects(
        connect({ config: noGame }),
        ConnectError,
        new RegExp(
          `no contract at ${requester.account.address} on ${config.rpc}: the chain was restarted\\?`,
        ),
      );
      writeChainConfig(noGame, { ...config, chainId: 5 });
      await rejects(connect({ config: noGame }), ConnectError, /is chain 31337, the configuration says 5/);
      // a malformed key fails before any network call
      Deno.env.set("OPML_PRIVATE_KEY", "0xnothex");
      await rejects(connect({ config: path }), AccountError, /OPML_PRIVATE_KEY does not hold a private key/);
      Deno.env.delete("OPML_PRIVATE_KEY");

      // a taken port: anvil's own reason, from its log
      await rejects(
        startLocalChain({ log: `${dir}/other.log`, port: config.local!.port, timeoutMs: 10_000 }),
        LocalChainError,
        /anvil exited with code \d+ before listening: .*(in use|Address)/i,
      );

      const down = await chainDown(path);
      assert.equal(down.stoppedPid, config.local!.pid);
      assert.ok(!localChainAlive(config));
      await rejects(connect({ config: path }), Error, /no chain configured/);
      // the dead node of a config that survived (here: the copy)
      writeChainConfig(noGame, { ...config, local: undefined });
      await rejects(connect({ config: noGame, account: 0 }), AccountError, /set OPML_PRIVATE_KEY/);
      Deno.env.set("OPML_PRIVATE_KEY", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
      await rejects(
        connect({ config: noGame }),
        ConnectError,
        /cannot reach http:\/\/127\.0\.0\.1:\d+ .*opml chain up/,
      );
    } finally {
      try {
        const cfg = readChainConfig(path);
        await chainDown(path);
        assert.ok(!localChainAlive(cfg));
      } catch { /* already down */ }
      if (savedKey === undefined) Deno.env.delete("OPML_PRIVATE_KEY");
      else Deno.env.set("OPML_PRIVATE_KEY", savedKey);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
