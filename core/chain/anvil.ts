/**
 * A local anvil node (Foundry's dev chain) started and stopped by the caller: the embedded
 * default chain of the chain commands, and the node of the chain tests and gas measurements.
 *
 * @module
 */

import type { Hex } from "viem";

/** The anvil shipped by npm `@foundry-rs/anvil-linux-amd64` (installed by `deno task setup`). */
export const ANVIL_PATH = new URL("../../node_modules/.bin/anvil", import.meta.url).pathname;

/** anvil's first default account key (public, for local chains only). */
export const ANVIL_DEV_KEY: Hex = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/** A running anvil. */
export interface Anvil {
  /** The JSON-RPC endpoint, `http://127.0.0.1:PORT`. */
  url: string;
  /** Stops the node and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of {@link startAnvil}. */
export interface AnvilOptions {
  /** The anvil binary (default {@link ANVIL_PATH}). */
  path?: string;
  /** Extra command line arguments, e.g. `["--hardfork", "prague"]`. */
  args?: string[];
  /** How long to wait for `Listening on` (default 20 s). */
  timeoutMs?: number;
}

/** Whether the anvil binary exists (and may be read). */
export function anvilAvailable(path = ANVIL_PATH): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Starts anvil on a free port of 127.0.0.1 and resolves once it listens. Its output is drained
 * (and kept, the last 20 kB, for error messages) until it exits.
 *
 * @example
 * ```ts
 * const anvil = await startAnvil();
 * try {
 *   // ... createPublicClient({ transport: http(anvil.url) })
 * } finally {
 *   await anvil.stop();
 * }
 * ```
 * @throws {Error} with anvil's output when it exits or does not listen in time.
 */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const child = new Deno.Command(opts.path ?? ANVIL_PATH, {
    args: ["--host", "127.0.0.1", "--port", "0", ...(opts.args ?? [])],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  let resolveUrl: (url: string) => void;
  const urlPromise = new Promise<string>((r) => (resolveUrl = r));
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      log = (log + decoder.decode(chunk, { stream: true })).slice(-20_000);
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolveUrl(`http://127.0.0.1:${m[1]}`);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await drained;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const url = await Promise.race([
      urlPromise,
      child.status.then((s) => {
        throw new Error(`anvil exited with code ${s.code} before listening:\n${log}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`anvil did not start in ${timeoutMs} ms:\n${log}`)),
          timeoutMs,
        );
      }),
    ]);
    return { url, stop };
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
