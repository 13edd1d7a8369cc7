/**
 * The operator schema (core/compiler/ops/schema.ts) is the one source of op codes: the generated
 * core/kernels/ops.h is current, every C kernel table entry names its schema op by its generated
 * constant, and no code of a released operator ever changed.
 */
import { assert, assertEquals } from "../_assert.ts";
import { cOpName, FAMILIES, type Family, OP_SCHEMA, type OpSchema } from "../../core/compiler/ops/schema.ts";
import { OPS_HEADER, renderOpsHeader } from "../../tasks/gen_ops.ts";

const kernelsDir = new URL("../../core/kernels/", import.meta.url);
const families = Object.keys(FAMILIES) as Family[];
const schemaOf = (f: Family) => OP_SCHEMA[f] as Record<string, OpSchema>;

Deno.test("ops schema: core/kernels/ops.h is what tasks/gen_ops.ts generates", () => {
  assert(
    Deno.readTextFileSync(OPS_HEADER) === renderOpsHeader(),
    "core/kernels/ops.h is stale: run deno run --allow-read --allow-write tasks/gen_ops.ts",
  );
});

Deno.test("ops schema: the codes of released operators never change", () => {
  // The op codes of the programs already compiled (version 1 of the encoding): frozen.
  const released: Record<string, number> = {
    Add: 1,
    Sub: 2,
    Mul: 3,
    Div: 4,
    Pow: 5,
    Equal: 6,
    Where: 7,
    Relu: 10,
    LeakyRelu: 11,
    Clip: 12,
    Sigmoid: 13,
    Tanh: 14,
    Exp: 15,
    Erf: 16,
    Sqrt: 17,
    Gelu: 18,
    Cast: 20,
    MatMul: 100,
    Gemm: 101,
    Conv: 102,
    MaxPool: 103,
    AveragePool: 104,
    GlobalAveragePool: 105,
    BatchNormalization: 106,
    LayerNormalization: 107,
    Softmax: 108,
    LogSoftmax: 109,
    ReduceMean: 110,
    Copy: 200,
    Transpose: 201,
    Concat: 202,
    Gather: 203,
    Slice: 204,
    Split: 205,
    Pad: 206,
    Expand: 207,
    ConstantOfShape: 208,
    Shape: 209,
    QuantizeLinear: 300,
    DequantizeLinear: 301,
    MatMulInteger: 302,
    QLinearMatMul: 303,
    QLinearConv: 304,
    QLinearAdd: 305,
  }; // deno-fmt-ignore
  const all = Object.fromEntries(families.flatMap((f) => Object.entries(schemaOf(f)).map(([n, s]) => [n, s.code])));
  for (const [name, code] of Object.entries(released)) assertEquals(all[name], code, name);
});

Deno.test("ops schema: codes are unique and inside their family's range", () => {
  const seen = new Map<number, string>();
  for (const f of families) {
    for (const [name, s] of Object.entries(schemaOf(f))) {
      assert(s.code >= FAMILIES[f].first && s.code <= FAMILIES[f].last, `${name}: ${s.code} outside ${f}`);
      assert(!seen.has(s.code), `${name} and ${seen.get(s.code)} share op code ${s.code}`);
      seen.set(s.code, name);
      assert(s.doc.length > 0, `${name} has no layout doc`);
    }
  }
});

Deno.test("ops schema: every C kernel table entry is its family's schema op, and no C file keeps codes", () => {
  for (const f of families) {
    const src = Deno.readTextFileSync(new URL(FAMILIES[f].c, kernelsDir));
    const entries = [...src.matchAll(/\{(OP_\w+), "(\w+)", \w+\}/g)].map((m) => [m[2], m[1]]);
    assertEquals(
      entries.map(([n]) => n).sort(),
      Object.keys(schemaOf(f)).sort(),
      `${FAMILIES[f].c}'s kernel table`,
    );
    for (const [name, ident] of entries) assertEquals(ident, cOpName(name), `${FAMILIES[f].c}: ${name}`);
  }
  for (const e of Deno.readDirSync(kernelsDir)) {
    if (!e.name.endsWith(".c") && !(e.name.endsWith(".h") && e.name !== "ops.h")) continue;
    const src = Deno.readTextFileSync(new URL(e.name, kernelsDir));
    const kept = [...src.matchAll(/\b(OP_[A-Z_0-9]+)\s*=\s*\d+/g)].map((m) => m[1]);
    assertEquals(kept, [], `${e.name} defines op codes by hand`);
  }
});
