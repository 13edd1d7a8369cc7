/**
 * `opml vm run`, `opml vm state` and `opml prove`: the fraud-proof VM on an ELF file.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import {
  ElfError,
  loadElf,
  localKey,
  MapSource,
  PreimageMissingError,
  PreimageOracle,
  runToExit,
  type StepWitness,
  Trace,
  VmState,
} from "../../core/vm/mod.ts";
import { CliError, hex, hex32, parseCount, printJson, readInputFile } from "../_io.ts";

const DEFAULT_MAX_STEPS = "10000000000";

/** Exit code of `vm run` when opml itself, not the guest, failed. */
export const VM_RUN_FAILURE = 125;

function load(path: string, exitCode = 1): VmState {
  try {
    return loadElf(readInputFile(path, "ELF"));
  } catch (e) {
    if (e instanceof ElfError) throw new CliError(`${path}: ${e.message}`, exitCode);
    if (e instanceof CliError) throw new CliError(e.message, exitCode);
    throw e;
  }
}

/** The oracle of a CLI run: `--stdin FILE` becomes local key 0. */
function oracleFor(stdinPath?: string): PreimageOracle {
  const src = new MapSource();
  if (stdinPath !== undefined) src.set(localKey(0), readInputFile(stdinPath, "input"));
  return new PreimageOracle(src);
}

function hostError(e: unknown, st: VmState, exitCode = 1): never {
  if (e instanceof PreimageMissingError) {
    throw new CliError(`step ${st.step + 1} (pc ${hex32(st.pc)}): ${e.message}`, exitCode);
  }
  throw e;
}

/** The state's fields for printing. */
export function stateFields(st: VmState) {
  return {
    step: st.step,
    pc: hex32(st.pc),
    nextPC: hex32(st.nextPC),
    lo: hex32(st.lo),
    hi: hex32(st.hi),
    heap: hex32(st.heap),
    exited: st.exited,
    exitCode: st.exitCode,
    status: st.status,
    preimageKey: hex(st.preimageKey),
    preimageOffset: st.preimageOffset,
    registers: Array.from(st.regs, (r) => hex32(r)),
    memRoot: hex(st.memory.root()),
    stateHash: hex(st.hash()),
  };
}

/** A witness as hex fields, the `opml prove --json` format. */
export function witnessJson(w: StepWitness) {
  return {
    step: w.step,
    stateData: hex(w.stateData),
    preStateHash: hex(w.preStateHash),
    proof: hex(w.proof),
    postStateHash: hex(w.postStateHash),
    preimage: w.preimage && {
      kind: w.preimage.kind,
      key: hex(w.preimage.key),
      offset: w.preimage.offset,
      part: hex(w.preimage.part),
      data: hex(w.preimage.data),
    },
  };
}

/** The state of the program at step `at` (or its final state if it exits earlier). */
function stateAt(elf: string, at: number, maxSteps: number, stdin?: string): VmState {
  if (at > maxSteps) {
    throw new CliError(`step ${at} is beyond --max-steps ${maxSteps}: raise --max-steps to go that far`, 2);
  }
  const st = load(elf);
  const trace = new Trace(st, { oracle: oracleFor(stdin) });
  try {
    return trace.stateAt(at);
  } catch (e) {
    hostError(e, trace.head);
  }
}

/** The `vm` command group. */
export function vmCommand() {
  const vm = new Command("vm").description("run MIPS ELF programs in the fraud-proof VM");

  vm.command("run")
    .description("run an ELF to its exit; the guest's output is ours and its exit code is ours")
    .argument("<elf>", "static big-endian MIPS32 executable")
    .option("--stdin <file>", "bytes served to the guest as local preimage key 0 (fd 0 itself reads EOF)")
    .option("--max-steps <n>", "stop with an error after this many steps", DEFAULT_MAX_STEPS)
    .option("--json", "print {steps, exitCode, status, stateHash, seconds} instead of guest output")
    .action((elf, opts) => {
      const maxSteps = parseCount(opts.maxSteps, "--max-steps");
      const st = load(elf, VM_RUN_FAILURE);
      const enc = new TextEncoder();
      const host = {
        oracle: oracleFor(opts.stdin),
        output: opts.json ? undefined : (fd: 1 | 2, data: Uint8Array) => {
          (fd === 1 ? Deno.stdout : Deno.stderr).writeSync(data);
        },
      };
      let res;
      try {
        res = runToExit(st, host, { maxSteps });
      } catch (e) {
        hostError(e, st, VM_RUN_FAILURE);
      }
      if (res.reason === "step-limit") {
        throw new CliError(`${elf}: step limit ${maxSteps} reached at pc ${hex32(st.pc)}`, VM_RUN_FAILURE);
      }
      if (res.reason === "unmapped-pc") {
        throw new CliError(
          `${elf}: the program jumped to unmapped memory: pc ${hex32(st.pc)} at step ${st.step}`,
          VM_RUN_FAILURE,
        );
      }
      if (opts.json) {
        printJson({
          steps: res.steps,
          exitCode: res.exitCode,
          status: res.status,
          stateHash: hex(st.hash()),
          seconds: res.seconds,
        });
      } else if (st.exitCode === 0xff) {
        Deno.stderr.writeSync(
          enc.encode(`opml: ${elf}: the VM faulted at pc ${hex32(st.pc)}, step ${st.step}\n`),
        );
      }
      Deno.exitCode = st.exitCode;
    });

  vm.command("state")
    .description("print the VM state (fields and hash) after N steps")
    .argument("<elf>", "static big-endian MIPS32 executable")
    .requiredOption("--at <n>", "step number")
    .option("--stdin <file>", "bytes served to the guest as local preimage key 0")
    .option(
      "--max-steps <n>",
      "refuse a step beyond this bound (a runaway guest never exits)",
      DEFAULT_MAX_STEPS,
    )
    .option("--json", "print as JSON")
    .action((elf, opts) => {
      const st = stateAt(
        elf,
        parseCount(opts.at, "--at"),
        parseCount(opts.maxSteps, "--max-steps"),
        opts.stdin,
      );
      const f = stateFields(st);
      if (opts.json) printJson(f);
      else {
        for (const [k, v] of Object.entries(f)) {
          if (k !== "registers") console.log(`${k.padEnd(15)} ${v}`);
        }
        for (let i = 0; i < 32; i += 4) {
          console.log(`r${i}..r${i + 3}`.padEnd(15) + " " + f.registers.slice(i, i + 4).join(" "));
        }
      }
    });
  return vm;
}

/** The `prove` command. */
export function proveCommand() {
  return new Command("prove")
    .description("print the one-step witness (pre-state, memory proofs, preimage) of one VM step")
    .argument("<elf>", "static big-endian MIPS32 executable")
    .requiredOption("--step <n>", "the pre-state's step number: proves the transition n -> n+1")
    .option("--stdin <file>", "bytes served to the guest as local preimage key 0")
    .option(
      "--max-steps <n>",
      "refuse a step beyond this bound (a runaway guest never exits)",
      DEFAULT_MAX_STEPS,
    )
    .option("--json", "print as JSON (hex fields)")
    .action((elf, opts) => {
      const at = parseCount(opts.step, "--step");
      const st = stateAt(elf, at, parseCount(opts.maxSteps, "--max-steps"), opts.stdin);
      if (st.step !== at) {
        throw new CliError(`${elf}: the program exits at step ${st.step}, before step ${at}`);
      }
      const trace = new Trace(st, { oracle: oracleFor(opts.stdin) });
      let w;
      try {
        w = trace.witnessAt(at);
      } catch (e) {
        hostError(e, st);
      }
      const j = witnessJson(w);
      if (opts.json) printJson(j);
      else {for (const [k, v] of Object.entries(j)) {
          console.log(`${k.padEnd(14)} ${typeof v === "object" ? JSON.stringify(v) : v}`);
        }}
    });
}
