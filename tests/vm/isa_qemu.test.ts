/**
 * Every instruction class with random operands, executed by qemu-mips (an independent
 * implementation of the ISA) and by our VM: the dumped results must be byte-identical.
 */
import { assertEquals } from "../_assert.ts";
import { BUILD, mipsGcc, resultDumpProgram, rng, runQemuElf, runVmElf } from "./_mips.ts";

const R = rng(0x15a);
const SPECIAL = [0, 1, -1, 0x7fffffff, -0x80000000, 2, -2, 31, 32, 0xffff, 0x8000, 0x10000];
function operand(): number {
  const k = R() % 8;
  if (k === 0) return SPECIAL[R() % SPECIAL.length];
  if (k === 1) return (R() % 64) - 32;
  return R() | 0;
}
const imm16s = () => [(R() % 65536) - 32768, 0, -1, 32767, -32768][R() % 8 < 4 ? 0 : R() % 5];
const imm16u = () => R() % 65536;
const li = (reg: string, v: number) => `  li ${reg}, ${v | 0}`;
const save = (reg: string) => `  sw ${reg}, 0($s7)\n  addiu $s7, $s7, 4`;

function cases(): string[] {
  const out: string[] = [];
  const rAlu = [
    "addu",
    "subu",
    "and",
    "or",
    "xor",
    "nor",
    "slt",
    "sltu",
    "sllv",
    "srlv",
    "srav",
    "mul",
    "movz",
    "movn",
  ];
  for (let i = 0; i < 1400; i++) {
    const op = rAlu[i % rAlu.length];
    const a = operand(), b = op.startsWith("mov") && R() % 2 ? 0 : operand();
    out.push(li("$t0", a), li("$t1", b), li("$t2", operand()), `  ${op} $t2, $t0, $t1`, save("$t2"));
  }
  for (let i = 0; i < 200; i++) {
    const op = ["clz", "clo"][i % 2];
    const a = R() % 4 === 0 ? (R() % 2 ? 0 : -1) : operand() >> (R() % 32);
    out.push(li("$t0", a), `  ${op} $t2, $t0`, save("$t2"));
  }
  for (let i = 0; i < 300; i++) {
    const op = ["sll", "srl", "sra"][i % 3];
    out.push(li("$t0", operand()), `  ${op} $t2, $t0, ${R() % 32}`, save("$t2"));
  }
  for (let i = 0; i < 700; i++) {
    const op = ["addiu", "slti", "sltiu", "andi", "ori", "xori", "lui"][i % 7];
    const imm = op === "andi" || op === "ori" || op === "xori" || op === "lui" ? imm16u() : imm16s();
    out.push(
      li("$t0", operand()),
      op === "lui" ? `  lui $t2, ${imm}` : `  ${op} $t2, $t0, ${imm}`,
      save("$t2"),
    );
  }
  for (let i = 0; i < 800; i++) {
    const op = ["mult", "multu", "div", "divu", "madd", "maddu", "msub", "msubu"][i % 8];
    let a = operand(), b = operand();
    if (op.startsWith("div")) {
      if (b === 0) b = 3;
      if (i % 40 === 2) [a, b] = [-0x80000000, -1];
    }
    out.push(
      li("$t0", a),
      li("$t1", b),
      li("$t2", operand()),
      li("$t3", operand()),
      "  mthi $t2",
      "  mtlo $t3",
    );
    out.push(op.startsWith("div") ? `  ${op} $zero, $t0, $t1` : `  ${op} $t0, $t1`);
    out.push("  mfhi $t2", save("$t2"), "  mflo $t2", save("$t2"));
  }
  const loads: [string, number][] = [["lb", 1], ["lbu", 1], ["lh", 2], ["lhu", 2], ["lw", 4], ["lwl", 1], [
    "lwr",
    1,
  ], ["ll", 4]];
  for (let i = 0; i < 800; i++) {
    const [op, align] = loads[i % loads.length];
    const off = (R() % 252) & ~(align - 1);
    out.push(li("$t2", operand()), `  ${op} $t2, ${off}($s6)`, save("$t2"));
  }
  const stores: [string, number][] = [["sb", 1], ["sh", 2], ["sw", 4], ["swl", 1], ["swr", 1]];
  for (let i = 0; i < 600; i++) {
    const [op, align] = stores[i % stores.length];
    const off = (R() % 252) & ~(align - 1);
    out.push(li("$t0", operand()), `  ${op} $t0, ${off}($s6)`, `  lw $t2, ${off & ~3}($s6)`, save("$t2"));
  }
  for (let i = 0; i < 50; i++) {
    const off = (R() % 63) * 4;
    out.push(
      `  ll $t2, ${off}($s6)`,
      "  addiu $t2, $t2, 1",
      `  sc $t2, ${off}($s6)`,
      save("$t2"),
      `  lw $t2, ${off}($s6)`,
      save("$t2"),
    );
  }
  // branches, with a delay slot that counts and a fall-through path that counts differently
  const two = ["beq", "bne", "beql", "bnel"];
  const one = [
    "blez",
    "bgtz",
    "bltz",
    "bgez",
    "bltzal",
    "bgezal",
    "blezl",
    "bgtzl",
    "bltzl",
    "bgezl",
    "bltzall",
    "bgezall",
  ];
  let label = 0;
  for (let i = 0; i < 1200; i++) {
    const a = R() % 3 === 0 ? [0, 1, -1][R() % 3] : operand();
    const b = R() % 3 === 0 ? a : operand();
    const op = i % 2 ? two[R() % two.length] : one[R() % one.length];
    const l = `b${label++}`;
    out.push(li("$t0", a), li("$t1", b), "  li $t2, 0", "  li $ra, 0");
    out.push(op.length && two.includes(op) ? `  ${op} $t0, $t1, ${l}` : `  ${op} $t0, ${l}`);
    out.push("  addiu $t2, $t2, 1", "  addiu $t2, $t2, 16", `${l}:`, save("$t2"), save("$ra"));
  }
  for (let i = 0; i < 50; i++) {
    const l = `j${label++}`;
    out.push(
      `  la $t3, ${l}`,
      "  li $t4, 0",
      "  jalr $t4, $t3",
      "  addiu $t2, $zero, 7",
      "  addiu $t2, $zero, 9",
      `${l}:`,
      save("$t2"),
      save("$t4"),
    );
    const l2 = `k${label++}`;
    out.push(
      `  jal ${l2}`,
      "  addiu $t2, $zero, 11",
      "  addiu $t2, $zero, 13",
      `${l2}:`,
      save("$t2"),
      save("$ra"),
    );
    const l3 = `m${label++}`;
    out.push(`  j ${l3}`, "  addiu $t2, $zero, 17", "  addiu $t2, $zero, 19", `${l3}:`, save("$t2"));
  }
  out.push(
    `  la $t3, ${"z" + label}`,
    "  jr $t3",
    "  addiu $t2, $zero, 23",
    "  addiu $t2, $zero, 29",
    `z${label}:`,
    save("$t2"),
  );
  return out;
}

function program(): string {
  const data = Array.from({ length: 64 }, () => `  .word ${R() >>> 0}`).join("\n");
  return resultDumpProgram(cases(), data);
}

Deno.test("random operands of every instruction class: VM equals qemu-mips byte for byte", async () => {
  Deno.mkdirSync(BUILD, { recursive: true });
  const src = `${BUILD}/isa_random.S`;
  Deno.writeTextFileSync(src, program());
  const elf = await mipsGcc([src], `${BUILD}/isa_random.elf`, ["-Wl,-e,_start"]);
  const q = await runQemuElf(elf);
  assertEquals(q.exitCode, 0, "qemu exit code");
  const v = runVmElf(elf);
  assertEquals(v.exitCode, 0);
  assertEquals(v.stdout.length, q.stdout.length, "result size");
  for (let i = 0; i < q.stdout.length; i += 4) {
    if (
      v.stdout[i] !== q.stdout[i] || v.stdout[i + 1] !== q.stdout[i + 1] ||
      v.stdout[i + 2] !== q.stdout[i + 2] || v.stdout[i + 3] !== q.stdout[i + 3]
    ) {
      const w = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(i).toString(16);
      throw new Error(`result word ${i / 4} differs: vm 0x${w(v.stdout)}, qemu 0x${w(q.stdout)}`);
    }
  }
});
