/**
 * A counterpart that answers phase-2 queries as a separate process (`opml challenge
 * --theirs-cmd`), over a line protocol of JSON documents: on start it writes one line, the header
 * of its check (a phase-2 commitments document without states); then, for each line holding a
 * JSON list of steps, it writes one line holding the list of their state hashes. Closing its
 * stdin ends it. `opml roots ... --phase 2 --serve` is such a process.
 * @module
 */
import { OpmlError } from "../errors.ts";
import type { CheckEnd } from "./check_run.ts";
import { CounterpartError, UnavailableError } from "./counterpart.ts";
import { type Answers, playParty, type Transition, type Transport, type Turn } from "./engine.ts";
import type { Hash } from "./hash.ts";

/** A running counterpart process. */
export interface LinePeer {
  /** The header line, parsed (any JSON value: the caller checks it). */
  header(): Promise<unknown>;
  /** Sends a list of steps, returns the answer line parsed. */
  ask(steps: readonly number[]): Promise<unknown>;
  /** Ends the process (closes its stdin, waits for it). */
  close(): Promise<void>;
}

/** Longest line accepted from a peer (a header or an answer of many hashes). */
const MAX_LINE = 1 << 24;

/**
 * Starts `sh -c command` as a counterpart. Its stderr is passed through (progress).
 *
 * @example
 * ```ts
 * const peer = spawnPeer("opml roots out/mnist --input x.json --phase 2 --node 3 --serve");
 * const header = await peer.header();
 * const hashes = await peer.ask([0, 1000]);
 * await peer.close();
 * ```
 */
export function spawnPeer(command: string): LinePeer {
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let closed = false;
  const gone = async (): Promise<never> => {
    const status = await child.status;
    throw new CounterpartError(
      "theirs",
      `their command exited (code ${status.code}) without answering: ${command}`,
    );
  };
  const readLine = async (): Promise<unknown> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          return JSON.parse(line);
        } catch {
          throw new CounterpartError(
            "theirs",
            `their command answered a line that is not JSON: ${line.slice(0, 80)}`,
          );
        }
      }
      if (buffered.length > MAX_LINE) {
        throw new CounterpartError("theirs", `their command answered a line longer than ${MAX_LINE} bytes`);
      }
      const { value, done } = await reader.read();
      if (done) return gone();
      buffered += value;
    }
  };
  const headerLine = readLine();
  headerLine.catch(() => {}); // observed by header()
  return {
    header: () => headerLine,
    async ask(steps) {
      await headerLine;
      try {
        await writer.write(new TextEncoder().encode(JSON.stringify(steps) + "\n"));
      } catch {
        return gone();
      }
      return readLine();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await writer.close();
      } catch { /* already gone */ }
      await reader.cancel().catch(() => {});
      const timer = setTimeout(() => {
        try {
          child.kill("SIGTERM");
        } catch { /* exited */ }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

/** The error of a source that has nothing for node K's check yet. */
export function noCheckYet(node: number): UnavailableError {
  return new UnavailableError([], `their check of node ${node} (its final state) is needed first`);
}

/** A query line the serving side cannot answer (not a JSON list of steps). */
export class PeerQueryError extends OpmlError {
  override name = "PeerQueryError";
}

/**
 * The serving side of the protocol as a transport of the dispute engine (engine.ts): we defend
 * a claim of `transition`; our first turn is the claim (its header line, `headerOf` the check's
 * start and end), then each input line is a bisect turn at the steps it lists, until `input`
 * ends.
 */
class PeerServer implements Transport<void> {
  #claimed = false;
  #lines: AsyncIterator<string>;

  constructor(
    readonly transition: Transition,
    readonly headerOf: (check: { initial: Hash; end: CheckEnd }) => unknown,
    input: ReadableStream<Uint8Array>,
    readonly write: (line: string) => void,
  ) {
    this.#lines = readLines(input);
  }

  async turn(): Promise<Turn<void>> {
    if (!this.#claimed) return { kind: "claim", transition: this.transition };
    for (;;) {
      const next = await this.#lines.next();
      if (next.done) return { kind: "ended", end: undefined };
      const line = next.value.trim();
      if (!line) continue;
      let steps: unknown;
      try {
        steps = JSON.parse(line);
      } catch {
        steps = undefined;
      }
      if (!Array.isArray(steps) || !steps.every((s) => Number.isSafeInteger(s) && s >= 0)) {
        throw new PeerQueryError(`--serve: a query must be a JSON list of steps, got: ${line.slice(0, 80)}`);
      }
      return { kind: "bisect", phase: 2, points: steps, transition: this.transition };
    }
  }

  #out(v: unknown): void {
    this.write(JSON.stringify(v) + "\n");
  }

  claim(check: { initial: Hash; end: CheckEnd }): Promise<void> {
    this.#claimed = true;
    this.#out(this.headerOf(check));
    return Promise.resolve();
  }

  bisect(ours: readonly unknown[]): Promise<void> {
    this.#out(ours);
    return Promise.resolve();
  }

  pick(): Promise<void> {
    throw new PeerQueryError("--serve answers queries: it does not pick");
  }
  step(): Promise<void> {
    throw new PeerQueryError("--serve answers queries: it does not execute steps");
  }
}

async function* readLines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  const dec = new TextDecoder();
  for await (const chunk of input) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
}

/**
 * The serving side of the protocol (`opml roots ... --serve`): our party defends its claim of
 * `transition` through the dispute engine: it writes the header (`headerOf` our check) as the
 * first line, then answers each line of `input` (a JSON list of steps) with one line, our
 * states of the check at those steps, until `input` ends.
 *
 * @example
 * ```ts
 * const out = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line));
 * await servePeer(answers, transition, (c) => header(c), Deno.stdin.readable, out);
 * ```
 * @throws {PeerQueryError} for a line that is not a JSON list of steps.
 */
export async function servePeer(
  answers: Answers,
  transition: Transition,
  headerOf: (check: { initial: Hash; end: CheckEnd }) => unknown,
  input: ReadableStream<Uint8Array>,
  write: (line: string) => void,
): Promise<void> {
  await playParty(new PeerServer(transition, headerOf, input, write), answers);
}
