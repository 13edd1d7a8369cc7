/**
 * ONNX conformance: every node test of ../shared/onnx in scope (dtypes below, opset <= 26)
 * compiles, runs natively and matches the stored expected output (rtol 1e-3, atol 1e-5).
 * For a sample spanning every operator, the MIPS image in the VM and under qemu-mips gives
 * byte-identical outputs to the native run. Cases the compiler rejects must be listed with
 * their reason in tests/onnx/skipped.json (docs/CONFORMANCE.md is generated from it).
 *
 * OPML_CASES=<regex> runs only matching cases.
 */
import { assert, assertEquals } from "../_assert.ts";
import { buildRuntime } from "../../core/compiler/mod.ts";
import { runNative, runVm } from "../../core/engine/mod.ts";
import { qemuImage } from "../kernels/_qemu_image.ts";
import {
  compareOutput,
  compileCase,
  conformanceIndex,
  exactCase,
  loadCase,
  outOfScope,
  tensorValue,
} from "./_cases.ts";

const filter = Deno.env.get("OPML_CASES");
const index = conformanceIndex();
const skipped: Record<string, string> = JSON.parse(
  Deno.readTextFileSync(new URL("./skipped.json", import.meta.url)),
);

const inScope = Object.keys(index).sort().filter((n) => !outOfScope(index[n]));
// The bit-exactness sample: the first two supported cases of every operator, the first case of
// every tensor type and of every operator on each type beyond float32/integers/bool (double,
// float16, the float8 formats, int4, ...).
const typesOf = (name: string) =>
  [...index[name].inputs, ...index[name].outputs].map((t) => String(t).split("[")[0]);
const OLD_TYPES = /^(FLOAT|U?INT(8|16|32|64)|BOOL)$/;
const newTypeOps = (name: string) =>
  typesOf(name).filter((t) => !OLD_TYPES.test(t)).flatMap((t) => index[name].ops.map((op) => `${op}:${t}`));
const vmSample = new Set<string>();
{
  const perOp = new Map<string, number>();
  const types = new Set<string>();
  for (const name of inScope) {
    if (skipped[name]) continue;
    const keys = [...typesOf(name), ...newTypeOps(name)];
    if (index[name].ops.some((op) => (perOp.get(op) ?? 0) < 2) || keys.some((t) => !types.has(t))) {
      vmSample.add(name);
      for (const op of index[name].ops) perOp.set(op, (perOp.get(op) ?? 0) + 1);
      for (const t of keys) types.add(t);
    }
  }
}

const runtime = buildRuntime();
let image: Uint8Array | undefined;

for (const name of inScope) {
  if (skipped[name] || (filter && !new RegExp(filter).test(name))) continue;
  Deno.test(`conformance ${name}`, async () => {
    const rt = await runtime;
    const c = loadCase(name);
    const { prog, inputs } = compileCase(c);
    const { outputs } = await runNative(rt.native, prog, inputs);
    assertEquals(outputs.length, c.expected.length, "number of outputs");
    outputs.forEach((o, i) => {
      const err = compareOutput(
        o,
        tensorValue(c.expected[i], `output ${i}`),
        `output ${i}`,
        undefined,
        undefined,
        exactCase(index[name]),
      );
      assert(err === undefined, err);
    });
    if (!vmSample.has(name)) return;
    // bit-exactness: VM and qemu-mips run the same image on the same preimages
    image ??= Deno.readFileSync(rt.mips);
    const vm = runVm(image, prog, inputs);
    vm.outputs.forEach((o, i) => {
      assertEquals(
        new Uint8Array(o.data.buffer),
        new Uint8Array(outputs[i].data.buffer),
        `VM output ${i} differs from native`,
      );
    });
    assertEquals(
      await qemuImage(rt.mips, prog, inputs, name),
      vm.stdout,
      "qemu-mips output differs from the VM's",
    );
  });
}

Deno.test("conformance: documented skips are still rejected with their reason", () => {
  for (const [name, reason] of Object.entries(skipped)) {
    if (filter && !new RegExp(filter).test(name)) continue;
    assert(index[name], `${name} is not a conformance case`);
    let msg = "";
    try {
      compileCase(loadCase(name));
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(
      msg.includes(reason),
      `${name}: expected a rejection containing "${reason}", got "${msg || "success"}"`,
    );
  }
});

Deno.test("conformance: the bit-exactness sample spans every operator", () => {
  const covered = new Set([...vmSample].flatMap((n) => index[n].ops));
  // every operator of a case that compiles (a rejected case has an unsupported operator)
  const all = new Set(inScope.filter((n) => !skipped[n]).flatMap((n) => index[n].ops));
  assert(vmSample.size >= 40, `only ${vmSample.size} cases in the VM sample`);
  const missing = [...all].filter((op) => !covered.has(op));
  assertEquals(missing, [], "operators without a VM bit-exactness case");
  const types = new Set(inScope.filter((n) => !skipped[n]).flatMap(typesOf));
  const sampled = new Set([...vmSample].flatMap(typesOf));
  assertEquals([...types].filter((t) => !sampled.has(t)), [], "tensor types without a VM bit-exactness case");
});
