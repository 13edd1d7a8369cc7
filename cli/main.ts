/**
 * The `opml` command line: parses arguments and prints; all logic lives in `core/`.
 * Errors are one line on stderr (`opml: ...`) with a non-zero exit code; set OPML_DEBUG=1 for
 * stack traces.
 * @module
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import tab from "@bomb.sh/tab/commander";
import { EXIT, OpmlError } from "../core/errors.ts";
import { vmCommand } from "./commands/vm.ts";
import { challengeCommand, proveCommand, rootsCommand } from "./commands/dispute.ts";
import { compileCommand, runCommand } from "./commands/model.ts";
import { chainCommand } from "./commands/chain.ts";
import { requestCommand, serveCommand, statusCommand, verifyCommand } from "./commands/game.ts";

/** Builds the command tree (exported for completions and tests). */
export function buildProgram(): Command {
  const program = new Command("opml")
    .description("verifiable ML inference on EVM chains by fraud proofs (opML)")
    .version("0.1.0");
  program.addCommand(compileCommand());
  program.addCommand(runCommand());
  program.addCommand(vmCommand());
  program.addCommand(rootsCommand());
  program.addCommand(challengeCommand());
  program.addCommand(proveCommand());
  program.addCommand(chainCommand());
  program.addCommand(requestCommand());
  program.addCommand(serveCommand());
  program.addCommand(verifyCommand());
  program.addCommand(statusCommand());
  tab(program as unknown as Parameters<typeof tab>[0], { completionCommandName: "completion" });
  return program;
}

function exitWith(e: unknown): never {
  if (e instanceof CommanderError) Deno.exit(e.exitCode === 0 ? 0 : EXIT.usage);
  if (Deno.env.get("OPML_DEBUG")) console.error(e);
  if (e instanceof OpmlError) {
    console.error(`opml: ${firstLine(e.message)}`);
    Deno.exit(e.exitCode);
  }
  // viem's errors (an RPC failure, a reverted transaction) carry a short message
  const short = (e as { shortMessage?: unknown })?.shortMessage;
  if (typeof short === "string") {
    console.error(`opml: ${firstLine(short)}`);
    Deno.exit(EXIT.failure);
  }
  if (!Deno.env.get("OPML_DEBUG")) {
    console.error(
      `opml: internal error: ${firstLine(String((e as Error)?.message ?? e))} (set OPML_DEBUG=1 for details)`,
    );
  }
  Deno.exit(EXIT.internal);
}

const firstLine = (s: string): string => s.split("\n")[0];

/**
 * Commander's usage errors (`error: unknown option ...`) become `opml: ...` lines like every
 * other error, naming the command whose help to read, and end the process through
 * {@link exitWith} (exit 2) on every subcommand.
 */
function usageErrorsAsOneLine(cmd: Command, path = "opml"): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (str, write) => write(`opml: ${str.trim().replace(/^error: /, "")} (see ${path} --help)\n`),
  });
  for (const sub of cmd.commands) usageErrorsAsOneLine(sub as Command, `${path} ${sub.name()}`);
}

if (import.meta.main) {
  const program = buildProgram();
  usageErrorsAsOneLine(program);
  try {
    await program.parseAsync(Deno.args, { from: "user" });
  } catch (e) {
    exitWith(e);
  }
}
