/**
 * Deployment of the on-chain VM: the PreimageOracle, then MIPS bound to it.
 *
 * The helper only talks to the RPC endpoint the given wallet client points at (a local anvil
 * or any EVM chain); it starts nothing by itself.
 *
 * @module
 */

import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  publicActions,
  type Transport,
  type WalletClient,
} from "viem";
import { mipsAbi, mipsBytecode } from "./abi/mips.ts";
import { preimageOracleAbi, preimageOracleBytecode } from "./abi/preimage_oracle.ts";

/** Addresses of a deployed VM. */
export interface VmDeployment {
  /** The PreimageOracle contract. */
  oracle: Address;
  /** The MIPS step contract, bound to `oracle`. */
  mips: Address;
}

/** Options of {@link deployVm}. */
export interface DeployVmOptions {
  /** The deploying account; defaults to the wallet client's account. */
  account?: Account | Address;
  /** Confirmations to wait for per deployment (default 1). */
  confirmations?: number;
}

/** Raised when a deployment transaction fails or produces no contract. */
export class DeployError extends Error {
  constructor(message: string, readonly txHash?: Hex) {
    super(message);
    this.name = "DeployError";
  }
}

/**
 * Deploys PreimageOracle, then MIPS(oracle), and waits for both receipts.
 *
 * @param client A viem wallet client with a transport to the target chain (and, unless
 *   `options.account` is given, an account).
 * @returns The addresses of the oracle and of the MIPS contract.
 * @throws {DeployError} when no account is available or a deployment reverts.
 */
export async function deployVm(
  client: WalletClient<Transport, Chain | undefined, Account | undefined>,
  options: DeployVmOptions = {},
): Promise<VmDeployment> {
  const account = options.account ?? client.account;
  if (account === undefined) {
    throw new DeployError("deployVm: the wallet client has no account and none was given");
  }
  const rpc = client.extend(publicActions);
  const confirmations = options.confirmations ?? 1;

  const deploy = async (
    name: string,
    abi: Abi,
    bytecode: Hex,
    args: readonly unknown[],
  ): Promise<Address> => {
    const hash = await rpc.deployContract({
      abi,
      bytecode,
      args,
      account,
      chain: client.chain ?? null,
    });
    const receipt = await rpc.waitForTransactionReceipt({ hash, confirmations });
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new DeployError(`deployVm: deploying ${name} failed (tx ${hash})`, hash);
    }
    return receipt.contractAddress;
  };

  const oracle = await deploy("PreimageOracle", preimageOracleAbi, preimageOracleBytecode, []);
  const mips = await deploy("MIPS", mipsAbi, mipsBytecode, [oracle]);
  return { oracle, mips };
}
