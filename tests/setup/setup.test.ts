/**
 * `tasks/setup.ts` on a bare machine: the real script, run with exactly the permissions of the
 * `setup` task in deno.json, on a PATH without `mips-linux-gnu-gcc` and `qemu-mips` and with
 * an `apt-get` stub that records what it was asked (and, like the real one, puts the tools on
 * PATH and makes torch importable), a stub Python for the PyTorch test models (it imports
 * torch once apt installed it and writes an empty model index) and a fresh models folder. The
 * non-root branch runs as user `nobody` (setpriv) when the tests run as root.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";

const root = new URL("../..", import.meta.url).pathname;
// the test task grants no --allow-sys, so ask `id` rather than Deno.uid()
const asRoot =
  new TextDecoder().decode(new Deno.Command("id", { args: ["-u"] }).outputSync().stdout).trim() === "0";

/** The permission flags of the `setup` task, so the test sees what `deno task setup` grants. */
function setupTaskFlags(): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(`${root}deno.json`)).tasks as Record<string, string>;
  const words = tasks.setup.split(/\s+/);
  assertEquals(words.slice(0, 2), ["deno", "run"], "the setup task runs deno run");
  const flags = words.filter((w) => w.startsWith("--allow-") || w.startsWith("--deny-"));
  assert(words.includes("tasks/setup.ts"), "the setup task runs tasks/setup.ts");
  return flags;
}

interface Stub {
  dir: string;
  bin: string;
  log: string;
  /** What the stub Python was asked to generate, one line per run. */
  pyLog: string;
}

/**
 * A bare machine's PATH: one folder with only an `apt-get` stub. `mode` says what the stub
 * does on `install`: put the tools on PATH (as the real packages do), nothing, or fail.
 */
function bareMachine(mode: "installs" | "installs-nothing" | "fails"): Stub {
  const dir = Deno.makeTempDirSync({ prefix: "opml-setup-" });
  const bin = `${dir}/bin`;
  const log = `${dir}/apt.log`;
  const pyLog = `${dir}/python.log`;
  Deno.mkdirSync(bin);
  Deno.writeTextFileSync(log, "");
  Deno.writeTextFileSync(pyLog, "");
  const onInstall = {
    installs:
      `for t in mips-linux-gnu-gcc qemu-mips; do printf '#!/bin/sh\\n' > "${bin}/$t"; /bin/chmod 755 "${bin}/$t"; done; ` +
      `case "$*" in *python3-torch*) : > "${dir}/torch-installed";; esac`,
    "installs-nothing": ":",
    fails: "exit 100",
  }[mode];
  Deno.writeTextFileSync(
    `${bin}/apt-get`,
    `#!/bin/sh\nprintf '%s|DEBIAN_FRONTEND=%s\\n' "$*" "$DEBIAN_FRONTEND" >> "${log}"\n` +
      `case "$1" in install) ${onInstall};; esac\nexit 0\n`,
  );
  Deno.chmodSync(bin + "/apt-get", 0o755);
  // `python3 -c 'import torch, torchvision'` succeeds once apt installed torch; the generator
  // (tasks/torch_models.py OUT_DIR) writes an index of no models
  Deno.writeTextFileSync(
    `${bin}/python3`,
    `#!/bin/sh\ncase "$1" in\n-c) [ -e "${dir}/torch-installed" ]; exit $?;;\n` +
      `*) printf '%s\\n' "$1" >> "${pyLog}"; ` +
      `printf '{"torch":"stub","opsets":[13,17],"models":[]}' > "$2/models.json";;\nesac\n`,
  );
  Deno.chmodSync(bin + "/python3", 0o755);
  // as user nobody the stub folder must be readable and the log writable
  Deno.chmodSync(dir, 0o755);
  Deno.chmodSync(log, 0o666);
  Deno.chmodSync(pyLog, 0o666);
  return { dir, bin, log, pyLog };
}

/**
 * Copies this checkout's tracked files to `checkout` (a world-readable folder, so user `nobody`
 * can read it even when this checkout sits in a private folder such as `mktemp -d`'s). With
 * `nodeModules` the installed packages come along as hard links, with package-lock.json's time
 * kept, so setup sees them as current and runs no `npm ci`.
 */
function copyCheckout(checkout: string, opts: { nodeModules: boolean }): void {
  const files = new TextDecoder().decode(
    new Deno.Command("git", { args: ["ls-files", "-z"], cwd: root }).outputSync().stdout,
  ).split("\0").filter((f) => f && !f.startsWith("node_modules/"));
  for (const f of files) {
    Deno.mkdirSync(checkout + f.slice(0, f.lastIndexOf("/") + 1), { recursive: true, mode: 0o755 });
    Deno.copyFileSync(root + f, checkout + f);
  }
  if (!opts.nodeModules) return;
  const cp = new Deno.Command("cp", { args: ["-al", `${root}node_modules`, `${checkout}node_modules`] })
    .outputSync();
  assertEquals(cp.code, 0, new TextDecoder().decode(cp.stderr));
  const lock = Deno.statSync(`${root}package-lock.json`);
  Deno.utimeSync(`${checkout}package-lock.json`, lock.atime ?? new Date(), lock.mtime ?? new Date());
}

async function runSetup(stub: Stub, opts: { asUser?: string; checkout?: string } = {}) {
  const checkout = opts.checkout ?? root;
  const denoDir = `${stub.dir}/deno-dir`;
  Deno.mkdirSync(denoDir, { recursive: true });
  Deno.chmodSync(denoDir, 0o777);
  const deno = Deno.execPath();
  const args = ["run", ...setupTaskFlags(), `${checkout}tasks/setup.ts`, "--quiet"];
  const [cmd, cmdArgs] = opts.asUser
    ? ["/usr/bin/setpriv", [
      `--reuid=${opts.asUser}`,
      `--regid=${opts.asUser}`,
      "--clear-groups",
      deno,
      ...args,
    ]]
    : [deno, args];
  const out = await new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: checkout,
    clearEnv: true,
    env: {
      PATH: stub.bin,
      HOME: stub.dir,
      DENO_DIR: denoDir,
      NO_COLOR: "1",
      OPML_TORCH_PYTHON: `${stub.bin}/python3`,
      OPML_TORCH_MODELS: `${stub.dir}/torch-models`,
    },
    stdin: "null",
  }).output();
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
    apt: Deno.readTextFileSync(stub.log).split("\n").filter((l) => l),
    generated: Deno.readTextFileSync(stub.pyLog).split("\n").filter((l) => l),
  };
}

Deno.test({
  name:
    "setup as root on a bare machine: apt-get update, install of the tools and torch, the models, then idempotent",
  ignore: !asRoot,
  fn: async () => {
    const stub = bareMachine("installs");
    try {
      const first = await runSetup(stub);
      assertEquals(first.code, 0, first.stderr);
      assertEquals(first.apt, [
        "update -qq|DEBIAN_FRONTEND=",
        "install -y -qq --no-install-recommends gcc-mips-linux-gnu qemu-user python3-torch python3-torchvision|DEBIAN_FRONTEND=noninteractive",
      ]);
      assertEquals(first.generated, [`${root}tasks/torch_models.py`], "the generator ran once");
      // the tools and the models are there now: nothing more is asked of apt or Python
      const again = await runSetup(stub);
      assertEquals(again.code, 0, again.stderr);
      assertEquals(again.apt.length, 2);
      assertEquals(again.generated.length, 1);
    } finally {
      Deno.removeSync(stub.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "setup as root: only the missing package is installed",
  ignore: !asRoot,
  fn: async () => {
    const stub = bareMachine("installs");
    try {
      Deno.writeTextFileSync(`${stub.bin}/qemu-mips`, "#!/bin/sh\n", { mode: 0o755 });
      Deno.writeTextFileSync(`${stub.dir}/torch-installed`, "");
      const r = await runSetup(stub);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(
        r.apt[1],
        "install -y -qq --no-install-recommends gcc-mips-linux-gnu|DEBIAN_FRONTEND=noninteractive",
      );
    } finally {
      Deno.removeSync(stub.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "setup as root: a failing apt-get or one that leaves the tools missing ends with one line and exit 1",
  ignore: !asRoot,
  fn: async () => {
    for (
      const [mode, expected] of [
        [
          "fails",
          "setup: apt-get install -y -qq --no-install-recommends gcc-mips-linux-gnu qemu-user python3-torch python3-torchvision failed with exit code 100",
        ],
        ["installs-nothing", "is still not on PATH"],
      ] as const
    ) {
      const stub = bareMachine(mode);
      try {
        const r = await runSetup(stub);
        assertEquals(r.code, 1, r.stderr);
        const lines = r.stderr.split("\n").filter((l) =>
          l && !l.startsWith("setup: $ ") && !l.startsWith("setup: installing")
        );
        assertEquals(lines.length, 1, r.stderr);
        assertStringIncludes(lines[0], expected);
        assert(!r.stderr.includes("    at "), "no stack trace");
      } finally {
        Deno.removeSync(stub.dir, { recursive: true });
      }
    }
  },
});

/**
 * A fresh clone: the tracked files without node_modules, with an `npm` stub that provides the
 * packages the way `npm ci` does (hard links to this checkout's). CI once failed here: setup
 * imported a module needing npm packages installed by the same process, which Deno's module
 * resolution, fixed at start, did not see.
 */
Deno.test({
  name: "setup on a fresh clone: packages npm installs in the same run serve the model generation",
  ignore: !asRoot,
  fn: async () => {
    const stub = bareMachine("installs");
    const checkout = `${stub.dir}/clone/`;
    try {
      copyCheckout(checkout, { nodeModules: false });
      Deno.writeTextFileSync(
        `${stub.bin}/npm`,
        `#!/bin/sh\nprintf 'npm %s\\n' "$*" >> "${stub.log}"\n/bin/cp -al "${root}node_modules" ./node_modules\n`,
        { mode: 0o755 },
      );
      const r = await runSetup(stub, { checkout });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.apt[0], "npm ci --ignore-scripts --no-audit --no-fund");
      assertEquals(r.generated, [`${checkout}tasks/torch_models.py`], "the generator ran once");
      const index = JSON.parse(Deno.readTextFileSync(`${stub.dir}/torch-models/models.json`));
      assertEquals(index.models, [], "the generation finished (references and cache key written)");
    } finally {
      Deno.removeSync(stub.dir, { recursive: true });
    }
  },
});

Deno.test("setup as another user: names the exact command to run as root, asks apt nothing, exits 1", async () => {
  const stub = bareMachine("installs");
  try {
    // as root, user nobody runs setup from a world-readable copy: this checkout's folder may be private
    let checkout: string | undefined;
    if (asRoot) {
      checkout = `${stub.dir}/clone/`;
      copyCheckout(checkout, { nodeModules: true });
    }
    const r = await runSetup(stub, { asUser: asRoot ? "65534" : undefined, checkout });
    assertEquals(r.code, 1, r.stderr);
    assertStringIncludes(
      r.stderr,
      "setup: missing gcc-mips-linux-gnu, qemu-user, python3-torch, python3-torchvision; install as root, then run this again:",
    );
    assertStringIncludes(
      r.stderr,
      "  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends gcc-mips-linux-gnu qemu-user python3-torch python3-torchvision'",
    );
    assert(!r.stderr.includes("Requires"), `no permission prompt or error: ${r.stderr}`);
    assertEquals(r.apt, []);
    assertEquals(r.generated, []);
  } finally {
    Deno.removeSync(stub.dir, { recursive: true });
  }
});
