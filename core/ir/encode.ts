/**
 * The binary program encoding of docs/IR.md (`.opir`), and the data keys that commit to a
 * program's constants. All integers little-endian.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { merkleDataKey } from "../vm/oracle.ts";
import type { IrNode, IrTensor, Program, TensorKind } from "./types.ts";

const MAGIC = 0x5249504f; // "OPIR" read as a little-endian u32
const VERSION = 1;
const KIND_CODE: Record<TensorKind, number> = { activation: 0, constant: 1, input: 2 };
const KIND_NAME: TensorKind[] = ["activation", "constant", "input"];

/** A malformed `.opir` file. */
export class ProgramFormatError extends OpmlError {
  override name = "ProgramFormatError";
}

class Writer {
  buf = new Uint8Array(1024);
  view = new DataView(this.buf.buffer);
  n = 0;
  need(k: number) {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf);
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  u8(v: number) {
    this.need(1);
    this.buf[this.n++] = v;
  }
  u16(v: number) {
    this.need(2);
    this.view.setUint16(this.n, v, true);
    this.n += 2;
  }
  u32(v: number) {
    this.need(4);
    this.view.setUint32(this.n, v, true);
    this.n += 4;
  }
  i32(v: number) {
    this.need(4);
    this.view.setInt32(this.n, v, true);
    this.n += 4;
  }
  i64(v: bigint) {
    this.need(8);
    this.view.setBigInt64(this.n, v, true);
    this.n += 8;
  }
  f32(v: number) {
    this.need(4);
    this.view.setFloat32(this.n, v, true);
    this.n += 4;
  }
  bytes(b: Uint8Array) {
    this.need(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
    while (this.n & 3) this.u8(0);
  }
}

/**
 * Encodes a program. Constants are not included: each is referenced by its data key (computed
 * here, or given in `keys` by tensor index when the caller has it).
 *
 * @example
 * ```ts
 * const bytes = encodeProgram(program);
 * const key = merkleDataKey(bytes); // the program's commitment
 * ```
 */
export function encodeProgram(p: Program, keys?: readonly (Uint8Array | undefined)[]): Uint8Array {
  const w = new Writer();
  w.u32(MAGIC);
  w.u32(VERSION);
  w.u32(p.tensors.length);
  w.u32(p.nodes.length);
  w.u32(p.inputs.length);
  w.u32(p.outputs.length);
  for (const [i, t] of p.tensors.entries()) {
    w.u8(t.dtype);
    w.u8(t.shape.length);
    w.u8(KIND_CODE[t.kind]);
    w.u8(t.runtimeAxis === undefined ? 0 : t.runtimeAxis + 1);
    for (const d of t.shape) w.u32(d);
    w.str(t.name);
    if (t.kind === "constant") w.bytes(keys?.[i] ?? merkleDataKey(t.data!));
  }
  for (const n of p.nodes) {
    w.u16(n.op);
    w.u8(n.inputs.length);
    w.u8(n.outputs.length);
    w.u32(n.ints.length);
    w.u32(n.floats.length);
    for (const i of n.inputs) w.i32(i ?? -1);
    for (const o of n.outputs) w.u32(o);
    for (const v of n.ints) w.i64(v);
    for (const f of n.floats) w.f32(f);
    w.str(n.name);
    w.str(n.opType);
  }
  for (const i of p.inputs) w.u32(i);
  for (const o of p.outputs) w.u32(o);
  return w.buf.slice(0, w.n);
}

/** A decoded program: constants carry their data key instead of their data. */
export interface DecodedProgram extends Program {
  tensors: (IrTensor & { key?: Uint8Array })[];
}

/**
 * Decodes a `.opir` program (for tests and tools; the runtime has its own C decoder).
 *
 * @example
 * ```ts
 * const p = decodeProgram(Deno.readFileSync("model.opir"));
 * ```
 */
export function decodeProgram(bytes: Uint8Array): DecodedProgram {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const need = (k: number) => {
    if (o + k > bytes.length) throw new ProgramFormatError(`program truncated at byte ${o}`);
  };
  const u8 = () => (need(1), bytes[o++]);
  const u16 = () => (need(2), o += 2, v.getUint16(o - 2, true));
  const u32 = () => (need(4), o += 4, v.getUint32(o - 4, true));
  const i32 = () => (need(4), o += 4, v.getInt32(o - 4, true));
  const str = () => {
    const n = u32();
    need(n);
    const s = new TextDecoder().decode(bytes.subarray(o, o + n));
    o = (o + n + 3) & ~3;
    return s;
  };
  if (u32() !== MAGIC) throw new ProgramFormatError("not an opml program (bad magic)");
  const version = u32();
  if (version !== VERSION) throw new ProgramFormatError(`unsupported program version ${version}`);
  const nT = u32(), nN = u32(), nI = u32(), nO = u32();
  const tensors: DecodedProgram["tensors"] = [];
  for (let i = 0; i < nT; i++) {
    const dtype = u8(), rank = u8(), kind = u8(), runtime = u8();
    const shape: number[] = [];
    for (let r = 0; r < rank; r++) shape.push(u32());
    const name = str();
    const t: DecodedProgram["tensors"][number] = { name, dtype, shape, kind: KIND_NAME[kind] };
    if (!t.kind) throw new ProgramFormatError(`tensor ${i}: bad kind ${kind}`);
    if (runtime > rank) {
      throw new ProgramFormatError(`tensor ${i}: run-time axis ${runtime - 1} of rank ${rank}`);
    }
    if (runtime) t.runtimeAxis = runtime - 1;
    if (kind === 1) {
      need(32);
      t.key = bytes.slice(o, o + 32);
      o += 32;
    }
    tensors.push(t);
  }
  const nodes: IrNode[] = [];
  for (let i = 0; i < nN; i++) {
    const op = u16(), nIn = u8(), nOut = u8(), nInts = u32(), nFloats = u32();
    const inputs: (number | null)[] = [];
    for (let k = 0; k < nIn; k++) {
      const x = i32();
      inputs.push(x < 0 ? null : x);
    }
    const outputs: number[] = [];
    for (let k = 0; k < nOut; k++) outputs.push(u32());
    const ints: bigint[] = [];
    for (let k = 0; k < nInts; k++) (need(8), ints.push(v.getBigInt64(o, true)), o += 8);
    const floats: number[] = [];
    for (let k = 0; k < nFloats; k++) (need(4), floats.push(v.getFloat32(o, true)), o += 4);
    const name = str(), opType = str();
    nodes.push({ name, opType, op, inputs, outputs, ints, floats });
  }
  const inputs: number[] = [], outputs: number[] = [];
  for (let i = 0; i < nI; i++) inputs.push(u32());
  for (let i = 0; i < nO; i++) outputs.push(u32());
  if (o !== bytes.length) {
    throw new ProgramFormatError(`${bytes.length - o} trailing bytes after the program`);
  }
  return { tensors, nodes, inputs, outputs };
}
