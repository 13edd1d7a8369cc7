/**
 * The VM engine: runs a program in the MIPS image inside the project's fraud-proof VM, with all
 * data (program, weights, inputs) served by the preimage oracle (docs/IR.md).
 * @module
 */
import type { AssembledProgram } from "../compiler/artifacts.ts";
import type { TensorValue } from "../ir/types.ts";
import { loadElf } from "../vm/elf.ts";
import { localKey, MapSource, merkleDataKey, PreimageOracle } from "../vm/oracle.ts";
import { runToExit } from "../vm/run.ts";
import { bytesOf, checkInput, programOutputs } from "./tensors.ts";
import { RuntimeError } from "./native.ts";
import { encodeRecords } from "./phase.ts";

/** Outputs of a VM run with its cost. */
export interface VmRunResult {
  /** The graph outputs (run-time axes cut to their lengths: docs/IR.md, "Run-time shapes"). */
  outputs: TensorValue[];
  /** Every program output at its stored shape, run-time lengths included: what a task commits. */
  programOutputs: TensorValue[];
  steps: number;
  seconds: number;
  /** State hash of the final (exited) VM state. */
  finalStateHash: Uint8Array;
  /** Bytes the image wrote to stdout (the outputs, little-endian). */
  stdout: Uint8Array;
}

/**
 * The preimages a run of `prog` on `inputs` needs, as (key, data) pairs: the program, every
 * constant, every input, the input key's data (the inputs' keys), and the two local keys (program
 * key, input key).
 */
export function programPreimages(prog: AssembledProgram, inputs: TensorValue[]): [Uint8Array, Uint8Array][] {
  const out: [Uint8Array, Uint8Array][] = [[prog.key, prog.bytes]];
  for (const t of prog.program.tensors) {
    if (t.kind === "constant") out.push([merkleDataKey(t.data!), t.data!]);
  }
  const inputKeys = new Uint8Array(32 * inputs.length);
  inputs.forEach((v, i) => {
    const bytes = bytesOf(v);
    const key = merkleDataKey(bytes);
    out.push([key, bytes]);
    inputKeys.set(key, 32 * i);
  });
  const inputKey = merkleDataKey(inputKeys);
  out.push([inputKey, inputKeys], [localKey(1), prog.key], [localKey(2), inputKey]);
  return out;
}

/**
 * The same preimages as `key[32] u64be length data` records: what the MIPS image reads from
 * stdin when it runs without an oracle (under qemu-mips).
 */
export function preimageRecords(prog: AssembledProgram, inputs: TensorValue[]): Uint8Array {
  return encodeRecords(programPreimages(prog, inputs));
}

/**
 * Runs an assembled program in the VM.
 *
 * @example
 * ```ts
 * const { outputs, steps } = runVm(Deno.readFileSync(rt.mips), assembled, [input]);
 * ```
 */
export function runVm(
  image: Uint8Array,
  prog: AssembledProgram,
  inputs: TensorValue[],
  opts: { maxSteps?: number } = {},
): VmRunResult {
  const p = prog.program;
  if (inputs.length !== p.inputs.length) {
    throw new RuntimeError(`the model has ${p.inputs.length} inputs, ${inputs.length} given`);
  }
  inputs.forEach((v, i) => checkInput(p.tensors[p.inputs[i]].name, p.tensors[p.inputs[i]], v));
  const st = loadElf(image);
  const source = new MapSource();
  for (const [key, data] of programPreimages(prog, inputs)) source.set(key, data);
  const chunks: Uint8Array[] = [];
  let errText = "";
  const res = runToExit(st, {
    oracle: new PreimageOracle(source),
    output: (fd, data) => {
      if (fd === 1) chunks.push(data.slice());
      else errText += new TextDecoder().decode(data);
    },
  }, { maxSteps: opts.maxSteps ?? 1e12 });
  if (res.reason !== "exited" || st.exitCode !== 0) {
    const why = errText.trim().split("\n").pop() ||
      (res.reason === "exited"
        ? `the image exited with code ${st.exitCode}`
        : `the VM stopped: ${res.reason}`);
    throw new RuntimeError(`VM run failed after ${res.steps} steps: ${why}`);
  }
  const stdout = concat(chunks);
  const { graph, program } = programOutputs(p, stdout);
  return {
    outputs: graph,
    programOutputs: program,
    steps: res.steps,
    seconds: res.seconds,
    finalStateHash: st.hash(),
    stdout,
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) (out.set(c, o), o += c.length);
  return out;
}
