/**
 * `opml compile` and `opml run` under bad input (issue 11), as a user runs them with the task's
 * permissions: every problem is one line on stderr naming it, with the documented exit code
 * (1 bad input, 2 bad usage or unsupported; a sequence or optional `.pb` where a tensor goes says
 * what it holds), never an internal error (70), and nothing already
 * written is lost or corrupted.
 *
 * Run: deno test -A tests/cli/model_bad_input.test.ts
 */
import onnxProto from "onnx-proto";
import { assert, assertEquals } from "../_assert.ts";
import { makeModel, type NodeSpec } from "../onnx/_make_model.ts";
import { assertOneLineError, opml, opmlOk } from "../_cli.ts";
import { SHARED } from "../onnx/_cases.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;
const tmp = Deno.makeTempDirSync({ prefix: "opml-bad-input-" });

/** Re-encodes a model after `edit` changed its decoded ModelProto. */
// deno-lint-ignore no-explicit-any
function patched(bytes: Uint8Array, edit: (m: any) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

function write(name: string, bytes: Uint8Array): string {
  Deno.writeFileSync(`${tmp}/${name}`, bytes);
  return `${tmp}/${name}`;
}

const W = Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) - 2);
const mlpBytes = makeModel({
  nodes: [
    { op: "Gemm", inputs: ["x", "W", "b"], outputs: ["h"] },
    { op: "Relu", inputs: ["h"], outputs: ["y"] },
  ],
  inputs: { x: ["batch", 4] },
  outputs: { y: ["batch", 3] },
  initializers: { W: { shape: [4, 3], data: W }, b: { shape: [3], data: [0.5, -1, 0.25] } },
});
const mlp = write("mlp.onnx", mlpBytes);
const x = `${tmp}/x.json`;
Deno.writeTextFileSync(x, JSON.stringify({ x: { shape: [1, 4], data: [1, 2, 3, 4] } }));

/** y = float(x) for an integer input x of the given ONNX dtype code. */
function castModel(elemType: number): Uint8Array {
  return patched(
    makeModel({
      nodes: [{ op: "Cast", inputs: ["x"], outputs: ["y"], attrs: { to: 1 } }],
      inputs: { x: [1, 4] },
      outputs: { y: [1, 4] },
    }),
    (m) => (m.graph.input[0].type.tensorType.elemType = elemType),
  );
}

/** The small model, compiled once (with batch = 1). */
let compiled: Promise<string> | undefined;
function mlpDir(): Promise<string> {
  compiled ??= opmlOk("compile", mlp, "-o", `${tmp}/mlp`, "--shape", "batch=1", "--no-fidelity").then(() =>
    `${tmp}/mlp`
  );
  return compiled;
}

/** A copy of the compiled small model, broken by `breakIt`. */
async function brokenCopy(name: string, breakIt: (dir: string) => void): Promise<string> {
  const src = await mlpDir();
  const dir = `${tmp}/${name}`;
  Deno.mkdirSync(dir);
  for (const e of Deno.readDirSync(src)) Deno.copyFileSync(`${src}/${e.name}`, `${dir}/${e.name}`);
  breakIt(dir);
  return dir;
}

Deno.test("run: JSON input values that are not the input's dtype are rejected, naming the input, element and range", async () => {
  for (const [elemType, dtype] of [[7, "int64"], [6, "int32"]] as const) {
    await opmlOk(
      "compile",
      write(`cast${dtype}.onnx`, castModel(elemType)),
      "-o",
      `${tmp}/cast${dtype}`,
      "--no-fidelity",
    );
  }
  const cases: [dir: string, data: unknown[], re: RegExp][] = [
    ["mlp", [1, "abc", 3, 4], /input 'x': element 1 is "abc", not a float number/],
    [
      "mlp",
      [1, 2, 1e39, 4],
      /input 'x': element 2 is 1e\+39, not a float number within \+-3\.4028234663852886e38/,
    ],
    [
      "castint64",
      [1, 2, 3, 1e30],
      /input 'x': element 3 is 1e\+30, not an integer in int64's range -9223372036854775808\.\.9223372036854775807/,
    ],
    [
      "castint64",
      ["12345678901234567890123", 0, 0, 0],
      /input 'x': element 0 is "12345678901234567890123", not an integer in int64's range/,
    ],
    [
      "castint64",
      [0, 2 ** 60, 0, 0],
      /element 1 is 11529215046068\d+, not an integer in int64's range .*write it as a decimal string/,
    ],
    [
      "castint32",
      [0, 0, 1.5, 0],
      /input 'x': element 2 is 1\.5, not an integer in int32's range -2147483648\.\.2147483647/,
    ],
    ["castint32", [0, 0, 0, 2 ** 31], /input 'x': element 3 is 2147483648, not an integer in int32's range/],
  ];
  await mlpDir();
  for (const [i, [dir, data, re]] of cases.entries()) {
    const f = `${tmp}/in-${i}.json`;
    Deno.writeTextFileSync(f, JSON.stringify({ x: { shape: [1, 4], data } }));
    assertOneLineError(await opml("run", `${tmp}/${dir}`, "-i", f), 1, re);
  }
  // what is exact still runs: int64 beyond 2^53 as a decimal string, float specials as words
  const big = `${tmp}/big64.json`;
  Deno.writeTextFileSync(
    big,
    JSON.stringify({ x: { shape: [1, 4], data: ["9223372036854775807", -3, 0, 7] } }),
  );
  const r = JSON.parse((await opmlOk("run", `${tmp}/castint64`, "-i", big, "--json")).stdout);
  assertEquals(r.outputs.y.data, [9223372036854775807, -3, 0, 7]);
});

Deno.test("run: a .pb input holding a SequenceProto or OptionalProto is one line saying so (exit 1)", async () => {
  const dir = await mlpDir();
  const data = (name: string, file: string) => `${SHARED}node-tests/${name}/test_data_set_0/${file}.pb`;
  const cases: [string, RegExp][] = [
    [
      data("test_identity_sequence", "input_0"),
      /: a SequenceProto 'x' of 2 tensors, not a TensorProto: opml takes tensors only$/,
    ],
    [
      data("test_optional_has_element_empty_optional_input", "input_0"),
      /: an empty SequenceProto or OptionalProto 'optional_input', not a TensorProto: opml takes tensors only$/,
    ],
  ];
  for (const [file, re] of cases) {
    const line = assertOneLineError(await opml("run", dir, "-i", `x=${file}`), 1, re);
    assert(line.startsWith(`opml: ${file}: `), line);
  }
});

Deno.test("compile: dimensions and sizes are checked before anything is written", async () => {
  assertOneLineError(
    await opml("compile", mlp, "-o", `${tmp}/huge`, "--shape", "batch=99999999999999999999"),
    2,
    /--shape batch=99999999999999999999: dimension 99999999999999999999 is over the limit of 2147483647/,
  );
  const tenG = write(
    "ten-g.onnx",
    makeModel({
      nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
      inputs: { x: [100000, 100000] },
      outputs: { y: [100000, 100000] },
    }),
  );
  assertOneLineError(
    await opml("compile", tenG, "-o", `${tmp}/ten-g`),
    1,
    /input 'x' float\[100000x100000\] takes 40000000000 bytes, over the limit of 1073741824 bytes per tensor/,
  );
  // small inputs, a product too large: the node and its output are named
  const outer = write(
    "outer.onnx",
    makeModel({
      nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
      inputs: { a: [100000, 1], b: [1, 100000] },
      outputs: { y: [100000, 100000] },
    }),
  );
  assertOneLineError(
    await opml("compile", outer, "-o", `${tmp}/outer`),
    1,
    /node 'n0' \(MatMul\): output 'y' float\[100000x100000\] takes 40000000000 bytes, over the limit/,
  );
  // a name defined twice (a graph input and a node's output): one line naming both, not a
  // program that fails at run time
  const twice = write(
    "twice.onnx",
    makeModel({
      nodes: [{ op: "Relu", inputs: ["x"], outputs: ["x"] }],
      inputs: { x: [1, 4] },
      outputs: { x: [1, 4] },
    }),
  );
  assertOneLineError(
    await opml("compile", twice, "-o", `${tmp}/twice`),
    2, // as for an input that is never produced: a graph the compiler cannot lower
    /node 'n0' \(Relu\): output 'x' is already defined \(a graph input, an initializer or another node's output\)/,
  );
  for (const d of ["huge", "ten-g", "outer", "twice"]) {
    assert(!exists(`${tmp}/${d}`), `${d}: nothing written`);
  }
});

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("compile: opset 99, an onnxruntime failure, unknown rank, bad --samples: one line; an existing model directory survives", async () => {
  const good = await brokenCopy("survivor", () => {});
  const before = snapshot(good);
  const op99 = write("op99.onnx", patched(mlpBytes, (m) => (m.opsetImport[0].version = 99)));
  assertOneLineError(
    await opml("compile", op99, "-o", good, "--shape", "batch=1"),
    2,
    /the model imports opset 99 of the default ONNX domain; opml supports opsets 1 to 26/,
  );
  // onnxruntime refuses the model (IR version 99) in the fidelity report, before anything is written
  const ir99 = write("ir99.onnx", patched(mlpBytes, (m) => (m.irVersion = 99)));
  assertOneLineError(
    await opml("compile", ir99, "-o", good, "--shape", "batch=1"),
    1,
    /^opml: onnxruntime cannot load \S*ir99\.onnx: .*IR version/i,
  );
  assertEquals(snapshot(good), before, "the directory is as it was");
  // the same model without the report compiles; the onnxruntime engine then fails in one line
  await opmlOk("compile", ir99, "-o", `${tmp}/ir99`, "--shape", "batch=1", "--no-fidelity");
  assertOneLineError(
    await opml("run", `${tmp}/ir99`, "-i", x, "--engine", "ort"),
    1,
    /^opml: onnxruntime cannot load \S*ir99\.onnx: .*IR version/i,
  );
  // onnxruntime's own log lines (a coloured warning for an unused initializer) stay silent
  const unused = write(
    "unused.onnx",
    makeModel({
      nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
      inputs: { x: [1, 4] },
      outputs: { y: [1, 4] },
      initializers: { U: { shape: [2], data: [1, 2] } },
    }),
  );
  await opmlOk("compile", unused, "-o", `${tmp}/unused`, "--no-fidelity");
  const quiet = await opmlOk("run", `${tmp}/unused`, "-i", x, "--engine", "ort", "--json");
  assertEquals(quiet.stderr, "");
  assertEquals(JSON.parse(quiet.stdout).outputs.y.data, [1, 2, 3, 4]);
  // an input without any shape is not a scalar: its shape must be given
  const noShape = write(
    "no-shape.onnx",
    patched(
      makeModel({
        nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
        inputs: { x: [2, 3] },
        outputs: { y: [2, 3] },
      }),
      (m) => delete m.graph.input[0].type.tensorType.shape,
    ),
  );
  assertOneLineError(
    await opml("compile", noShape, "-o", `${tmp}/no-shape`),
    2,
    /input 'x' has no shape in the model \(its rank is unknown\): give it with --shape x=DIMS/,
  );
  const c = JSON.parse(
    (await opmlOk("compile", noShape, "-o", `${tmp}/no-shape`, "--shape", "x=2x3", "--json")).stdout,
  );
  assertEquals(c.inputs, [{ name: "x", dtype: "float", shape: [2, 3] }]);
  // --samples: a count of at least one
  assertOneLineError(
    await opml("compile", mlp, "-o", `${tmp}/s0`, "--shape", "batch=1", "--samples", "0"),
    2,
    /--samples must be from 1 to 1000, got 0 \(no fidelity report: --no-fidelity\)/,
  );
  assertOneLineError(
    await opml("compile", mlp, "-o", `${tmp}/s0`, "--shape", "batch=1", "--samples", "abc"),
    2,
    /--samples must be a non-negative integer, got 'abc'/,
  );
  assert(!exists(`${tmp}/s0`));
  // --json: one JSON document on stdout, with the report of the samples asked for
  const j = JSON.parse(
    (await opmlOk("compile", mlp, "-o", `${tmp}/j`, "--shape", "batch=1", "--samples", "3", "--json")).stdout,
  );
  assertEquals(j.fidelity.samples, 3);
  assertEquals(JSON.parse(Deno.readTextFileSync(`${tmp}/j/manifest.json`)).fidelity, j.fidelity);
});

/** Every file of a directory with its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    out[e.name] = Array.from(Deno.readFileSync(`${dir}/${e.name}`), (b) => b.toString(16)).join("");
  }
  return out;
}

Deno.test("compile: -o an existing file, under a file, or over the source model: refused, nothing overwritten", async () => {
  const file = `${tmp}/a-file`;
  Deno.writeTextFileSync(file, "keep me");
  assertOneLineError(
    await opml("compile", mlp, "-o", file, "--shape", "batch=1"),
    1,
    /-o \S*a-file: exists and is not a directory/,
  );
  assertOneLineError(
    await opml("compile", mlp, "-o", `${file}/out`, "--shape", "batch=1"),
    1,
    /a-file\/out: a parent is not a directory/,
  );
  assertEquals(Deno.readTextFileSync(file), "keep me");
  // a source model named like a file of the directory (`model`), compiled into its own folder
  Deno.mkdirSync(`${tmp}/src`);
  const src = `${tmp}/src/model`;
  Deno.writeFileSync(src, mlpBytes);
  for (const out of [`${tmp}/src`, `${tmp}/src/`, `${tmp}/src/../src`]) {
    assertOneLineError(
      await opml("compile", src, "-o", out, "--shape", "batch=1"),
      1,
      /writes \S*src\/model, which is the source model \S*src\/model: choose another output directory/,
    );
  }
  assertEquals([...Deno.readFileSync(src)], [...mlpBytes], "the source model is intact");
  assertEquals([...Deno.readDirSync(`${tmp}/src`)].map((e) => e.name), ["model"]);
});

Deno.test("run: a broken model directory is one line naming the file, never an internal error", async () => {
  const manifest = (dir: string, edit: (m: Record<string, unknown>) => void) => {
    const m = JSON.parse(Deno.readTextFileSync(`${dir}/manifest.json`));
    edit(m);
    Deno.writeTextFileSync(`${dir}/manifest.json`, JSON.stringify(m));
  };
  const cases: [string, (dir: string) => void, string, RegExp][] = [
    [
      "no-native",
      (d) => Deno.removeSync(`${d}/model`),
      "native",
      /no-native\/model: no such file \(the native runner\)/,
    ],
    [
      "no-elf",
      (d) => Deno.removeSync(`${d}/model.elf`),
      "vm",
      /no-elf\/model\.elf: no such file \(the MIPS image\)/,
    ],
    [
      "swapped-elf",
      (d) => Deno.copyFileSync(`${d}/check.elf`, `${d}/model.elf`),
      "vm",
      /swapped-elf\/model\.elf: initial VM state 0x03\w+, not the manifest's 0x03\w+ \(the image was replaced\)/,
    ],
    ["no-files", (d) => manifest(d, (m) => delete m.files), "native", /manifest\.json: no 'files'/],
    [
      "not-json",
      (d) => Deno.writeTextFileSync(`${d}/manifest.json`, "[1,"),
      "native",
      /manifest\.json: not valid JSON/,
    ],
    [
      "array",
      (d) => Deno.writeTextFileSync(`${d}/manifest.json`, "[1]"),
      "native",
      /manifest\.json: not a JSON object/,
    ],
    [
      "short-program",
      (d) => Deno.writeFileSync(`${d}/program.opir`, Deno.readFileSync(`${d}/program.opir`).slice(0, 40)),
      "native",
      /program\.opir: does not match the manifest's model commitment/,
    ],
    [
      "short-weights",
      (d) => Deno.writeFileSync(`${d}/weights.bin`, Deno.readFileSync(`${d}/weights.bin`).slice(0, 100)),
      "native",
      /weights\.bin: truncated \(100 bytes, constant 'b' needs 12 bytes at 64\)/,
    ],
    [
      "long-weights",
      (d) =>
        Deno.writeFileSync(
          `${d}/weights.bin`,
          new Uint8Array([...Deno.readFileSync(`${d}/weights.bin`), 0, 0]),
        ),
      "native",
      /weights\.bin: 2 extra bytes/,
    ],
    [
      "bad-external-data",
      (d) =>
        manifest(
          d,
          (
            m,
          ) => ((m.source as Record<string, unknown>).externalData = [{
            name: "../x.data",
            size: 1,
            sha256: "00",
          }]),
        ),
      "native",
      /manifest\.json: 'source\.externalData' is not a list of files \(name inside the model's folder, size, sha256\)/,
    ],
    [
      "moved-source",
      (d) => manifest(d, (m) => ((m.source as { file: string }).file = `${tmp}/moved.onnx`)),
      "ort",
      /source model \S*moved\.onnx \(recorded in \S*manifest\.json\): no such file; it was moved or deleted/,
    ],
    [
      "replaced-source",
      (d) =>
        manifest(
          d,
          (
            m,
          ) => ((m.source as { file: string }).file = write(
            "other.onnx",
            new Uint8Array([...mlpBytes, 0x10, 0x01]),
          )),
        ),
      "ort",
      /source model \S*other\.onnx: sha256 [0-9a-f]{64}, not [0-9a-f]{64} as compiled .*replaced since opml compile/,
    ],
  ];
  for (const [name, breakIt, engine, re] of cases) {
    const dir = await brokenCopy(name, breakIt);
    assertOneLineError(await opml("run", dir, "-i", x, "--engine", engine), 1, re);
  }
});

Deno.test("compile: sequence and optional inputs and outputs: one line naming the value, its type and the operator (exit 2), nothing written", async () => {
  const tensorType = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }] } } };
  type Shapes = Record<string, number[]>;
  const cases: {
    name: string;
    node: NodeSpec;
    inputs: Shapes;
    outputs: Shapes;
    // deno-lint-ignore no-explicit-any
    edit: (m: any) => void;
    error: RegExp;
  }[] = [
    // SequenceAt(s, i): the input 's' declared a sequence of float tensors
    {
      name: "seq_in",
      node: { op: "SequenceAt", inputs: ["s", "i"], outputs: ["y"] },
      inputs: { s: [4], i: [] },
      outputs: { y: [4] },
      edit: (m) => (m.graph.input[0].type = { sequenceType: { elemType: tensorType } }),
      error:
        /^opml: input 's' is a sequence of tensors: sequence types are not supported \(operator SequenceAt, node 'n0'\)$/,
    },
    // OptionalHasElement(o): an optional tensor input
    {
      name: "opt_in",
      node: { op: "OptionalHasElement", inputs: ["o"], outputs: ["y"] },
      inputs: { o: [4] },
      outputs: { y: [] },
      edit: (m) => (m.graph.input[0].type = { optionalType: { elemType: tensorType } }),
      error:
        /^opml: input 'o' is an optional tensor: optional types are not supported \(operator OptionalHasElement, node 'n0'\)$/,
    },
    // SplitToSequence(x): the graph output is a sequence
    {
      name: "seq_out",
      node: { op: "SplitToSequence", inputs: ["x"], outputs: ["s"] },
      inputs: { x: [4] },
      outputs: { s: [1] },
      edit: (m) => (m.graph.output[0].type = { sequenceType: { elemType: tensorType } }),
      error:
        /^opml: output 's' is a sequence of tensors: sequence types are not supported \(operator SplitToSequence, node 'n0'\)$/,
    },
  ];
  for (const c of cases) {
    const file = write(
      `${c.name}.onnx`,
      patched(makeModel({ nodes: [c.node], inputs: c.inputs, outputs: c.outputs }), c.edit),
    );
    assertOneLineError(await opml("compile", file, "-o", `${tmp}/${c.name}`, "--no-fidelity"), 2, c.error);
    assertEquals([...Deno.readDirSync(tmp)].some((e) => e.name === c.name), false, `${c.name} was written`);
  }
});
