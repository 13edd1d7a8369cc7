/**
 * The VM's binary32 arithmetic (core/vm/fpu.ts) against x86-64 SSE hardware, the native
 * build's float semantics: add, sub, mul, div, sqrt, the float-to-int conversions (nearest,
 * truncate, ceil, floor), cvt.s.w and the compare predicates, bit for bit, on 200,000 random
 * and edge operand pairs, NaNs included (the NaN rule is SSE's: qemu-mips's differs, see
 * docs/VM.md). The contract's FPU32 is checked against the TypeScript VM by fpu.bin.
 */
import { assertEquals } from "../_assert.ts";
import { cvtSW, cvtWS, fadd, fcompare, fdiv, fmul, fsqrt, fsub, RoundTo } from "../../core/vm/fpu.ts";
import { f32Operand } from "../../tasks/gen_fixtures.ts";
import { BUILD, rng } from "./_mips.ts";

Deno.test("FPU arithmetic, conversions and compares: the VM equals x86-64 SSE bit for bit", async () => {
  Deno.mkdirSync(BUILD, { recursive: true });
  const exe = `${BUILD}/fpu_native`;
  const cc = await new Deno.Command("gcc", {
    args: ["-O2", "-msse4.1", new URL("./fpu_native.c", import.meta.url).pathname, "-o", exe],
  }).output();
  assertEquals(cc.code, 0, new TextDecoder().decode(cc.stderr));
  const R = rng(0xf9a);
  const operand = (): number => f32Operand(R);
  const N = 200_000;
  const pairs = new Uint32Array(2 * N);
  for (let i = 0; i < N; i++) {
    pairs[2 * i] = operand();
    // b close to a half the time: cancellation
    pairs[2 * i + 1] = R() % 4 === 0 ? (pairs[2 * i] + (R() % 9) - 4) ^ (R() % 2 << 31) : operand();
  }
  const child = new Deno.Command(exe, { stdin: "piped", stdout: "piped" }).spawn();
  const w = child.stdin.getWriter();
  const writing = w.write(new Uint8Array(pairs.buffer)).then(() => w.close());
  const { stdout, code } = await child.output();
  await writing;
  assertEquals(code, 0);
  const got = new Uint32Array(stdout.buffer, stdout.byteOffset, stdout.length / 4);
  assertEquals(got.length, 12 * N);
  const hex = (x: number) => "0x" + (x >>> 0).toString(16).padStart(8, "0");
  const names = ["add", "sub", "mul", "div", "sqrt", "cvt.w", "trunc.w", "ceil.w", "floor.w", "cvt.s.w", "c"];
  const bad: string[] = [];
  for (let i = 0; i < N && bad.length < 10; i++) {
    const a = pairs[2 * i] | 0, b = pairs[2 * i + 1] | 0;
    const cmp = (fcompare(a, b, 1) ? 1 : 0) | (fcompare(a, b, 2) ? 2 : 0) | (fcompare(a, b, 4) ? 4 : 0);
    const ours = [
      fadd(a, b),
      fsub(a, b),
      fmul(a, b),
      fdiv(a, b),
      fsqrt(a),
      cvtWS(a, RoundTo.nearest),
      cvtWS(a, RoundTo.zero),
      cvtWS(a, RoundTo.up),
      cvtWS(a, RoundTo.down),
      cvtSW(a),
      cmp,
    ];
    ours.forEach((v, k) => {
      if ((v >>> 0) !== got[12 * i + k]) {
        bad.push(`${names[k]}(${hex(a)}, ${hex(b)}): VM ${hex(v)}, SSE ${hex(got[12 * i + k])}`);
      }
    });
  }
  assertEquals(bad, []);
});
