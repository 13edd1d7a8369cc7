/**
 * The PyTorch test models' index and cache key (see tasks/torch_models.ts), with no npm
 * dependency: tasks/setup.ts decides from it whether the models are stale before (and in the
 * same process as) `npm ci`, which Deno's module resolution would not see yet.
 * @module
 */
import { createHash } from "node:crypto";

const root = new URL("..", import.meta.url).pathname;
/** The generator script. */
export const GENERATOR = `${root}tasks/torch_models.py`;

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
