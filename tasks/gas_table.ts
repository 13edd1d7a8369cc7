/**
 * Gas of the on-chain VM, measured with real transactions on local anvil nodes:
 * - `MIPS.step` per instruction class, over real steps of the C corpus, the soft-float
 *   workloads and the preimage guest (the fixtures' guests, contracts/test/fixtures/guests);
 * - loading one preimage part of each kind, including parts of a 64 MiB Merkle-data item.
 *
 *   deno run -A tasks/gas_table.ts [--out docs/_gas_table.md]
 *
 * Two nodes run the same transactions: a Prague node gives what a transaction costs today
 * (EIP-7623 prices calldata-heavy transactions at a floor of 10 gas per calldata token), a
 * Cancun node gives the execution gas exactly (`gasUsed - 21000 - calldata`). Every step's
 * result is also checked against the TypeScript VM.
 * @module
 */

import {
  bytesToHex,
  createPublicClient,
  createWalletClient,
  type Hex,
  hexToBytes,
  http,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { type Anvil, ANVIL_DEV_KEY, startAnvil } from "../core/chain/anvil.ts";
import { deployVm } from "../core/chain/deploy.ts";
import { sparseMerkleDataTree } from "../core/chain/merkle_data.ts";
import { loadPart, type PartLoad, partLoadFor } from "../core/chain/preimage_load.ts";
import { callStep, stepCalldata, stepClass } from "../core/chain/step.ts";
import { keccakKey, localKey, merkleDataKeyOf } from "../core/vm/mod.ts";
import { CORPUS_GUESTS, type Fixture, fpuFixtures, guestFixtures, preimageFixtures } from "./gen_fixtures.ts";

const CTX: Hex = `0x${"11".repeat(32)}`;

interface Node {
  anvil: Anvil;
  client: PublicClient;
  wallet: ReturnType<typeof walletFor>;
  oracle: Hex;
  mips: Hex;
}

function walletFor(url: string) {
  return createWalletClient({
    account: privateKeyToAccount(ANVIL_DEV_KEY),
    chain: foundry,
    transport: http(url),
    cacheTime: 0,
    pollingInterval: 20,
  });
}

async function node(hardfork: string): Promise<Node> {
  const anvil = await startAnvil({ args: ["--hardfork", hardfork] });
  const client = createPublicClient({
    chain: foundry,
    transport: http(anvil.url),
    cacheTime: 0,
    pollingInterval: 20,
  }) as PublicClient;
  const wallet = walletFor(anvil.url);
  const { oracle, mips } = await deployVm(wallet);
  return { anvil, client, wallet, oracle, mips };
}

/** Calldata cost before EIP-7623 (16 per non-zero byte, 4 per zero byte) and its tokens. */
function calldataCost(data: Hex): { standard: number; tokens: number } {
  const b = hexToBytes(data);
  let zeros = 0;
  for (const x of b) if (x === 0) zeros++;
  const nonZero = b.length - zeros;
  return { standard: 4 * zeros + 16 * nonZero, tokens: zeros + 4 * nonZero };
}

async function send(n: Node, data: Hex): Promise<bigint> {
  const hash = await n.wallet.sendTransaction({ to: n.mips, data, gas: 1_000_000n });
  const r = await n.client.waitForTransactionReceipt({ hash });
  if (r.status !== "success") throw new Error(`step transaction reverted (${hash})`);
  return r.gasUsed;
}

interface Stat {
  tx: number[];
  exec: number[];
  /** steps whose price is the EIP-7623 calldata floor */
  floor: number;
  tokens: number[];
}

function summary(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

const fmt = (n: number) => n.toLocaleString("en-US");

async function main(): Promise<void> {
  const outIdx = Deno.args.indexOf("--out");
  const out = outIdx >= 0 ? Deno.args[outIdx + 1] : undefined;

  // real steps: 3 windows of 20 steps of every corpus guest, every syscall of the preimage guest
  const fixtures: Fixture[] = [
    ...CORPUS_GUESTS.flatMap(([flagset, program], g) =>
      guestFixtures(`${flagset}-${program}`, 3, 20, 500 + g)
    ),
    ...preimageFixtures(0),
    // FPU instructions on random and edge operands (fpu.bin's generator, another seed)
    ...fpuFixtures(400, 0x9a5),
  ];
  const prague = await node("prague");
  const cancun = await node("cancun");
  const stats = new Map<string, Stat>();
  try {
    for (const f of fixtures) {
      if (!("hash" in f.expect)) continue;
      const data = stepCalldata(f);
      const cls = stepClass(f.stateData, f.proof);
      for (const n of [prague, cancun]) {
        if (f.load) await loadPart(n.wallet, n.oracle, f.load, bytesToHex(f.localContext));
      }
      // the answer must be the TypeScript VM's
      const got = await callStep(prague.client, prague.mips, prague.wallet.account.address, f);
      if (!got.ok || got.postStateHash !== bytesToHex(f.expect.hash)) {
        throw new Error(`${f.name ?? "a step"}: the contract disagrees with the TypeScript VM`);
      }
      const tx = await send(prague, data);
      const execTx = await send(cancun, data);
      const st = stats.get(cls) ?? { tx: [], exec: [], floor: 0, tokens: [] };
      const cost = calldataCost(data);
      st.tx.push(Number(tx));
      st.exec.push(Number(execTx) - 21000 - cost.standard);
      st.tokens.push(cost.tokens);
      if (Number(tx) === 21000 + 10 * cost.tokens) st.floor++;
      stats.set(cls, st);
    }

    // loading parts: fresh keys each, on the Prague node
    const loads: [string, PartLoad][] = [];
    const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 131 + seed) & 0xff);
    loads.push([
      "local, 32 bytes",
      partLoadFor({ kind: "local", key: localKey(77), offset: 8, data: bytes(32, 1) }),
    ]);
    for (const size of [100, 1024, 16384]) {
      const d = bytes(size, size);
      loads.push([
        `keccak256, ${fmt(size)} bytes`,
        partLoadFor({ kind: "keccak", key: keccakKey(d), offset: 8, data: d }),
      ]);
    }
    const none = new Uint8Array(32); // a Merkle key is derived from the data
    loads.push([
      "Merkle data, 100 bytes, one leaf",
      partLoadFor({ kind: "merkle", key: none, offset: 8, data: bytes(100, 3) }),
    ]);
    loads.push([
      "Merkle data, 100 bytes, two leaves",
      partLoadFor({ kind: "merkle", key: none, offset: 13, data: bytes(100, 4) }),
    ]);
    for (
      const [label, offset, seed] of [["one leaf", 8 + 1000 * 32, 1], [
        "two leaves",
        8 + 1000 * 32 + 17,
        2,
      ]] as const
    ) {
      const big = new Uint8Array(64 << 20);
      for (let i = 0; i < 96; i++) big[1000 * 32 + i] = (i * 7 + seed) & 0xff;
      big[big.length - 1] = seed;
      const tree = sparseMerkleDataTree(big);
      const key = merkleDataKeyOf(hexToBytes(tree.root), big.length);
      loads.push([
        `Merkle data, 64 MiB, ${label}`,
        partLoadFor({ kind: "merkle", key, offset, data: big }, tree),
      ]);
    }
    const loadGas: [string, bigint][] = [];
    for (const [label, l] of loads) {
      loadGas.push([label, (await loadPart(prague.wallet, prague.oracle, l, CTX)).gasUsed]);
    }

    // the report
    const lines: string[] = [];
    const cmd = `deno run -A tasks/gas_table.ts${out ? ` --out ${out}` : ""}`;
    lines.push("## Gas of the on-chain VM");
    lines.push("");
    lines.push(
      `Measured with \`${cmd}\` (anvil ${await anvilVersion()}, contracts compiled by solc 0.8.37, optimizer 10,000 runs): real transactions on two local nodes, ${fixtures.length} real steps (3 windows of 20 steps of each of the ${CORPUS_GUESTS.length} corpus guests, among them the soft-float workloads, every syscall of the preimage guest, and 400 FPU instructions on random and edge binary32 operands, as in fpu.bin), each also checked against the TypeScript VM's post-state hash.`,
    );
    lines.push("");
    const all = [...stats.values()];
    const steps = all.reduce((n, st) => n + st.tx.length, 0);
    const floorSteps = all.reduce((n, st) => n + st.floor, 0);
    const tokens = summary(all.flatMap((st) => st.tokens));
    lines.push(
      `*Transaction* gas is what a \`step\` transaction costs on a Prague chain: 21,000 + calldata (16 gas per non-zero byte, 4 per zero byte) + execution, but at least 21,000 + 10 gas per calldata token (EIP-7623; a zero byte is one token, a non-zero byte four). \`step\`'s calldata is 2,340 bytes (358-byte state, 1,792-byte proof) of ${
        fmt(tokens.min)
      } to ${
        fmt(tokens.max)
      } tokens (the data proof of a step that reads no data word is zeros), so the floor sets the price of ${floorSteps} of the ${steps} steps. *Execution* gas is the part spent by the EVM (measured on a Cancun node: gas used − 21,000 − calldata), which is what a dispute game contract adds when it calls \`step\` (plus the call itself).`,
    );
    lines.push("");
    lines.push(
      "| step class | steps | transaction gas (median / max) | of which at the calldata floor | execution gas (min / median / max) | target (transaction) |",
    );
    lines.push("|---|---:|---:|---:|---:|---:|");
    const targets: Record<string, string> = { ALU: "≤ 120k", store: "≤ 160k", "preimage read": "≤ 235k" };
    const order = [
      "ALU",
      "load",
      "store",
      "branch/jump",
      "syscall",
      "preimage key write",
      "preimage read",
      "FPU add/sub/mul",
      "FPU div/sqrt",
      "FPU other",
      "fault",
      "exited",
    ];
    for (const cls of order) {
      const st = stats.get(cls);
      if (!st) continue;
      const t = summary(st.tx), e = summary(st.exec);
      lines.push(
        `| ${cls} | ${st.tx.length} | ${fmt(t.median)} / ${fmt(t.max)} | ${st.floor} | ${fmt(e.min)} / ${
          fmt(e.median)
        } / ${fmt(e.max)} | ${targets[cls] ?? ""} |`,
      );
    }
    lines.push("");
    // the forge gas snapshot: one synthetic step per class, called from a contract
    const snap = Deno.readTextFileSync(new URL("../.gas-snapshot", import.meta.url));
    const forge = [...snap.matchAll(/GasTest:test_gas_(\w+)\(\) \(gas: (\d+)\)/g)].map((m) =>
      [m[1], Number(m[2])] as const
    );
    lines.push(
      `Called from another contract (the dispute game's case), a step also pays the call: \`.gas-snapshot\` (\`forge snapshot --match-contract GasTest\`, checked by \`deno task test\`) measures one synthetic step per class from a test contract, call and argument copying included: ${
        forge.filter(([n]) => n.startsWith("step_")).map(([n, g]) => `${n.slice(5)} ${fmt(g)}`).join(", ")
      }.`,
    );
    lines.push("");
    lines.push(
      "The preimage read includes the oracle call (`readPreimage`, cold storage; reads of 0 bytes make none). Its part is loaded beforehand by a separate transaction (each below for a key not seen before: three fresh storage slots):",
    );
    lines.push("");
    lines.push("| loading one 32-byte part (`PreimageOracle`) | transaction gas |");
    lines.push("|---|---:|");
    for (const [label, g] of loadGas) lines.push(`| ${label} | ${fmt(Number(g))} |`);
    lines.push("");
    lines.push(
      `A part of a 64 MiB item needs one or two leaf proofs of 21 siblings: 22 or 44 calldata words and as many hashes, however large the item. Loading such a part (two leaves) and then stepping the read costs ${
        fmt(Number(loadGas[loadGas.length - 1][1]) + summary(stats.get("preimage read")?.tx ?? [0]).max)
      } gas in all (two transactions).`,
    );
    const md = lines.join("\n") + "\n";
    if (out) {
      Deno.writeTextFileSync(out, md);
      console.error(`gas_table: wrote ${out}`);
    }
    console.log(md);
  } finally {
    await prague.anvil.stop();
    await cancun.anvil.stop();
  }
}

async function anvilVersion(): Promise<string> {
  const { ANVIL_PATH } = await import("../core/chain/anvil.ts");
  const r = await new Deno.Command(ANVIL_PATH, { args: ["--version"], stdout: "piped" }).output();
  return new TextDecoder().decode(r.stdout).trim().split("\n")[0].replace(/^anvil Version: /, "");
}

if (import.meta.main) await main();
