/**
 * `opml vm run | vm state` and `opml prove` as a user runs them: output, exit codes, JSON,
 * and one-line errors for bad input.
 */
import { assert, assertEquals } from "../_assert.ts";
import { decodeState, verifyMemoryProof } from "../../core/vm/mod.ts";
import { asmElf, BUILD, runQemuElf, text } from "../vm/_mips.ts";
import { opml } from "../_cli.ts";

const hexBytes = (h: string) => Uint8Array.from(h.slice(2).match(/../g) ?? [], (b) => parseInt(b, 16));

function assertOneLineError(stderr: string, re: RegExp) {
  const lines = stderr.trim().split("\n");
  assertEquals(lines.length, 1, `one line, got: ${stderr}`);
  assert(/^opml: /.test(lines[0]) && re.test(lines[0]), `message: ${lines[0]}`);
  assert(!/\bat .*\.ts:\d+/.test(stderr), "no stack trace");
}

const HELLO = `  la $a1, msg
  li $a2, 6
  li $a0, 1
  li $v0, 4004
  syscall
  nop
  li $a0, 42
  li $v0, 4246
  syscall
  nop
  .data
msg: .ascii "hello\\n"`;

Deno.test("vm run: guest output and exit code are ours, and equal qemu's", async () => {
  const elf = await asmElf("cli_hello", HELLO);
  const r = await opml("vm", "run", elf);
  const q = await runQemuElf(elf);
  assertEquals([r.code, r.stdout], [q.exitCode, text(q.stdout)]);
  assertEquals([r.code, r.stdout], [42, "hello\n"]);
});

Deno.test("vm run --json, vm state --at and prove --step agree with each other", async () => {
  const elf = await asmElf("cli_hello2", HELLO);
  const j = JSON.parse((await opml("vm", "run", "--json", elf)).stdout);
  assertEquals([j.steps, j.exitCode, j.status], [10, 42, 2]);
  assert(/^0x02[0-9a-f]{62}$/.test(j.stateHash));
  assert(typeof j.seconds === "number");
  const end = JSON.parse((await opml("vm", "state", elf, "--at", "10", "--json")).stdout);
  assertEquals(end.stateHash, j.stateHash);
  // steps 0-4 are lui, addiu, li, li, li; the step from state 5 is the write syscall
  const s5 = JSON.parse((await opml("vm", "state", elf, "--at", "5", "--json")).stdout);
  const s6 = JSON.parse((await opml("vm", "state", elf, "--at", "6", "--json")).stdout);
  const w = JSON.parse((await opml("prove", elf, "--step", "5", "--json")).stdout);
  assertEquals([w.step, w.preStateHash, w.postStateHash], [5, s5.stateHash, s6.stateHash]);
  assertEquals(s6.registers[2], "0x00000006", "write returned the count");
  const pre = decodeState(hexBytes(w.stateData));
  assertEquals(pre.pc, parseInt(s5.pc, 16));
  const proof = hexBytes(w.proof);
  assertEquals(proof.length, 1792);
  assert(verifyMemoryProof(pre.memRoot, pre.pc, proof.slice(0, 896)) !== undefined, "instruction proof");
  assertEquals(verifyMemoryProof(pre.memRoot, pre.pc, proof.slice(0, 896)), 0x0000000c, "it is the syscall");
});

Deno.test("bad input: one-line errors and non-zero exit codes", async () => {
  Deno.mkdirSync(BUILD, { recursive: true });
  const notElf = `${BUILD}/not-an-elf.txt`;
  Deno.writeTextFileSync(notElf, "just some text, definitely not an executable\n");
  let r = await opml("vm", "run", `${BUILD}/missing.elf`);
  assertEquals(r.code, 125);
  assertOneLineError(r.stderr, /missing\.elf: no such file/);
  r = await opml("vm", "run", notElf);
  assertEquals(r.code, 125);
  assertOneLineError(r.stderr, /not an ELF file/);
  r = await opml("vm", "state", notElf, "--at", "3");
  assertEquals(r.code, 1);
  assertOneLineError(r.stderr, /not an ELF file/);
  const spin = await asmElf("cli_spin", "1:\n  b 1b\n  nop");
  r = await opml("vm", "run", "--max-steps", "5000", spin);
  assertEquals(r.code, 125);
  assertOneLineError(r.stderr, /step limit 5000 reached/);
  const wild = await asmElf("cli_wild", "  li $t0, 0x10000000\n  jr $t0\n  nop");
  r = await opml("vm", "run", wild);
  assertEquals(r.code, 125);
  assertOneLineError(r.stderr, /jumped to unmapped memory: pc 0x10000000/);
  r = await opml("vm", "state", spin, "--at", "lots");
  assertEquals(r.code, 2);
  assertOneLineError(r.stderr, /--at must be a non-negative integer/);
  const elf = await asmElf("cli_hello3", HELLO);
  r = await opml("prove", elf, "--step", "50");
  assertEquals(r.code, 1);
  assertOneLineError(r.stderr, /exits at step 10, before step 50/);
  r = await opml("vm", "frobnicate");
  assertEquals(r.code, 2);
});

Deno.test("a faulting guest exits 255 with a one-line note naming pc and step", async () => {
  const r = await opml("vm", "run", await asmElf("cli_break", "  nop\n  break\n  nop"));
  assertEquals(r.code, 255);
  assertOneLineError(r.stderr, /VM faulted at pc 0x[0-9a-f]{8}, step 2/);
});

Deno.test("--help lists every command and completions are generated for three shells", async () => {
  const h = await opml("--help");
  assertEquals(h.code, 0);
  for (const c of ["vm", "prove", "completion"]) assert(h.stdout.includes(c), c);
  for (const shell of ["bash", "zsh", "fish"]) {
    const c = await opml("completion", shell);
    assertEquals(c.code, 0, shell);
    assert(c.stdout.includes("opml"), shell);
  }
});
