/**
 * Per-step comparison with qemu's single-step CPU log (`-singlestep -d cpu`): pc, hi, lo and
 * all 32 registers before every instruction of whole runs, compiled at two optimisation levels.
 */
import { assertEquals } from "../_assert.ts";
import { execute, loadElf, MapSource, PreimageOracle } from "../../core/vm/mod.ts";
import { BUILD, mipsGcc } from "./_mips.ts";

const here = new URL(".", import.meta.url).pathname;

interface QemuStep {
  pc: number;
  hi: number;
  lo: number;
  regs: number[];
}

/** Streams qemu's `-d cpu` log: one record per executed instruction. */
async function* qemuSteps(path: string): AsyncGenerator<QemuStep> {
  const file = await Deno.open(path);
  let cur: QemuStep | undefined;
  let rest = "";
  const dec = new TextDecoder();
  for await (const chunk of file.readable) {
    const lines = (rest + dec.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("pc=")) {
        if (cur) yield cur;
        const m = /^pc=0x([0-9a-f]+) HI=0x([0-9a-f]+) LO=0x([0-9a-f]+)/.exec(line)!;
        cur = { pc: parseInt(m[1], 16), hi: parseInt(m[2], 16), lo: parseInt(m[3], 16), regs: [] };
      } else if (line.startsWith("GPR") && cur) {
        for (const m of line.slice(6).matchAll(/\S+ ([0-9a-f]{8})/g)) cur.regs.push(parseInt(m[1], 16));
      }
    }
  }
  if (cur) yield cur;
}

for (const opt of ["-O0", "-O2"]) {
  Deno.test(`every step's registers equal qemu's single-step log (${opt})`, async () => {
    Deno.mkdirSync(BUILD, { recursive: true });
    const elf = await mipsGcc(
      [`${here}singlestep_start.S`, `${here}singlestep.c`],
      `${BUILD}/singlestep${opt}.elf`,
      [opt, "-Wl,-e,_start", "-mno-llsc"],
    );
    const log = `${BUILD}/singlestep${opt}.log`;
    const q = await new Deno.Command("qemu-mips", {
      args: ["-cpu", "24Kc", "-singlestep", "-d", "cpu", "-D", log, elf],
      stdout: "null",
      stderr: "piped",
    }).output();
    const st = loadElf(Deno.readFileSync(elf));
    const host = { oracle: new PreimageOracle(new MapSource()) };
    let steps = 0;
    for await (const s of qemuSteps(log)) {
      const ours = [st.pc, st.hi >>> 0, st.lo >>> 0, ...Array.from(st.regs, (r) => r >>> 0)];
      const theirs = [s.pc, s.hi, s.lo, ...s.regs];
      if (steps === 0) theirs[3 + 29] = ours[3 + 29]; // qemu's own initial sp; _start sets ours
      if (ours.join() !== theirs.join()) {
        const diff = ours.map((
          v,
          i,
        ) => (v !== theirs[i]
          ? `${["pc", "hi", "lo"][i] ?? "r" + (i - 3)}: vm ${v.toString(16)} qemu ${theirs[i].toString(16)}`
          : "")
        ).filter(Boolean);
        throw new Error(`step ${steps} differs: ${diff.join(", ")}`);
      }
      execute(st, host, 1);
      steps++;
    }
    Deno.removeSync(log);
    assertEquals(st.exited, true, "the VM exits where qemu's log ends");
    assertEquals(st.exitCode, q.code);
    assertEquals(st.step, steps);
    console.log(`  ${steps} steps compared`);
  });
}
