/**
 * One-step witnesses: exactly what the on-chain `step(stateData, proof, localContext)` consumes
 * for one instruction, plus the preimage the oracle contract must hold for it.
 * @module
 */
import { MEMORY_PROOF_SIZE } from "./memory.ts";
import { KeyType, type PreimageOracle } from "./oracle.ts";
import { execute, Fd, Syscall, type VmHost } from "./step.ts";
import { Reg, type VmState } from "./state.ts";

/** The preimage an oracle contract must have loaded for a step that reads one. */
export interface WitnessPreimage {
  kind: "local" | "keccak" | "merkle";
  /** The key as the VM state holds it (local keys not yet localized). */
  key: Uint8Array;
  /** Stream offset read by the step. */
  offset: number;
  /** The 32-byte part of the stream at `offset` (zero-padded). */
  part: Uint8Array;
  /** The whole preimage (without the length prefix). */
  data: Uint8Array;
}

/** Everything needed to execute one step on chain and check its result. */
export interface StepWitness {
  /** The step counter of the pre-state: this witness proves step number `step + 1`. */
  step: number;
  /** The packed pre-state (358 bytes). */
  stateData: Uint8Array;
  preStateHash: Uint8Array;
  /** Instruction proof then data proof, 2 x 896 bytes (data proof zero when unused). */
  proof: Uint8Array;
  postStateHash: Uint8Array;
  preimage?: WitnessPreimage;
}

/**
 * Executes one step of `st` (which advances) and returns its witness.
 *
 * @example
 * ```ts
 * const w = stepWithWitness(state, { oracle });
 * // w.stateData, w.proof: the arguments of MIPS.step on chain
 * ```
 */
export function stepWithWitness(st: VmState, host: VmHost): StepWitness {
  const stateData = st.encode();
  const preStateHash = st.hash();
  const proof = new Uint8Array(2 * MEMORY_PROOF_SIZE);
  proof.set(st.memory.proof(st.pc & ~3), 0);
  const pre = st.memory.snapshot();
  const preimage = preimageRead(st, host.oracle);
  const step = st.step;
  execute(st, host, 1);
  if (st.lastDataAddr >= 0 && st.step === step + 1) {
    proof.set(pre.proof(st.lastDataAddr), MEMORY_PROOF_SIZE);
  }
  return { step, stateData, preStateHash, proof, postStateHash: st.hash(), preimage };
}

/** The preimage the next step reads, if it is a read of the preimage fd. */
function preimageRead(st: VmState, oracle: PreimageOracle): WitnessPreimage | undefined {
  if (st.exited || (st.pc & 3) !== 0) return undefined;
  const insn = st.memory.readWord(st.pc);
  const isSyscall = (insn >>> 26) === 0 && (insn & 63) === 0x0c;
  if (
    !isSyscall || st.regs[Reg.v0] !== Syscall.read ||
    (st.regs[Reg.a0] !== Fd.preimageRead && st.regs[Reg.a0] !== Fd.preimageReadLe)
  ) return undefined;
  if (st.regs[Reg.a2] === 0) return undefined; // a read of 0 bytes does not ask the oracle
  const key = st.preimageKey.slice();
  const { part } = oracle.read(key, st.preimageOffset);
  const stream = oracle.stream(key);
  const kind = key[0] === KeyType.Local ? "local" : key[0] === KeyType.MerkleData ? "merkle" : "keccak";
  return { kind, key, offset: st.preimageOffset, part, data: stream.slice(8) };
}
