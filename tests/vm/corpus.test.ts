/**
 * Differential test against qemu-mips: every C program of tests/vm/corpus, built in every flag
 * set, prints the same stdout and stderr and exits with the same code in our VM as under
 * `qemu-mips -cpu 24Kc`.
 */
import { assertEquals } from "../_assert.ts";
import { buildCorpus, type CorpusEntry } from "../../tasks/build_corpus.ts";
import { runQemu } from "../../tasks/qemu.ts";
import { runVmElf, text } from "./_mips.ts";

const entries = (await buildCorpus({ log: () => {} })).filter((e) => e.name !== "matvec_bench");
const byProgram = new Map<string, CorpusEntry[]>();
for (const e of entries) byProgram.set(e.name, [...(byProgram.get(e.name) ?? []), e]);

for (const [name, builds] of byProgram) {
  Deno.test(`corpus ${name}: VM equals qemu-mips in ${builds.length} flag sets`, async () => {
    for (const b of builds) {
      const q = await runQemu(b.elf);
      const v = runVmElf(b.elf);
      const where = `${name} [${b.flagset}]`;
      assertEquals(text(v.stdout), text(q.stdout), `${where}: stdout`);
      assertEquals(text(v.stderr), text(q.stderr), `${where}: stderr`);
      assertEquals(v.exitCode, q.exitCode, `${where}: exit code`);
    }
  });
}
