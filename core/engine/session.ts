/**
 * A persistent native runtime: one `opml-runtime --session` process answering inference after
 * inference, so that only its first pays the loading (the weights' pages, the packed panels of
 * the constant matrices: docs/BENCHMARKS.md, section 2).
 * @module
 */
import type { AssembledProgram } from "../compiler/artifacts.ts";
import type { TensorValue } from "../ir/types.ts";
import { cannotRun, checkProgramInputs, type NativeRunResult, RuntimeError } from "./native.ts";
import { bytesOf, programOutputs } from "./tensors.ts";

/** Options of {@link NativeSession.open}. */
export interface NativeSessionOptions {
  /** Threads of the kernels (`--threads`; default: the machine's cores). Same bytes for any count. */
  threads?: number;
  /** Extra environment of the runtime process (tests: `OPML_SIMD=generic`, docs/IR.md). */
  env?: Record<string, string>;
}

/** The lines of a byte stream, one at a time (the session's answers). */
class LineReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf = "";
  #decoder = new TextDecoder();
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }
  /** The next line without its newline, or undefined at end of stream. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buf += this.#decoder.decode(value, { stream: true });
    }
  }
}

/** One running process of a session. */
interface Proc {
  child: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  lines: LineReader;
  /** The process's stderr, read to its end (its last line names a failure). */
  stderr: Promise<string>;
}

/**
 * A native runtime process kept for many inferences of one program (`opml-runtime PROGRAM
 * WEIGHTS --session`, core/runtime/main_native.c): each {@link NativeSession.run} gives the same
 * bytes as {@link runNative} on the same inputs, without loading the program again. Runs are
 * served one after the other in call order. A bad request (inputs of the wrong size, ...)
 * rejects with the runtime's one-line message and the process goes on. If the process ends
 * (crashed, killed), the run in flight rejects with a RuntimeError naming the runtime and how it
 * ended; the next run starts a new process. {@link NativeSession.close} ends it (always call it:
 * the process lives until then).
 *
 * @example
 * ```ts
 * const s = NativeSession.open(rt.native, assembled, undefined, { threads: 2 });
 * try {
 *   for (const input of inputs) console.log((await s.run([input])).outputs);
 * } finally {
 *   await s.close();
 * }
 * ```
 */
export class NativeSession {
  #proc?: Proc;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #dir: string;
  readonly #program: string;
  readonly #weights: string;

  private constructor(
    readonly runtime: string,
    readonly prog: AssembledProgram,
    files: { program: string; weights: string } | undefined,
    readonly opts: NativeSessionOptions,
  ) {
    this.#dir = Deno.makeTempDirSync({ prefix: "opml-session-" });
    files ??= prog.files;
    this.#program = files?.program ?? `${this.#dir}/program.opir`;
    this.#weights = files?.weights ?? `${this.#dir}/weights.bin`;
    if (!files) {
      Deno.writeFileSync(this.#program, prog.bytes);
      Deno.writeFileSync(this.#weights, prog.weights);
    }
  }

  /** The id of the running process (undefined before the first run and once it has ended). */
  get pid(): number | undefined {
    return this.#proc?.child.pid;
  }

  /**
   * Opens a session of `prog` (its files, or `files`, or copies in a temporary folder); the
   * process starts with the first run.
   *
   * @example
   * ```ts
   * const s = NativeSession.open(model.native, model.prog);
   * ```
   */
  static open(
    runtime: string,
    prog: AssembledProgram,
    files?: { program: string; weights: string },
    opts: NativeSessionOptions = {},
  ): NativeSession {
    return new NativeSession(runtime, prog, files, opts);
  }

  #start(): Proc {
    const args = [this.#program, this.#weights, "--session"];
    if (this.opts.threads !== undefined) args.push("--threads", String(this.opts.threads));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.runtime, {
        args,
        env: this.opts.env,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      throw cannotRun(this.runtime, e);
    }
    const stderr = new Response(child.stderr).text();
    return { child, stdin: child.stdin.getWriter(), lines: new LineReader(child.stdout), stderr };
  }

  /** Ends the input of the process, reads its outputs to their end and waits for its exit. */
  async #reap(p: Proc): Promise<[Deno.CommandStatus, string]> {
    if (this.#proc === p) this.#proc = undefined;
    await p.stdin.close().catch(() => {}); // already closed if the process is gone
    while (await p.lines.next() !== undefined);
    return await Promise.all([p.child.status, p.stderr]);
  }

  /** The process has ended (or could not be written to): reaps it and says how it ended. */
  async #ended(p: Proc): Promise<RuntimeError> {
    const [status, err] = await this.#reap(p);
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    const last = err.trim().split("\n").pop();
    return new RuntimeError(`${this.runtime}: the session's process ${how}${last ? ` (${last})` : ""}`);
  }

  async #run(inputs: TensorValue[]): Promise<NativeRunResult> {
    checkProgramInputs(this.prog, inputs);
    const inFiles = inputs.map((v, i) => {
      const f = `${this.#dir}/input${i}.bin`;
      Deno.writeFileSync(f, bytesOf(v));
      return f;
    });
    const out = `${this.#dir}/out.bin`;
    const proc = this.#proc ??= this.#start();
    let answer: string | undefined;
    try {
      await proc.stdin.write(new TextEncoder().encode([out, ...inFiles].join("\t") + "\n"));
      answer = await proc.lines.next();
    } catch {
      answer = undefined; // a closed pipe: the process is gone
    }
    if (answer === undefined) throw await this.#ended(proc);
    const ok = /^ok (\d+)$/.exec(answer);
    if (!ok) throw new RuntimeError(answer.replace(/^error /, ""));
    const { graph, program } = programOutputs(this.prog.program, Deno.readFileSync(out));
    return { outputs: graph, programOutputs: program, computeNs: Number(ok[1]) };
  }

  /**
   * Runs the program on `inputs` (in program input order), checked as {@link runNative} checks
   * them; `computeNs` is the inference's compute time.
   *
   * @example
   * ```ts
   * const { programOutputs } = await session.run([input]);
   * ```
   */
  run(inputs: TensorValue[]): Promise<NativeRunResult> {
    if (this.#closed) return Promise.reject(new RuntimeError(`${this.runtime}: the session is closed`));
    const r = this.#queue.then(() => this.#run(inputs));
    this.#queue = r.catch(() => {});
    return r;
  }

  /**
   * Ends the process (end of input: it exits 0) after the runs already asked for, and removes
   * the temporary files. Later runs reject.
   *
   * @example
   * ```ts
   * await session.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    if (this.#proc) await this.#reap(this.#proc);
    Deno.removeSync(this.#dir, { recursive: true });
  }
}
