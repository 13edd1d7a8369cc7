/**
 * `deno task bench`: speed figures, each beside its reference in the same run, as ratios.
 * Prints a Markdown table for docs/BENCHMARKS.md and writes build/bench/results.json.
 *
 * VM: instructions per second of the fast mode on a soft-float matrix-vector workload (over
 * 100 M instructions) against qemu-mips running the same ELF; the cost of a state hash after
 * 1 M instructions; a step witness at step 10^7 with checkpoints against without.
 * @module
 */
import { buildMips } from "../core/toolchain/mod.ts";
import {
  execute,
  loadElf,
  MapSource,
  PreimageOracle,
  runToExit,
  Trace,
  type VmHost,
} from "../core/vm/mod.ts";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}build/bench`;
Deno.mkdirSync(out, { recursive: true });
const host = (): VmHost => ({ oracle: new PreimageOracle(new MapSource()) });
const rows: [string, string, string, string][] = [];
const results: Record<string, number> = {};

function note(msg: string) {
  console.error(`bench: ${msg}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function wall(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null", stdin: "null" }).output();
  if (r.code !== 0) throw new Error(`${cmd} exited ${r.code}`);
  return (performance.now() - t0) / 1000;
}

// --- VM fast mode against qemu-mips -------------------------------------------------------
note("building the soft-float matrix-vector workload");
const elfPath = await buildMips([`${root}tests/vm/corpus/matvec_bench.c`], `${out}/matvec.elf`, {
  flags: ["-O2", `-I${root}tests/vm/corpus`],
});
const elf = Deno.readFileSync(elfPath);
const runs: number[] = [];
let steps = 0;
// the first run includes compiling the hot code; the median of the others is the figure (the
// machine may be shared: more runs, steadier median)
for (let i = 0; i < 8; i++) {
  const st = loadElf(elf);
  const r = runToExit(st, host());
  if (r.reason !== "exited" || st.exitCode !== 0) {
    throw new Error(`matvec run ended with ${r.reason}/${st.exitCode}`);
  }
  steps = r.steps;
  runs.push(r.steps / r.seconds);
  note(`VM run ${i + 1}: ${(r.steps / 1e6).toFixed(1)} M steps in ${r.seconds.toFixed(2)} s`);
}
const qemuSecs = Math.min(
  ...(await Promise.all([0, 1, 2].map(() => wall("qemu-mips", ["-cpu", "24Kf", elfPath])))),
);
const vmWarm = median(runs.slice(1));
const qemuRate = steps / qemuSecs;
results.workloadSteps = steps;
results.vmStepsPerSecond = vmWarm;
results.vmColdStepsPerSecond = runs[0];
results.qemuInstructionsPerSecond = qemuRate;
rows.push([
  `VM fast mode, soft-float matvec (${(steps / 1e6).toFixed(0)} M instructions)`,
  `${(vmWarm / 1e6).toFixed(1)} M instr/s (first run ${(runs[0] / 1e6).toFixed(1)})`,
  `qemu-mips -cpu 24Kf: ${(qemuRate / 1e6).toFixed(0)} M instr/s (${qemuSecs.toFixed(2)} s incl. start-up)`,
  `VM / qemu = ${(vmWarm / qemuRate).toFixed(3)}`,
]);

// --- state hash after 1 M instructions -----------------------------------------------------
{
  const st = loadElf(elf);
  st.hash(); // the loaded image
  execute(st, host(), 1_000_000);
  let t0 = performance.now();
  st.hash();
  const incremental = performance.now() - t0;
  const pages = st.memory.pageCount;
  const copy = loadElf(elf);
  execute(copy, host(), 1_000_000);
  t0 = performance.now();
  copy.hash();
  const scratch = performance.now() - t0;
  results.stateHashAfter1MMs = incremental;
  results.stateHashFromScratchMs = scratch;
  rows.push([
    "state hash after 1 M instructions (incremental root)",
    `${incremental.toFixed(2)} ms`,
    `all ${pages} pages hashed from scratch: ${scratch.toFixed(2)} ms`,
    `${(scratch / incremental).toFixed(1)}x faster`,
  ]);
}

// --- witness at step 10^7 with checkpoints --------------------------------------------------
{
  const T = 10_000_000;
  const trace = new Trace(loadElf(elf), host());
  trace.runTo(T + 1);
  let t0 = performance.now();
  trace.witnessAt(T);
  const withCp = performance.now() - t0;
  t0 = performance.now();
  const st = loadElf(elf);
  execute(st, host(), T);
  new Trace(st, host()).witnessAt(T);
  const without = performance.now() - t0;
  results.witnessAt1e7Ms = withCp;
  results.witnessAt1e7NoCheckpointMs = without;
  rows.push([
    "step witness at step 10^7 (checkpoints every 2^20 steps)",
    `${withCp.toFixed(1)} ms`,
    `re-executing from step 0: ${without.toFixed(0)} ms`,
    `${(without / withCp).toFixed(1)}x faster`,
  ]);
}

// /proc needs --allow-all in Deno; ask lscpu instead
const lscpu = new TextDecoder().decode(
  (await new Deno.Command("lscpu", { stdout: "piped" }).output()).stdout,
);
const cpu = (lscpu.match(/Model name:\s*(.*)/) ?? [])[1]?.trim() ?? "unknown CPU";
const header =
  `Machine: ${cpu}, ${navigator.hardwareConcurrency} cores; Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ${
    new Date().toISOString().slice(0, 10)
  }`;
const table = [
  "| measure | opml | reference | ratio |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");
Deno.writeTextFileSync(`${out}/results.json`, JSON.stringify({ machine: header, ...results }, null, 2));
console.log(`${header}\n\n${table}`);
