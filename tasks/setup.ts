/**
 * `deno task setup`: installs whatever is missing, idempotently, and is quick when all is
 * there: npm packages (Foundry, solc, viem, ...), the MIPS cross-compiler and qemu-user (apt).
 * Other tasks run it first with `--quiet`.
 * @module
 */

const root = new URL("..", import.meta.url).pathname;
const quiet = Deno.args.includes("--quiet");
const APT_PACKAGES = ["gcc-mips-linux-gnu", "qemu-user"];

function say(msg: string): void {
  console.error(`setup: ${msg}`);
}

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
  const { code } = await new Deno.Command(cmd, {
    args,
    cwd: root,
    env,
    stdout: "inherit",
    stderr: "inherit",
    stdin: "null",
  }).output();
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${code}`);
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

async function aptPackages(): Promise<void> {
  const missing = APT_PACKAGES.filter((p) =>
    p === "gcc-mips-linux-gnu" ? !onPath("mips-linux-gnu-gcc") : !onPath("qemu-mips")
  );
  if (missing.length === 0) return;
  const cmd = `apt-get update && apt-get install -y ${missing.join(" ")}`;
  if (Deno.uid?.() !== 0) {
    say(`missing ${missing.join(", ")}; install them as root with:\n  sudo sh -c '${cmd}'`);
    Deno.exit(1);
  }
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    DEBIAN_FRONTEND: "noninteractive",
  });
}

function foundry(): void {
  for (const tool of ["forge", "anvil", "cast"]) {
    if (!exists(`${root}node_modules/.bin/${tool}`)) {
      throw new Error(`node_modules/.bin/${tool} is missing after npm install`);
    }
  }
  // git keeps the executable bit, but a copy without it would make forge fail obscurely
  const solc = `${root}tasks/solc.cjs`;
  if (exists(solc) && ((Deno.statSync(solc).mode ?? 0o755) & 0o111) === 0) Deno.chmodSync(solc, 0o755);
}

try {
  await npmPackages();
  await aptPackages();
  foundry();
  if (!quiet) say("all tools are present");
} catch (e) {
  say((e as Error).message);
  Deno.exit(1);
}
