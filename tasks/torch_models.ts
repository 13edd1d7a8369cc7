/**
 * The PyTorch test models of issue 12 (torchvision classifiers, segmentation, detection and
 * video models, LSTM/GRU and TransformerEncoder models with random weights): runs
 * tasks/torch_models.py with Debian's Python (the one that sees apt's python3-torch and
 * python3-torchvision), then computes onnxruntime's reference outputs (1 thread), all into
 * build/torch-models/ (not committed). Cached: it reruns only when the generator's hash or
 * {@link REFERENCE_FORMAT} changes. `deno task setup` runs it (tasks/setup.ts installs the apt
 * packages); standalone:
 *
 *   deno run -A tasks/torch_models.ts [--force] [--quiet]
 *
 * Environment: OPML_TORCH_PYTHON (default /usr/bin/python3; pyenv's or a venv's python3 does
 * not see Debian's packages), OPML_TORCH_MODELS (default build/torch-models).
 * @module
 */
import { createHash } from "node:crypto";
import { runOrt } from "../core/engine/ort.ts";
import { arrayFromBytes, bytesOf } from "../core/onnx/load.ts";
import { DType, shapeSize, type TensorValue } from "../core/ir/types.ts";

const root = new URL("..", import.meta.url).pathname;
const GENERATOR = `${root}tasks/torch_models.py`;

/** Debian's packages the generator imports; setup installs them when the models are stale. */
export const TORCH_APT_PACKAGES = ["python3-torch", "python3-torchvision"] as const;

/** Bump when the reference outputs or the index change shape, to regenerate them. */
const REFERENCE_FORMAT = 1;

/** The models' folder, with a trailing slash. */
export function torchModelsDir(): string {
  const d = Deno.env.get("OPML_TORCH_MODELS") ?? `${root}build/torch-models`;
  return d.endsWith("/") ? d : `${d}/`;
}

/** The Python interpreter that runs the generator. */
export function torchPython(): string {
  return Deno.env.get("OPML_TORCH_PYTHON") ?? "/usr/bin/python3";
}

/** Generation failed: one line naming the step. */
export class TorchModelsError extends Error {
  override name = "TorchModelsError";
}

/** A tensor stored as a raw little-endian file in the models' folder. */
export interface TensorFile {
  name: string;
  dtype: string;
  shape: number[];
  file: string;
}

/** One model of the index (models.json), as the generator and the references wrote it. */
export interface TorchModel {
  name: string;
  /** How tests compare outputs: classification (top-5), detection (boxes), segmentation, sequence. */
  kind: "classification" | "detection" | "segmentation" | "sequence";
  inputs: TensorFile[];
  /** Output names. */
  outputs: string[];
  /** Opset -> ONNX file, for the opsets torch exported. */
  files: Record<string, string>;
  /** Opset -> why torch could not export it. */
  errors: Record<string, string>;
  /** Opset -> onnxruntime's outputs (1 thread), or why onnxruntime could not run it. */
  references: Record<string, TensorFile[] | { error: string }>;
  params: number;
  /** How it differs from the stock model (smaller input, thresholds). */
  note?: string;
}

/** models.json. */
export interface TorchModelIndex {
  torch: string;
  opsets: number[];
  /** The cache key: sha256 of the generator and the reference format. */
  key: string;
  models: TorchModel[];
}

/** The cache key of the current generator. */
export function torchModelsKey(): string {
  const h = createHash("sha256");
  h.update(Deno.readFileSync(GENERATOR));
  h.update(`references ${REFERENCE_FORMAT}`);
  return h.digest("hex");
}

/** The index, or undefined when the folder has no complete generation. */
export function readTorchModels(dir = torchModelsDir()): TorchModelIndex | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}models.json`)) as TorchModelIndex;
  } catch {
    return undefined;
  }
}

/** Whether build/ holds the models of the current generator (nothing to do). */
export function torchModelsFresh(dir = torchModelsDir()): boolean {
  return readTorchModels(dir)?.key === torchModelsKey();
}

/** Whether {@link torchPython} can import torch and torchvision. */
export function torchAvailable(): boolean {
  try {
    return new Deno.Command(torchPython(), {
      args: ["-c", "import torch, torchvision"],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).outputSync().success;
  } catch {
    return false; // no such interpreter
  }
}

/** dtype names as the index writes them: DType's keys (float32, int64, ...), as torch names them. */
const DTYPES: Record<string, number> = DType;
const DTYPE_NAMES = Object.fromEntries(Object.entries(DType).map(([name, code]) => [code, name]));

/**
 * Reads a tensor file of the models' folder.
 *
 * @example
 * ```ts
 * const x = readTensor(torchModelsDir(), model.inputs[0]);
 * ```
 */
export function readTensor(dir: string, t: TensorFile): TensorValue {
  const dtype = DTYPES[t.dtype];
  if (dtype === undefined) throw new TorchModelsError(`${t.file}: unexpected dtype ${t.dtype}`);
  return {
    dtype,
    shape: t.shape,
    data: arrayFromBytes(dtype, Deno.readFileSync(dir + t.file), shapeSize(t.shape)),
  };
}

/** onnxruntime's outputs of every exported model, written beside it. */
async function references(dir: string, index: TorchModelIndex, note: (m: string) => void): Promise<void> {
  for (const m of index.models) {
    m.references = {};
    const inputs = Object.fromEntries(m.inputs.map((t) => [t.name, readTensor(dir, t)]));
    for (const [opset, file] of Object.entries(m.files)) {
      const t0 = performance.now();
      try {
        const { outputs } = await runOrt(dir + file, inputs, { threads: 1 });
        m.references[opset] = m.outputs.map((name, i) => {
          const v = outputs[name];
          if (!v) throw new TorchModelsError(`onnxruntime gave no output '${name}'`);
          const out = `${m.name}.op${opset}.ref${i}.bin`;
          Deno.writeFileSync(dir + out, bytesOf(v));
          return { name, dtype: DTYPE_NAMES[v.dtype], shape: v.shape, file: out };
        });
      } catch (e) {
        m.references[opset] = { error: (e as Error).message.split("\n")[0] };
      }
      note(`${m.name} opset ${opset}: onnxruntime ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
}

/**
 * Generates the models and their references into {@link torchModelsDir} unless they are fresh
 * (or `force`): the generator writes a temporary folder that replaces the old one only when
 * complete, so an interrupted run leaves the previous generation or none.
 *
 * @example
 * ```ts
 * if (!torchModelsFresh()) await generateTorchModels({ quiet: true });
 * ```
 */
export async function generateTorchModels(opts: { quiet?: boolean; force?: boolean } = {}): Promise<void> {
  const dir = torchModelsDir();
  const key = torchModelsKey();
  if (!opts.force && readTorchModels(dir)?.key === key) return;
  const note = (m: string) => opts.quiet || console.error(`torch-models: ${m}`);
  const tmp = `${dir.slice(0, -1)}.tmp-${Deno.pid}/`;
  Deno.mkdirSync(tmp, { recursive: true });
  try {
    const t0 = performance.now();
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(torchPython(), {
        args: [GENERATOR, tmp],
        stdout: "null",
        stderr: opts.quiet ? "piped" : "inherit",
        stdin: "null",
      }).output();
    } catch (e) {
      throw new TorchModelsError(`cannot run ${torchPython()}: ${(e as Error).message.split("\n")[0]}`);
    }
    if (!out.success) {
      const err = opts.quiet ? new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) : "see above";
      throw new TorchModelsError(`${torchPython()} tasks/torch_models.py failed (exit ${out.code}): ${err}`);
    }
    note(`exported in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const index = readTorchModels(tmp);
    if (!index) throw new TorchModelsError("tasks/torch_models.py wrote no models.json");
    await references(tmp, index, note);
    index.key = key;
    Deno.writeTextFileSync(`${tmp}models.json`, JSON.stringify(index, null, 1) + "\n");
  } catch (e) {
    Deno.removeSync(tmp, { recursive: true });
    throw e;
  }
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.renameSync(tmp, dir);
}

if (import.meta.main) {
  try {
    await generateTorchModels({ force: Deno.args.includes("--force"), quiet: Deno.args.includes("--quiet") });
  } catch (e) {
    if (!(e instanceof TorchModelsError)) throw e;
    console.error(`torch-models: ${e.message}`);
    Deno.exit(1);
  }
}
