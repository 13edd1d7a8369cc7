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
