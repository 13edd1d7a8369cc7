/** The ELF loader and runaway guests: bad input gives one clear error or a stop reason. */
import { assertEquals, assertThrows } from "../_assert.ts";
import {
  ElfError,
  HEAP_START,
  loadElf,
  MapSource,
  PreimageOracle,
  runToExit,
  STACK_TOP,
} from "../../core/vm/mod.ts";
import { asmElf } from "./_mips.ts";

const EXIT7 = "  li $a0, 7\n  li $v0, 4246\n  syscall\n  nop";
const host = () => ({ oracle: new PreimageOracle(new MapSource()) });

Deno.test("a valid ELF loads with the documented initial state", async () => {
  const elf = Deno.readFileSync(await asmElf("exit7", EXIT7));
  const st = loadElf(elf);
  const entry = new DataView(elf.buffer).getUint32(24);
  assertEquals([st.pc, st.nextPC, st.heap, st.regs[29], st.step, st.exited], [
    entry,
    entry + 4,
    HEAP_START,
    STACK_TOP,
    0,
    false,
  ]);
  const res = runToExit(st, host());
  assertEquals([res.reason, res.exitCode, res.steps], ["exited", 7, 3]);
});

Deno.test("malformed ELF files are rejected with a reason", async () => {
  const elf = Deno.readFileSync(await asmElf("exit7b", EXIT7));
  assertThrows(() => loadElf(elf.slice(0, 30)), ElfError, /truncated ELF header/);
  assertThrows(() => loadElf(elf.slice(0, 120)), ElfError, /truncated ELF/);
  const le = elf.slice();
  le[5] = 1;
  assertThrows(() => loadElf(le), ElfError, /little-endian/);
  const b64 = elf.slice();
  b64[4] = 2;
  assertThrows(() => loadElf(b64), ElfError, /64-bit/);
  assertThrows(
    () => loadElf(new TextEncoder().encode("#!/bin/sh\necho this is not an ELF file at all, no sir\n")),
    ElfError,
    /not an ELF/,
  );
  assertThrows(() => loadElf(new Uint8Array()), ElfError, /not an ELF/);
  assertThrows(() => loadElf(Deno.readFileSync("/bin/true")), ElfError, /64-bit/);
  const arm = elf.slice();
  arm[19] = 40; // EM_ARM
  assertThrows(() => loadElf(arm), ElfError, /machine is 40/);
  const dyn = elf.slice();
  dyn[17] = 3; // ET_DYN
  assertThrows(() => loadElf(dyn), ElfError, /not a static executable/);
});

Deno.test("a guest that jumps into unmapped memory stops with that reason", async () => {
  const st = loadElf(Deno.readFileSync(await asmElf("wild", "  li $t0, 0x10000000\n  jr $t0\n  nop")));
  const res = runToExit(st, host(), { maxSteps: 1e7 });
  assertEquals([res.reason, st.pc, st.exited], ["unmapped-pc", 0x10000000, false]);
});

Deno.test("a guest that loops forever stops at the step limit, state intact", async () => {
  const st = loadElf(Deno.readFileSync(await asmElf("spin", "1:\n  b 1b\n  nop")));
  const res = runToExit(st, host(), { maxSteps: 100_001 });
  assertEquals([res.reason, res.steps, st.step, st.exited], ["step-limit", 100_001, 100_001, false]);
});
