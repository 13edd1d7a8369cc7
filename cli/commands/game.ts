/**
 * `opml request | serve | verify | status` and the on-chain mode of `opml challenge`: the opML
 * flow on a chain (docs/CHAIN.md). Parses options and prints; the logic is core/game.
 * @module
 */
import { EXIT } from "../../core/errors.ts";
import { Command, Option } from "@commander-js/extra-typings";
import { type Address, formatEther, type Hex, isAddress, parseEther } from "viem";
import { configPath } from "../../core/chain/config.ts";
import { connect, type Connection, connectReadOnly } from "../../core/chain/connect.ts";
import { GameClient, type TxRecord } from "../../core/chain/game_client.ts";
import { loadModelDir, type ModelDir } from "../../core/compiler/mod.ts";
import { tensorJson } from "../../core/engine/mod.ts";
import { readInputs } from "../../core/dispute/party.ts";
import {
  type AgentEvent,
  type AgentSession,
  GIVE_UP_MS,
  requestTask,
  runAgent,
  type TaskResult,
  taskResult,
  type TaskStory,
  taskStory,
  waitForResult,
} from "../../core/game/mod.ts";
import { CliError, parseCount, printJson } from "../_io.ts";
import { parseTamper } from "./dispute.ts";

/** Options every chain command takes. */
interface ChainOptions {
  config?: string;
  rpc?: string;
  game?: string;
  account?: string;
  keyEnv?: string;
}

/** The exit code of a waiting command stopped by a signal: 128 + the signal's number. */
const SIGNAL_EXIT = { SIGINT: EXIT.SIGINT, SIGTERM: EXIT.SIGTERM } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;

/** Adds the chain options (read back with {@link chainOpts}); `signing: false` for read-only commands. */
// deno-lint-ignore no-explicit-any
function chainOptions<C extends Command<any, any, any>>(c: C, signing = true): C {
  c.addOption(
    new Option("--config <file>", "chain configuration (default: $OPML_CHAIN_CONFIG or .opml/chain.json)"),
  );
  c.addOption(new Option("--rpc <url>", "JSON-RPC endpoint of another EVM chain (with --game)"));
  c.addOption(new Option("--game <address>", "the OpmlGame contract on that chain"));
  if (!signing) return c;
  c.addOption(new Option("--account <n>", "anvil dev account N (the embedded local chain only)"));
  c.addOption(
    new Option(
      "--key-env <name>",
      "environment variable holding the private key (default OPML_PRIVATE_KEY; a variable named here must be set)",
    ),
  );
  return c;
}

/** The chain options of a command's parsed options. */
const chainOpts = (o: object): ChainOptions => o as ChainOptions;

function checkGame(o: ChainOptions): Address | undefined {
  if (o.game !== undefined && !isAddress(o.game)) throw new CliError(`--game ${o.game}: not an address`, 2);
  return o.game as Address | undefined;
}

async function open(o: ChainOptions): Promise<{ conn: Connection; game: GameClient }> {
  const conn = await connect({
    config: o.config,
    rpc: o.rpc,
    game: checkGame(o),
    keyEnv: o.keyEnv,
    account: o.account === undefined ? undefined : parseCount(o.account, "--account"),
  });
  const game = new GameClient(conn.publicClient, conn.walletClient, conn.config.contracts.game);
  return { conn, game };
}

/** A read-only connection: no account, no key. */
async function openReadOnly(o: ChainOptions) {
  const { config, publicClient } = await connectReadOnly({
    config: o.config,
    rpc: o.rpc,
    game: checkGame(o),
  });
  return { config, game: GameClient.readOnly(publicClient, config.contracts.game) };
}

/**
 * Runs `f` with an AbortSignal that SIGINT or SIGTERM aborts; returns f's value and the signal
 * that stopped it, if one did.
 */
async function interruptible<T>(
  f: (signal: AbortSignal) => Promise<T>,
): Promise<{ value: T; stoppedBy?: StopSignal }> {
  const ctl = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const handlers = (Object.keys(SIGNAL_EXIT) as StopSignal[]).map((s) => {
    const h = () => {
      stoppedBy ??= s;
      ctl.abort();
    };
    Deno.addSignalListener(s, h);
    return [s, h] as const;
  });
  try {
    return { value: await f(ctl.signal), stoppedBy };
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}

function models(dirs: readonly string[]): ModelDir[] {
  if (dirs.length === 0) throw new CliError("give at least one compiled model directory", 2);
  return dirs.map((d) => loadModelDir(d, { onProgress: (m) => console.error(`opml: ${m}`) }));
}

function parseEth(v: string, option: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(v)) throw new CliError(`${option} must be an amount of ETH, got '${v}'`, 2);
  return parseEther(v);
}

function parseTaskId(v: string): bigint {
  const n = parseCount(v, "--task");
  if (n < 1) throw new CliError("--task: task ids count from 1", 2);
  return BigInt(n);
}

/** JSON with bigints as decimal strings. */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_, x) => typeof x === "bigint" ? x.toString() : x));
}

/** The session file of an agent: beside the chain configuration, one per role and account. */
function sessionPath(o: ChainOptions & { session?: string }, role: string, account: Address): string {
  if (o.session) return o.session;
  const cfg = configPath(o.config);
  const dir = cfg.includes("/") ? cfg.slice(0, cfg.lastIndexOf("/")) : ".";
  return `${dir}/sessions/${role}-${account.toLowerCase()}.json`;
}

function eventLine(e: AgentEvent): string {
  switch (e.kind) {
    case "answered":
      return `task ${e.taskId}: answered, output key ${e.outputKey}${
        e.liesFrom !== undefined ? ` (lying from node ${e.liesFrom})` : ""
      }`;
    case "agreed":
      return `task ${e.taskId}: the result agrees with ours`;
    case "challenged":
      return `task ${e.taskId}: challenged (dispute ${e.disputeId}): theirs ${e.theirs}, ours ${e.ours}`;
    case "skipped":
      return `task ${e.taskId}: skipped: ${e.reason}`;
    case "deferred":
      return `task ${e.taskId}: deferred: ${e.reason} (retried on a later pass)`;
    case "dispute-end":
      return `task ${e.taskId}: dispute ${e.end.disputeId} over: we ${
        e.end.won ? "won" : "lost"
      } as ${e.end.role}, ${
        e.end.reason === "step"
          ? `step ${e.end.step} of node ${e.end.node}'s check executed on chain`
          : e.end.reason === "rejected"
          ? "the result was rejected by another dispute"
          : "by timeout"
      }`;
    case "dispute-error":
      return `task ${e.taskId}: dispute ${e.disputeId}: ${e.error}`;
    case "finalized":
      return `task ${e.taskId}: final (fee and bond credited)`;
    case "withdrawn":
      return `withdrew ${formatEther(e.amount)} ETH`;
  }
}

/** Runs an agent until SIGINT/SIGTERM (or its one task is settled). */
async function agent(
  role: "server" | "verifier",
  dirs: string[],
  o: ChainOptions & {
    tamper?: string;
    session?: string;
    json?: boolean;
    finalize?: boolean;
    poll?: string;
    giveUp?: string;
  },
  onlyTask?: bigint,
  printEvents = true,
): Promise<
  { events: AgentEvent[]; txs: TxRecord[]; session: AgentSession; settled: boolean; stoppedBy?: StopSignal }
> {
  const liesFrom = o.tamper === undefined ? undefined : parseTamper(o.tamper);
  const poll = o.poll === undefined ? undefined : parseCount(o.poll, "--poll");
  const giveUp = o.giveUp === undefined ? undefined : parseCount(o.giveUp, "--give-up");
  if (giveUp === 0) throw new CliError("--give-up must be at least 1 second", 2);
  const ms = models(dirs);
  const { conn, game } = await open(o);
  const path = sessionPath(o, role, game.account);
  const { value, stoppedBy } = await interruptible((signal) =>
    runAgent({
      role,
      game,
      chainId: conn.config.chainId,
      models: ms,
      liesFrom,
      sessionPath: path,
      startBlock: BigInt(conn.config.deployBlock),
      onlyTask,
      finalize: o.finalize,
      pollMs: poll,
      rpc: conn.config.rpc,
      giveUpMs: giveUp === undefined ? GIVE_UP_MS : giveUp * 1000,
      log: (l) => console.error(`  ${l}`),
      // the banner once the session is accepted: a refused session is one error line
      onReady: () =>
        console.error(
          `opml ${role}: ${game.account} on ${conn.config.rpc} (game ${game.address}), session ${path}`,
        ),
      onEvent: (e) => printEvents && console.log(o.json ? JSON.stringify(plain(e)) : eventLine(e)),
      signal,
    })
  );
  return { events: value.events, txs: game.txs, session: value.session, settled: value.settled, stoppedBy };
}

/** The outputs of a result, one line each. */
function outputLines(result: TaskResult, indent = ""): string[] {
  if (result.outputs) {
    return result.outputs.map(tensorJson).map((t) =>
      `${indent}output [${t.shape}] ${t.dtype}: ${t.data.slice(0, 16).join(" ")}${
        t.data.length > 16 ? " ..." : ""
      }`
    );
  }
  return result.outputError ? [`${indent}outputs unavailable: ${result.outputError}`] : [];
}

/** `opml request DIR --input FILE... [--fee ETH] [--single-phase] [--wait [--timeout S]]`. */
export function requestCommand() {
  const cmd = chainOptions(
    new Command("request")
      .description("post an inference task on chain: the model, the input (with its key) and a fee")
      .argument("<dir>", "compiled model directory (opml compile)")
      .requiredOption("-i, --input <file...>", "input tensors: FILE (json, npy, pb) or NAME=FILE")
      .option("--fee <eth>", "fee paid to the server of a final result", "0")
      .option("--single-phase", "dispute this task in single-phase mode (the whole model in the VM)")
      .option("--wait", "wait for a result and print its outputs (checked against the output key)")
      .option(
        "--timeout <seconds>",
        "with --wait: give up after this long, exit 3 (default 600; 0: no limit)",
      )
      .option("--json", "print JSON (with --wait: one line when posted, one with the result)"),
  );
  return cmd.action(async (dir, opts) => {
    const o = { ...opts, ...chainOpts(opts) };
    const fee = parseEth(o.fee, "--fee");
    const timeout = o.timeout === undefined ? REQUEST_TIMEOUT_S : parseCount(o.timeout, "--timeout");
    if (o.timeout !== undefined && !o.wait) throw new CliError("--timeout goes with --wait", 2);
    const model = loadModelDir(dir);
    const inputs = readInputs(o.input, model);
    const { conn, game } = await open(o);
    const posted = await requestTask(game, model, inputs, { fee, singlePhase: o.singlePhase === true });
    const doc = { taskId: posted.taskId, modelId: posted.modelId, inputKey: posted.inputKey };
    if (!o.wait) {
      if (o.json) printJson(plain(doc));
      else console.log(`task ${posted.taskId}`);
      console.error(`task ${posted.taskId} posted (model ${posted.modelId})`);
      return;
    }
    // the task id on stdout at once: a script knows it even if the wait ends badly
    if (o.json) console.log(JSON.stringify(plain({ ...doc, status: "Open" })));
    else console.log(`task ${posted.taskId}`);
    console.error(`task ${posted.taskId} posted (model ${posted.modelId}); waiting for a result ...`);
    const { value: result, stoppedBy } = await interruptible((signal) =>
      waitForResult(game, posted.taskId, model, BigInt(conn.config.deployBlock), {
        timeoutMs: timeout * 1000,
        signal,
      })
    );
    if (stoppedBy || !result) {
      throw new CliError(
        `stopped by ${stoppedBy ?? "a signal"} while waiting for the result of task ${posted.taskId} ` +
          `(the task stays posted: \`opml status --task ${posted.taskId}\`)`,
        SIGNAL_EXIT[stoppedBy ?? "SIGINT"],
      );
    }
    if (o.json) {
      console.log(JSON.stringify(plain({
        ...doc,
        status: result.status,
        outputKey: result.task.outputKey,
        outputs: result.outputs?.map(tensorJson),
        outputError: result.outputError,
      })));
    } else {
      console.log(`status ${result.status}, output key ${result.task.outputKey}`);
      for (const l of outputLines(result)) console.log(l);
    }
  });
}

/** Default of `request --wait --timeout`, seconds. */
const REQUEST_TIMEOUT_S = 600;

/** `opml serve DIR...`. */
export function serveCommand() {
  const cmd = chainOptions(
    new Command("serve")
      .description(
        "answer the tasks of these models with the native engine, defend the results, collect fees",
      )
      .argument("<dirs...>", "compiled model directories to serve")
      .addOption(
        new Option(
          "--tamper <spec>",
          "testing aid: answer as a dishonest server, wrong from node K on (node=K)",
        ),
      )
      .option("--session <file>", "session file (default: beside the chain config, per account)")
      .option("--no-finalize", "do not finalize results and withdraw after the challenge window")
      .option("--poll <ms>", "milliseconds between reads of the chain")
      .option(
        "--give-up <seconds>",
        `exit 1 once the node has not answered for this long (default ${GIVE_UP_MS / 1000})`,
      )
      .option("--json", "print events as JSON lines"),
  );
  return cmd.action(async (dirs, o) => {
    await agent("server", dirs, { ...o, ...chainOpts(o) });
  });
}

/** `opml verify DIR...`. */
export function verifyCommand() {
  const cmd = chainOptions(
    new Command("verify")
      .description(
        "re-run every result of these models; challenge the wrong ones and play each game to its end",
      )
      .argument("<dirs...>", "compiled model directories to verify")
      .addOption(new Option("--tamper <spec>", "testing aid: compute as a dishonest challenger (node=K)"))
      .option("--session <file>", "session file (default: beside the chain config, per account)")
      .option("--poll <ms>", "milliseconds between reads of the chain")
      .option(
        "--give-up <seconds>",
        `exit 1 once the node has not answered for this long (default ${GIVE_UP_MS / 1000})`,
      )
      .option("--json", "print events as JSON lines"),
  );
  return cmd.action(async (dirs, o) => {
    await agent("verifier", dirs, { ...o, ...chainOpts(o) });
  });
}

/**
 * The on-chain mode of `opml challenge`: re-runs one task's result, challenges it if it differs
 * from ours and plays the dispute to its end; exits 0 when we won or agree, 1 when we lost,
 * 130/143 when SIGINT/SIGTERM stopped it first (run it again to resume).
 */
export async function onChainChallenge(
  taskId: string,
  modelDir: string | undefined,
  o: ChainOptions & { tamper?: string; session?: string; json?: boolean; poll?: string },
): Promise<void> {
  if (!modelDir) throw new CliError("--task needs --model DIR (the compiled model of the task)", 2);
  const id = parseTaskId(taskId);
  const { events, session, settled, stoppedBy } = await agent(
    "verifier",
    [modelDir],
    o,
    id,
    false,
  );
  if (!settled) {
    const sig = stoppedBy ?? "SIGINT";
    throw new CliError(
      `stopped by ${sig} before task ${id} was settled (run the command again to resume)`,
      SIGNAL_EXIT[sig],
    );
  }
  const err = events.find((e) => e.kind === "dispute-error");
  if (err && err.kind === "dispute-error") throw new CliError(err.error);
  // the outcome from the session, so that running the command again reports it too
  const task = session.tasks[id.toString()];
  const disputes = Object.entries(session.disputes).filter(([, d]) => d.taskId === id.toString())
    .map(([disputeId, d]) => ({ disputeId, ...d }));
  if (o.json) printJson({ taskId: id.toString(), ...task, disputes });
  else {
    const what = task?.state === "agreed" ? "the result agrees with ours" : task?.state ?? "not settled";
    console.log(`task ${id}: ${what}${task?.note ? ` (${task.note})` : ""}`);
    for (const d of disputes) {
      console.log(
        `dispute ${d.disputeId}: ${
          d.end ? `we ${d.end.won ? "won" : "lost"} (${d.end.reason}, node ${d.end.node})` : "open"
        }`,
      );
    }
  }
  if (disputes.some((d) => d.end && !d.end.won)) Deno.exit(1);
}

function storyLines(s: TaskStory): string[] {
  const lines = [
    `task ${s.taskId}: ${s.status}${s.singlePhase ? " (single-phase)" : ""}`,
    `  model ${s.modelId}, input key ${s.inputKey}`,
  ];
  if (s.server) lines.push(`  result ${s.outputKey} by ${s.server}`);
  for (const d of s.disputes) {
    const outcome = d.outcome
      ? d.outcome.reason === "rejected"
        ? "challenger won (the result was rejected by another dispute)"
        : `${d.outcome.defenderWon ? "defender" : "challenger"} won by ${d.outcome.reason}`
      : `in progress (${d.phase})`;
    lines.push(`  dispute ${d.disputeId} by ${d.challenger}: ${outcome}`);
    lines.push(
      `    rounds: phase 1 ${d.rounds.phase1}, phase 2 ${d.rounds.phase2}` +
        (d.node !== undefined ? `; node ${d.node}` : "") +
        (d.checkSteps !== undefined ? `, check of ${d.checkSteps} steps` : "") +
        (d.step !== undefined ? `, step ${d.step} executed on chain` : ""),
    );
    lines.push(
      `    gas: defender ${d.defender.gas} in ${d.defender.txs} txs, challenger ${d.challengerCost.gas} in ${d.challengerCost.txs} txs; ${d.seconds} s`,
    );
  }
  return lines;
}

/** `opml status --task ID [DIR]`. */
export function statusCommand() {
  const cmd = chainOptions(
    new Command("status")
      .description("a task's status, result and the story of its disputes, read from the chain")
      .requiredOption("--task <id>", "the task id")
      .argument("[dir]", "the compiled model: also decode the result's outputs")
      .option("--json", "print JSON"),
    false,
  );
  return cmd.action(async (dir, opts) => {
    const o = { ...opts, ...chainOpts(opts) };
    const id = parseTaskId(o.task);
    const model = dir ? loadModelDir(dir) : undefined;
    // read-only: no account, no key
    const { config, game } = await openReadOnly(o);
    const from = BigInt(config.deployBlock);
    const { tasks } = await game.counts();
    if (id > tasks) throw new CliError(`task ${id}: no such task (${tasks} posted)`);
    const story = await taskStory(game, id, from);
    const result = model ? await taskResult(game, id, model, from) : undefined;
    if (o.json) {
      printJson(plain({
        ...story,
        ...(result ? { outputs: result.outputs?.map(tensorJson), outputError: result.outputError } : {}),
      }));
      return;
    }
    for (const l of storyLines(story)) console.log(l);
    if (result) { for (const l of outputLines(result, "  ")) console.log(l); }
  });
}

export type { Hex };
