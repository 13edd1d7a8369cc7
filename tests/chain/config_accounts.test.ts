/**
 * The chain configuration file (round trip, atomic write, every validation error naming the
 * file and the field, the path resolution order) and the signing account (env key, dev
 * accounts only on the local chain, errors that never contain the key).
 *
 * Needs --allow-read --allow-write --allow-env.
 */

import assert from "node:assert/strict";
import {
  type ChainConfig,
  ChainConfigError,
  checkGameParams,
  configPath,
  DEFAULT_CONFIG_PATH,
  DEFAULT_GAME_PARAMS,
  diffGameParams,
  readChainConfig,
  writeChainConfig,
} from "../../core/chain/config.ts";
import { AccountError, ANVIL_MNEMONIC, devAccount, resolveAccount } from "../../core/chain/accounts.ts";
import { ANVIL_DEV_KEY } from "../../core/chain/anvil.ts";
import { privateKeyToAccount } from "viem/accounts";

const SAMPLE: ChainConfig = {
  format: "opml-chain/1",
  rpc: "http://127.0.0.1:8545",
  chainId: 31337,
  contracts: {
    oracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    mips: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    game: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  },
  deployBlock: 3,
  game: { ...DEFAULT_GAME_PARAMS, serverBond: 12345678901234567890123456789n },
  local: { pid: 4242, port: 8545, log: ".opml/anvil.log" },
};

function withEnv<T>(vars: Record<string, string | undefined>, f: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  for (const [k, v] of Object.entries(vars)) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(saved)) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
}

function throwsOneLine(f: () => unknown, cls: new (...a: never[]) => Error, pattern: RegExp): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    const m = (e as Error).message;
    assert.match(m, pattern);
    assert.ok(!m.includes("\n"), `multi-line message: ${m}`);
    return m;
  }
  throw new Error(`expected ${cls.name} matching ${pattern}`);
}

Deno.test("config: write then read round-trips, bigints as decimal strings, no temp file left", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/sub/chain.json`; // the directory is created
    writeChainConfig(path, SAMPLE);
    assert.deepEqual(readChainConfig(path), SAMPLE);
    const raw = JSON.parse(Deno.readTextFileSync(path));
    assert.equal(raw.game.serverBond, "12345678901234567890123456789");
    assert.equal(raw.game.challengerBond, "1000000000000000000");
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["chain.json"]);
    // a second write replaces the file
    writeChainConfig(path, { ...SAMPLE, deployBlock: 9, local: undefined });
    const again = readChainConfig(path);
    assert.equal(again.deployBlock, 9);
    assert.equal(again.local, undefined);
    // addresses come back checksummed whatever their case in the file
    raw.contracts.game = raw.contracts.game.toLowerCase();
    Deno.writeTextFileSync(path, JSON.stringify(raw));
    assert.equal(readChainConfig(path).contracts.game, SAMPLE.contracts.game);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("config: every malformed file gives one line naming the file and the problem", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/chain.json`;
    throwsOneLine(
      () => readChainConfig(path),
      ChainConfigError,
      /no chain configured .*chain\.json.*opml chain up/,
    );
    const cases: [unknown, RegExp][] = [
      ["{not json", /chain\.json: not JSON/],
      [[], /chain\.json: the configuration must be an object/],
      [{ ...SAMPLE, format: "opml-chain/2" }, /format must be "opml-chain\/1"/],
      [{ ...SAMPLE, rpc: "localhost:8545" }, /rpc must be an http/],
      [{ ...SAMPLE, chainId: "31337" }, /chainId must be an integer/],
      [
        { ...SAMPLE, contracts: { ...SAMPLE.contracts, game: "0x1234" } },
        /contracts\.game must be an address/,
      ],
      [{ ...SAMPLE, deployBlock: -1 }, /deployBlock must be an integer >= 0/],
      [{ ...SAMPLE, game: { ...SAMPLE.game, serverBond: 1 } }, /game\.serverBond must be a decimal string/],
      [{ ...SAMPLE, game: { ...SAMPLE.game, serverBond: "1", challengerBond: "1", arity: 1025 } }, /arity/],
      [{ ...SAMPLE, game: undefined }, /game must be an object/],
      [{ ...SAMPLE, local: { pid: 0, port: 1, log: "x" } }, /local\.pid must be an integer >= 1/],
      [
        { ...SAMPLE, local: { pid: 1, port: 1, log: "x", gasLimit: "1e9" } },
        /local\.gasLimit must be an integer/,
      ],
    ];
    for (const [doc, pattern] of cases) {
      const text = typeof doc === "string"
        ? doc
        : JSON.stringify(doc, (_k, v) => typeof v === "bigint" ? `${v}` : v);
      Deno.writeTextFileSync(path, text);
      const m = throwsOneLine(() => readChainConfig(path), ChainConfigError, pattern);
      assert.ok(m.startsWith(path), `message does not name the file: ${m}`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("config: path from the option, else OPML_CHAIN_CONFIG, else .opml/chain.json", () => {
  withEnv({ OPML_CHAIN_CONFIG: undefined }, () => {
    assert.equal(configPath(), DEFAULT_CONFIG_PATH);
    assert.equal(configPath("x.json"), "x.json");
  });
  withEnv({ OPML_CHAIN_CONFIG: "/tmp/env.json" }, () => {
    assert.equal(configPath(), "/tmp/env.json");
    assert.equal(configPath("x.json"), "x.json");
  });
});

Deno.test("config: game parameters are checked like the constructor, differences are named", () => {
  checkGameParams(DEFAULT_GAME_PARAMS);
  checkGameParams({ ...DEFAULT_GAME_PARAMS, arity: 2 });
  checkGameParams({ ...DEFAULT_GAME_PARAMS, arity: 1024, serverBond: 1n, challengerBond: 1n });
  // a zero bond makes a lie or a challenge free; the server bond is split in uint96 parts
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, serverBond: 0n }),
    ChainConfigError,
    /server bond must be 1 \.\. \d+ wei, got 0/,
  );
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, challengerBond: 0n }),
    ChainConfigError,
    /challenger bond must be 1/,
  );
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, serverBond: 1n << 96n }),
    ChainConfigError,
    /server bond must be/,
  );
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, arity: 1 }),
    ChainConfigError,
    /arity must be 2 \.\. 1024, got 1/,
  );
  throwsOneLine(() => checkGameParams({ ...DEFAULT_GAME_PARAMS, arity: 1025 }), ChainConfigError, /arity/);
  throwsOneLine(() => checkGameParams({ ...DEFAULT_GAME_PARAMS, arity: 2.5 }), ChainConfigError, /arity/);
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, clockBudget: 0 }),
    ChainConfigError,
    /clock budget/,
  );
  // the contract packs the clocks in 40 bits
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, clockBudget: 2 ** 40 }),
    ChainConfigError,
    /clock budget must be 1 \.\. 1099511627775 seconds, got 1099511627776/,
  );
  checkGameParams({ ...DEFAULT_GAME_PARAMS, clockBudget: 2 ** 40 - 1 });
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, challengeWindow: 0 }),
    ChainConfigError,
    /window/,
  );
  throwsOneLine(
    () => checkGameParams({ ...DEFAULT_GAME_PARAMS, challengerBond: -1n }),
    ChainConfigError,
    /bond/,
  );
  assert.deepEqual(diffGameParams(DEFAULT_GAME_PARAMS, { arity: 16, serverBond: 10n ** 18n }), []);
  assert.deepEqual(diffGameParams(DEFAULT_GAME_PARAMS, { arity: 4, challengeWindow: 600, clockBudget: 1 }), [
    "arity",
    "clockBudget",
  ]);
});

Deno.test("accounts: the env key wins; dev accounts only on the local chain", () => {
  const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // anvil #1
  const expected = privateKeyToAccount(key).address;
  withEnv({ OPML_PRIVATE_KEY: key }, () => {
    assert.equal(resolveAccount({ local: false }).address, expected);
    assert.equal(resolveAccount({ local: true, account: 5 }).address, expected);
  });
  withEnv(
    { OPML_PRIVATE_KEY: key.slice(2) },
    () => assert.equal(resolveAccount({ local: false }).address, expected),
  );
  withEnv({ MY_KEY: key, OPML_PRIVATE_KEY: undefined }, () => {
    assert.equal(resolveAccount({ keyEnv: "MY_KEY", local: false }).address, expected);
  });
  withEnv({ OPML_PRIVATE_KEY: undefined }, () => {
    // anvil's dev account 0 is the one whose key core/chain/anvil.ts hard-codes
    assert.equal(resolveAccount({ local: true }).address, privateKeyToAccount(ANVIL_DEV_KEY).address);
    assert.equal(resolveAccount({ local: true, account: 1 }).address, expected);
    assert.equal(devAccount(9).address, "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720");
    throwsOneLine(() => resolveAccount({ local: true, account: 10 }), AccountError, /0 \.\. 9, got 10/);
    throwsOneLine(
      () => resolveAccount({ local: false }),
      AccountError,
      /not the embedded local chain, set OPML_PRIVATE_KEY/,
    );
    throwsOneLine(
      () => resolveAccount({ local: false, keyEnv: "MY_KEY" }),
      AccountError,
      /MY_KEY is not set \(--key-env names it/,
    );
    // named explicitly: never a dev account in its place
    throwsOneLine(
      () => resolveAccount({ local: true, keyEnv: "MY_KEY" }),
      AccountError,
      /MY_KEY is not set/,
    );
  });
  assert.match(ANVIL_MNEMONIC, /junk$/);
});

Deno.test("accounts: a malformed key names the variable and never shows the key", () => {
  const secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690"; // one digit short
  for (const bad of [secret, "hello", `${secret}zz`, "0x" + "0".repeat(64)]) {
    withEnv({ OPML_PRIVATE_KEY: bad }, () => {
      const m = throwsOneLine(
        () => resolveAccount({ local: true }),
        AccountError,
        /OPML_PRIVATE_KEY does not hold/,
      );
      assert.ok(!m.includes(bad) && !m.includes(bad.slice(2, 20)), `the key leaked: ${m}`);
    });
  }
});
