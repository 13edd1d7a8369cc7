/**
 * The runtime's MIPS image under qemu-mips (an independent CPU) on a program and its inputs,
 * served on stdin as preimage records (docs/IR.md); returns its stdout (the outputs' bytes).
 * @module
 */
import { assertEquals } from "../_assert.ts";
import type { AssembledProgram } from "../../core/compiler/mod.ts";
import { preimageRecords } from "../../core/engine/mod.ts";
import type { TensorValue } from "../../core/ir/mod.ts";

/**
 * Runs the image and asserts exit code 0 (`label` names the case in the failure message).
 *
 * @example
 * ```ts
 * const bytes = await qemuImage(rt.mips, prog, [x]);
 * ```
 */
export async function qemuImage(
  mips: string,
  prog: AssembledProgram,
  feeds: TensorValue[],
  label = "model",
): Promise<Uint8Array> {
  const q = new Deno.Command("qemu-mips", {
    args: ["-cpu", "24Kf", mips],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const w = q.stdin.getWriter();
  await w.write(preimageRecords(prog, feeds));
  await w.close();
  const r = await q.output();
  assertEquals(r.code, 0, `${label}: qemu-mips: ${new TextDecoder().decode(r.stderr)}`);
  return r.stdout;
}
