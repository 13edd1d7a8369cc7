/**
 * The project's math library (core/kernels/mathf.c) against glibc, and native against MIPS.
 *
 * 1. Accuracy: tests/kernels/mathf_driver.c, built natively with the project's flags, evaluates
 *    every function on OPML_MATHF_N inputs (default 2,000,000 each: special values, then an even
 *    stride through all 2^32 bit patterns; powf on a mixture of distributions) and measures the
 *    error against glibc's binary64 libm in float ulps. The contract (mathf.h) is 2 ulp; the
 *    implementation is checked to stay within 1 ulp, and floor, roundeven, sqrt and fmod to be exact.
 *    The binary64 exp and log are checked within 1 binary64 ulp of glibc, sqrt equal to it.
 *    OPML_MATHF_SEED shifts the sample.
 * 2. Bit-identity: the same driver built for MIPS (soft-float) runs under qemu-mips on
 *    OPML_MATHF_MIPS_N inputs per function (default 20,000) and must write exactly the bytes
 *    of the native run (NaNs canonicalised, as the interpreter does).
 *
 * 3. Vector paths: the array functions (opml_expf_n, opml_sigmoidf_n, opml_tanhf_n, opml_erff_n:
 *    AVX-512 and AVX2 lanes natively, core/kernels/simd.h) give exactly the scalar functions' bits on every
 *    OPML_MATHF_ARRAY_STEP-th bit pattern (default 61: 70 M inputs, every range, NaN payloads,
 *    subnormals, infinities, both zeros) and the special values, in blocks whose lengths and
 *    alignments vary so that the vector tails run too (`mathf_driver arrays 1`: all 2^32).
 *
 * Run: deno test --allow-run --allow-read --allow-write --allow-env tests/kernels/mathf.test.ts
 * (`tests/kernels/mathf_driver exhaustive` style runs: build the driver and pass `exhaustive`.)
 */
import assert from "node:assert/strict";
import { buildMips, NATIVE_CFLAGS } from "../../core/toolchain/mod.ts";
import { runQemu } from "../../tasks/qemu.ts";

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../..", import.meta.url).pathname;
const sources = [`${here}mathf_driver.c`, `${root}core/kernels/mathf.c`];
const UNARY = [
  "expf",
  "logf",
  "tanhf",
  "erff",
  "sigmoidf",
  "floorf",
  "roundevenf",
  "sqrtf",
  "expm1f",
  "softplusf",
  "sinhf",
  "coshf",
  "sinf",
  "cosf",
  "tanf",
  "asinf",
  "acosf",
  "atanf",
  "asinhf",
  "acoshf",
  "atanhf",
];
/** The binary64 functions (one result is two u32 words in the bits output). */
const DOUBLE = ["exp", "log", "sqrt"];
const ALL = [...UNARY, "powf", "fmodf", ...DOUBLE];
/** Maximum error (ulp) allowed per function: the measured maxima are about 0.5. */
const BOUND: Record<string, number> = {
  expf: 1,
  logf: 1,
  tanhf: 1,
  erff: 1,
  sigmoidf: 1,
  powf: 1,
  floorf: 0,
  roundevenf: 0,
  sqrtf: 0,
  expm1f: 1,
  softplusf: 1,
  sinhf: 1,
  coshf: 1,
  sinf: 1,
  cosf: 1,
  tanf: 1,
  asinf: 1,
  acosf: 1,
  atanf: 1,
  asinhf: 1,
  acoshf: 1,
  atanhf: 1,
  fmodf: 0,
  exp: 1, // binary64 ulps from glibc's result (fdlibm's algorithms: < 1 ulp from the exact value)
  log: 1,
  sqrt: 0,
};

async function run(cmd: string, args: string[]): Promise<{ out: Uint8Array; err: string; code: number }> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  return { out: r.stdout, err: new TextDecoder().decode(r.stderr), code: r.code };
}

async function buildNativeDriver(dir: string): Promise<string> {
  const exe = `${dir}/mathf_driver`;
  const cc = await run("gcc", [...NATIVE_CFLAGS, "-Wall", "-Wextra", ...sources, "-lm", "-o", exe]);
  assert.equal(cc.code, 0, `gcc failed:\n${cc.err}`);
  assert.equal(cc.err.trim(), "", `gcc warnings:\n${cc.err}`);
  return exe;
}

Deno.test("mathf: within 1 ulp of glibc (exact for floor, roundeven, sqrt, fmod), special values right", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opml-mathf-" });
  try {
    const exe = await buildNativeDriver(dir);
    const n = Deno.env.get("OPML_MATHF_N") ?? "2000000";
    const seed = Deno.env.get("OPML_MATHF_SEED") ?? "1";
    const r = await run(exe, ["accuracy", n, seed]);
    const text = new TextDecoder().decode(r.out);
    assert.equal(r.code, 0, text + r.err);
    const seen = new Set<string>();
    for (const line of text.trim().split("\n")) {
      const m = line.match(/^(\w+) n=(\d+) max_ulp=([\d.]+) at=(\S+) bad=(\d+)/);
      assert.ok(m, `unexpected driver output: ${line}`);
      const [, name, count, ulp, , bad] = m;
      seen.add(name);
      assert.equal(count, n, line);
      assert.equal(bad, "0", `NaN, sign, zero or infinity mismatches: ${line}`);
      assert.ok(Number(ulp) <= BOUND[name], `error above ${BOUND[name]} ulp: ${line}`);
    }
    assert.deepEqual([...seen], ALL, text);
    console.log(text.trimEnd());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mathf: the MIPS soft-float build gives the native bits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opml-mathf-" });
  try {
    const n = Number(Deno.env.get("OPML_MATHF_MIPS_N") ?? "20000");
    const exe = await buildNativeDriver(dir);
    const elf = await buildMips(sources, `${dir}/mathf_driver.elf`, {
      flags: ["-O2", `-DMATHF_SAMPLE=${n}`],
    });
    const native = await run(exe, ["bits", String(n)]);
    assert.equal(native.code, 0, native.err);
    const mips = await runQemu(elf);
    assert.equal(mips.exitCode, 0, new TextDecoder().decode(mips.stderr));
    const words = (name: string) => (DOUBLE.includes(name) ? 2 : 1);
    const nameAt = (word: number): string => {
      for (const name of ALL) {
        if (word < words(name) * n) return `${name} sample ${Math.floor(word / words(name))}`;
        word -= words(name) * n;
      }
      return "?";
    };
    assert.equal(native.out.length, 4 * n * ALL.reduce((s, name) => s + words(name), 0));
    assert.equal(mips.stdout.length, native.out.length, "MIPS output length");
    const a = new DataView(native.out.buffer, native.out.byteOffset);
    const b = new DataView(mips.stdout.buffer, mips.stdout.byteOffset);
    const diffs: string[] = [];
    for (let i = 0; i < native.out.length / 4 && diffs.length < 10; i++) {
      const x = a.getUint32(4 * i, true), y = b.getUint32(4 * i, true);
      if (x !== y) {
        const hex = (v: number) => "0x" + v.toString(16).padStart(8, "0");
        diffs.push(`${nameAt(i)} word: native ${hex(x)}, MIPS ${hex(y)}`);
      }
    }
    assert.deepEqual(diffs, [], diffs.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mathf: the vector array functions (AVX-512, AVX2) give the scalar functions' bits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opml-mathf-" });
  try {
    const exe = await buildNativeDriver(dir);
    const step = Deno.env.get("OPML_MATHF_ARRAY_STEP") ?? "61";
    // "": the widest paths of this host; "avx2": AVX-512 off (a host without AVX2 runs plain C twice)
    for (const simd of ["", "avx2"]) {
      const r = await new Deno.Command(exe, {
        args: ["arrays", step],
        env: { OPML_SIMD: simd },
        stdout: "piped",
      })
        .output();
      const text = new TextDecoder().decode(r.stdout);
      assert.equal(r.code, 0, text);
      const lines = text.trim().split("\n");
      assert.deepEqual(
        lines.map((l) => l.split(" ")[0]),
        ["expf_n", "sigmoidf_n", "tanhf_n", "erff_n"],
        text,
      );
      for (const line of lines) {
        assert.match(
          line,
          /^\w+ n=(\d{8,}) bad=0 /,
          `OPML_SIMD=${simd}: vector bits differ from the scalar ones: ${line}`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
