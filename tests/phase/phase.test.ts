/**
 * Multi-phase commitments (docs/MULTIPHASE.md) on the real models: the native runtime's phase-1
 * states against an independent TypeScript computation (core/vm/oracle.ts keys), and the
 * transition checker (phase 2) in the project's VM and under qemu-mips, honest against tampered
 * (`--tamper`, a dishonest server).
 *
 * Run: deno test -A tests/phase/phase.test.ts
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph } from "../../core/compiler/mod.ts";
import {
  type CheckerData,
  checkerLocals,
  checkerPreimages,
  encodeRecords,
  keyOfKeys,
  nativeCheckerData,
  resultState,
  runCheck,
  runNative,
  stateHash,
  taskState,
  tensorKey,
} from "../../core/engine/mod.ts";
import { arrayFromBytes, decodeModel } from "../../core/onnx/mod.ts";
import { DType, dtypeSize, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import { keyHex, merkleDataKey } from "../../core/vm/oracle.ts";
import { compileCase, loadCase, SHARED } from "../onnx/_cases.ts";

const MODELS = `${SHARED}models`;
const runtime = buildRuntime();
const checkImage = runtime.then((rt) => Deno.readFileSync(rt.check));

function compile(file: string, shapes: Record<string, number[]> = {}) {
  return assemble(compileGraph(decodeModel(Deno.readFileSync(`${MODELS}/${file}`), file), { shapes }));
}

function f32(path: string, shape: number[], bytes = Deno.readFileSync(path)): TensorValue {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: DType.float32, shape, data: arrayFromBytes(DType.float32, bytes.subarray(0, 4 * n), n) };
}

type Prog = ReturnType<typeof compile>;
interface Model {
  name: string;
  prog: Prog;
  inputs: TensorValue[];
}

const MODELS_UNDER_TEST: Model[] = [
  {
    name: "mnist-mlp",
    prog: compile("mnist-mlp/mnist-mlp.onnx", { batch: [1] }),
    inputs: [f32(`${MODELS}/mnist-mlp/test_data_set_0/input_input.bin`, [1, 784])],
  },
  {
    name: "mnist-cnn",
    prog: compile("mnist-cnn/mnist-12.onnx"),
    inputs: [f32(`${MODELS}/mnist-cnn/test_data_set_0/input_Input3.bin`, [1, 1, 28, 28])],
  },
  {
    name: "stories260K",
    prog: compile("stories260K-llama/stories260K.onnx", { seq: [49] }),
    inputs: [{
      dtype: DType.int64,
      shape: [1, 49],
      data: arrayFromBytes(
        DType.int64,
        Deno.readFileSync(`${MODELS}/stories260K-llama/test_data_set_0/input_tokens.bin`),
        49,
      ),
    }],
  },
];

const hex = (b: Uint8Array) => keyHex(b);

/**
 * The node indices a dispute may land on that the tests sample: the output transition (first:
 * it runs no node, so its memory is the checker's fixed part), then the first, a middle and the
 * last node.
 */
function sampled(n: number): number[] {
  return [...new Set([n + 1, 1, Math.ceil(n / 2), n])];
}

/** Bytes of the tensors node k (1-based) reads and writes. */
function nodeBytes(prog: Prog, k: number): number {
  const p = prog.program;
  const nd = p.nodes[k - 1];
  const ids = new Set([...nd.inputs.filter((t): t is number => t !== null), ...nd.outputs]);
  return [...ids].reduce((s, t) => s + shapeSize(p.tensors[t].shape) * dtypeSize(p.tensors[t].dtype), 0);
}

/** States of honest and tampered native runs, per model (computed once). */
const runs = new Map<string, Promise<{ honest: Uint8Array[]; outputs: TensorValue[] }>>();
function honestRun(m: Model) {
  if (!runs.has(m.name)) {
    runs.set(
      m.name,
      runtime.then(async (rt) => {
        const r = await runNative(rt.native, m.prog, m.inputs, { states: true });
        return { honest: r.states!, outputs: r.outputs };
      }),
    );
  }
  return runs.get(m.name)!;
}

/**
 * Checks table_a (from the native runtime) in TypeScript: it hashes to S_a (a > 0); constants and
 * inputs hold their keys, activations produced by nodes 1..a are set and the others are zero;
 * the dumped activations hash to their entries.
 */
function checkTable(m: Model, a: number, data: CheckerData, sa: Uint8Array) {
  const p = m.prog.program;
  if (a > 0) { // S_0 commits to the input key instead (table_0 follows from it and the program)
    assertEquals(
      hex(stateHash(m.prog.key, a, merkleDataKey(data.table))),
      hex(sa),
      `table_${a} does not hash to S_${a}`,
    );
  }
  const produced = new Set(p.nodes.slice(0, a).flatMap((n) => n.outputs));
  const entry = (t: number) => data.table.subarray(32 * t, 32 * t + 32);
  p.tensors.forEach((t, i) => {
    if (t.kind === "constant") assertEquals(hex(entry(i)), hex(merkleDataKey(t.data!)), `constant ${i}`);
    else if (t.kind === "input") {
      assertEquals(hex(entry(i)), hex(tensorKey(m.inputs[p.inputs.indexOf(i)])), `input ${i}`);
    } else {assertEquals(
        entry(i).some((b) => b !== 0),
        produced.has(i),
        `activation ${i} (${t.name}) after node ${a}`,
      );}
  });
  for (const [t, bytes] of data.tensors) {
    assertEquals(hex(merkleDataKey(bytes)), hex(entry(t)), `dumped tensor ${t}`);
  }
}

for (const m of MODELS_UNDER_TEST) {
  const n = m.prog.program.nodes.length;

  Deno.test(`${m.name}: native states are deterministic, deferred = node by node; S_0 and S_(N+1) match TypeScript; --tamper`, async () => {
    const rt = await runtime;
    const { honest, outputs } = await honestRun(m);
    assertEquals(honest.length, n + 2);
    const again = (await runNative(rt.native, m.prog, m.inputs, { states: true })).states!;
    assertEquals(again.map(hex), honest.map(hex), "two runs give different states");
    assertEquals(new Set(honest.map(hex)).size, n + 2, "states repeat");
    assert(honest.every((s) => s[0] === 2), "a state is not a keccak key (type 2)");
    assertEquals(hex(honest[0]), hex(taskState(m.prog, m.inputs)), "S_0");
    assertEquals(hex(honest[n + 1]), hex(resultState(m.prog, outputs)), "S_(N+1)");
    // the output key is the key of the outputs' keys: the reference values of the bytes
    assertEquals(
      hex(honest[n + 1]),
      hex(stateHash(m.prog.key, n + 1, keyOfKeys(outputs.map(tensorKey)))),
    );
    // the table's paths rehashed after the run (eight pairs at a time) against node by node
    const serial =
      (await runNative(rt.native, m.prog, m.inputs, { states: true, env: { OPML_STATES: "serial" } }))
        .states!;
    assertEquals(honest.map(hex), serial.map(hex), "deferred states differ from node-by-node ones");
    const k = Math.ceil(n / 2);
    const bad = (await runNative(rt.native, m.prog, m.inputs, { states: true, tamper: k })).states!;
    for (let i = 0; i <= n; i++) {
      assertEquals(hex(bad[i]) === hex(honest[i]), i < k, `tampered node ${k}: S_${i}`);
    }
  });

  Deno.test(`${m.name}: the checker in the VM accepts the honest S_k and rejects a tampered one`, async () => {
    const rt = await runtime;
    const image = await checkImage;
    const { honest } = await honestRun(m);
    let fixed = 0; // VM memory of the checker that runs no node: image, program, table
    for (const k of sampled(n)) {
      const data = await nativeCheckerData(rt.native, m.prog, m.inputs, k - 1, k);
      const pre = checkerPreimages(m.prog, m.inputs, k - 1, k, data);
      assertEquals(hex(pre.sa), hex(honest[k - 1]), `S_${k - 1} from the checker's data`);
      checkTable(m, k - 1, data, honest[k - 1]);
      // the dishonest server flips a bit of node k's output (for k = N + 1: of the last node)
      const tamper = Math.min(k, n);
      const bad = (await runNative(rt.native, m.prog, m.inputs, { states: true, tamper })).states!;
      assert(hex(bad[k]) !== hex(honest[k]), `--tamper ${tamper} leaves S_${k} unchanged`);
      const good = runCheck(image, pre, honest[k]);
      assertEquals(good.exitCode, 0, `honest S_${k}: ${good.message}`);
      assertEquals(hex(good.computed!), hex(honest[k]));
      const lie = runCheck(image, pre, bad[k]);
      assertEquals(lie.exitCode, 1, `tampered S_${k}: ${lie.message}`);
      assertEquals(lie.message, "opml-check: the computed state differs from the claim");
      const tensorBytes = [...pre.preimages].reduce((s, [, d]) => s + d.length, 0);
      console.log(
        `  ${m.name} ${k - 1} -> ${k}${
          k <= n ? ` (${m.prog.program.nodes[k - 1].opType})` : " (outputs)"
        }: ` +
          `${good.steps} steps, ${(good.memoryBytes / 1024).toFixed(0)} KiB VM memory, ` +
          `${(tensorBytes / 1024).toFixed(0)} KiB of preimages; weights ${
            (m.prog.weights.length / 1024).toFixed(0)
          } KiB`,
      );
      // one node's tensors (and 64 KiB for kernel scratch and the heap's rounding), not the model
      if (k === n + 1) fixed = good.memoryBytes;
      else {
        const limit = fixed + nodeBytes(m.prog, k) + 65536;
        assert(good.memoryBytes <= limit, `checker memory ${good.memoryBytes} bytes > ${limit}`);
      }
      if (m.name === "stories260K" && k <= n) {
        // a node's data is well below the weights (1.2 MB) whatever the node: the checker loads
        // what the node reads, never the model (the fixed part is the image, program and table)
        const data = good.memoryBytes - fixed;
        assert(data < 0.6 * m.prog.weights.length, `checker memory beyond the fixed part: ${data} bytes`);
      }
    }
  });
}

Deno.test("qemu-mips: the checker gives the VM's exit codes and S_b (mnist-cnn node 2)", async () => {
  const rt = await runtime;
  const m = MODELS_UNDER_TEST[1];
  const { honest } = await honestRun(m);
  const bad = (await runNative(rt.native, m.prog, m.inputs, { states: true, tamper: 2 })).states!;
  const pre = checkerPreimages(
    m.prog,
    m.inputs,
    1,
    2,
    await nativeCheckerData(rt.native, m.prog, m.inputs, 1, 2),
  );
  for (const [claim, code] of [[honest[2], 0], [bad[2], 1]] as const) {
    const records = encodeRecords([...pre.preimages, ...checkerLocals(pre.sa, 2, claim)]);
    const q = new Deno.Command("qemu-mips", {
      args: ["-cpu", "24Kf", rt.check],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    const w = q.stdin.getWriter();
    await w.write(records);
    await w.close();
    const r = await q.output();
    assertEquals(r.code, code, new TextDecoder().decode(r.stderr));
    assertEquals(hex(r.stdout), hex(honest[2]));
    const vm = runCheck(await checkImage, pre, claim);
    assertEquals(vm.exitCode, code);
  }
});

Deno.test("single phase: mnist-mlp whole in the checker (a = 0, b = N + 1); a two-node range", async () => {
  const rt = await runtime;
  const image = await checkImage;
  const m = MODELS_UNDER_TEST[0];
  const n = m.prog.program.nodes.length;
  const { honest } = await honestRun(m);
  const pre = checkerPreimages(m.prog, m.inputs, 0, n + 1); // needs no native data
  assertEquals(hex(pre.sa), hex(honest[0]));
  const good = runCheck(image, pre, honest[n + 1]);
  assertEquals(good.exitCode, 0, good.message);
  const bad = (await runNative(rt.native, m.prog, m.inputs, { states: true, tamper: 1 })).states!;
  assert(hex(bad[n + 1]) !== hex(honest[n + 1]), "tampering node 1 leaves the result unchanged");
  assertEquals(runCheck(image, pre, bad[n + 1]).exitCode, 1);
  console.log(`  mnist-mlp single phase: ${good.steps} steps, ${(good.memoryBytes / 1024).toFixed(0)} KiB`);
  // a range of two nodes from a table: 1 -> 3
  const pre2 = checkerPreimages(
    m.prog,
    m.inputs,
    1,
    3,
    await nativeCheckerData(rt.native, m.prog, m.inputs, 1, 3),
  );
  assertEquals(runCheck(image, pre2, honest[3]).exitCode, 0);
  assertEquals(runCheck(image, pre2, honest[2]).exitCode, 1);
});

Deno.test("element sizes 1, 2, 8: the big-endian checker hashes little-endian bytes (every transition)", async () => {
  const rt = await runtime;
  const image = await checkImage;
  // int64, bool, double, int16 and uint16 tensors, read and written by the checker
  for (
    const name of [
      "test_pow_types_int64_int64",
      "test_equal",
      "test_cast_FLOAT_to_DOUBLE",
      "test_add_int16",
      "test_sub_uint16",
    ]
  ) {
    const { prog, inputs } = compileCase(loadCase(name));
    const n = prog.program.nodes.length;
    const r = await runNative(rt.native, prog, inputs, { states: true });
    assertEquals(hex(r.states![0]), hex(taskState(prog, inputs)), `${name}: S_0`);
    assertEquals(hex(r.states![n + 1]), hex(resultState(prog, r.outputs)), `${name}: S_(N+1)`);
    for (let k = 1; k <= n + 1; k++) {
      const pre = checkerPreimages(
        prog,
        inputs,
        k - 1,
        k,
        await nativeCheckerData(rt.native, prog, inputs, k - 1, k),
      );
      const res = runCheck(image, pre, r.states![k]);
      assertEquals(res.exitCode, 0, `${name} ${k - 1} -> ${k}: ${res.message}`);
    }
  }
});

Deno.test("bad input: one-line errors natively, exit 2 in the checker on malformed local data", async () => {
  const rt = await runtime;
  const image = await checkImage;
  const m = MODELS_UNDER_TEST[0];
  const n = m.prog.program.nodes.length;
  for (const tamper of [0, n + 1]) {
    const e = await runNative(rt.native, m.prog, m.inputs, { tamper }).then(
      () => "",
      (e) => String(e.message),
    );
    assertEquals(e, `opml-runtime: --tamper ${tamper}: the program's nodes are 1 .. ${n}`);
  }
  for (const [a, b] of [[2, 2], [0, n + 2]]) {
    const e = await nativeCheckerData(rt.native, m.prog, m.inputs, a, b).then(
      () => "",
      (e) => String(e.message),
    );
    assert(/^opml-runtime: --checker-data .*need A < B <= \d+/.test(e), e);
  }
  const { honest } = await honestRun(m);
  const pre = checkerPreimages(
    m.prog,
    m.inputs,
    n,
    n + 1,
    await nativeCheckerData(rt.native, m.prog, m.inputs, n, n + 1),
  );
  assertEquals(runCheck(image, pre, honest[n + 1]).exitCode, 0);
  // b beyond N + 1, b = a, and a claimed state of the wrong length
  for (const b of [n + 2, n]) {
    const r = runCheck(image, { ...pre, b }, honest[n + 1]);
    assertEquals(r.exitCode, 2, `b = ${b}`);
    assert(/need a < b <= N \+ 1/.test(r.message), r.message);
  }
  const short = runCheck(image, pre, honest[n + 1].subarray(0, 31));
  assertEquals(short.exitCode, 2);
  assertEquals(short.message, "opml-check: preimage has the wrong length");
});
