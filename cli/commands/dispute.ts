/**
 * `opml roots`, `opml challenge` and `opml prove --dispute`: commitments of each phase, the
 * offline two-phase challenge against a counterpart's commitments, and the one-step proof of
 * the disputed step (docs/DISPUTE.md).
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { EXIT } from "../../core/errors.ts";
import {
  type ChallengeOutcome,
  type Hash,
  isHash,
  MAX_ARITY,
  MIN_ARITY,
  readJson,
  writeJsonAtomic,
} from "../../core/dispute/mod.ts";
import { newParty } from "../../core/dispute/party.ts";
import { parseDispute, type Phase1Roots, type Phase2Roots } from "../../core/dispute/roots_file.ts";
import { proveDispute } from "../../core/dispute/prove_dispute.ts";
import { checkSteps, phase1Roots, phase2Check, phase2Roots, serveCheck } from "../../core/dispute/roots.ts";
import { challengeFiles, ChallengeWaiting, loadChallengeFiles } from "../../core/dispute/offline.ts";
import { CliError, parseCount, printJson } from "../_io.ts";
import { proveCommand as proveElfCommand } from "./vm.ts";
import { onChainChallenge } from "./game.ts";

/** Exit code of `opml challenge` when it waits for commitments the counterpart has not given yet. */
export const WAITING = EXIT.waiting;

/** The default step bound of a node's check (the game's bound). */
export const CHECK_STEP_BOUND = 2 ** 36;

function collect(value: string, prev: string[] = []): string[] {
  return [...prev, value];
}

/**
 * Parses `--tamper node=K` (K >= 1).
 *
 * @example
 * ```ts
 * parseTamper("node=3"); // 3
 * ```
 */
export function parseTamper(value: string): number {
  const m = /^node=(\d+)$/.exec(value);
  const k = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(k) || k < 1) {
    throw new CliError(`--tamper ${value}: expected node=K with K >= 1, e.g. node=3`, 2);
  }
  return k;
}

/** Progress on stderr when a person watches (a terminal), or when asked. */
function progressFn(force?: boolean): (msg: string) => void {
  const on = force || Deno.stderr.isTerminal();
  return (msg) => {
    if (on) console.error(`opml: ${msg}`);
  };
}

/** Fails early (before any computation) when an output file (`-o FILE`, `flag`) cannot be written. */
function checkOutFile(path: string | undefined, flag = "-o"): void {
  if (path === undefined) return;
  const slash = path.lastIndexOf("/");
  const parent = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(parent);
  } catch {
    throw new CliError(`${flag} ${path}: no such directory ${parent}`);
  }
  if (!st.isDirectory) throw new CliError(`${flag} ${path}: ${parent} is not a directory`);
  try {
    if (Deno.statSync(path).isDirectory) throw new CliError(`${flag} ${path}: is a directory`);
  } catch (e) {
    if (e instanceof CliError) throw e;
  }
}

function parseSteps(value: string): number[] {
  const steps = value.split(",").filter((s) => s.trim() !== "").map((s) => parseCount(s.trim(), "--at"));
  if (!steps.length) throw new CliError("--at needs at least one step, e.g. --at 0,1000,5000", 2);
  return [...new Set(steps)].sort((a, b) => a - b);
}

export function rootsCommand() {
  return new Command("roots")
    .description(
      "write a commitments file: the phase-1 states of every node, or the VM states of one node's check",
    )
    .argument("<dir>", "compiled model directory (from opml compile)")
    .option("-i, --input <[name=]file>", "input, as for opml run (repeatable)", collect, [] as string[])
    .addOption(
      new Option("--phase <n>", "1: node states S_0 .. S_(N+1); 2: the VM states of node K's check").choices(
        ["1", "2"] as const,
      ).default("1" as const),
    )
    .option("--node <k>", "phase 2: the node whose check (S_(K-1) -> S_K) to run")
    .option(
      "--single-phase",
      "phase 2: the check of the whole model (S_0 -> S_(N+1)) instead of one node's (the baseline mode)",
    )
    .option("--at <steps>", "phase 2: comma-separated steps, e.g. 0,1000,5000")
    .option("--stride <n>", "phase 2: a state every N steps (default: 64 states over the check)")
    .option("--claim <hash>", "phase 2: the S_K to check (default: our own S_K)")
    .option(
      "--serve",
      "phase 2: answer queries on stdin, one JSON list of steps per line (opml challenge --theirs-cmd)",
    )
    .option("--max-steps <n>", "phase 2: step bound of the check", String(CHECK_STEP_BOUND))
    .option(
      "--tamper <node=K>",
      "testing aid: commit as a dishonest server whose result is wrong from node K on",
    )
    .option("-o, --out <file>", "write the commitments file here (else print it)")
    .option("--json", "print JSON (the document, or with -o a summary)")
    .option("--progress", "progress on stderr even when it is not a terminal")
    .action(async (dir, opts) => {
      const tamper = opts.tamper === undefined ? undefined : parseTamper(opts.tamper);
      const progress = progressFn(opts.progress);
      checkOutFile(opts.out);
      if (
        opts.phase === "1" &&
        (opts.node ?? opts.at ?? opts.stride ?? opts.claim ?? opts.serve ?? opts.singlePhase) !== undefined
      ) {
        throw new CliError("--node, --single-phase, --at, --stride, --claim and --serve need --phase 2", 2);
      }
      if (opts.singlePhase && opts.node !== undefined) {
        throw new CliError("--single-phase checks the whole model: no --node", 2);
      }
      const party = await newParty(dir, opts.input, tamper);
      const p1 = await phase1Roots(party);
      const { states, nodes: n } = p1;
      if (opts.phase === "1") {
        return emit(
          p1,
          opts,
          () => [
            `phase 1: ${n} nodes, S_0 ${states[0]}, S_${n + 1} ${states[n + 1]}`,
            ...states.map((s, i) => `S_${i} ${s}`),
          ],
        );
      }
      if (opts.node === undefined && !opts.singlePhase) {
        throw new CliError("--phase 2 needs --node K (or --single-phase)", 2);
      }
      if (opts.claim !== undefined && !isHash(opts.claim)) {
        throw new CliError(`--claim must be a 32-byte hex hash (0x + 64 lowercase hex digits)`, 2);
      }
      if (opts.serve && (opts.at ?? opts.stride) !== undefined) {
        throw new CliError("--serve answers queries: no --at or --stride", 2);
      }
      const check = await phase2Check(party, {
        node: opts.singlePhase ? undefined : parseCount(opts.node!, "--node"),
        singlePhase: opts.singlePhase === true,
        claim: opts.claim as Hash | undefined,
        maxSteps: parseCount(opts.maxSteps, "--max-steps"),
        states,
        onProgress: progress,
      });
      if (opts.serve) {
        const write = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line));
        return await serveCheck(check, Deno.stdin.readable, write);
      }
      const run = await check.answers.check(check.transition);
      const { node, claim } = check.transition;
      const doc = phase2Roots(
        check,
        run,
        checkSteps(run.end.step, {
          at: opts.at === undefined ? undefined : parseSteps(opts.at),
          stride: opts.stride === undefined ? undefined : parseCount(opts.stride, "--stride"),
        }),
      );
      return emit(doc, opts, () => [
        `phase 2, node ${node}: the check of S_${node} ${claim} exits ${run.end.exitCode} at step ${run.end.step}`,
        ...doc.states.map((s) => `step ${s.step} ${s.hash}`),
      ]);
    });
}

function emit(doc: Phase1Roots | Phase2Roots, opts: { out?: string; json?: boolean }, lines: () => string[]) {
  if (opts.out) {
    writeJsonAtomic(opts.out!, doc);
    const summary = {
      file: opts.out,
      phase: doc.phase,
      ...(doc.phase === 1 ? { nodes: doc.nodes } : { node: doc.node, final: doc.final }),
      states: doc.states.length,
    };
    if (opts.json) printJson(summary);
    else console.log(`wrote ${opts.out}: ${lines()[0]}`);
    return;
  }
  if (opts.json) printJson(doc);
  else for (const l of lines()) console.log(l);
}

function defaultSession(ours: string): string {
  return `${ours.replace(/\.json$/, "")}.session.json`;
}

/** `opml challenge`. */
export function challengeCommand() {
  return new Command("challenge")
    .description(
      "bisect our commitments against theirs (offline): the first disputed node, then the disputed VM step of its check",
    )
    .option("--ours <file>", "our phase-1 commitments (opml roots)")
    .option(
      "--theirs <file>",
      "their phase-1 commitments, and any phase-2 commitments they gave (repeatable)",
      collect,
      [] as string[],
    )
    .option("--task <id>", "on-chain mode: re-run this task's result and play its dispute (with --model)")
    .option("--model <dir>", "on-chain mode: the task's compiled model")
    .option("--tamper <spec>", "on-chain mode, testing aid: compute as a dishonest challenger (node=K)")
    .option("--config <file>", "on-chain mode: chain configuration (default .opml/chain.json)")
    .option("--rpc <url>", "on-chain mode: another EVM chain's endpoint (with --game)")
    .option("--game <address>", "on-chain mode: the OpmlGame contract")
    .option("--account <n>", "on-chain mode: anvil dev account N (embedded chain)")
    .option(
      "--key-env <name>",
      "on-chain mode: environment variable holding the private key (default OPML_PRIVATE_KEY; a variable named here must be set)",
    )
    .option(
      "--theirs-cmd <command>",
      "a command answering their phase-2 queries ({node} is replaced), e.g. 'opml roots DIR -i X --phase 2 --node {node} --serve'",
    )
    .option("--arity <n>", `k-ary dissection: states asked per round + 1 (${MIN_ARITY}..${MAX_ARITY})`, "2")
    .option(
      "--session <file>",
      "progress file: an interrupted challenge resumes from it (default: OURS.session.json)",
    )
    .option("-o, --out <file>", "write the dispute (for opml prove --dispute) here")
    .option(
      "--prove <file>",
      "also write the disputed step's proof here (as opml prove --dispute -o would), from this run's checkpoints",
    )
    .option("--max-steps <n>", "step bound of a node's check", String(CHECK_STEP_BOUND))
    .option(
      "--single-phase",
      "baseline mode: no node bisection, bisect the VM steps of the whole model's check (S_0 -> S_(N+1))",
    )
    .option("--json", "print the outcome as JSON")
    .option("--progress", "progress on stderr even when it is not a terminal")
    .action(async (opts) => {
      if (opts.task !== undefined) return await onChainChallenge(opts.task, opts.model, opts);
      if (opts.ours === undefined || opts.theirs.length === 0) {
        throw new CliError(
          "give --ours FILE and --theirs FILE (offline), or --task ID --model DIR (on chain)",
          2,
        );
      }
      const arity = parseCount(opts.arity, "--arity");
      if (arity < MIN_ARITY || arity > MAX_ARITY) {
        throw new CliError(`--arity must be from ${MIN_ARITY} to ${MAX_ARITY}, got ${arity}`, 2);
      }
      const maxSteps = parseCount(opts.maxSteps, "--max-steps");
      const progress = progressFn(opts.progress);
      checkOutFile(opts.out);
      checkOutFile(opts.prove, "--prove");
      const { ours, theirs, theirChecks: p2 } = loadChallengeFiles(opts.ours!, opts.theirs);
      const session = opts.session ?? defaultSession(opts.ours);
      let report;
      try {
        ({ report } = await challengeFiles({
          arity,
          ours,
          theirs,
          theirChecks: p2,
          theirsCmd: opts.theirsCmd,
          sessionPath: session,
          maxSteps,
          singlePhase: opts.singlePhase === true,
          out: opts.out,
          proofOut: opts.prove,
          onProgress: progress,
        }));
      } catch (e) {
        if (e instanceof ChallengeWaiting && opts.json) {
          printJson({ waiting: { node: e.node, steps: e.steps, final: e.steps.length === 0 }, session });
        }
        throw e;
      }
      const o = report.outcome;
      if (opts.json) {
        return printJson({
          ...summaryOf(o),
          stats: report.stats,
          resumed: report.resumed,
          session,
          disputeFile: opts.out,
          ...(opts.prove !== undefined && o.dispute ? { proofFile: opts.prove } : {}),
        });
      }
      for (const line of describe(o, report.stats)) console.log(line);
      if (o.dispute && opts.prove !== undefined) console.log(`wrote the step's proof to ${opts.prove}`);
      if (o.dispute && opts.out && opts.prove === undefined) {
        console.log(`wrote ${opts.out}: prove it with opml prove --dispute ${opts.out}`);
      }
    });
}

function summaryOf(o: ChallengeOutcome) {
  if (!o.dispute) return o;
  return {
    dispute: true,
    node: o.node.node,
    ...(o.node.from !== undefined ? { from: o.node.from } : {}),
    pre: o.node.pre,
    claim: o.node.claim,
    ours: o.node.ours,
    final: o.final,
    step: o.step,
    preState: o.preState,
    oursPost: o.oursPost,
    theirsPost: o.theirsPost,
  };
}

function describe(
  o: ChallengeOutcome,
  s: { rounds: { phase1: number; phase2: number }; asked: { ours: number; theirs: number } },
): string[] {
  if (!o.dispute && o.reason === "same-result") return [`no dispute: both results are S_${o.nodes + 1}`];
  if (!o.dispute) {
    return [
      `no dispute to win: their S_${o.node.node} ${o.node.claim} passes our check (it ends valid at step ${o.final.step}); our S_${o.node.node} is the wrong one`,
    ];
  }
  return [
    o.node.from !== undefined
      ? `single-phase: the check of S_${o.node.from} -> S_${o.node.node} (the whole model) disputed`
      : `phase 1: node ${o.node.node} disputed after ${s.rounds.phase1} rounds (S_${o.node.node - 1} agreed)`,
    `phase 2: step ${o.step} -> ${
      o.step + 1
    } of its check disputed after ${s.rounds.phase2} rounds (their check ends at step ${o.final.step})`,
    `pre-state ${o.preState}`,
    `our post-state ${o.oursPost}`,
    `their post-state ${o.theirsPost}`,
  ];
}

/** `opml prove`: one VM step of an ELF, or the disputed step of a challenge. */
export function proveCommand() {
  return new Command("prove")
    .description(
      "the one-step proof of a VM step: of an ELF (--step) or of a challenge's disputed step (--dispute)",
    )
    .argument("[elf]", "static big-endian MIPS32 executable (with --step)")
    .option("--step <n>", "the pre-state's step number: proves the transition n -> n+1")
    .option("--stdin <file>", "bytes served to the guest as local preimage key 0")
    .option(
      "--dispute <file>",
      "a dispute file (opml challenge -o): proves its disputed step with the oracle calls it needs",
    )
    .option("-o, --out <file>", "with --dispute: write the proof as JSON here")
    .option("--json", "print as JSON (hex fields)")
    .action(async (elf, opts) => {
      if (opts.dispute === undefined) {
        if (elf === undefined || opts.step === undefined) {
          throw new CliError("prove needs ELF --step N, or --dispute FILE", 2);
        }
        const inner = proveElfCommand().exitOverride();
        const args = [
          elf,
          "--step",
          opts.step,
          ...(opts.stdin ? ["--stdin", opts.stdin] : []),
          ...(opts.json ? ["--json"] : []),
        ];
        await inner.parseAsync(args, { from: "user" });
        return;
      }
      if (elf !== undefined || opts.step !== undefined || opts.stdin !== undefined) {
        throw new CliError("--dispute takes no ELF, --step or --stdin", 2);
      }
      checkOutFile(opts.out);
      const d = parseDispute(readJson(opts.dispute!, "dispute file"), opts.dispute!);
      const doc = await proveDispute(d, opts.dispute!);
      if (opts.out) writeJsonAtomic(opts.out!, doc);
      if (opts.json) return printJson(doc);
      console.log(`node ${d.node}, step ${doc.step} -> ${doc.step + 1}`);
      console.log(`pre-state        ${doc.preStateHash}`);
      console.log(`our post-state   ${doc.postStateHash} (what MIPS.step must return)`);
      console.log(`their post-state ${d.theirsPost}`);
      console.log(`local context    ${doc.localContext}`);
      for (const c of doc.oracle) {
        console.log(`oracle call      ${c.function} (${(c.calldata.length - 2) / 2} bytes of calldata)`);
      }
      console.log(`step calldata    ${(doc.stepCalldata.length - 2) / 2} bytes`);
      if (opts.out) console.log(`wrote ${opts.out}`);
    });
}
