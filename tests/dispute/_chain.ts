/**
 * The judge of the dispute tests: the contracts on a local anvil. A proof from `opml prove
 * --dispute --json` is replayed as a user would: its oracle calls sent as transactions, then
 * `MIPS.step` called from the same account; the result is what the contract returns.
 */
import { createPublicClient, createWalletClient, type Hex, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { ANVIL_DEV_KEY, anvilAvailable, startAnvil } from "../../core/chain/anvil.ts";
import { deployVm } from "../../core/chain/deploy.ts";
import { callStep, type StepOutcome } from "../../core/chain/step.ts";

export { anvilAvailable };

/** A proof document as `opml prove --dispute --json` prints it (the fields the judge uses). */
export interface ProofDoc {
  stateData: Hex;
  proof: Hex;
  localContext: Hex;
  oracle: { function: string; calldata: Hex }[];
  stepCalldata: Hex;
}

/** A deployed VM on a fresh anvil. */
export interface Judge {
  /** Loads the proof's oracle parts, then executes `step`: the contract's verdict. */
  judge(p: ProofDoc): Promise<StepOutcome>;
  stop(): Promise<void>;
}

/** Starts anvil and deploys PreimageOracle and MIPS. */
export async function startJudge(): Promise<Judge> {
  const anvil = await startAnvil();
  try {
    const account = privateKeyToAccount(ANVIL_DEV_KEY);
    const wallet = createWalletClient({ account, chain: foundry, transport: http(anvil.url) });
    const client = createPublicClient({
      chain: foundry,
      transport: http(anvil.url),
      cacheTime: 0,
    }) as PublicClient;
    const { oracle, mips } = await deployVm(wallet);
    return {
      async judge(p) {
        for (const call of p.oracle) {
          const hash = await wallet.sendTransaction({ to: oracle, data: call.calldata });
          const receipt = await client.waitForTransactionReceipt({ hash });
          if (receipt.status !== "success") throw new Error(`${call.function} reverted`);
        }
        // the emitted calldata as it is, and the fields through the step helper: the same verdict
        const viaFields = await callStep(client, mips, account.address, p);
        try {
          const { data } = await client.call({ account: account.address, to: mips, data: p.stepCalldata });
          if (!viaFields.ok || data !== viaFields.postStateHash) {
            throw new Error(`raw calldata gives ${data}, the fields ${JSON.stringify(viaFields)}`);
          }
        } catch (e) {
          if (viaFields.ok) throw e;
        }
        return viaFields;
      },
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}
