/**
 * Instruction and syscall semantics by hand, with expected values worked out from the MIPS32
 * manual and docs/VM.md (faults, delay slots, extension, edge cases qemu cannot show).
 */
import { assert, assertEquals, hexOf } from "../_assert.ts";
import {
  execute,
  FAULT_EXIT_CODE,
  keccakKey,
  MapSource,
  PreimageMissingError,
  PreimageOracle,
  stateHash,
  VmState,
  VmStatus,
} from "../../core/vm/mod.ts";

// register numbers
const T0 = 8, T1 = 9, T2 = 10, V0 = 2, A0 = 4, A1 = 5, A2 = 6, A3 = 7, RA = 31;
const rtype = (funct: number, rs = 0, rt = 0, rd = 0, sa = 0) =>
  ((rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct) >>> 0;
const itype = (op: number, rs: number, rt: number, imm: number) =>
  ((op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)) >>> 0;
const SYSCALL = 0x0000000c;
const NOP = 0;
const BASE = 0x1000;

function machine(code: number[], regs: Record<number, number> = {}, source = new MapSource()) {
  const st = new VmState();
  code.forEach((w, i) => st.memory.writeWord(BASE + 4 * i, w));
  st.pc = BASE;
  st.nextPC = BASE + 4;
  st.heap = 0x20000000;
  for (const [r, v] of Object.entries(regs)) st.regs[Number(r)] = v;
  const out: [number, string][] = [];
  const hints: string[] = [];
  const host = {
    oracle: new PreimageOracle(source),
    output: (fd: 1 | 2, d: Uint8Array) => out.push([fd, new TextDecoder().decode(d)]),
    hint: (d: Uint8Array) => hints.push(new TextDecoder().decode(d)),
  };
  return { st, host, out, hints, run: (n = 1) => execute(st, host, n) };
}
const u = (x: number) => x >>> 0;

function expectFault(code: number[], regs: Record<number, number> = {}, label = "") {
  const m = machine(code, regs);
  const before = m.st.regs.slice();
  assertEquals(m.run(1), 1, `${label}: a faulting step is a step`);
  assertEquals(m.st.exited, true, `${label}: exited`);
  assertEquals(m.st.exitCode, FAULT_EXIT_CODE, label);
  assertEquals(m.st.status, VmStatus.Panic, label);
  assertEquals(m.st.pc, BASE, `${label}: pc stays on the faulting instruction`);
  assertEquals(m.st.step, 1);
  assertEquals(Array.from(m.st.regs), Array.from(before), `${label}: registers unchanged`);
  assertEquals(m.run(10), 0, `${label}: an exited machine takes no step`);
}

Deno.test("faults: break, traps that hold, overflow, division by zero, misalignment, reserved", () => {
  expectFault([0x0000000d], {}, "break");
  expectFault([rtype(0x34, T0, T1)], { [T0]: 5, [T1]: 5 }, "teq equal");
  expectFault([rtype(0x36, T0, T1)], { [T0]: 5, [T1]: 6 }, "tne different");
  expectFault([rtype(0x32, T0, T1)], { [T0]: -1, [T1]: 0 }, "tlt signed");
  expectFault([rtype(0x31, T0, T1)], { [T0]: -1, [T1]: 0 }, "tgeu unsigned");
  expectFault([itype(1, T0, 0x0c, 7)], { [T0]: 7 }, "teqi");
  expectFault([itype(1, T0, 0x0a, -1)], { [T0]: -5 }, "tlti");
  expectFault([rtype(0x20, T0, T1, T2)], { [T0]: 0x7fffffff, [T1]: 1 }, "add overflow");
  expectFault([rtype(0x22, T0, T1, T2)], { [T0]: -0x80000000, [T1]: 1 }, "sub overflow");
  expectFault([itype(0x08, T0, T2, 1)], { [T0]: 0x7fffffff }, "addi overflow");
  expectFault([itype(0x08, T0, T2, -1)], { [T0]: -0x80000000 }, "addi underflow");
  expectFault([rtype(0x1a, T0, T1)], { [T0]: 1, [T1]: 0 }, "div by zero");
  expectFault([rtype(0x1b, T0, T1)], { [T0]: 1, [T1]: 0 }, "divu by zero");
  expectFault([itype(0x23, T0, T2, 2)], { [T0]: 0x2000 }, "lw misaligned");
  expectFault([itype(0x21, T0, T2, 1)], { [T0]: 0x2000 }, "lh misaligned");
  expectFault([itype(0x25, T0, T2, 3)], { [T0]: 0x2000 }, "lhu misaligned");
  expectFault([itype(0x29, T0, T2, 1)], { [T0]: 0x2000 }, "sh misaligned");
  expectFault([itype(0x2b, T0, T2, 1)], { [T0]: 0x2000 }, "sw misaligned");
  expectFault([itype(0x38, T0, T2, 2)], { [T0]: 0x2000 }, "sc misaligned");
  expectFault([0xfc000000], {}, "reserved opcode 0x3f");
  expectFault([0x42000000], {}, "coprocessor 0");
  expectFault([0x46200000], {}, "coprocessor 1, fmt D (add.d)");
  expectFault([0xd4000000], {}, "ldc1");
  expectFault([0x7c000000], {}, "SPECIAL3 (MIPS32r2 ext)");
  expectFault([rtype(0x02, 1, T0, T2, 3)], {}, "rotr (MIPS32r2)");
  expectFault([rtype(0x3f)], {}, "reserved funct");
  expectFault([itype(0x06, T0, 1, 4)], {}, "blez with rt != 0");
});

Deno.test("a trap whose condition fails and a misaligned pc", () => {
  const m = machine([rtype(0x34, T0, T1), NOP], { [T0]: 5, [T1]: 6 });
  m.run(1);
  assertEquals([m.st.exited, m.st.pc, m.st.nextPC], [false, BASE + 4, BASE + 8]);
  const bad = machine([NOP]);
  bad.st.pc = BASE + 2;
  bad.run(1);
  assertEquals([bad.st.exited, bad.st.exitCode, bad.st.pc, bad.st.step], [true, 0xff, BASE + 2, 1]);
});

Deno.test("division edge cases: INT_MIN / -1 and remainders' signs", () => {
  const m = machine([rtype(0x1a, T0, T1)], { [T0]: -0x80000000, [T1]: -1 });
  m.run();
  assertEquals([u(m.st.lo), u(m.st.hi)], [0x80000000, 0]);
  const n = machine([rtype(0x1a, T0, T1)], { [T0]: -7, [T1]: 2 });
  n.run();
  assertEquals([n.st.lo | 0, n.st.hi | 0], [-3, -1]);
  const d = machine([rtype(0x1b, T0, T1)], { [T0]: -7, [T1]: 2 });
  d.run();
  assertEquals([u(d.st.lo), u(d.st.hi)], [0x7ffffffc, 1]);
});

Deno.test("sign and zero extension of loads and immediates", () => {
  const m = machine([
    itype(0x20, 0, T0, 0x2000), // lb
    itype(0x24, 0, T1, 0x2000), // lbu
    itype(0x21, 0, T2, 0x2002), // lh
    itype(0x25, 0, 11, 0x2002), // lhu
    itype(0x09, 0, 12, -3), // addiu
    itype(0x0c, 12, 13, 0x8001), // andi zero-extends
    itype(0x0b, 0, 14, -1), // sltiu 0 < 0xffffffff
    itype(0x0a, 0, 15, -1), // slti 0 < -1 is false
    itype(0x0f, 0, 24, 0x8000), // lui
  ]);
  m.st.memory.writeWord(0x2000, 0x80ff8001);
  m.run(9);
  const r = m.st.regs;
  assertEquals([r[T0], r[T1], r[T2], r[11], r[12], u(r[13]), r[14], r[15], u(r[24])], [
    -128,
    128,
    -32767,
    0x8001,
    -3,
    0x8001,
    1,
    0,
    0x80000000,
  ]);
});

Deno.test("unaligned byte and halfword stores merge into the word", () => {
  const m = machine([
    itype(0x28, 0, T0, 0x2001),
    itype(0x29, 0, T0, 0x2002),
    itype(0x2a, 0, T0, 0x2005),
    itype(0x2e, 0, T0, 0x2009),
  ], {
    [T0]: 0x11223344,
  });
  for (const a of [0x2000, 0x2004, 0x2008]) m.st.memory.writeWord(a, 0xaabbccdd);
  m.run(4);
  // sb at byte 1; sh at bytes 2-3; swl at byte 1 of word 2: bytes 1..3 <- 11 22 33; swr at byte 1 of word 3: bytes 0..1 <- 33 44
  assertEquals([m.st.memory.readWord(0x2000), m.st.memory.readWord(0x2004), m.st.memory.readWord(0x2008)], [
    0xaa443344,
    0xaa112233,
    0x3344ccdd,
  ]);
});

Deno.test("delay slots: branch, jump, link values, branch-likely not taken skips the slot", () => {
  // beq taken: the delay slot runs, then the target
  const m = machine([
    itype(0x04, 0, 0, 2),
    itype(0x09, 0, T0, 1),
    itype(0x09, 0, T0, 100),
    itype(0x09, T0, T0, 10),
  ]);
  m.run(1);
  assertEquals([m.st.pc, m.st.nextPC], [BASE + 4, BASE + 12]);
  m.run(2);
  assertEquals(m.st.regs[T0], 11);
  // jal: link = pc + 8, target in the same 256 MiB region
  const j = machine([(0x03 << 26) | ((BASE + 0x40) >>> 2), NOP]);
  j.run(1);
  assertEquals([j.st.regs[RA], j.st.pc, j.st.nextPC], [BASE + 8, BASE + 4, BASE + 0x40]);
  // jalr rd=t1
  const jr = machine([rtype(0x09, T0, 0, T1), NOP], { [T0]: 0x3000 });
  jr.run(1);
  assertEquals([jr.st.regs[T1], jr.st.nextPC], [BASE + 8, 0x3000]);
  // beql not taken: delay slot skipped
  const l = machine([itype(0x14, T0, 0, 4), itype(0x09, 0, T2, 1), itype(0x09, 0, T1, 1)], { [T0]: 1 });
  l.run(1);
  assertEquals([l.st.pc, l.st.nextPC], [BASE + 8, BASE + 12]);
  l.run(1);
  assertEquals([l.st.regs[T2], l.st.regs[T1]], [0, 1]);
  // bltzal not taken still links
  const al = machine([itype(1, T0, 0x10, 4), NOP], { [T0]: 1 });
  al.run(1);
  assertEquals([al.st.regs[RA], al.st.nextPC], [BASE + 8, BASE + 8]);
  // a write to r0 is discarded
  const z = machine([itype(0x09, 0, 0, 5)]);
  z.run(1);
  assertEquals(z.st.regs[0], 0);
});

Deno.test("syscalls: mmap, brk, clone, unknown, fd errors, fcntl, write, hint, exit_group", () => {
  const sys = (regs: Record<number, number>) => {
    const m = machine([SYSCALL, NOP], regs);
    m.run(1);
    return m;
  };
  let m = sys({ [V0]: 4090, [A0]: 0, [A1]: 5000 });
  assertEquals([u(m.st.regs[V0]), m.st.heap, m.st.regs[A3]], [0x20000000, 0x20002000, 0]);
  m = sys({ [V0]: 4090, [A0]: 0x30000000, [A1]: 4096 });
  assertEquals([u(m.st.regs[V0]), m.st.heap], [0x30000000, 0x20000000]);
  assertEquals(u(sys({ [V0]: 4045 }).st.regs[V0]), 0x40000000);
  assertEquals(sys({ [V0]: 4120 }).st.regs[V0], 1);
  m = sys({ [V0]: 4999, [A3]: 77 });
  assertEquals([m.st.regs[V0], m.st.regs[A3], m.st.pc], [0, 0, BASE + 4]);
  m = sys({ [V0]: 4003, [A0]: 0, [A1]: 0x2000, [A2]: 10 });
  assertEquals(m.st.regs[V0], 0, "stdin is at its end");
  // errors as Linux o32 returns them: v0 = errno, a3 = 1
  m = sys({ [V0]: 4003, [A0]: 9, [A1]: 0x2000, [A2]: 10 });
  assertEquals([m.st.regs[V0], m.st.regs[A3]], [9, 1]);
  m = sys({ [V0]: 4004, [A0]: 7, [A1]: 0x2000, [A2]: 10 });
  assertEquals([m.st.regs[V0], m.st.regs[A3]], [9, 1]);
  assertEquals(sys({ [V0]: 4003, [A0]: 3, [A2]: 12 }).st.regs[V0], 12, "hint read");
  const fcntl = [0, 1, 1, 0, 1, 0, 1, 0].map((_, fd) => sys({ [V0]: 4055, [A0]: fd, [A1]: 3 }).st.regs[V0]);
  assertEquals(fcntl, [0, 1, 1, 0, 1, 0, 1, 0]);
  m = sys({ [V0]: 4055, [A0]: 8, [A1]: 3 });
  assertEquals([m.st.regs[V0], m.st.regs[A3]], [9, 1]);
  m = sys({ [V0]: 4055, [A0]: 1, [A1]: 1 });
  assertEquals([m.st.regs[V0], m.st.regs[A3]], [22, 1]);

  const w = machine([SYSCALL, NOP], { [V0]: 4004, [A0]: 2, [A1]: 0x2001, [A2]: 3 });
  w.st.memory.writeBytes(0x2001, new TextEncoder().encode("hey"));
  const rootBefore = hexOf(w.st.memory.root());
  w.run(1);
  assertEquals(w.out, [[2, "hey"]]);
  assertEquals(w.st.regs[V0], 3);
  assertEquals(hexOf(w.st.memory.root()), rootBefore, "output does not change memory");
  const h = machine([SYSCALL, NOP], { [V0]: 4004, [A0]: 4, [A1]: 0x2000, [A2]: 2 });
  h.st.memory.writeBytes(0x2000, new TextEncoder().encode("hi"));
  h.run(1);
  assertEquals([h.hints, h.st.regs[V0]], [["hi"], 2]);

  const e = machine([SYSCALL, NOP], { [V0]: 4246, [A0]: 0x1ff });
  e.run(5);
  assertEquals([e.st.exited, e.st.exitCode, e.st.pc, e.st.step, e.st.status], [
    true,
    0xff,
    BASE,
    1,
    VmStatus.Panic,
  ]);
});

Deno.test("preimage protocol: 32-byte key written in pieces, stream read up to the end of each 32-byte leaf", () => {
  const data = new TextEncoder().encode("preimage data! ".repeat(4)); // 60 bytes: a 68-byte stream
  const src = new MapSource();
  const key = src.add(data, "keccak");
  const m = machine([SYSCALL, NOP], {}, src);
  m.st.memory.writeBytes(0x2000, key);
  // write the key: 4-byte writes, plus one unaligned 2-byte write and its 2-byte remainder
  let off = 0;
  const write = (addr: number, n: number) => {
    m.st.pc = BASE;
    m.st.nextPC = BASE + 4;
    m.st.regs.set([4004], V0);
    m.st.regs[A0] = 6;
    m.st.regs[A1] = addr;
    m.st.regs[A2] = n;
    m.run(1);
    return m.st.regs[V0];
  };
  assertEquals(write(0x2000, 32), 4, "one write takes at most the rest of the word");
  off = 4;
  assertEquals(write(0x2000 + off + 2, 2), 2);
  assertEquals(write(0x2000 + off, 2), 2, "bytes 4..5 after 6..7: order matters");
  off = 8;
  while (off < 32) off += write(0x2000 + off, 32 - off);
  // bytes 4..7 went in as 6,7,4,5: fix by rewriting those 32 bytes in order
  for (off = 0; off < 32;) off += write(0x2000 + off, 32 - off);
  assertEquals(hexOf(m.st.preimageKey), hexOf(key));
  assertEquals(m.st.preimageOffset, 0);

  const read = (addr: number, n: number, fd = 5) => {
    m.st.pc = BASE;
    m.st.nextPC = BASE + 4;
    m.st.regs[V0] = 4003;
    m.st.regs[A0] = fd;
    m.st.regs[A1] = addr;
    m.st.regs[A2] = n;
    m.run(1);
    return m.st.regs[V0];
  };
  const stream = [0, 0, 0, 0, 0, 0, 0, data.length, ...data];
  const buf = 0x3000;
  m.st.memory.writeWord(buf + 68, 0xeeeeeeee);
  // unaligned start: at most 32 - (addr & 31) bytes per read, then whole leaves, then the rest
  assertEquals([read(buf + 1, 100), read(buf + 32, 100), read(buf + 64, 100), read(buf + 69, 100)], [
    31,
    32,
    5,
    0,
  ]);
  assertEquals([...m.st.memory.readBytes(buf + 1, stream.length)], stream);
  assertEquals(m.st.memory.readBytes(buf, 1)[0], 0, "byte before the buffer untouched");
  assertEquals(
    [...m.st.memory.readBytes(buf + 69, 3)],
    [0xee, 0xee, 0xee],
    "bytes after the stream untouched",
  );
  assertEquals(m.st.preimageOffset, 8 + data.length);
  m.st.preimageOffset = 3;
  assertEquals(read(buf + 40, 5), 5, "the count bounds the read");
  assertEquals([...m.st.memory.readBytes(buf + 40, 6)], [...stream.slice(3, 8), stream[44]]);

  // fd 7: the same stream, byte j to address (a + j) ^ 3 (each aligned word little-endian)
  const le = 0x5000, at = le + 6;
  m.st.memory.writeBytes(le, new Uint8Array(96).fill(0xab));
  m.st.preimageOffset = 0;
  let got = 0;
  for (let n; (n = read(at + got, 100, 7)) > 0;) {
    assertEquals(n, Math.min(32 - ((at + got) & 31), stream.length - got), `fd 7 read at ${got}`);
    got += n;
  }
  assertEquals(got, stream.length);
  const mem = m.st.memory.readBytes(le, 96);
  for (let a = 0; a < 96; a++) {
    const j = ((le + a) ^ 3) - at;
    assertEquals(mem[a], j >= 0 && j < stream.length ? stream[j] : 0xab, `byte at +${a}`);
  }
  // an aligned float32 tensor arrives as host (big-endian) words of its little-endian bytes
  m.st.preimageOffset = 8;
  assertEquals(read(le + 32, 8, 7), 8);
  const w = (i: number) => (data[i + 3] << 24 | data[i + 2] << 16 | data[i + 1] << 8 | data[i]) >>> 0;
  assertEquals([m.st.memory.readWord(le + 32), m.st.memory.readWord(le + 36)], [w(0), w(4)]);
});

Deno.test("a missing preimage throws and leaves the state exactly as before the step", () => {
  const m = machine([SYSCALL, NOP], { [V0]: 4003, [A0]: 5, [A1]: 0x2000, [A2]: 4 });
  m.st.preimageKey = keccakKey(new Uint8Array([1]));
  const before = hexOf(m.st.encode());
  let thrown: unknown;
  try {
    m.run(1);
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof PreimageMissingError);
  assertEquals(hexOf(m.st.encode()), before);
});

const v32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at);

Deno.test("state encoding offsets and the status byte of the hash", () => {
  const st = new VmState();
  st.preimageOffset = 0x01020304;
  st.pc = 0x11111110;
  st.nextPC = 0x22222220;
  st.lo = 0x33;
  st.hi = 0x44;
  st.heap = 0x55;
  st.exitCode = 7;
  st.step = 2 ** 40 + 3;
  st.regs[31] = -1;
  st.fpr[0] = 0x3f800000;
  st.fpr[31] = -2;
  st.fcsr = 0x00800000;
  const e = st.encode();
  assertEquals(e.length, 358);
  assertEquals([v32(e, 226), v32(e, 226 + 124), v32(e, 354)], [0x3f800000, 0xfffffffe, 0x00800000]);
  const v = new DataView(e.buffer);
  assertEquals([
    v.getUint32(64),
    v.getUint32(68),
    v.getUint32(72),
    v.getUint32(76),
    v.getUint32(80),
    v.getUint32(84),
  ], [
    0x01020304,
    0x11111110,
    0x22222220,
    0x33,
    0x44,
    0x55,
  ]);
  assertEquals([e[88], e[89], v.getBigUint64(90), v.getUint32(98 + 124)], [7, 0, 2n ** 40n + 3n, 0xffffffff]);
  assertEquals(stateHash(e)[0], 3);
  for (const [code, status] of [[0, 0], [1, 1], [2, 2], [255, 2]]) {
    st.exited = true;
    st.exitCode = code;
    assertEquals(st.hash()[0], status);
  }
});
