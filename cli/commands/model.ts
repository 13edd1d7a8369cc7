/**
 * `opml compile` and `opml run`: ONNX model to a compiled directory, and inference with the
 * native runtime, the MIPS image in the VM, or onnxruntime.
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { compileModelFile, LIMITS, loadModelDir, mipsImage, sourceModel } from "../../core/compiler/mod.ts";
import { parseInputFile, runNative, runOrt, runVm, tensorJson } from "../../core/engine/mod.ts";
import type { TensorValue } from "../../core/ir/mod.ts";
import { keyHex, merkleDataKey } from "../../core/vm/mod.ts";
import { bytesOf } from "../../core/engine/tensors.ts";
import { CliError, parseCount, printJson, readInputFile } from "../_io.ts";
import { parseTamper } from "./dispute.ts";

/** Exit code of an unsupported operator or dtype. */
export const UNSUPPORTED = 2;

function collect(value: string, prev: string[] = []): string[] {
  return [...prev, value];
}

/** Most sample inputs of the fidelity report (each is a native and an onnxruntime run). */
export const MAX_SAMPLES = 1000;

/** Parses `name=1x49` shapes. */
function parseShapes(specs: string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of specs) {
    const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(s);
    if (!m) throw new CliError(`--shape ${s}: expected NAME=DIMS, e.g. tokens=1x49 or seq=49`, 2);
    out[m[1]] = m[2].split("x").map((d) => {
      const n = Number(d);
      if (!(Number.isSafeInteger(n) && n <= LIMITS.dim)) {
        throw new CliError(`--shape ${s}: dimension ${d} is over the limit of ${LIMITS.dim}`, 2);
      }
      return n;
    });
  }
  return out;
}

/** Reads `--input` files (`FILE` or `NAME=FILE`) into values in the model's input order. */
function readInputs(
  specs: string[],
  model: {
    prog: { program: { tensors: { name: string; dtype: number; shape: number[] }[]; inputs: number[] } };
  },
  shapes: Record<string, number[]>,
): TensorValue[] {
  const p = model.prog.program;
  const inputs = p.inputs.map((i) => p.tensors[i]);
  const values: Record<string, TensorValue> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const name = eq > 0 && !spec.slice(0, eq).includes("/") ? spec.slice(0, eq) : undefined;
    const file = name ? spec.slice(eq + 1) : spec;
    Object.assign(
      values,
      parseInputFile(file, readInputFile(file, "input"), inputs, {
        name,
        shape: name ? shapes[name] : undefined,
      }),
    );
  }
  return inputs.map((t) => {
    const v = values[t.name];
    if (!v) throw new CliError(`no value for input '${t.name}': give --input ${t.name}=FILE`, 2);
    return v;
  });
}

/** `opml compile`. */
export function compileCommand() {
  return new Command("compile")
    .description("compile an ONNX model to a deterministic program, a native binary and a MIPS image")
    .argument("<model>", "ONNX model file")
    .requiredOption("-o, --out <dir>", "output directory")
    .option(
      "--shape <name=dims>",
      "concrete size of a dynamic dimension or input (repeatable), e.g. seq=49",
      collect,
      [] as string[],
    )
    .option("--samples <n>", "sample inputs (fixed seed) for the fidelity report against onnxruntime", "1")
    .option("--no-fidelity", "skip the fidelity report")
    .option("--json", "print the manifest's path and key fields as JSON")
    .action(async (modelPath, opts) => {
      const samples = opts.fidelity ? parseCount(opts.samples, "--samples") : 0;
      if (opts.fidelity && !(samples >= 1 && samples <= MAX_SAMPLES)) {
        throw new CliError(
          `--samples must be from 1 to ${MAX_SAMPLES}, got ${samples} (no fidelity report: --no-fidelity)`,
          2,
        );
      }
      readInputFile(modelPath, "model");
      const shapes = parseShapes(opts.shape);
      const t0 = performance.now();
      const manifest = await compileModelFile(modelPath, opts.out, {
        shapes,
        samples,
        onProgress: (m) => console.error(`opml: ${m}`),
      });
      const seconds = (performance.now() - t0) / 1000;
      const fidelity = manifest.fidelity as
        | { samples: number; maxAbsError: number; maxRelError: number }
        | undefined;
      const summary = {
        manifest: `${opts.out}/manifest.json`,
        modelCommitment: manifest.modelCommitment,
        initialStateHash: manifest.initialStateHash,
        nodes: manifest.nodes,
        constants: manifest.constants.length,
        inputs: manifest.inputs,
        outputs: manifest.outputs,
        seconds: Number(seconds.toFixed(3)),
        fidelity,
      };
      if (opts.json) return printJson(summary);
      console.log(`compiled ${modelPath} -> ${opts.out} (${manifest.nodes} nodes, ${seconds.toFixed(2)} s)`);
      console.log(`model commitment  ${manifest.modelCommitment}`);
      console.log(`initial VM state  ${manifest.initialStateHash}`);
      if (fidelity) {
        console.log(
          `fidelity vs onnxruntime: max abs error ${fidelity.maxAbsError.toExponential(2)}, max rel error ${
            fidelity.maxRelError.toExponential(2)
          } (${fidelity.samples} samples)`,
        );
      }
    });
}

/** `opml run`. */
export function runCommand() {
  return new Command("run")
    .description("run inference: natively, in the fraud-proof VM, or with onnxruntime as a float reference")
    .argument("<dir>", "compiled model directory (from opml compile)")
    .option(
      "-i, --input <[name=]file>",
      "input: .json ({name: {shape, dtype, data}}), .pb (TensorProto) or .bin (raw, with --shape) (repeatable)",
      collect,
      [] as string[],
    )
    .option("--shape <name=dims>", "shape of a raw .bin input", collect, [] as string[])
    .addOption(
      new Option("--engine <engine>", "where to run").choices(["native", "vm", "ort"] as const).default(
        "native" as const,
      ),
    )
    .option("--json", "print outputs as JSON")
    .option(
      "--tamper <node=K>",
      "testing aid: run as a dishonest server, wrong from node K on (flips a bit of its output; native engine)",
    )
    .option(
      "--threads <n>",
      "native engine: kernel threads (default: the machine's cores; the same bytes for any count)",
    )
    .action(async (dir, opts) => {
      const tamper = opts.tamper === undefined ? undefined : parseTamper(opts.tamper);
      const threads = opts.threads === undefined ? undefined : parseCount(opts.threads, "--threads");
      if (threads !== undefined && (threads < 1 || threads > 256)) {
        throw new CliError(`--threads must be 1 to 256, got ${threads}`, 2);
      }
      if (threads !== undefined && opts.engine !== "native") {
        throw new CliError("--threads runs with the native engine only", 2);
      }
      if (tamper !== undefined && opts.engine !== "native") {
        throw new CliError("--tamper runs with the native engine only", 2);
      }
      const model = loadModelDir(dir, { onProgress: (m) => console.error(`opml: ${m}`) });
      const inputs = readInputs(opts.input, model, parseShapes(opts.shape));
      const nodes = model.prog.program.nodes.length;
      if (tamper !== undefined && tamper > nodes) {
        throw new CliError(`--tamper node=${tamper}: the model's nodes are 1 .. ${nodes}`, 2);
      }
      const p = model.prog.program;
      let outputs: TensorValue[] = [];
      const extra: Record<string, unknown> = {};
      const t0 = performance.now();
      if (opts.engine === "native") {
        outputs = (await runNative(model.native, model.prog, inputs, { tamper, threads })).outputs;
      } else if (opts.engine === "vm") {
        const r = runVm(mipsImage(model), model.prog, inputs);
        outputs = r.outputs;
        extra.steps = r.steps;
        extra.finalStateHash = keyHex(r.finalStateHash);
      } else {
        const feeds = Object.fromEntries(inputs.map((v, i) => [p.tensors[p.inputs[i]].name, v]));
        const r = await runOrt(sourceModel(model), feeds);
        outputs = p.outputs.map((i) => {
          const v = r.outputs[p.tensors[i].name];
          if (!v) throw new CliError(`onnxruntime gives no output '${p.tensors[i].name}'`);
          return v;
        });
      }
      const seconds = (performance.now() - t0) / 1000;
      const result = {
        engine: opts.engine,
        ...(tamper !== undefined ? { tampered: tamper } : {}),
        seconds: Number(seconds.toFixed(4)),
        ...extra,
        outputs: Object.fromEntries(outputs.map((v, k) => [p.tensors[p.outputs[k]].name, {
          ...tensorJson(v),
          // onnxruntime results are references, never commitments
          key: opts.engine === "ort" ? undefined : keyHex(merkleDataKey(bytesOf(v))),
        }])),
      };
      if (opts.json) return printJson(result);
      for (const [name, o] of Object.entries(result.outputs)) {
        const preview = o.data.slice(0, 10).join(", ") + (o.data.length > 10 ? ", ..." : "");
        console.log(`${name} ${o.dtype}[${o.shape.join("x")}] ${o.key ?? "(reference, no commitment)"}`);
        console.log(`  ${preview}`);
      }
    });
}
