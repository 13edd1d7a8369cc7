/**
 * The VM test corpus under qemu: builds every program in every flag set (tasks/build_corpus.ts,
 * incremental), checks the images (only instructions the VM implements, no FPU, no traps, no
 * undefined symbols, every VM instruction present somewhere), and runs each ELF under
 * `qemu-mips -cpu 24Kc`, comparing stdout, stderr and the exit code with the golden files in
 * tests/vm/corpus/expected/ (regenerate with `tasks/build_corpus.ts --update-expected`).
 *
 * Needs mips-linux-gnu-gcc, binutils and qemu-user. Run:
 *   deno test --allow-run --allow-read --allow-write --allow-env tests/vm/corpus/
 */
import assert from "node:assert/strict";
import {
  auditCorpus,
  buildCorpus,
  type CorpusEntry,
  FLAG_SETS,
  listPrograms,
  readExpected,
  VM_INSTRUCTIONS,
} from "../../../tasks/build_corpus.ts";
import { runQemu } from "../../../tasks/qemu.ts";

async function haveTool(name: string): Promise<boolean> {
  try {
    const r = await new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

const ignore = !(await haveTool("mips-linux-gnu-gcc") && await haveTool("qemu-mips"));
let built: Promise<CorpusEntry[]> | undefined;
const corpus = () => built ??= buildCorpus({ log: () => {} });

Deno.test({
  name: "corpus images use only VM instructions and cover all of them",
  ignore,
  fn: async () => {
    const entries = await corpus();
    assert.equal(entries.length, listPrograms().length * FLAG_SETS.length);
    const report = await auditCorpus(entries);
    assert.deepEqual(report.problems, []);
    const missing = VM_INSTRUCTIONS.filter((op) => !report.coverage.has(op));
    assert.deepEqual(missing, [], `VM instructions never emitted: ${missing.join(" ")}`);
  },
});

const dec = new TextDecoder();
for (const name of listPrograms()) {
  Deno.test({
    name: `corpus ${name} under qemu, every flag set`,
    ignore,
    fn: async (t) => {
      const expected = readExpected(name);
      assert.ok(expected, `no expected output for ${name} (run --update-expected)`);
      const entries = (await corpus()).filter((e) => e.name === name);
      for (const e of entries) {
        await t.step(e.flagset, async () => {
          const r = await runQemu(e.elf);
          assert.equal(dec.decode(r.stdout), expected.stdout);
          assert.equal(dec.decode(r.stderr), expected.stderr);
          assert.equal(r.exitCode, expected.exitCode);
        });
      }
    },
  });
}
