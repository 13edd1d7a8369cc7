/**
 * The C commitments (core/runtime/keccak.c: keccak256, keccak key, Merkle-data root and key,
 * one-shot and incremental) against the TypeScript reference (core/vm/keccak.ts and
 * core/vm/oracle.ts, on @noble/hashes) and published keccak256 vectors, built natively and for
 * MIPS: the native binary (64-bit permutation, threaded roots), the MIPS code compiled natively
 * and qemu-mips on every case (lengths around the keccak rate and the
 * leaf and power-of-two boundaries, 100 KB of random bytes), the project's VM on the small ones,
 * with the VM's cost per permutation and per leaf.
 *
 * Run: deno test --allow-read --allow-write --allow-run --allow-env tests/runtime/keccak.test.ts
 */
import { keccakP } from "@noble/hashes/sha3.js";
import { keccak256 as viemKeccak256 } from "viem";
import { assert, assertEquals } from "../_assert.ts";
import { buildMips, buildNative, RUNTIME_INCLUDE, RUNTIME_SOURCES } from "../../core/toolchain/mod.ts";
import { keccak256 } from "../../core/vm/keccak.ts";
import {
  keccakKey,
  localKey,
  MapSource,
  merkleDataKey,
  merkleDataRoot,
  PreimageOracle,
} from "../../core/vm/oracle.ts";
import { loadElf } from "../../core/vm/elf.ts";
import { runToExit } from "../../core/vm/run.ts";

const root = new URL("../..", import.meta.url).pathname;
const BUILD = `${root}build/tests/runtime`;
const DRIVER = `${root}tests/runtime/keccak_driver.c`;

/** Most VM steps one keccak-f[1600] may take (measured: about 12,400). */
const MAX_STEPS_PER_PERMUTATION = 13_000;
/** Most VM steps one more 32-byte leaf of a Merkle-data root may take (measured: about 12,900). */
const MAX_STEPS_PER_LEAF = 13_500;

/**
 * The builds of the driver, made once: native (the 64-bit permutation and threaded roots of
 * native builds), native32 (the MIPS images' 32-bit bit-interleaved code compiled for the host,
 * -DOPML_KECCAK32) and MIPS.
 */
const builds = (async () => {
  Deno.mkdirSync(BUILD, { recursive: true });
  const warn = ["-Wall", "-Wextra", "-Werror"];
  const [native, native32, mips] = await Promise.all([
    buildNative([DRIVER], `${BUILD}/keccak_driver`, [...warn, `-I${RUNTIME_INCLUDE}`]),
    buildNative([DRIVER], `${BUILD}/keccak_driver32`, [...warn, "-DOPML_KECCAK32", `-I${RUNTIME_INCLUDE}`]),
    // The driver includes keccak.c itself (for the internal permutation): never link it twice.
    // It uses no floating point: skip compiling the soft-float library.
    buildMips(
      [...RUNTIME_SOURCES.filter((f) => !/\/(keccak|softfloat)\.c$/.test(f)), DRIVER],
      `${BUILD}/keccak_driver.elf`,
      { flags: ["-O2", ...warn], runtime: false },
    ),
  ]);
  return { native, native32, mips };
})();

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13, x >>>= 0, x ^= x >>> 17, x ^= x << 5, x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** One driver record: op, u32be length, data. */
function record(op: string, data: Uint8Array): Uint8Array {
  const r = new Uint8Array(5 + data.length);
  r[0] = op.charCodeAt(0);
  new DataView(r.buffer).setUint32(1, data.length);
  r.set(data, 5);
  return r;
}

function u32be(...vs: number[]): Uint8Array {
  const b = new Uint8Array(4 * vs.length);
  vs.forEach((v, i) => new DataView(b.buffer).setUint32(4 * i, v));
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
}

/** The line the driver must print for an 'h' record of `data`, from the TypeScript reference. */
function expectedH(data: Uint8Array): string {
  const k = hex(keccak256(data)), r = hex(merkleDataRoot(data));
  return [k, k, r, r, hex(merkleDataKey(data)), hex(keccakKey(data))].join(" ");
}

/** A 'p' record (count permutations of a state) and the state noble's keccakP gives. */
function permutation(count: number, seed: number): { rec: Uint8Array; line: string } {
  const state = randomBytes(200, seed);
  const lanes = new Uint32Array(state.slice().buffer); // little-endian host: lane i = words 2i, 2i+1
  for (let i = 0; i < count; i++) keccakP(lanes, 24);
  return { rec: record("p", concat([u32be(count), state])), line: hex(new Uint8Array(lanes.buffer)) };
}

/** Data lengths: empty, around the rate (136) and the leaf size, 32 * 2^k - 1, 0, +1. */
const LENGTHS: number[] = [0, 1, 31, 32, 33, 64, 65, 96, 135, 136, 137, 160, 224, 271, 272, 273, 1000];
for (let k = 1; k <= 9; k++) LENGTHS.push(32 * 2 ** k - 1, 32 * 2 ** k, 32 * 2 ** k + 1);

interface Case {
  rec: Uint8Array;
  line: string;
  /** small enough for the VM run */
  small: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  const h = (data: Uint8Array) => ({
    rec: record("h", data),
    line: expectedH(data),
    small: data.length <= 1100,
  });
  out.push(h(new TextEncoder().encode("abc")));
  LENGTHS.forEach((n, i) => out.push(h(randomBytes(n, 1000 + i))));
  out.push(h(new Uint8Array(100))); // four zero leaves: the zero subtree of height 2
  out.push(h(randomBytes(100 * 1024, 7)));
  for (const [count, seed] of [[0, 1], [1, 2], [3, 3]]) {
    out.push({ ...permutation(count, seed), small: true });
  }
  for (const n of [0, 200, 4096]) {
    const zeros = new Uint8Array(n);
    out.push({ rec: record("K", u32be(n)), line: hex(keccak256(zeros)), small: true });
    out.push({ rec: record("M", u32be(n)), line: hex(merkleDataRoot(zeros)), small: true });
  }
  // the size limit: the final leaf count must stay below 2^48 (u64be leaves, u32be bytes)
  const limit = (leaves: number, n: number, ok: boolean) =>
    out.push({
      rec: record("L", u32be(Math.floor(leaves / 2 ** 32), leaves >>> 0, n)),
      line: ok ? "accepted" : "refused",
      small: true,
    });
  limit(2 ** 48 - 4, 32, true);
  limit(2 ** 48 - 4, 64, false);
  limit(2 ** 48 - 3, 31, true);
  limit(2 ** 48 - 3, 32, false);
  limit(0, 16384, true);
  return out;
}

async function runProcess(
  cmd: string,
  args: string[],
  input: Uint8Array,
  env?: Record<string, string>,
): Promise<string> {
  const p = new Deno.Command(cmd, { args, env, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const w = p.stdin.getWriter();
  await w.write(input);
  await w.close();
  const r = await p.output();
  const err = new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 0, `${cmd} exited with ${r.code}: ${err}`);
  return new TextDecoder().decode(r.stdout);
}

/**
 * Runs the MIPS driver in the VM: local key 1 holds `key` (normally the records' Merkle-data key),
 * the oracle serves the records under it. Returns stdout, stderr, exit code and steps.
 */
function runVm(image: Uint8Array, records: Uint8Array, key = merkleDataKey(records)) {
  const src = new MapSource();
  src.set(key, records);
  src.set(localKey(1), key);
  const st = loadElf(image);
  let out = "", err = "";
  const res = runToExit(st, {
    oracle: new PreimageOracle(src),
    output: (fd, d) => {
      if (fd === 1) out += new TextDecoder().decode(d);
      else err += new TextDecoder().decode(d);
    },
  }, { maxSteps: 2e9 });
  assertEquals(res.reason, "exited", `VM run stopped: ${res.reason} ${err}`);
  return { out, err, code: st.exitCode, steps: res.steps };
}

function compareLines(out: string, all: Case[], who: string): void {
  const lines = out.trimEnd().split("\n");
  assertEquals(lines.length, all.length, `${who}: number of output lines`);
  all.forEach((c, i) =>
    assertEquals(
      lines[i],
      c.line,
      `${who}: record ${i} (op ${String.fromCharCode(c.rec[0])}, ${c.rec.length - 5} bytes)`,
    )
  );
}

Deno.test("keccak256 of the published vectors (native and qemu-mips)", async () => {
  const { native, mips } = await builds;
  const input = concat([record("h", new Uint8Array()), record("h", new TextEncoder().encode("abc"))]);
  for (
    const [who, out] of [
      ["native", await runProcess(native, [], input)],
      ["qemu-mips", await runProcess("qemu-mips", ["-cpu", "24Kf", mips], input)],
    ]
  ) {
    const [empty, abc] = out.trimEnd().split("\n").map((l) => l.split(" "));
    assertEquals(empty[0], "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", who);
    assertEquals(abc[0], "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", who);
    assertEquals(empty[2], "00".repeat(32), `${who}: the root of empty data is one zero leaf`);
    assertEquals(abc[2], "616263" + "00".repeat(29), `${who}: a single leaf is the root`);
  }
});

Deno.test("commitments, permutation and size limit match the TypeScript reference (native and qemu-mips)", async () => {
  const { native, mips } = await builds;
  const all = cases();
  const input = concat(all.map((c) => c.rec));
  const [n, q] = await Promise.all([
    runProcess(native, [], input),
    runProcess("qemu-mips", ["-cpu", "24Kf", mips], input),
  ]);
  compareLines(n, all, "native");
  compareLines(q, all, "qemu-mips");
});

Deno.test("the VM computes the same, reading its input through the oracle", async () => {
  const { mips } = await builds;
  const image = Deno.readFileSync(mips);
  const small = cases().filter((c) => c.small);
  const records = concat(small.map((c) => c.rec));
  const vm = runVm(image, records);
  assertEquals(vm.code, 0, vm.err);
  compareLines(vm.out, small, "VM");
  // the driver checks its input against the key with opml_merkle_data_key: a wrong key fails
  const other = merkleDataKey(records.subarray(1));
  const bad = runVm(image, records, other);
  assertEquals(bad.code, 3, `expected the key mismatch exit, got ${bad.code}: ${bad.err}`);
});

Deno.test("VM cost per keccak-f[1600] permutation and per Merkle leaf", async () => {
  const { mips } = await builds;
  const image = Deno.readFileSync(mips);
  const steps = (rec: Uint8Array) => {
    const r = runVm(image, rec);
    assertEquals(r.code, 0, r.err);
    return r.steps;
  };
  // the same record sizes, so reading and checking the input costs the same in both runs
  const perPermutation = (steps(permutation(40, 9).rec) - steps(permutation(0, 9).rec)) / 40;
  // powers of two, so no zero subtrees: 224 more leaves, 224 more hashes
  const perLeaf = (steps(record("M", u32be(32 * 256))) - steps(record("M", u32be(32 * 32)))) / 224;
  const perBlock = (steps(record("K", u32be(136 * 60))) - steps(record("K", u32be(136 * 10)))) / 50;
  console.log(
    `VM steps: ${perPermutation} per permutation, ${perLeaf} per 32-byte leaf of a Merkle-data root, ` +
      `${perBlock} per 136-byte block of keccak256`,
  );
  assert(perPermutation <= MAX_STEPS_PER_PERMUTATION, `${perPermutation} steps per permutation`);
  assert(perLeaf <= MAX_STEPS_PER_LEAF, `${perLeaf} steps per leaf`);
  assert(perBlock <= MAX_STEPS_PER_PERMUTATION + 1000, `${perBlock} steps per block`);
});

Deno.test("native 64-bit, native 32-bit (the MIPS code) and TypeScript agree on many random inputs", async () => {
  const { native, native32 } = await builds;
  const all: Case[] = [];
  let seed = 5000;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 300; i++) {
    const n = i < 200 ? rnd() % 1500 : rnd() % 300_000;
    const data = randomBytes(n, seed);
    const line = expectedH(data);
    // viem's keccak256: a reference independent of core/vm/keccak.ts
    assertEquals(line.slice(0, 64), viemKeccak256(data).slice(2), `TypeScript keccak256 of ${n} bytes`);
    all.push({ rec: record("h", data), line, small: false });
  }
  // the threaded Merkle-data roots of native builds (from 1 MiB)
  for (const n of [(1 << 20) + 1, 3 * (1 << 20) - 7]) {
    const data = randomBytes(n, n);
    all.push({ rec: record("h", data), line: expectedH(data), small: false });
  }
  const input = concat(all.map((c) => c.rec));
  // native: eight pair hashes per AVX-512 vector where the host has it, four per AVX2 vector
  // with OPML_SIMD=avx2, one at a time with OPML_SIMD=generic
  const [n64, n64avx2, n64plain, n32, n64split] = await Promise.all([
    runProcess(native, [], input),
    runProcess(native, [], input, { OPML_SIMD: "avx2" }),
    runProcess(native, [], input, { OPML_SIMD: "generic" }),
    runProcess(native32, [], input),
    // every root as subtrees, the way the runtime's workers hash phase-1 keys (keccak_par.h)
    runProcess(native, [], input, { OPML_TEST_RUNNER: "1" }),
  ]);
  compareLines(n64, all, "native (64-bit)");
  compareLines(n64split, all, "native (64-bit, roots split into subtrees)");
  compareLines(n64avx2, all, "native (64-bit, OPML_SIMD=avx2)");
  compareLines(n64plain, all, "native (64-bit, OPML_SIMD=generic)");
  compareLines(n32, all, "native32 (the MIPS images' code)");
});
