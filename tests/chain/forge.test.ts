/**
 * The contracts' own checks, run from `deno task test`:
 * - `forge test`: every Solidity suite (MIPS semantics, syscalls, oracle, the TypeScript VM's
 *   fixtures and the corruption fuzz, gas budgets); failing tests are named in the message;
 * - `forge snapshot --check`: the gas snapshot (.gas-snapshot) is current;
 * - `tasks/gen_abis.ts --check`: the typed ABIs in core/chain/abi match the contracts;
 * - `tasks/gen_fixtures.ts --check`: the committed fixtures are what the TypeScript VM gives now.
 *
 * Needs --allow-run --allow-read (forge, node for tasks/solc.cjs, deno for the tasks).
 */

import assert from "node:assert/strict";

const root = new URL("../..", import.meta.url).pathname;
const FORGE = `${root}node_modules/.bin/forge`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[]): Promise<Run> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd: root, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${cmd} is missing: run \`deno task setup\``);
    throw e;
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The tail of a long output, for assertion messages. */
function tail(s: string, n = 4000): string {
  return s.length > n ? `...${s.slice(-n)}` : s;
}

interface ForgeTestResult {
  status: string;
  reason: string | null;
  counterexample: unknown;
}

Deno.test("contracts: forge test passes, fixtures and fuzz included", async () => {
  const r = await run(FORGE, ["test", "--json"]);
  const start = r.stdout.indexOf("{");
  assert.ok(start >= 0, `forge test printed no JSON (exit ${r.code}):\n${tail(r.stdout)}\n${tail(r.stderr)}`);
  const suites = JSON.parse(r.stdout.slice(start)) as Record<
    string,
    { test_results: Record<string, ForgeTestResult> }
  >;
  const failed: string[] = [];
  const passed: string[] = [];
  for (const [suite, { test_results }] of Object.entries(suites)) {
    for (const [name, res] of Object.entries(test_results)) {
      const id = `${suite.split(":").pop()}.${name}`;
      if (res.status === "Success") passed.push(id);
      else {
        const ce = res.counterexample ? ` counterexample ${JSON.stringify(res.counterexample)}` : "";
        failed.push(`${id}: ${res.status} ${res.reason ?? ""}${ce}`);
      }
    }
  }
  assert.deepEqual(failed, [], `forge test: ${failed.length} failing tests:\n${failed.join("\n")}`);
  assert.equal(r.code, 0, `forge test exited with ${r.code}:\n${tail(r.stderr)}`);
  // the suites that prove the contract equal to the TypeScript VM must have run
  for (
    const t of [
      "FixturesTest.test_fixtures_edge()",
      "FixturesTest.test_fixtures_random()",
      "FixturesTest.test_fixtures_corpus()",
      "FixturesTest.test_fixtures_preimage()",
      "FixturesTest.testFuzz_corruptedProof(uint256,uint256,uint256,uint8)",
      "FixturesTest.testFuzz_corruptedState(uint256,uint256,uint256,uint256,uint8)",
    ]
  ) assert.ok(passed.includes(t), `${t} did not run`);
  assert.ok(passed.length >= 100, `only ${passed.length} forge tests ran`);
});

Deno.test("contracts: the gas snapshot is current", async () => {
  const r = await run(FORGE, ["snapshot", "--match-contract", "GasTest", "--check"]);
  assert.equal(
    r.code,
    0,
    `.gas-snapshot differs (update it with \`forge snapshot --match-contract GasTest\` and review):\n` +
      `${tail(r.stdout)}\n${tail(r.stderr)}`,
  );
});

Deno.test("contracts: the typed ABIs in core/chain/abi are current", async () => {
  const build = await run(FORGE, ["build"]);
  assert.equal(build.code, 0, `forge build failed:\n${tail(build.stdout)}\n${tail(build.stderr)}`);
  const r = await run(Deno.execPath(), ["run", "-A", `${root}tasks/gen_abis.ts`, "--check"]);
  assert.equal(r.code, 0, `tasks/gen_abis.ts --check:\n${tail(r.stderr)}`);
});

Deno.test("contracts: the step fixtures are what the TypeScript VM generates", async () => {
  const r = await run(Deno.execPath(), ["run", "-A", `${root}tasks/gen_fixtures.ts`, "--check"]);
  assert.equal(r.code, 0, `tasks/gen_fixtures.ts --check:\n${tail(r.stderr)}`);
});
