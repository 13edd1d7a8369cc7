/**
 * Deployment of the contracts: the on-chain VM (the PreimageOracle, then MIPS bound to it) and
 * the dispute game (OpmlGame bound to MIPS).
 *
 * The helper only talks to the RPC endpoint the given wallet client points at (a local anvil
 * or any EVM chain); it starts nothing by itself.
 *
 * @module
 */

import { OpmlError } from "../errors.ts";
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  getAddress,
  type Hex,
  publicActions,
  type Transport,
  type WalletClient,
} from "viem";
import { mipsAbi, mipsBytecode } from "./abi/mips.ts";
import { preimageOracleAbi, preimageOracleBytecode } from "./abi/preimage_oracle.ts";
import { opmlGameAbi, opmlGameBytecode } from "./abi/opml_game.ts";
import type { GameParams } from "./config.ts";

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
export class DeployError extends OpmlError {
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

/** Where a game was deployed. */
export interface GameDeployment {
  /** The OpmlGame contract. */
  game: Address;
  /** The block of its deployment transaction (log queries start here). */
  deployBlock: number;
}

/** The whole stack: oracle, MIPS bound to it, and the game bound to MIPS. */
export interface FullDeployment extends VmDeployment, GameDeployment {}

/**
 * Deploys OpmlGame on an existing VM with the given parameters and waits for the receipt.
 *
 * @example
 * ```ts
 * const vm = await deployVm(wallet);
 * const { game, deployBlock } = await deployGame(wallet, vm, DEFAULT_GAME_PARAMS);
 * ```
 * @throws {DeployError} when no account is available or the deployment reverts (e.g. an
 *   arity out of 2 .. 1024: the constructor's InvalidConfig).
 */
export async function deployGame(
  client: WalletClient<Transport, Chain | undefined, Account | undefined>,
  vm: VmDeployment,
  params: GameParams,
  options: DeployVmOptions = {},
): Promise<GameDeployment> {
  const account = options.account ?? client.account;
  if (account === undefined) {
    throw new DeployError("deployGame: the wallet client has no account and none was given");
  }
  const rpc = client.extend(publicActions);
  const hash = await rpc.deployContract({
    abi: opmlGameAbi,
    bytecode: opmlGameBytecode,
    args: [
      vm.mips,
      BigInt(params.arity),
      BigInt(params.clockBudget),
      params.serverBond,
      params.challengerBond,
      BigInt(params.challengeWindow),
    ],
    account,
    chain: client.chain ?? null,
  });
  const receipt = await rpc.waitForTransactionReceipt({ hash, confirmations: options.confirmations ?? 1 });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new DeployError(`deployGame: deploying OpmlGame failed (tx ${hash})`, hash);
  }
  return { game: getAddress(receipt.contractAddress), deployBlock: Number(receipt.blockNumber) };
}

/**
 * Deploys PreimageOracle, MIPS and OpmlGame in that order (three transactions).
 *
 * @example
 * ```ts
 * const { oracle, mips, game, deployBlock } = await deployAll(wallet, DEFAULT_GAME_PARAMS);
 * ```
 * @throws {DeployError} as {@link deployVm} and {@link deployGame}.
 */
export async function deployAll(
  client: WalletClient<Transport, Chain | undefined, Account | undefined>,
  params: GameParams,
  options: DeployVmOptions = {},
): Promise<FullDeployment> {
  const vm = await deployVm(client, options);
  const game = await deployGame(client, vm, params, options);
  return { oracle: getAddress(vm.oracle), mips: getAddress(vm.mips), ...game };
}
