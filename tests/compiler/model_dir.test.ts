/**
 * Loading a compiled model directory whose weights were verified before (core/compiler/model_dir.ts,
 * docs/IR.md "Verified once"): each constant is read from weights.bin alone, at its offset, and a
 * weights file that changed size after the load is refused in one line when a constant is read.
 */
import { assert, assertEquals } from "../_assert.ts";
import { compileModelFile, loadModelDir, ModelDirError } from "../../core/compiler/mod.ts";
import { dtypeSize, shapeSize } from "../../core/ir/mod.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";

Deno.test("a verified model directory reads each constant alone, and refuses weights changed under it", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-model-dir-" });
  try {
    const dir = `${tmp}/mlp`;
    await compileModelFile(`${MODELS}mnist-mlp/mnist-mlp.onnx`, dir, { shapes: { batch: [1] } });
    loadModelDir(dir); // verifies (if compiling did not) and records the weights file
    const m = loadModelDir(dir);
    const whole = Deno.readFileSync(`${dir}/weights.bin`);
    let off = 0, constants = 0;
    for (const t of m.prog.program.tensors) {
      if (t.kind !== "constant") continue;
      const n = dtypeSize(t.dtype) * shapeSize(t.shape);
      assertEquals(Array.from(t.data!), Array.from(whole.subarray(off, off + n)), `constant '${t.name}'`);
      off += (n + 63) & ~63;
      constants++;
    }
    assert(
      constants >= 2 && off === whole.length,
      `${constants} constants over ${off} of ${whole.length} bytes`,
    );
    const later = loadModelDir(dir);
    Deno.truncateSync(`${dir}/weights.bin`, whole.length - 64);
    const first = later.prog.program.tensors.find((t) => t.kind === "constant")!;
    let err: unknown;
    try {
      first.data;
    } catch (e) {
      err = e;
    }
    assert(err instanceof ModelDirError, `a ModelDirError, got ${err}`);
    assert(/weights\.bin: changed while in use \(\d+ bytes, was \d+\)$/.test(err.message), err.message);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
