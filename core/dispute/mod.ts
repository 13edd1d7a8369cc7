/**
 * Disputes: the one state machine of a party (engine.ts) and its offline transports; k-ary
 * dissection of two commitment sequences (phase 1 over node states, phase 2 over the VM steps of
 * one node's check), counterparts and their consistency, the session file of a challenge, and the
 * one-step proof of the disputed step.
 *
 * @example
 * ```ts
 * import { challenge } from "./core/dispute/mod.ts";
 * const { outcome } = await challenge({ arity: 4, ours, theirs, phase2, sessionPath: "s.json" });
 * ```
 * @module
 */
export { type Hash, hashBytes, isHash, statusOf, toHash } from "./hash.ts";
export {
  checkArity,
  disputedPart,
  interiorPoints,
  type Interval,
  isFinal,
  MAX_ARITY,
  maxRounds,
  MIN_ARITY,
  narrow,
  splitPointsOf,
  subInterval,
} from "./dissection.ts";
export {
  type CommitmentSource,
  CounterpartError,
  type Describe,
  describeNodeState,
  describeStep,
  DisputeError,
  functionSource,
  Ledger,
  listSource,
  type Side,
  sparseSource,
  UnavailableError,
} from "./counterpart.ts";
export {
  type AnswerRule,
  dissect,
  Dissection,
  type DissectOptions,
  type DissectResult,
  type Move,
  sourceAnswers,
} from "./dissect.ts";
export {
  type Answers,
  type CheckRuns,
  partyAnswers,
  PlayerStuck,
  playParty,
  type Transition,
  type Transport,
  type Turn,
} from "./engine.ts";
export { JsonFileError, readJson, readJsonIfExists, writeJsonAtomic } from "./json_file.ts";
export {
  challenge,
  type ChallengeOptions,
  type ChallengeOutcome,
  type ChallengeParams,
  type ChallengeReport,
  type ChallengeSession,
  type ChallengeStats,
  type CheckSource,
  type DisputedNode,
  type FinalClaim,
  type Phase2Sources,
  SessionError,
  STATUS_UNFINISHED,
  STATUS_VALID,
  vmTraceRule,
} from "./challenge.ts";
