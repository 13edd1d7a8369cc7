/**
 * ONNX external data (tasks/gen_transformer.ts --external-data, core/onnx/load.ts): the small
 * synthetic transformer written with its weights in a side file compiles to the same program
 * (model commitment) as the same model with embedded weights, its native logits match
 * onnxruntime reading the external data itself; bad external data (a location outside the
 * model's folder, a symbolic link out of it, a missing or short file, a wrong length) is a
 * one-line error naming the tensor, exit code 1, and nothing is written. The manifest records
 * the data file's size and sha256; a data file changed after compiling (one byte, truncated,
 * deleted) is a one-line error naming it before onnxruntime runs the source model.
 */
import onnxProto from "onnx-proto";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { assertOneLineError, exists, opml, opmlOk } from "../_cli.ts";
import { loadModelDir, ModelDirError, sourceModel } from "../../core/compiler/mod.ts";
import { runNative, runOrt } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { genTransformer, GPT2_SMALL, writeTransformer } from "../../tasks/gen_transformer.ts";
import { compareOutput } from "./_cases.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

const SMALL = { ...GPT2_SMALL, layers: 2, dim: 64, heads: 4, ff: 256, vocab: 500, ctx: 8, seed: 7 };

const IDS: TensorValue = {
  dtype: DType.int64,
  shape: [1, SMALL.ctx],
  data: BigInt64Array.from([17, 3, 499, 0, 256, 42, 42, 101].map(BigInt)),
};

Deno.test("external data: gen_transformer writes it deterministically; compiles like the embedded model; native vs onnxruntime", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-external-" });
  try {
    const w = writeTransformer(SMALL, `${tmp}/ext.onnx`, true);
    assert(w.external && w.external.bytes > 500_000, "weights in the side file");
    assert(w.modelBytes < 64 * 1024, `the model file holds the graph only: ${w.modelBytes} bytes`);
    const model = onnx.ModelProto.decode(Deno.readFileSync(`${tmp}/ext.onnx`));
    // deno-lint-ignore no-explicit-any
    const wte = model.graph.initializer.find((t: any) => t.name === "wte");
    assertEquals(wte.dataLocation, 1);
    // deno-lint-ignore no-explicit-any
    const entries = Object.fromEntries(wte.externalData.map((e: any) => [e.key, e.value]));
    assertEquals(entries.location, "ext.onnx.data");
    assertEquals(Number(entries.length), SMALL.vocab * SMALL.dim * 4);
    assertEquals(Number(entries.offset) % 4096, 0);
    writeTransformer(SMALL, `${tmp}/again.onnx`, true);
    assertEquals(Deno.readFileSync(`${tmp}/again.onnx.data`), Deno.readFileSync(`${tmp}/ext.onnx.data`));

    Deno.writeFileSync(`${tmp}/embedded.onnx`, genTransformer(SMALL));
    await opmlOk("compile", `${tmp}/ext.onnx`, "-o", `${tmp}/m-ext`, "--no-fidelity");
    await opmlOk("compile", `${tmp}/embedded.onnx`, "-o", `${tmp}/m-emb`, "--no-fidelity");
    const ext = loadModelDir(`${tmp}/m-ext`), emb = loadModelDir(`${tmp}/m-emb`);
    assertEquals(
      ext.manifest.modelCommitment,
      emb.manifest.modelCommitment,
      "same program, same weight keys",
    );
    assertEquals(
      Deno.readFileSync(`${tmp}/m-ext/weights.bin`),
      Deno.readFileSync(`${tmp}/m-emb/weights.bin`),
    );

    const [y] = (await runNative(ext.native, ext.prog, [IDS])).outputs;
    const ref = (await runOrt(`${tmp}/ext.onnx`, { input_ids: IDS })).outputs.logits;
    const err = compareOutput(y, ref, "logits vs onnxruntime (external data)", 1e-3, 1e-3);
    assert(err === undefined, err);

    // the manifest covers the data file: its name, size and sha256 (the embedded model has none)
    const data = Deno.readFileSync(`${tmp}/ext.onnx.data`);
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", data)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    assertEquals(ext.manifest.source.externalData, [{
      name: "ext.onnx.data",
      size: data.length,
      sha256: digest,
    }]);
    assertEquals(emb.manifest.source.externalData, undefined);
    assertEquals(sourceModel(ext), `${tmp}/ext.onnx`);
    // one changed byte of the data (same size) is caught before onnxruntime reads it, in one line
    // naming the file; so is a truncated file
    const x = `${tmp}/ids.json`;
    Deno.writeTextFileSync(
      x,
      JSON.stringify({ input_ids: { shape: IDS.shape, dtype: "int64", data: [...IDS.data].map(Number) } }),
    );
    await opmlOk("run", `${tmp}/m-ext`, "-i", x, "--engine", "ort", "--json");
    const flipped = data.slice();
    flipped[data.length >> 1] ^= 1;
    Deno.writeFileSync(`${tmp}/ext.onnx.data`, flipped);
    assertOneLineError(
      await opml("run", `${tmp}/m-ext`, "-i", x, "--engine", "ort"),
      1,
      new RegExp(
        `${tmp}/ext\\.onnx\\.data \\(the external data of source model .*\\): sha256 [0-9a-f]{64}, not ${digest} as compiled: it was changed since opml compile`,
      ),
    );
    Deno.writeFileSync(`${tmp}/ext.onnx.data`, data.subarray(0, data.length - 1));
    assertThrows(
      () => sourceModel(ext),
      ModelDirError,
      /ext\.onnx\.data \(the external data of source model/,
    );
    assertThrows(
      () => sourceModel(ext),
      ModelDirError,
      new RegExp(`${data.length - 1} bytes, not ${data.length} as compiled`),
    );
    Deno.removeSync(`${tmp}/ext.onnx.data`);
    assertThrows(
      () => sourceModel(ext),
      ModelDirError,
      /no such file; it was moved or deleted since opml compile/,
    );
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("external data: bad locations, missing or short files are one-line errors naming the tensor", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-external-bad-" });
  try {
    Deno.mkdirSync(`${tmp}/m`);
    writeTransformer(SMALL, `${tmp}/m/t.onnx`, true);
    const good = onnx.ModelProto.decode(Deno.readFileSync(`${tmp}/m/t.onnx`));
    /** The model with wte's external data entries changed, written as m/NAME.onnx. */
    const variant = (name: string, set: Record<string, string>): string => {
      const m = onnx.ModelProto.decode(onnx.ModelProto.encode(good).finish());
      // deno-lint-ignore no-explicit-any
      const wte = m.graph.initializer.find((t: any) => t.name === "wte");
      // deno-lint-ignore no-explicit-any
      const entries = new Map(wte.externalData.map((e: any) => [e.key, e.value]));
      for (const [k, v] of Object.entries(set)) entries.set(k, v);
      wte.externalData = [...entries].map(([key, value]) => ({ key, value }));
      const path = `${tmp}/m/${name}.onnx`;
      Deno.writeFileSync(path, onnx.ModelProto.encode(m).finish());
      return path;
    };
    const size = Deno.statSync(`${tmp}/m/t.onnx.data`).size;
    Deno.writeFileSync(`${tmp}/outside.data`, Deno.readFileSync(`${tmp}/m/t.onnx.data`));
    Deno.symlinkSync(`${tmp}/outside.data`, `${tmp}/m/link.data`);
    Deno.writeFileSync(`${tmp}/m/short.data`, Deno.readFileSync(`${tmp}/m/t.onnx.data`).subarray(0, 1000));
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        "parent",
        { location: "../outside.data" },
        /tensor 'wte': external data location '\.\.\/outside\.data' is outside the model's folder/,
      ],
      [
        "absolute",
        { location: `${tmp}/outside.data` },
        /tensor 'wte': external data location '\/.*' is outside the model's folder/,
      ],
      [
        "symlink",
        { location: "link.data" },
        /tensor 'wte': external data .*link\.data leads outside the model's folder/,
      ],
      ["missing", { location: "nothing.data" }, /tensor 'wte': external data .*nothing\.data: no such file/],
      [
        "short",
        { location: "short.data" },
        /tensor 'wte': external data .*short\.data has 1000 bytes, fewer than offset \d+ \+ length 128000/,
      ],
      [
        "beyond",
        { offset: String(size) },
        /tensor 'wte': external data .*t\.onnx\.data has \d+ bytes, fewer than offset/,
      ],
      [
        "length",
        { length: "12" },
        /tensor 'wte': external data length 12, but the tensor takes 128000 bytes/,
      ],
      ["offset", { offset: "-4" }, /tensor 'wte': external data offset '-4' is not a byte count/],
    ];
    for (const [name, set, re] of cases) {
      const path = variant(name, set);
      const out = `${tmp}/out-${name}`;
      const r = await opml("compile", path, "-o", out, "--no-fidelity");
      assertOneLineError(r, 1, re);
      assert(!exists(out), `${name}: nothing written`);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
