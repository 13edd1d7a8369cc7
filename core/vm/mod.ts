/**
 * The fraud-proof MIPS VM (docs/VM.md): state, memory, the step function, witnesses,
 * checkpointed traces, the ELF loader and the host side of the preimage oracle.
 *
 * @example
 * ```ts
 * import { loadElf, MapSource, PreimageOracle, runToExit } from "./core/vm/mod.ts";
 * const state = loadElf(Deno.readFileSync("prog.elf"));
 * const result = runToExit(state, { oracle: new PreimageOracle(new MapSource()) });
 * console.log(result.exitCode, state.hash());
 * ```
 * @module
 */
export { hash64, hashPair, keccak256, ZERO_HASHES } from "./keccak.ts";
export {
  Memory,
  MEMORY_DEPTH,
  MEMORY_PROOF_SIZE,
  MemorySnapshot,
  PAGE_SIZE,
  snapshotFootprint,
  verifyMemoryProof,
} from "./memory.ts";
export {
  type DecodedState,
  decodeState,
  FAULT_EXIT_CODE,
  FrozenState,
  Reg,
  STATE_SIZE,
  stateHash,
  VmState,
  VmStatus,
} from "./state.ts";
export { execute, Fd, Syscall, type VmHost } from "./step.ts";
export { ElfError, HEAP_START, loadElf, STACK_TOP } from "./elf.ts";
export {
  ChainedSource,
  DirSource,
  keccakKey,
  keyHex,
  KeyType,
  localKey,
  MapSource,
  MAX_LOCAL_DATA,
  merkleDataKey,
  merkleDataKeyOf,
  merkleDataRoot,
  PreimageMissingError,
  PreimageOracle,
  type PreimagePart,
  type PreimageSource,
  UnprovablePreimageError,
} from "./oracle.ts";
export { stepWithWitness, type StepWitness, type WitnessPreimage } from "./witness.ts";
export { Trace, type TraceOptions } from "./trace.ts";
export { type RunOptions, type RunResult, runToExit, type StopReason } from "./run.ts";
