/**
 * Calling `MIPS.step` on a node: the result of one step, or the custom error it reverted with.
 *
 * @module
 */

import {
  type Address,
  BaseError,
  bytesToHex,
  decodeErrorResult,
  encodeFunctionData,
  type Hex,
  type PublicClient,
} from "viem";
import { mipsAbi } from "./abi/mips.ts";
import { preimageOracleAbi } from "./abi/preimage_oracle.ts";

/** The arguments of `step`. */
export interface StepCall {
  stateData: Uint8Array | Hex;
  proof: Uint8Array | Hex;
  localContext: Uint8Array | Hex;
}

/** What `step` did: the post-state hash, or a revert with its data and decoded error name. */
export type StepOutcome =
  | { ok: true; postStateHash: Hex }
  | { ok: false; data: Hex; error?: string };

const hex = (v: Uint8Array | Hex): Hex => (typeof v === "string" ? v : bytesToHex(v));

/** The calldata of `step`. */
export function stepCalldata(c: StepCall): Hex {
  return encodeFunctionData({
    abi: mipsAbi,
    functionName: "step",
    args: [hex(c.stateData), hex(c.proof), hex(c.localContext)],
  });
}

/**
 * Executes `step` with `eth_call` from `from` (the account that loaded local data: local keys
 * are bound to the caller). A revert is returned, not thrown; transport errors are thrown.
 */
export async function callStep(
  client: PublicClient,
  mips: Address,
  from: Address,
  c: StepCall,
): Promise<StepOutcome> {
  try {
    const { data } = await client.call({ account: from, to: mips, data: stepCalldata(c) });
    if (data === undefined) throw new Error("step returned no data");
    return { ok: true, postStateHash: data };
  } catch (e) {
    if (!(e instanceof BaseError)) throw e;
    const withData = e.walk((x) => typeof (x as { data?: unknown }).data === "string") as
      | { data: Hex }
      | null;
    if (withData === null) throw e;
    let error: string | undefined;
    try {
      error = decodeErrorResult({ abi: [...mipsAbi, ...preimageOracleAbi], data: withData.data }).errorName;
    } catch {
      // not one of our errors
    }
    return { ok: false, data: withData.data, error };
  }
}

/** The instruction classes of the gas figures (docs/_gas_table.md). */
export type StepClass =
  | "ALU"
  | "load"
  | "store"
  | "branch/jump"
  | "syscall"
  | "preimage key write"
  | "preimage read"
  | "FPU add/sub/mul"
  | "FPU div/sqrt"
  | "FPU other"
  | "fault"
  | "exited";

/**
 * The class of the step a witness executes, from its packed pre-state and its instruction proof
 * (the leaf holding the word at `pc`): for gas figures, not for semantics.
 */
export function stepClass(stateData: Uint8Array, proof: Uint8Array): StepClass {
  const s = new DataView(stateData.buffer, stateData.byteOffset, stateData.length);
  if (stateData[89] !== 0) return "exited";
  const pc = s.getUint32(68);
  if (pc & 3) return "fault";
  const insn = new DataView(proof.buffer, proof.byteOffset, proof.length).getUint32(pc & 0x1c);
  const op = insn >>> 26;
  const reg = (r: number) => s.getUint32(98 + 4 * r);
  if (op === 0) {
    const funct = insn & 63;
    if (funct === 0x0c) {
      if (reg(2) === 4003 && reg(4) === 5) return "preimage read";
      if (reg(2) === 4004 && reg(4) === 6) return "preimage key write";
      return "syscall";
    }
    return funct === 0x08 || funct === 0x09 ? "branch/jump" : "ALU";
  }
  if (op === 1 || (op >= 2 && op <= 7) || (op >= 0x14 && op <= 0x17)) return "branch/jump";
  if (op === 0x11) {
    const fmt = (insn >>> 21) & 31, funct = insn & 63;
    if (fmt === 16 && funct <= 2) return "FPU add/sub/mul";
    if (fmt === 16 && (funct === 3 || funct === 4)) return "FPU div/sqrt";
    return "FPU other";
  }
  if ((op >= 0x20 && op <= 0x26) || op === 0x30 || op === 0x31) return "load";
  if (op >= 0x28) return "store";
  return "ALU";
}
