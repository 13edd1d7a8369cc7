/**
 * The project's soft-float (core/runtime/softfloat.c) against the x86-64 SSE hardware.
 *
 * Compiles tests/softfloat/sftest.c natively with `gcc -O2 -ffp-contract=off -fno-fast-math`
 * (the libgcc entry points renamed, so the host's libgcc is untouched) and runs it: every
 * binary32 and binary64 operation on OPML_SOFTFLOAT_N operand sets (default 5,000,000 per
 * operation, about 10 s; set it higher for longer runs, e.g. OPML_SOFTFLOAT_N=100000000), plus
 * the special-value cross products. OPML_SOFTFLOAT_SEED changes the operands and
 * OPML_SOFTFLOAT_EXHAUSTIVE=1 adds all 2^32 inputs of the unary binary32 operations (minutes).
 *
 * Run: deno test --allow-run --allow-read --allow-write --allow-env tests/softfloat/
 */
import assert from "node:assert/strict";

const root = new URL("../..", import.meta.url).pathname;

Deno.test("softfloat is bit-exact with x86 SSE (NaN: canonical)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opml-softfloat-" });
  try {
    const exe = `${dir}/sftest`;
    const cc = await new Deno.Command("gcc", {
      args: [
        "-O2",
        "-ffp-contract=off",
        "-fno-fast-math",
        "-msse2",
        "-mfpmath=sse",
        "-Wall",
        "-Wextra",
        "-DOPML_SOFTFLOAT_HOST_TEST",
        `-I${root}core/runtime`,
        `${root}tests/softfloat/sftest.c`,
        `${root}core/runtime/softfloat.c`,
        "-o",
        exe,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const ccMsg = new TextDecoder().decode(cc.stderr);
    assert.ok(cc.success, `gcc failed:\n${ccMsg}`);
    assert.equal(ccMsg.trim(), "", `gcc warnings:\n${ccMsg}`);

    const env: Record<string, string> = {
      OPML_SOFTFLOAT_N: Deno.env.get("OPML_SOFTFLOAT_N") ?? "5000000",
    };
    for (const k of ["OPML_SOFTFLOAT_SEED", "OPML_SOFTFLOAT_EXHAUSTIVE"]) {
      const v = Deno.env.get(k);
      if (v) env[k] = v;
    }
    const run = await new Deno.Command(exe, { env, stdout: "piped", stderr: "piped" })
      .output();
    const out = new TextDecoder().decode(run.stdout);
    const lines = out.trimEnd().split("\n");
    const perOp = lines.filter((l) => /^[a-z0-9]+: \d+ passed, \d+ failed$/.test(l));
    const failing = perOp.filter((l) => !l.endsWith(" 0 failed"));
    assert.ok(perOp.length >= 40, `expected per-operation results, got:\n${out}`);
    assert.deepEqual(failing, [], `mismatches:\n${out}`);
    const total = lines[lines.length - 1];
    assert.match(total, /^\d+ passed, 0 failed$/, out);
    assert.equal(run.code, 0, out + new TextDecoder().decode(run.stderr));
    console.log(
      `softfloat: ${perOp.length} operations, ${
        total.replace(" passed, ", " bit-exact, ").replace(" failed", " mismatched")
      }`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
