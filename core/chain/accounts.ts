/**
 * The signing account of a chain command: a private key from the environment, or, on the
 * embedded local chain only, one of anvil's public dev accounts.
 *
 * Keys never come from the command line (they would end up in shell history and `ps`), and
 * no error message ever contains one.
 *
 * @module
 */

import { OpmlError } from "../errors.ts";
import { type Hex, isHex } from "viem";
import { type LocalAccount, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";

/** The environment variable holding the private key unless `--key-env` names another. */
export const DEFAULT_KEY_ENV = "OPML_PRIVATE_KEY";

/** anvil's public test mnemonic: its dev accounts are derived from it (local chains only). */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** How many dev accounts anvil funds by default. */
export const ANVIL_ACCOUNT_COUNT = 10;

/** A missing or malformed key; the message is one line and never contains the key. */
export class AccountError extends OpmlError {
  override name = "AccountError";
}

/** Options of {@link resolveAccount}. */
export interface ResolveAccountOptions {
  /**
   * The environment variable to read the key from, named explicitly (`--key-env`): it must then
   * be set. Unset: {@link DEFAULT_KEY_ENV}, and on the local chain a dev account when that is
   * unset too.
   */
  keyEnv?: string;
  /** The anvil dev account index (local chains only; default 0). */
  account?: number;
  /** Whether the chain is the embedded local anvil (the only place dev accounts are used). */
  local: boolean;
}

/**
 * The account to sign with: the private key in `$keyEnv` if set, else (only when `local` and
 * no variable was named explicitly) anvil's dev account `account ?? 0`.
 *
 * @example
 * ```ts
 * const account = resolveAccount({ local: cfg.local !== undefined, account: 1 });
 * console.log(account.address);
 * ```
 * @throws {AccountError} when the variable holds no 32-byte hex key, when an explicitly named
 *   variable is unset, when no key is set on a non-local chain, or when the dev account index is
 *   out of range.
 */
export function resolveAccount(opts: ResolveAccountOptions): LocalAccount {
  const keyEnv = opts.keyEnv ?? DEFAULT_KEY_ENV;
  const raw = Deno.env.get(keyEnv);
  if (opts.keyEnv !== undefined && (raw === undefined || raw.trim() === "")) {
    // a named variable that is unset is a mistake, never a reason to sign as someone else
    throw new AccountError(`${keyEnv} is not set (--key-env names it to hold the signing key)`);
  }
  if (raw !== undefined && raw.trim() !== "") {
    const key = raw.trim();
    const prefixed = (key.startsWith("0x") || key.startsWith("0X") ? `0x${key.slice(2)}` : `0x${key}`) as Hex;
    if (!isHex(prefixed, { strict: true }) || prefixed.length !== 66) {
      throw new AccountError(
        `${keyEnv} does not hold a private key (expected 32 bytes as 64 hex digits, optionally 0x-prefixed)`,
      );
    }
    try {
      return privateKeyToAccount(prefixed);
    } catch {
      // e.g. zero or above the curve order; viem's message would not help and may echo input
      throw new AccountError(`${keyEnv} does not hold a valid secp256k1 private key`);
    }
  }
  if (!opts.local) {
    throw new AccountError(
      `no signing key: this is not the embedded local chain, set ${DEFAULT_KEY_ENV} (or --key-env NAME) to the account's private key`,
    );
  }
  return devAccount(opts.account ?? 0);
}

/**
 * anvil's funded dev account `index` (0 .. 9), from its public test mnemonic: for the
 * embedded local chain only.
 *
 * @example
 * ```ts
 * devAccount(0).address; // 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
 * ```
 * @throws {AccountError} when the index is out of range.
 */
export function devAccount(index: number): LocalAccount {
  if (!Number.isSafeInteger(index) || index < 0 || index >= ANVIL_ACCOUNT_COUNT) {
    throw new AccountError(
      `--account must be an anvil dev account 0 .. ${ANVIL_ACCOUNT_COUNT - 1}, got ${index}`,
    );
  }
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}
