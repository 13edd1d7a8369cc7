/**
 * `opml chain up | down | deploy | info` as a user runs them (subprocesses, temporary config
 * paths: the repository's .opml/ is never touched):
 * - up replaces a stale configuration, starts a detached anvil that outlives the command,
 *   deploys a game that answers its views with the given parameters, and writes the config;
 *   a second up is a no-op; up with other parameters is refused;
 * - deploy to that node's RPC with a key from the environment writes a remote config;
 * - down stops the process and removes the config; down again is a no-op;
 * - errors (malformed config, dead chain, bad options, malformed key) are one line, non-zero
 *   exit, no stack trace.
 *
 * Skipped when node_modules/.bin/anvil is missing. Runs with the permissions of `deno task test`.
 */

import assert from "node:assert/strict";
import { type Address, createPublicClient, http } from "viem";
import { opmlGameAbi } from "../../core/chain/abi/opml_game.ts";
import { anvilAvailable } from "../../core/chain/anvil.ts";
import { assertOneLineError, Cli, exists, running, waitUntil } from "../_cli.ts";

const ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const ANVIL_ADDR_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ANVIL_ADDR_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

const cli = new Cli({ OPML_CHAIN_CONFIG: "" });
const opml = cli.run.bind(cli);

/** A pid that is certainly not a running process. */
function deadPid(): number {
  let pid = 4_000_000;
  while (running(pid)) pid--;
  return pid;
}

const SAMPLE = {
  format: "opml-chain/1",
  rpc: "http://127.0.0.1:1",
  chainId: 31337,
  contracts: {
    oracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    mips: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    game: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  },
  deployBlock: 3,
  game: {
    arity: 16,
    clockBudget: 3600,
    serverBond: "1000000000000000000",
    challengerBond: "1000000000000000000",
    challengeWindow: 600,
  },
};

async function gameViews(rpc: string, game: Address) {
  const client = createPublicClient({ transport: http(rpc), cacheTime: 0 });
  const read = (
    functionName: "arity" | "clockBudget" | "serverBond" | "challengerBond" | "challengeWindow",
  ) => client.readContract({ address: game, abi: opmlGameAbi, functionName });
  return {
    arity: await read("arity"),
    clockBudget: await read("clockBudget"),
    serverBond: await read("serverBond"),
    challengerBond: await read("challengerBond"),
    challengeWindow: await read("challengeWindow"),
    mips: await client.readContract({ address: game, abi: opmlGameAbi, functionName: "mips" }),
    blockNumber: await client.getBlockNumber(),
    /** Transactions of dev account 0, the deployer of the embedded chain. */
    deployerNonce: await client.getTransactionCount({ address: ANVIL_ADDR_0 }),
  };
}

Deno.test({
  name: "chain cli: up (stale config replaced), up again, deploy, info, down, down again",
  ignore: !anvilAvailable(),
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "opml-chain-" });
    const config = `${dir}/state/chain.json`;
    let pid: number | undefined;
    try {
      // a stale configuration of an embedded chain that is gone
      Deno.mkdirSync(`${dir}/state`);
      const stalePid = deadPid();
      Deno.writeTextFileSync(
        config,
        JSON.stringify({ ...SAMPLE, local: { pid: stalePid, port: 1, log: `${dir}/state/anvil.log` } }),
      );
      const up = await opml([
        "chain",
        "up",
        "--config",
        config,
        "--arity",
        "4",
        "--clock",
        "120",
        "--server-bond",
        "2.5",
        "--challenger-bond",
        "0.75",
        "--window",
        "30",
        "--json",
      ]);
      assert.equal(up.code, 0, up.stderr);
      const cfg = JSON.parse(up.stdout);
      pid = cfg.local.pid;
      assert.equal(cfg.reused, false);
      assert.notEqual(pid, stalePid);
      assert.match(up.stderr, /stale/);
      // the command has exited; its anvil has not
      assert.ok(running(pid!), "anvil does not outlive `chain up`");
      assert.equal(cfg.local.log, `${dir}/state/anvil.log`);
      assert.match(Deno.readTextFileSync(cfg.local.log), /Listening on 127\.0\.0\.1:/);
      const onDisk = JSON.parse(Deno.readTextFileSync(config));
      // the file is what --json printed, without the command's own fields
      const { reused: _r, configPath: printedPath, ...printed } = cfg;
      assert.equal(printedPath, config);
      assert.deepEqual(onDisk, printed);
      assert.deepEqual(onDisk.game, {
        arity: 4,
        clockBudget: 120,
        serverBond: "2500000000000000000",
        challengerBond: "750000000000000000",
        challengeWindow: 30,
      });
      const views = await gameViews(cfg.rpc, cfg.contracts.game);
      assert.deepEqual(
        { ...views, blockNumber: undefined, deployerNonce: undefined },
        {
          arity: 4n,
          clockBudget: 120n,
          serverBond: 2_500_000_000_000_000_000n,
          challengerBond: 750_000_000_000_000_000n,
          challengeWindow: 30n,
          mips: cfg.contracts.mips,
          blockNumber: undefined,
          deployerNonce: undefined,
        },
      );
      assert.ok(Number(views.blockNumber) >= cfg.deployBlock);
      // the embedded chain has a block time: its clock moves while it is idle
      await waitUntil(
        "a block mined by the idle chain",
        async () => (await gameViews(cfg.rpc, cfg.contracts.game)).blockNumber > views.blockNumber,
      );

      // a second up is a no-op: same process, same contracts, no transaction
      const again = await opml(["chain", "up", "--config", config, "--arity", "4", "--json"]);
      assert.equal(again.code, 0, again.stderr);
      const cfg2 = JSON.parse(again.stdout);
      assert.equal(cfg2.reused, true);
      assert.equal(cfg2.local.pid, pid);
      assert.equal(cfg2.contracts.game, cfg.contracts.game);
      assert.equal((await gameViews(cfg.rpc, cfg.contracts.game)).deployerNonce, views.deployerNonce);
      // OPML_CHAIN_CONFIG is the default path
      const viaEnv = await opml(["chain", "up", "--json"], { OPML_CHAIN_CONFIG: config });
      assert.equal(viaEnv.code, 0, viaEnv.stderr);
      assert.equal(JSON.parse(viaEnv.stdout).local.pid, pid);
      // other parameters than the running chain's: refused, nothing changed
      assertOneLineError(
        await opml(["chain", "up", "--config", config, "--arity", "8"]),
        1,
        /arity 4 \(asked 8\).*opml chain down/,
      );
      assert.ok(running(pid!));

      // info: the config plus live facts
      const info = await opml(["chain", "info", "--config", config, "--json"]);
      assert.equal(info.code, 0, info.stderr);
      const i = JSON.parse(info.stdout);
      assert.equal(i.alive, true);
      assert.equal(i.processAlive, true);
      assert.ok(i.blockNumber >= cfg.deployBlock, String(i.blockNumber));
      assert.equal(i.contracts.game, cfg.contracts.game);

      // deploy on "any EVM chain" (this node), with the key from the environment
      const remote = `${dir}/remote.json`;
      const badKey = await opml(
        ["chain", "deploy", "--rpc", cfg.rpc, "--config", remote],
        { OPML_PRIVATE_KEY: ANVIL_KEY_1.slice(0, 40) },
      );
      const m = assertOneLineError(badKey, 1, /OPML_PRIVATE_KEY does not hold a private key/);
      assert.ok(!m.includes(ANVIL_KEY_1.slice(2, 20)), "the key leaked");
      assertOneLineError(
        await opml(["chain", "deploy", "--rpc", cfg.rpc, "--config", remote]),
        1,
        /set OPML_PRIVATE_KEY/,
      );
      assert.ok(!exists(remote));
      const dep = await opml(
        ["chain", "deploy", "--rpc", cfg.rpc, "--config", remote, "--arity", "2", "--json"],
        { OPML_PRIVATE_KEY: ANVIL_KEY_1 },
      );
      assert.equal(dep.code, 0, dep.stderr);
      assert.match(dep.stderr, new RegExp(ANVIL_ADDR_1));
      const rcfg = JSON.parse(Deno.readTextFileSync(remote));
      assert.equal(rcfg.local, undefined);
      assert.notEqual(rcfg.contracts.game, cfg.contracts.game);
      assert.equal((await gameViews(rcfg.rpc, rcfg.contracts.game)).arity, 2n);
      // down does not forget a remote deployment
      assertOneLineError(await opml(["chain", "down", "--config", remote]), 1, /nothing to stop/);
      assert.ok(exists(remote));

      // down stops the process and removes the config
      const down = await opml(["chain", "down", "--config", config]);
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stderr, new RegExp(`stopped anvil \\(pid ${pid}\\)`));
      assert.ok(!running(pid!), "anvil still runs after `chain down`");
      assert.ok(!exists(config), "config not removed");
      pid = undefined;
      // the remote config now points at a dead node
      assertOneLineError(
        await opml(["chain", "info", "--config", remote]),
        1,
        /cannot reach http:\/\/127\.0\.0\.1:/,
      );
      // down again: nothing to do, exit 0
      const down2 = await opml(["chain", "down", "--config", config]);
      assert.equal(down2.code, 0, down2.stderr);
      assert.match(down2.stderr, /nothing to do/);
      assertOneLineError(
        await opml(["chain", "info", "--config", config]),
        1,
        /no chain configured .*opml chain up/,
      );
    } finally {
      if (pid !== undefined && running(pid)) Deno.kill(pid, "SIGKILL");
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("chain cli: malformed config, dead chain, bad options: one-line errors", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "opml-chain-" });
  try {
    const bad = `${dir}/bad.json`;
    Deno.writeTextFileSync(bad, "{ this is not json");
    for (const cmd of ["info", "up", "down"]) {
      assertOneLineError(await opml(["chain", cmd, "--config", bad]), 1, /bad\.json: not JSON.*/);
    }
    assert.ok(exists(bad), "a malformed config must not be removed");
    Deno.writeTextFileSync(bad, JSON.stringify({ ...SAMPLE, chainId: -1 }));
    assertOneLineError(
      await opml(["chain", "info", "--config", bad]),
      1,
      /bad\.json: chainId must be an integer/,
    );

    // an embedded chain whose anvil is gone
    const dead = `${dir}/dead.json`;
    Deno.writeTextFileSync(
      dead,
      JSON.stringify({ ...SAMPLE, local: { pid: deadPid(), port: 1, log: "x.log" } }),
    );
    const r = await opml(["chain", "info", "--config", dead, "--json"]);
    assertOneLineError(r, 1, /embedded chain \(anvil pid \d+\) is not running: run `opml chain up`/);
    assert.equal(JSON.parse(r.stdout).alive, false);

    for (
      const [args, re] of [
        [["--arity", "1"], /--arity must be 2 \.\. 1024, got 1/],
        [["--arity", "2000"], /--arity must be 2 \.\. 1024/],
        [["--arity", "abc"], /--arity must be a non-negative integer/],
        [["--clock", "0"], /--clock must be at least 1/],
        [["--server-bond", "1e18"], /--server-bond must be an amount of ETH/],
        [["--port", "70000"], /--port must be 1 \.\. 65535/],
        [["--gas-limit", "1000"], /--gas-limit must be at least 30000000/],
      ] as [string[], RegExp][]
    ) {
      assertOneLineError(await opml(["chain", "up", "--config", `${dir}/never.json`, ...args]), 2, re);
    }
    assert.ok(!exists(`${dir}/never.json`));
    assertOneLineError(
      await opml(["chain", "deploy", "--rpc", "not-a-url", "--config", `${dir}/never.json`], {
        OPML_PRIVATE_KEY: ANVIL_KEY_1,
      }),
      1,
      /--rpc must be an http\(s\) URL/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "chain cli: two concurrent `up` on one config start one anvil and report the same chain",
  ignore: !anvilAvailable(),
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "opml-chain-" });
    const config = `${dir}/chain.json`;
    const pids = new Set<number>();
    try {
      const [a, b] = await Promise.all([
        opml(["chain", "up", "--config", config, "--json"]),
        opml(["chain", "up", "--config", config, "--json"]),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const [ca, cb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
      pids.add(ca.local.pid).add(cb.local.pid);
      // one started the chain, the other waited for it and reused it
      assert.deepEqual([ca.reused, cb.reused].sort(), [false, true]);
      assert.equal(pids.size, 1, `two anvils: ${[...pids]}`);
      assert.equal(ca.rpc, cb.rpc);
      assert.equal(ca.contracts.game, cb.contracts.game);
      assert.ok(!exists(`${config}.lock`), "the lock file is left behind");
      // the other anvil never started: the log holds one start only
      const log = Deno.readTextFileSync(ca.local.log);
      assert.equal(log.match(/Listening on/g)?.length, 1, log);
      const down = await opml(["chain", "down", "--config", config, "--json"]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(JSON.parse(down.stdout).stoppedPid, ca.local.pid);
      assert.ok(!running(ca.local.pid));
    } finally {
      for (const pid of pids) if (running(pid)) Deno.kill(pid, "SIGKILL");
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "chain cli: up --gas-limit raises the embedded chain's block gas limit; another limit is refused",
  ignore: !anvilAvailable(),
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "opml-chain-gas-" });
    const config = `${dir}/chain.json`;
    try {
      const up = await opml(["chain", "up", "--config", config, "--gas-limit", "1000000000", "--json"]);
      assert.equal(up.code, 0, up.stderr);
      const cfg = JSON.parse(up.stdout);
      assert.equal(cfg.local.gasLimit, 1_000_000_000);
      const client = createPublicClient({ transport: http(cfg.rpc), cacheTime: 0 });
      assert.equal((await client.getBlock()).gasLimit, 1_000_000_000n, "the chain's block gas limit");
      // the same limit reuses the chain; another one is refused in one line
      const again = await opml(["chain", "up", "--config", config, "--gas-limit", "1000000000", "--json"]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).reused, true);
      assertOneLineError(
        await opml(["chain", "up", "--config", config, "--gas-limit", "40000000"]),
        1,
        /already up with gas limit 1000000000 \(asked 40000000\)/,
      );
    } finally {
      await opml(["chain", "down", "--config", config]);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
