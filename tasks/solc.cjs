#!/usr/bin/env node
// A native-solc look-alike around npm `solc` (wasm), so that forge can use it offline:
//   solc --version
//   solc [--base-path DIR] [--include-path DIR]... [--allow-paths P] --standard-json < input.json
// Only the options forge passes are supported; anything else is an error (exit code 2).
// Import callback: a path is tried as given (absolute, or relative to the cwd), then under the
// base path, then under each include path. `--allow-paths` is accepted and ignored.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

function die(message, code) {
  process.stderr.write(`solc.cjs: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, includePaths: [] };
  const valueOf = (i, flag) => {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    if (eq >= 0) return [arg.slice(eq + 1), i];
    if (i + 1 >= argv.length) die(`option ${flag} needs a value`, 2);
    return [argv[i + 1], i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const flag = arg.startsWith("--") ? arg.split("=")[0] : arg;
    switch (flag) {
      case "--version":
      case "-v":
        opts.version = true;
        break;
      case "--standard-json":
        opts.standardJson = true;
        break;
      case "--base-path": {
        const [v, j] = valueOf(i, flag);
        opts.basePath = v;
        i = j;
        break;
      }
      case "--include-path": {
        const [v, j] = valueOf(i, flag);
        opts.includePaths.push(v);
        i = j;
        break;
      }
      case "--allow-paths": {
        const [, j] = valueOf(i, flag);
        i = j;
        break;
      }
      case "--no-color":
      case "--pretty-json":
        break;
      default:
        die(`unsupported argument '${arg}' (only --version and --standard-json are supported)`, 2);
    }
  }
  return opts;
}

function loadSolc() {
  // Emscripten installs handlers that swallow errors; keep the process behaviour predictable.
  const before = process.listeners("uncaughtException");
  const solc = require("solc");
  for (const l of process.listeners("uncaughtException")) {
    if (!before.includes(l)) process.removeListener("uncaughtException", l);
  }
  return solc;
}

function nativeVersion(solc) {
  // "0.8.37+commit.f401782d.Emscripten.clang" -> "0.8.37+commit.f401782d.Linux.g++"
  const m = /^(\d+\.\d+\.\d+(?:-[^+]*)?\+commit\.[0-9a-f]+)/.exec(solc.version());
  if (!m) die(`unexpected solc version string '${solc.version()}'`, 1);
  return `${m[1]}.Linux.g++`;
}

function readStdin() {
  const chunks = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") continue;
      if (e.code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function makeImportCallback(opts) {
  const roots = [];
  if (opts.basePath) roots.push(opts.basePath);
  roots.push(...opts.includePaths);
  return (sourcePath) => {
    const candidates = [];
    if (path.isAbsolute(sourcePath)) candidates.push(sourcePath);
    else {
      for (const root of roots) candidates.push(path.resolve(root, sourcePath));
      candidates.push(path.resolve(sourcePath));
    }
    for (const file of candidates) {
      try {
        if (fs.statSync(file).isFile()) return { contents: fs.readFileSync(file, "utf8") };
      } catch {
        // try the next candidate
      }
    }
    return { error: `File not found: ${sourcePath} (searched ${candidates.join(", ")})` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.version && !opts.standardJson) {
    die("nothing to do: pass --version or --standard-json", 2);
  }
  const solc = loadSolc();
  if (opts.version) {
    process.stdout.write(
      `solc, the solidity compiler commandline interface\nVersion: ${nativeVersion(solc)}\n`,
    );
    return 0;
  }
  const input = readStdin();
  try {
    JSON.parse(input);
  } catch (e) {
    die(`standard JSON input is not valid JSON: ${e.message}`, 1);
  }
  const output = solc.compile(input, { import: makeImportCallback(opts) });
  // Like native solc: compilation errors are reported inside the JSON, exit code 0.
  process.stdout.write(output);
  process.stdout.write("\n");
  return 0;
}

try {
  const code = main();
  process.exitCode = code;
} catch (e) {
  die(e && e.stack ? e.stack : String(e), 1);
}
