/**
 * The PyTorch test models of issue 12 (torchvision classifiers, segmentation, detection and
 * video models, LSTM/GRU and TransformerEncoder models with random weights): runs
 * tasks/torch_models.py with Debian's Python (the one that sees apt's python3-torch and
 * python3-torchvision), then computes onnxruntime's reference outputs (1 thread), all into
 * build/torch-models/ (not committed). Cached: it reruns only when the generator's hash or
 * reference format (tasks/_torch_models_index.ts) changes. `deno task setup` runs it (tasks/setup.ts installs the apt
 * packages); standalone:
 *
 *   deno run -A tasks/torch_models.ts [--force] [--quiet]
 *
 * Environment: OPML_TORCH_PYTHON (default /usr/bin/python3; pyenv's or a venv's python3 does
 * not see Debian's packages), OPML_TORCH_MODELS (default build/torch-models).
 * @module
 */
import { runOrt } from "../core/engine/ort.ts";
import { arrayFromBytes, bytesOf } from "../core/onnx/load.ts";
import { DType, shapeSize, type TensorValue } from "../core/ir/types.ts";
import {
  GENERATOR,
  readTorchModels,
  type TensorFile,
  type TorchModelIndex,
  torchModelsDir,
  TorchModelsError,
  torchModelsKey,
  torchPython,
} from "./_torch_models_index.ts";

export * from "./_torch_models_index.ts";

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

/** Removes the temporary folders of interrupted generations (one is ~2 GB). */
function removeInterrupted(dir: string): void {
  const parent = dir.slice(0, dir.slice(0, -1).lastIndexOf("/") + 1);
  const prefix = `${dir.slice(parent.length, -1)}.tmp-`;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(parent)];
  } catch {
    return; // no parent yet
  }
  for (const e of entries) {
    if (e.isDirectory && e.name.startsWith(prefix)) Deno.removeSync(parent + e.name, { recursive: true });
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
  removeInterrupted(dir);
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
