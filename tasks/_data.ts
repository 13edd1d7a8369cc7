/**
 * Where the shared test data lives (`shared/onnx`: conformance cases, models, MNIST digits),
 * used in place, never copied into the repo. It sits beside the checkout (`../shared`); a clone
 * elsewhere finds it through OPML_SHARED_DIR.
 * @module
 */

function isDir(p: string): boolean {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
}

function find(): string {
  const candidates = [
    Deno.env.get("OPML_SHARED_DIR"),
    new URL("../../shared/", import.meta.url).pathname,
  ].filter((c): c is string => !!c).map((c) => (c.endsWith("/") ? c : `${c}/`));
  for (const c of candidates) if (isDir(`${c}onnx`)) return `${c}onnx/`;
  throw new Error(`shared test data not found (tried ${candidates.join(", ")}); set OPML_SHARED_DIR`);
}

/** The `shared/onnx/` folder, with a trailing slash. */
export const SHARED_ONNX: string = find();
/** The `shared/onnx/models/` folder, with a trailing slash. */
export const SHARED_MODELS: string = `${SHARED_ONNX}models/`;
