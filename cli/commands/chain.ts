/**
 * `opml chain up | down | deploy | info`: the embedded local chain and deployments to any EVM
 * chain (docs/CHAIN.md). Parses options and prints; the logic is core/chain/lifecycle.ts.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { formatEther, parseEther } from "viem";
import { type ChainConfig, chainConfigJson, configPath, type GameParams } from "../../core/chain/config.ts";
import { chainDeploy, chainDown, chainInfo, chainUp } from "../../core/chain/lifecycle.ts";
import { DEFAULT_BLOCK_GAS_LIMIT } from "../../core/chain/local_chain.ts";
import { CliError, parseCount, printJson } from "../_io.ts";

interface ParamOptions {
  arity?: string;
  clock?: string;
  serverBond?: string;
  challengerBond?: string;
  window?: string;
}

/** The game parameters given on the command line (the others stay undefined). */
function paramsFrom(o: ParamOptions): Partial<GameParams> {
  const eth = (v: string | undefined, option: string): bigint | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d{1,18})?$/.test(v)) {
      throw new CliError(`${option} must be an amount of ETH (e.g. 1 or 0.05), got '${v}'`, 2);
    }
    return parseEther(v);
  };
  const int = (v: string | undefined, option: string) => v === undefined ? undefined : parseCount(v, option);
  const p: Partial<GameParams> = {
    arity: int(o.arity, "--arity"),
    clockBudget: int(o.clock, "--clock"),
    serverBond: eth(o.serverBond, "--server-bond"),
    challengerBond: eth(o.challengerBond, "--challenger-bond"),
    challengeWindow: int(o.window, "--window"),
  };
  if (p.arity !== undefined && (p.arity < 2 || p.arity > 1024)) {
    throw new CliError(`--arity must be 2 .. 1024, got ${p.arity}`, 2);
  }
  if (p.clockBudget === 0) throw new CliError("--clock must be at least 1 second", 2);
  if (p.challengeWindow === 0) throw new CliError("--window must be at least 1 second", 2);
  return p;
}

const progress = (line: string) => console.error(line);

function printConfig(c: ChainConfig, extra: string[] = []): void {
  const g = c.game;
  const lines = [
    `rpc           ${c.rpc}`,
    `chain id      ${c.chainId}`,
    `game          ${c.contracts.game}`,
    `mips          ${c.contracts.mips}`,
    `oracle        ${c.contracts.oracle}`,
    `deploy block  ${c.deployBlock}`,
    `parameters    arity ${g.arity}, clock ${g.clockBudget} s, server bond ${
      formatEther(g.serverBond)
    } ETH, ` +
    `challenger bond ${formatEther(g.challengerBond)} ETH, window ${g.challengeWindow} s`,
  ];
  if (c.local) {
    const gas = c.local.gasLimit !== undefined ? `, gas limit ${c.local.gasLimit}` : "";
    lines.push(`anvil         pid ${c.local.pid}, port ${c.local.port}${gas}, log ${c.local.log}`);
  }
  console.log([...lines, ...extra].join("\n"));
}

/** `opml chain ...`. */
export function chainCommand() {
  const chain = new Command("chain").description(
    "the contracts' chain: an embedded local anvil (up/down) or any EVM chain (deploy)",
  );

  chain.command("up")
    .description("start the embedded local chain and deploy the contracts (idempotent)")
    .option("--port <n>", "JSON-RPC port on 127.0.0.1 (default: a free one)")
    .option("--gas-limit <gas>", "block gas limit (default 30000000; raise it for results of megabytes)")
    .option("--arity <n>", "sub-intervals per dissection round, 2 .. 1024 (default 16)")
    .option("--clock <seconds>", "each party's time budget per dispute (default 3600)")
    .option("--server-bond <eth>", "bond of a result, in ETH (default 1)")
    .option("--challenger-bond <eth>", "bond of a dispute, in ETH (default 1)")
    .option("--window <seconds>", "challenge window after a result (default 600)")
    .option("--config <file>", "chain configuration (default $OPML_CHAIN_CONFIG or .opml/chain.json)")
    .option("--json", "print the configuration as JSON, with `reused`")
    .action(async (opts) => {
      const params = paramsFrom(opts);
      const port = opts.port === undefined ? undefined : parseCount(opts.port, "--port");
      if (port !== undefined && (port < 1 || port > 65535)) {
        throw new CliError(`--port must be 1 .. 65535`, 2);
      }
      const gasLimit = opts.gasLimit === undefined ? undefined : parseCount(opts.gasLimit, "--gas-limit");
      if (gasLimit !== undefined && gasLimit < DEFAULT_BLOCK_GAS_LIMIT) {
        throw new CliError(`--gas-limit must be at least ${DEFAULT_BLOCK_GAS_LIMIT} (anvil's default)`, 2);
      }
      const path = configPath(opts.config);
      const { config, reused } = await chainUp({
        configPath: path,
        port,
        gasLimit,
        params,
        onProgress: progress,
      });
      if (reused) progress(`the embedded chain is already up (${path})`);
      else progress(`wrote ${path}`);
      if (opts.json) printJson({ ...chainConfigJson(config), reused, configPath: path });
      else printConfig(config);
    });

  chain.command("down")
    .description("stop the embedded local chain and remove its configuration (idempotent)")
    .option("--config <file>", "chain configuration (default $OPML_CHAIN_CONFIG or .opml/chain.json)")
    .option("--json", "print {stoppedPid, removedConfig}")
    .action(async (opts) => {
      const path = configPath(opts.config);
      const r = await chainDown(path);
      if (opts.json) printJson({ stoppedPid: r.stoppedPid ?? null, removedConfig: r.removedConfig });
      else if (!r.removedConfig) progress(`no embedded chain configured (${path}): nothing to do`);
      else if (r.stoppedPid === undefined) progress(`the embedded chain was not running; removed ${path}`);
      else progress(`stopped anvil (pid ${r.stoppedPid}); removed ${path}`);
    });

  chain.command("deploy")
    .description("deploy the contracts on any EVM chain with the key in $OPML_PRIVATE_KEY")
    .requiredOption("--rpc <url>", "the chain's JSON-RPC endpoint")
    .option("--arity <n>", "sub-intervals per dissection round, 2 .. 1024 (default 16)")
    .option("--clock <seconds>", "each party's time budget per dispute (default 3600)")
    .option("--server-bond <eth>", "bond of a result, in ETH (default 1)")
    .option("--challenger-bond <eth>", "bond of a dispute, in ETH (default 1)")
    .option("--window <seconds>", "challenge window after a result (default 600)")
    .option(
      "--key-env <name>",
      "environment variable holding the deployer's private key (default OPML_PRIVATE_KEY; a variable named here must be set)",
    )
    .option(
      "--config <file>",
      "chain configuration to write (default $OPML_CHAIN_CONFIG or .opml/chain.json)",
    )
    .option("--json", "print the configuration as JSON")
    .action(async (opts) => {
      const params = paramsFrom(opts);
      const path = configPath(opts.config);
      const config = await chainDeploy({
        configPath: path,
        rpc: opts.rpc,
        params,
        keyEnv: opts.keyEnv,
        onProgress: progress,
      });
      progress(`wrote ${path}`);
      if (opts.json) printJson({ ...chainConfigJson(config), configPath: path });
      else printConfig(config);
    });

  chain.command("info")
    .description("the chain configuration and live facts; exits 1 when the chain does not answer")
    .option("--config <file>", "chain configuration (default $OPML_CHAIN_CONFIG or .opml/chain.json)")
    .option("--json", "print as JSON")
    .action(async (opts) => {
      const path = configPath(opts.config);
      const info = await chainInfo(path);
      if (opts.json) {
        printJson({
          ...chainConfigJson(info.config),
          configPath: path,
          alive: info.alive,
          processAlive: info.processAlive ?? null,
          blockNumber: info.blockNumber ?? null,
          problem: info.problem ?? null,
        });
      } else {
        printConfig(info.config, [
          `alive         ${info.alive ? "yes" : "no"}${
            info.blockNumber !== undefined ? `, block ${info.blockNumber}` : ""
          }`,
        ]);
      }
      if (!info.alive) throw new CliError(info.problem ?? "the chain does not answer");
    });

  return chain;
}
