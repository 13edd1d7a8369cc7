/**
 * `deno task setup`: installs whatever is missing, idempotently, and is quick when all is
 * there: npm packages (Foundry, solc, viem, ...), the MIPS cross-compiler and qemu-user (apt),
 * and the PyTorch test models in build/torch-models (tasks/torch_models.ts, regenerated only
 * when their generator changes; Debian's python3-torch and python3-torchvision are installed
 * only then). Other tasks run it first with `--quiet`; `--no-models` leaves the models out
 * (the demo does not need them).
 *
 * As root (a bare machine, CI) it installs the apt packages itself; any other user gets the
 * exact command to run and exit code 1. tests/setup/setup.test.ts runs this file on a PATH
 * without the tools and with a recording `apt-get` (and a stub Python), both as root and as
 * another user.
 * @module
 */

import {
  TORCH_APT_PACKAGES,
  torchAvailable,
  torchModelsDir,
  torchModelsFresh,
  torchPython,
} from "./_torch_models_index.ts";

const root = new URL("..", import.meta.url).pathname;
const quiet = Deno.args.includes("--quiet");
const withModels = !Deno.args.includes("--no-models");

/** apt packages and the command on PATH that tells each is installed. */
const APT_TOOLS = [
  { pkg: "gcc-mips-linux-gnu", cmd: "mips-linux-gnu-gcc" },
  { pkg: "qemu-user", cmd: "qemu-mips" },
] as const;

function say(msg: string): void {
  console.error(`setup: ${msg}`);
}

class SetupError extends Error {}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function mtime(path: string): number {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

function onPath(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => d && exists(`${d}/${cmd}`));
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  say(`$ ${cmd} ${args.join(" ")}`);
  let code: number;
  try {
    ({ code } = await new Deno.Command(cmd, {
      args,
      cwd: root,
      env,
      stdout: "inherit",
      stderr: "inherit",
      stdin: "null",
    }).output());
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new SetupError(`${cmd} is not on PATH`);
    throw e;
  }
  if (code !== 0) throw new SetupError(`${cmd} ${args.join(" ")} failed with exit code ${code}`);
}

/** npm packages: reinstall when package-lock.json is newer than the installed tree. */
async function npmPackages(): Promise<void> {
  const marker = `${root}node_modules/.package-lock.json`;
  if (exists(marker) && mtime(marker) >= mtime(`${root}package-lock.json`)) return;
  // onnxruntime-node's install script would fetch CUDA files: skip it (the CPU build ships inside)
  await run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
    ONNXRUNTIME_NODE_INSTALL: "skip",
  });
}

/**
 * The apt packages: the MIPS tools when not on PATH, and the Python packages when the test
 * models must be (re)generated and the generator's Python (OPML_TORCH_PYTHON) cannot import them.
 */
async function aptPackages(modelsStale: boolean): Promise<void> {
  const torchMissing = modelsStale && !torchAvailable();
  const missing = [
    ...APT_TOOLS.filter((t) => !onPath(t.cmd)).map((t) => t.pkg),
    ...(torchMissing ? TORCH_APT_PACKAGES : []),
  ];
  if (missing.length === 0) return;
  if (Deno.uid() !== 0) {
    throw new SetupError(
      `missing ${missing.join(", ")}; install as root, then run this again:\n` +
        `  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends ${missing.join(" ")}'`,
    );
  }
  say(`installing ${missing.join(", ")} (apt, ${torchMissing ? "a few minutes" : "about a minute"})`);
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    DEBIAN_FRONTEND: "noninteractive",
  });
  const still = APT_TOOLS.filter((t) => !onPath(t.cmd));
  if (still.length > 0) {
    throw new SetupError(
      `apt-get installed ${missing.join(", ")} but ${
        still.map((t) => t.cmd).join(", ")
      } is still not on PATH`,
    );
  }
  if (torchMissing && !torchAvailable()) {
    throw new SetupError(
      `apt-get installed ${missing.join(", ")} but ${torchPython()} cannot import torch and torchvision`,
    );
  }
}

/**
 * Generates the test models (minutes) in a child process: its module graph loads npm packages
 * (onnxruntime-node) that `npm ci` may have installed after this process started, which this
 * process's module resolution does not see.
 */
async function testModels(): Promise<void> {
  say(`generating the PyTorch test models into ${torchModelsDir()} (a few minutes)`);
  const args = ["run", "--allow-read", "--allow-write", "--allow-run", "--allow-env", "--allow-ffi"];
  try {
    await run(Deno.execPath(), [...args, `${root}tasks/torch_models.ts`, ...(quiet ? ["--quiet"] : [])]);
  } catch (e) {
    if (e instanceof SetupError) {
      throw new SetupError("generating the PyTorch test models failed (see above)");
    }
    throw e;
  }
}

function foundry(): void {
  for (const tool of ["forge", "anvil", "cast"]) {
    if (!exists(`${root}node_modules/.bin/${tool}`)) {
      throw new SetupError(`node_modules/.bin/${tool} is missing after npm install`);
    }
  }
  // git keeps the executable bit, but a copy without it would make forge fail obscurely
  const solc = `${root}tasks/solc.cjs`;
  if (exists(solc) && ((Deno.statSync(solc).mode ?? 0o755) & 0o111) === 0) Deno.chmodSync(solc, 0o755);
}

try {
  await npmPackages();
  const stale = withModels && !torchModelsFresh();
  await aptPackages(stale);
  foundry();
  if (stale) await testModels();
  if (!quiet) say("all tools are present");
} catch (e) {
  if (!(e instanceof SetupError)) throw e;
  say(e.message);
  Deno.exit(1);
}
