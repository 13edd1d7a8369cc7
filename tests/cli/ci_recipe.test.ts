/**
 * The pipeline recipe of docs/CI.md, run exactly as documented: the install block (with
 * `DENO_INSTALL_ROOT` in a temporary folder), then the recipe block with bash, in a folder
 * outside the checkout, on mnist-cnn. Every `--json` file must be one JSON document (nothing
 * else on stdout), the native and VM keys equal, the challenge must find the tampered node and
 * the proof must be of the disputed step.
 */
import { assert, assertEquals } from "../_assert.ts";
import { SHARED_MODELS } from "../../tasks/_data.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** The fenced `sh` blocks of docs/CI.md, in order. */
function shBlocks(): string[] {
  const doc = Deno.readTextFileSync(`${root}/docs/CI.md`);
  return [...doc.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** mnist-cnn's first test digit as a JSON input file. */
function digitJson(path: string): void {
  const bin = Deno.readFileSync(`${SHARED_MODELS}mnist-cnn/test_data_set_0/input_Input3.bin`);
  const data = Array.from(new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4));
  Deno.writeTextFileSync(path, JSON.stringify({ Input3: { shape: [1, 1, 28, 28], dtype: "float32", data } }));
}

async function bash(script: string, cwd: string, env: Record<string, string>) {
  const r = await new Deno.Command("bash", { args: ["-c", script], cwd, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

Deno.test("docs/CI.md: the pipeline recipe with an installed opml, from a folder outside the checkout", async () => {
  const blocks = shBlocks();
  assertEquals(blocks.length, 2, "docs/CI.md has the install block and the recipe block");
  const tmp = Deno.makeTempDirSync({ prefix: "opml-ci-recipe-" });
  assert(!tmp.startsWith(root + "/"), "the pipeline folder is outside the checkout");
  const installRoot = `${tmp}/deno-root`;
  const work = `${tmp}/pipeline`;
  Deno.mkdirSync(work);
  const env = {
    OPML_CHECKOUT: root,
    DENO_INSTALL_ROOT: installRoot,
    PATH: `${installRoot}/bin:${Deno.env.get("PATH")}`,
    NO_COLOR: "1",
  };
  try {
    const install = await bash(blocks[0], work, env);
    assertEquals(install.code, 0, `install block failed:\n${install.stderr}`);
    assert(Deno.statSync(`${installRoot}/bin/opml`).isFile, "opml is installed");

    digitJson(`${work}/input.json`);
    const recipe = await bash(blocks[1], work, {
      ...env,
      MODEL: `${SHARED_MODELS}mnist-cnn/mnist-12.onnx`,
      INPUT: "input.json",
    });
    assertEquals(recipe.code, 0, `recipe failed:\n${recipe.stderr}`);

    const read = (f: string) => JSON.parse(Deno.readTextFileSync(`${work}/${f}`));
    const compile = read("compile.json");
    const manifest = read("model/manifest.json");
    assertEquals(compile.modelCommitment, manifest.modelCommitment);
    assertEquals(compile.nodes, 11);
    const keys = (f: string) =>
      Object.values(read(f).outputs as Record<string, { key: string }>).map((o) => o.key);
    assertEquals(keys("native.json"), keys("vm.json"));
    assert(keys("native.json")[0].startsWith("0x"), "outputs carry data keys");
    assert(read("vm.json").steps > 0, "the VM run reports its steps");
    assertEquals(read("roots.json").phase, 1);
    const challenge = read("challenge.json");
    assertEquals(challenge.dispute, true);
    assertEquals(challenge.node, 10);
    const proof = read("proof.json");
    assertEquals(proof.node, 10);
    assertEquals(proof.step, challenge.step);

    // the VM commands' --json on the compiled image: one document on stdout
    for (
      const args of [["vm", "state", "model/model.elf", "--at", "200"], [
        "prove",
        "model/model.elf",
        "--step",
        "5",
      ]]
    ) {
      const r = await bash(`opml ${args.join(" ")} --json`, work, env);
      assertEquals(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assertEquals(typeof doc.step, "number");
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
