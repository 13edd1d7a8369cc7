// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMIPS} from "./interfaces/IMIPS.sol";
import {IPreimageOracle} from "./interfaces/IPreimageOracle.sol";
import {PreimageKeyLib} from "./PreimageKeyLib.sol";
import {MerkleDataLib} from "./MerkleDataLib.sol";

/// @title OpmlGame
/// @notice Tasks, results and the multi-phase dispute game of opml (docs/GAME.md).
///         A requester posts a task (a registered model, an input key, a fee); a server commits
///         to a result with a bond (a hash that hides it and names the server), then reveals it
///         (the output key and the output data, checked against the key on chain) within the
///         reveal window; an unchallenged result is final after the challenge window (counted
///         from the reveal) and the server is paid. An unrevealed commitment forfeits the bond to
///         the requester and reopens the task. A challenger who disagrees opens a dispute
///         with a bond. The dispute is a k-ary dissection game between the server (defender)
///         and the challenger:
///         - phase 1 over the model's states S_0 .. S_(N+1), where S_0 and S_(N+1) are computed
///           here from the task and the result (links 1 and 2), down to one transition
///           S_(a) -> S_(b) (b = a + 1; single-phase tasks skip it: a = 0, b = N + 1);
///         - phase 2 over the VM steps of the transition checker, from the model's checker
///           initial state to the defender's claimed final state, which must be exited-valid
///           within the model's step bound; the checker's local inputs (S_a, claimed S_b, b) are
///           loaded into the oracle by this contract, bound to the dispute (link 3);
///         - one `MIPS.step`, called by this contract, decides (link 4).
///         Each party has a chess clock; whoever runs out loses. A result that loses one
///         dispute is rejected for good: every other open dispute on it is won by its challenger;
///         half the server bond is burnt and the other half is split evenly among the
///         challengers of the disputes open at the rejection (docs/GAME.md, "Incentives").
///         Every payment is a credit withdrawn with `withdraw` or `withdrawTo` (pull payments).
/// @dev Phase-1 state: `H(programKey || u32be(i) || key)` where H is keccak256 with its first
///      byte set to 2 (docs/MULTIPHASE.md). localContext of a dispute: `bytes32(disputeId)`.
contract OpmlGame {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A model: its commitment and what the game needs to dispute it.
    /// @param programKey  The model commitment (Merkle-data key of the .opir bytes).
    /// @param checkerInit The transition checker image's initial VM state hash.
    /// @param nodeCount   N, the number of graph nodes (states S_0 .. S_(N+1)).
    /// @param maxSteps    The step bound of the check of one node (multi-phase tasks).
    /// @param maxWholeSteps The step bound of the check of the whole model (single-phase tasks);
    ///                    0: single-phase tasks are refused for this model.
    struct Model {
        bytes32 programKey;
        bytes32 checkerInit;
        uint32 nodeCount;
        uint64 maxSteps;
        uint64 maxWholeSteps;
    }

    /// @notice Lifecycle of a task.
    enum Status {
        None,
        Open, // posted, waiting for a result
        Pending, // result posted, challengeable
        Finalized, // result final, server paid
        Rejected, // the server lost a dispute, fee refunded
        Cancelled, // cancelled by the requester before any commitment
        Committed // a server committed to a result (resultTime: the commitment's time)
    }

    struct Task {
        address requester;
        uint96 fee;
        address server;
        uint40 resultTime;
        Status status;
        bool singlePhase;
        uint32 openDisputes;
        bytes32 modelId;
        bytes32 inputKey;
        bytes32 outputKey;
        uint96 share; // after a rejection with several open disputes: each one's part of the reward
        uint32 claimTickets; // disputes of this result that reached Claim (the claim queue's tickets)
        uint32 claimTurn; // the ticket whose defender is to claim now (== claimTickets: none waits)
        uint40 claimTurnSince; // when that ticket's turn began (its clock runs from then)
        bytes32 commitment; // the server's commitResult: commitmentOf(taskId, outputKey, salt, server)
    }

    /// @notice The state of a dispute; the phase says whose turn it is.
    enum Phase {
        None,
        Bisect1, // defender: post the interior phase-1 states of [lo, hi]
        Pick1, // challenger: pick the phase-1 sub-interval it disputes
        Claim, // defender: claim the checker's final state and step count
        Bisect2, // defender: post the interior VM state hashes of [lo, hi]
        Pick2, // challenger: pick the step sub-interval it disputes
        Step, // challenger (or defender): execute step lo -> lo + 1 on chain
        Resolved
    }

    /// @notice Why a dispute ended.
    enum Reason {
        Step, // the on-chain step decided
        Timeout, // a party's clock ran out
        Rejected // the result was rejected by another dispute: the challenger wins
    }

    /// @notice A dispute as `getDispute` shows it (storage holds `DisputeSlots`, packed).
    /// @param loState    The agreed state at `lo` of the current interval (phases 1 and 2).
    /// @param hiState    The disputed state at `hi` of the current interval.
    /// @param statesHash keccak256 of the interior states the defender posted last.
    /// @param preState   S_a (local key 1), from the end of phase 1 on.
    /// @param claimState The defender's S_b (local key 2), from the end of phase 1 on.
    struct Dispute {
        uint64 taskId;
        address challenger;
        Phase phase;
        bool defenderWon;
        uint64 lastMove;
        uint64 defenderClock;
        uint64 challengerClock;
        uint32 b; // the checked transition ends at S_b (local key 3)
        uint32 claimTicket; // its place in the result's claim queue (set on reaching Claim)
        uint64 lo; // the current interval: agreed state at lo, disputed state at hi
        uint64 hi;
        bytes32 loState;
        bytes32 hiState;
        bytes32 statesHash;
        bytes32 preState;
        bytes32 claimState;
    }

    /// @dev A dispute in storage, packed so that a move writes few slots (docs/GAME.md, "Gas"):
    ///      slot 0 is written when the dispute opens and at the end of phase 1; every move writes
    ///      slot 1 (phase, clocks, interval) and only the state slots whose value changes. The
    ///      phase-1 interval's states stay in `a`/`c` once phase 1 ends: they are the transition's
    ///      S_a and claimed S_b (no copy); phase 2's interval states live in `lo2`/`hi2`.
    struct DisputeSlots {
        // slot 0
        uint64 taskId;
        address challenger;
        uint32 b;
        // slot 1
        Phase phase;
        bool defenderWon;
        uint40 lastMove;
        uint40 defenderClock;
        uint40 challengerClock;
        uint40 lo; // < MAX_STEPS
        uint48 hi; // <= MAX_STEPS
        uint32 claimTicket;
        // state slots
        bytes32 a; // phase 1: the state at lo; then S_a
        bytes32 c; // phase 1: the state at hi; then the claimed S_b
        bytes32 statesHash;
        bytes32 lo2; // phase 2: the state at lo
        bytes32 hi2; // phase 2: the state at hi
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A constructor parameter is out of range.
    error InvalidConfig();
    /// @notice A model needs 1 <= nodeCount <= MAX_NODES, 1 <= maxSteps <= MAX_STEPS,
    ///         maxWholeSteps <= MAX_STEPS and a checker initial state that is still running
    ///         (status byte 3: an exited checker would make every claim irrefutable).
    error InvalidModel();
    /// @notice The model takes no single-phase tasks (its maxWholeSteps is 0).
    error SinglePhaseUnavailable(bytes32 modelId);
    /// @notice No model is registered under this id.
    error UnknownModel(bytes32 modelId);
    /// @notice msg.value is not the required fee or bond.
    error WrongValue(uint256 expected, uint256 got);
    /// @notice The task is not in the status the call needs.
    error WrongTaskStatus(Status status);
    /// @notice Only the requester may cancel its task.
    error NotRequester();
    /// @notice Only the server that committed may reveal.
    error NotServer();
    /// @notice The revealed output key and salt are not what the server committed to.
    error CommitmentMismatch();
    /// @notice The reveal window of the commitment is over (the bond is forfeited).
    error RevealWindowClosed();
    /// @notice The reveal window of the commitment is not over yet.
    error RevealWindowOpen();
    /// @notice The revealed output data's key is `got`, not the revealed output key.
    error OutputMismatch(bytes32 outputKey, bytes32 got);
    /// @notice The challenge window of the result is over.
    error ChallengeWindowClosed();
    /// @notice The challenge window of the result is not over yet.
    error ChallengeWindowOpen();
    /// @notice A result with open disputes cannot be finalized.
    error DisputesOpen(uint256 count);
    /// @notice The server cannot challenge its own result.
    error SelfChallenge();
    /// @notice No such dispute, or it has ended.
    error GameEnded();
    /// @notice The caller is neither the defender nor the challenger of the dispute.
    error NotParty();
    /// @notice It is the other party's turn.
    error NotYourTurn();
    /// @notice The move does not fit the dispute's phase.
    error WrongMove(Phase phase);
    /// @notice The mover's clock ran out: the move is too late (the other party may claim the
    ///         timeout).
    error ClockExpired();
    /// @notice The clock of the party to move has not run out (or is paused: a claim waiting for
    ///         its turn).
    error ClockNotExpired();
    /// @notice The defender's claim waits for its turn: `ahead` claims of the same result come
    ///         first (its clock is paused meanwhile).
    error ClaimQueued(uint256 ahead);
    /// @notice The defender must post exactly `expected` interior states.
    error WrongStateCount(uint256 expected, uint256 got);
    /// @notice The states given with a pick are not the ones the defender posted.
    error StatesMismatch();
    /// @notice The picked sub-interval does not exist.
    error InvalidIndex(uint256 index, uint256 count);
    /// @notice The claimed final checker state is not exited with code 0 (status byte 0).
    error InvalidFinalState(bytes32 finalState);
    /// @notice The claimed step count is 0 or above the model's bound.
    error InvalidStepCount(uint256 steps, uint256 maxSteps);
    /// @notice The pre-state is not 358 bytes.
    error InvalidStateLength();
    /// @notice The pre-state's hash is not the agreed state hash.
    error PreStateMismatch(bytes32 expected, bytes32 got);
    /// @notice The caller has no credit.
    error NothingToWithdraw();
    /// @notice withdrawTo the zero address.
    error ZeroAddress();
    /// @notice Sending the credit failed.
    error TransferFailed();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    event ModelRegistered(
        bytes32 indexed modelId,
        bytes32 programKey,
        bytes32 checkerInit,
        uint32 nodeCount,
        uint64 maxSteps,
        uint64 maxWholeSteps
    );
    event TaskPosted(
        uint256 indexed taskId,
        address indexed requester,
        bytes32 indexed modelId,
        bytes32 inputKey,
        uint256 fee,
        bool singlePhase,
        bytes input
    );
    event TaskCancelled(uint256 indexed taskId);
    /// @notice A server committed to a result of an open task (it alone may now reveal one).
    event ResultCommitted(uint256 indexed taskId, address indexed server, bytes32 commitment);
    /// @notice A commitment was not revealed in time: its bond went to the requester, the task
    ///         is open again.
    event CommitmentForfeited(uint256 indexed taskId, address indexed server);
    /// @notice The revealed result: `outputs` are the output tensors' bytes, in the model's
    ///         output order, whose keys make `outputKey` (checked on chain).
    event ResultPosted(
        uint256 indexed taskId, address indexed server, bytes32 outputKey, bytes[] outputs
    );
    event ResultFinalized(uint256 indexed taskId, address indexed server);
    event ResultRejected(uint256 indexed taskId, uint256 indexed disputeId);
    event DisputeOpened(
        uint256 indexed disputeId, uint256 indexed taskId, address indexed challenger
    );
    /// @notice The interval now disputed: both agree on `loState` at `lo`, the challenger
    ///         disputes the defender's `hiState` at `hi`. `phase` is Bisect1, Bisect2 or Step.
    event Interval(
        uint256 indexed disputeId,
        Phase phase,
        uint64 lo,
        uint64 hi,
        bytes32 loState,
        bytes32 hiState
    );
    /// @notice The defender's interior states of the current interval, at `splitPoints`.
    event StatesPosted(uint256 indexed disputeId, Phase phase, bytes32[] states);
    /// @notice Phase 1 is over (or skipped): the checker checks S_a -> claimed S_b; these are
    ///         its local inputs (keys 1, 2, 3 = u32be(b)).
    event TransitionSelected(
        uint256 indexed disputeId, uint32 b, bytes32 preState, bytes32 claimState
    );
    /// @notice The defender claims the checker exits valid in state `finalState` at `steps`.
    event CheckClaimed(uint256 indexed disputeId, uint64 steps, bytes32 finalState);
    /// @notice The step `stepIndex` -> `stepIndex + 1` was executed on chain.
    event StepExecuted(
        uint256 indexed disputeId, uint64 stepIndex, bytes32 postState, bytes32 claimedPostState
    );
    event DisputeResolved(uint256 indexed disputeId, bool defenderWon, Reason reason);
    event Credited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 CONFIG
    //////////////////////////////////////////////////////////////*/

    /// @notice Largest N of a model: phase 1 takes at most log2(2^24 + 1) + 1 = 25 rounds.
    uint32 public constant MAX_NODES = 1 << 24;
    /// @notice Largest step bound of a check: phase 2 takes at most 40 rounds, and a check of
    ///         2^40 steps (about 3 hours at 10^8 steps/s) can still be run off chain within a
    ///         realistic clock. The 124M-parameter model's whole-model check is 1.3 * 2^37.
    uint64 public constant MAX_STEPS = 1 << 40;

    /// @notice The one-step VM (its caller is this contract: link 3's localization).
    IMIPS public immutable mips;
    /// @notice The oracle of `mips`, where this contract loads the checker's local inputs.
    IPreimageOracle public immutable oracle;
    /// @notice Number of sub-intervals per dissection round (>= 2).
    uint256 public immutable arity;
    /// @notice Each party's time budget per dispute, in seconds.
    uint64 public immutable clockBudget;
    /// @notice The server's bond for a result.
    uint256 public immutable serverBond;
    /// @notice The challenger's bond for a dispute.
    uint256 public immutable challengerBond;
    /// @notice Seconds after a result during which it can be challenged.
    uint64 public immutable challengeWindow;
    /// @notice Seconds after a commitment during which its server must reveal it: the clock
    ///         budget (a server has as long to reveal as to make any move of a dispute).
    uint64 public immutable revealWindow;
    /// @notice The part of a rejected result's server bond that nobody is paid (half of it): it
    ///         stays in this contract for good (each `ResultRejected` burns it; no storage is
    ///         written for it, so that the rejecting move costs no more gas). A liar whose own sybil challengers open disputes
    ///         on its result shares the rest with the honest challengers, but never gets this
    ///         part back, however many sybils it uses (docs/GAME.md, invariant 3).
    uint256 public immutable rejectionBurn;
    /// @notice What the challengers of a rejected result share: `serverBond - rejectionBurn`.
    uint256 public immutable rejectionReward;

    /*//////////////////////////////////////////////////////////////
                                 STATE
    //////////////////////////////////////////////////////////////*/

    mapping(bytes32 => Model) internal _models;
    mapping(uint256 => Task) internal _tasks;
    mapping(uint256 => DisputeSlots) internal _disputes;
    /// @notice Withdrawable balance of each account.
    mapping(address => uint256) public credits;
    /// @notice Number of tasks posted (task ids are 1 .. taskCount).
    uint256 public taskCount;
    /// @notice Number of disputes opened (dispute ids are 1 .. disputeCount).
    uint256 public disputeCount;

    /// @param mips_            The one-step VM.
    /// @param arity_           Sub-intervals per dissection round, 2 .. 1024.
    /// @param clockBudget_     Each party's time budget per dispute (seconds, 1 .. 2^40 - 1:
    ///                         stored in 40 bits).
    /// @param serverBond_      The bond of a result (> 0, < 2^96).
    /// @param challengerBond_  The bond of a dispute (> 0).
    /// @param challengeWindow_ Seconds during which a result can be challenged (> 0).
    constructor(
        IMIPS mips_,
        uint256 arity_,
        uint64 clockBudget_,
        uint256 serverBond_,
        uint256 challengerBond_,
        uint64 challengeWindow_
    ) {
        if (
            arity_ < 2 || arity_ > 1024 || clockBudget_ == 0 || clockBudget_ > type(uint40).max
                || challengeWindow_ == 0 || serverBond_ == 0 || serverBond_ > type(uint96).max
                || challengerBond_ == 0
        ) revert InvalidConfig();
        mips = mips_;
        oracle = mips_.oracle();
        arity = arity_;
        clockBudget = clockBudget_;
        serverBond = serverBond_;
        challengerBond = challengerBond_;
        challengeWindow = challengeWindow_;
        revealWindow = clockBudget_;
        rejectionBurn = serverBond_ / 2;
        rejectionReward = serverBond_ - serverBond_ / 2;
    }

    /*//////////////////////////////////////////////////////////////
                            MODELS AND TASKS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers a model (idempotent). Its id is keccak256 of the abi-encoded fields.
    /// @param checkerInit   The checker's initial VM state hash; must be running (status 3).
    /// @param nodeCount     N, 1 .. MAX_NODES.
    /// @param maxSteps      The step bound of one node's check (multi-phase), 1 .. MAX_STEPS.
    /// @param maxWholeSteps The step bound of the whole model's check (single-phase),
    ///                      0 .. MAX_STEPS; 0 refuses single-phase tasks. Registrants set it
    ///                      above the whole check's length, or 0 when that exceeds MAX_STEPS.
    function registerModel(
        bytes32 programKey,
        bytes32 checkerInit,
        uint32 nodeCount,
        uint64 maxSteps,
        uint64 maxWholeSteps
    ) external returns (bytes32 modelId) {
        if (
            nodeCount == 0 || nodeCount > MAX_NODES || maxSteps == 0 || maxSteps > MAX_STEPS
                || maxWholeSteps > MAX_STEPS || uint8(checkerInit[0]) != 3
        ) revert InvalidModel();
        modelId = modelIdOf(programKey, checkerInit, nodeCount, maxSteps, maxWholeSteps);
        Model storage m = _models[modelId];
        if (m.nodeCount != 0) return modelId;
        (m.programKey, m.checkerInit, m.nodeCount, m.maxSteps, m.maxWholeSteps) =
        (programKey, checkerInit, nodeCount, maxSteps, maxWholeSteps);
        emit ModelRegistered(modelId, programKey, checkerInit, nodeCount, maxSteps, maxWholeSteps);
    }

    /// @notice The id of a model.
    function modelIdOf(
        bytes32 programKey,
        bytes32 checkerInit,
        uint32 nodeCount,
        uint64 maxSteps,
        uint64 maxWholeSteps
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(programKey, checkerInit, nodeCount, maxSteps, maxWholeSteps));
    }

    /// @notice Posts a task; msg.value is the fee paid to the server of a final result.
    /// @param singlePhase Dispute the whole model in the VM (no phase 1); only for a model with
    ///        a whole-model step bound (`maxWholeSteps` > 0).
    /// @param input The input data, for servers to read from the chain alone: the model's input
    ///        tensors' bytes concatenated in the model's input order (the encoding whose data
    ///        keys make `inputKey`). Emitted in `TaskPosted`, not stored, not checked against
    ///        `inputKey` here (servers check it and ignore a task whose data does not match).
    ///        May be empty (data delivered elsewhere).
    function postTask(bytes32 modelId, bytes32 inputKey, bool singlePhase, bytes calldata input)
        external
        payable
        returns (uint256 taskId)
    {
        Model storage m = _models[modelId];
        if (m.nodeCount == 0) revert UnknownModel(modelId);
        if (singlePhase && m.maxWholeSteps == 0) revert SinglePhaseUnavailable(modelId);
        if (msg.value > type(uint96).max) revert WrongValue(type(uint96).max, msg.value);
        taskId = ++taskCount;
        Task storage t = _tasks[taskId];
        t.requester = msg.sender;
        t.fee = uint96(msg.value);
        t.status = Status.Open;
        t.singlePhase = singlePhase;
        t.modelId = modelId;
        t.inputKey = inputKey;
        emit TaskPosted(taskId, msg.sender, modelId, inputKey, msg.value, singlePhase, input);
    }

    /// @notice The requester cancels a task no server has committed to (or whose commitment
    ///         was not revealed in time: that bond is forfeited to it first); the fee is credited
    ///         back. A commitment hides the result, so a cancellation cannot use it.
    function cancelTask(uint256 taskId) external {
        Task storage t = _tasks[taskId];
        _expireCommitment(taskId, t);
        if (t.status != Status.Open) revert WrongTaskStatus(t.status);
        if (msg.sender != t.requester) revert NotRequester();
        t.status = Status.Cancelled;
        emit TaskCancelled(taskId);
        _credit(t.requester, t.fee);
    }

    /// @notice Commits to a result of an open task with the server bond (msg.value): the task is
    ///         now the sender's to answer until `resultTime + revealWindow`. `commitment` is
    ///         `commitmentOf(taskId, outputKey, salt, msg.sender)` with a random secret `salt`:
    ///         it reveals nothing, and a copied commitment names its first server, so it is
    ///         worthless to a copier. A commitment not revealed in time may be replaced (its bond
    ///         goes to the requester).
    function commitResult(uint256 taskId, bytes32 commitment) external payable {
        Task storage t = _tasks[taskId];
        _expireCommitment(taskId, t);
        if (t.status != Status.Open) revert WrongTaskStatus(t.status);
        if (msg.value != serverBond) revert WrongValue(serverBond, msg.value);
        t.server = msg.sender;
        // Safe: block timestamps fit 40 bits for another 30,000 years.
        // forge-lint: disable-next-line(unsafe-typecast)
        t.resultTime = uint40(block.timestamp);
        t.status = Status.Committed;
        t.commitment = commitment;
        emit ResultCommitted(taskId, msg.sender, commitment);
    }

    /// @notice Reveals the committed result: its output key, the commitment's salt, and the
    ///         output data, `outputs[i]` the bytes of output tensor i (the model's output order),
    ///         checked on chain: `MerkleDataLib.keyOfItems(outputs)` must be `outputKey`. The
    ///         result is then pending and its challenge window starts.
    function revealResult(uint256 taskId, bytes32 outputKey, bytes32 salt, bytes[] calldata outputs)
        external
    {
        Task storage t = _tasks[taskId];
        if (t.status != Status.Committed) revert WrongTaskStatus(t.status);
        if (msg.sender != t.server) revert NotServer();
        // The clocks and the windows are measured in block time by design.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= uint256(t.resultTime) + revealWindow) revert RevealWindowClosed();
        if (commitmentOf(taskId, outputKey, salt, msg.sender) != t.commitment) {
            revert CommitmentMismatch();
        }
        bytes32 got = MerkleDataLib.keyOfItems(outputs);
        if (got != outputKey) revert OutputMismatch(outputKey, got);
        // Safe: block timestamps fit 40 bits for another 30,000 years.
        // forge-lint: disable-next-line(unsafe-typecast)
        t.resultTime = uint40(block.timestamp);
        t.status = Status.Pending;
        t.outputKey = outputKey;
        emit ResultPosted(taskId, msg.sender, outputKey, outputs);
    }

    /// @notice Ends a commitment whose reveal window is over: its bond is credited to the
    ///         requester and the task is open again (to another commitment, or to cancel). Anyone
    ///         may call; `commitResult` and `cancelTask` do it themselves.
    function forfeitCommitment(uint256 taskId) external {
        Task storage t = _tasks[taskId];
        if (t.status != Status.Committed) revert WrongTaskStatus(t.status);
        if (!_expireCommitment(taskId, t)) revert RevealWindowOpen();
    }

    /// @notice The commitment of a result: `keccak256(abi.encode(taskId, outputKey, salt,
    ///         server))`.
    function commitmentOf(uint256 taskId, bytes32 outputKey, bytes32 salt, address server)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(taskId, outputKey, salt, server));
    }

    /// @notice The output key of output data: `K(K(outputs[0]) || K(outputs[1]) || ...)`, K
    ///         the Merkle-data key (docs/VM.md).
    function outputKeyOf(bytes[] calldata outputs) external pure returns (bytes32) {
        return MerkleDataLib.keyOfItems(outputs);
    }

    /// @notice Makes a result final once its challenge window is over and no dispute is open;
    ///         credits the server with the fee and its bond. Anyone may call.
    function finalize(uint256 taskId) external {
        Task storage t = _tasks[taskId];
        if (t.status != Status.Pending) revert WrongTaskStatus(t.status);
        // The clocks and the challenge window are measured in block time by design.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < uint256(t.resultTime) + challengeWindow) {
            revert ChallengeWindowOpen();
        }
        if (t.openDisputes != 0) revert DisputesOpen(t.openDisputes);
        t.status = Status.Finalized;
        emit ResultFinalized(taskId, t.server);
        _credit(t.server, uint256(t.fee) + serverBond);
    }

    /*//////////////////////////////////////////////////////////////
                                 DISPUTE
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens a dispute against a pending result with the challenger bond (msg.value).
    ///         Several disputes may run at once; each is an independent game.
    function challenge(uint256 taskId) external payable returns (uint256 disputeId) {
        Task storage t = _tasks[taskId];
        if (t.status != Status.Pending) revert WrongTaskStatus(t.status);
        // The clocks and the challenge window are measured in block time by design.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= uint256(t.resultTime) + challengeWindow) {
            revert ChallengeWindowClosed();
        }
        if (msg.value != challengerBond) revert WrongValue(challengerBond, msg.value);
        if (msg.sender == t.server) revert SelfChallenge();
        t.openDisputes++;
        disputeId = ++disputeCount;
        DisputeSlots storage d = _disputes[disputeId];
        // Safe: task ids are a counter: 2^64 tasks cannot be posted; the clock budget is below
        // 2^40 (constructor), and so are block timestamps for another 30,000 years.
        // forge-lint: disable-next-line(unsafe-typecast)
        (d.taskId, d.challenger) = (uint64(taskId), msg.sender);
        // forge-lint: disable-next-line(unsafe-typecast)
        (d.lastMove, d.defenderClock, d.challengerClock) =
        // forge-lint: disable-next-line(unsafe-typecast)
        (uint40(block.timestamp), uint40(clockBudget), uint40(clockBudget));
        emit DisputeOpened(disputeId, taskId, msg.sender);

        Model storage m = _models[t.modelId];
        uint32 last = m.nodeCount + 1;
        // Links 1 and 2: the ends of phase 1 are computed from the task and the result.
        bytes32 s0 = phase1State(m.programKey, 0, t.inputKey);
        bytes32 sLast = phase1State(m.programKey, last, t.outputKey);
        (d.a, d.c) = (s0, sLast);
        if (t.singlePhase) {
            _selectTransition(disputeId, d, t, last);
        } else {
            _setInterval(disputeId, d, Phase.Bisect1, 0, last, s0, sLast);
        }
    }

    /// @notice Defender's move (phases 1 and 2): the states at the interior split points of
    ///         the current interval (`splitPoints`), `count - 1` of them for `count`
    ///         sub-intervals. Phase 1: phase-1 states; phase 2: VM state hashes.
    function bisect(uint256 disputeId, bytes32[] calldata states) external {
        DisputeSlots storage d = _move(disputeId, true);
        Phase phase = d.phase;
        if (phase != Phase.Bisect1 && phase != Phase.Bisect2) revert WrongMove(phase);
        uint256 count = _count(d.lo, d.hi);
        if (states.length != count - 1) revert WrongStateCount(count - 1, states.length);
        d.statesHash = keccak256(abi.encodePacked(states));
        Phase next = phase == Phase.Bisect1 ? Phase.Pick1 : Phase.Pick2;
        d.phase = next;
        emit StatesPosted(disputeId, phase, states);
    }

    /// @notice Challenger's move (phases 1 and 2): picks sub-interval `index` (0-based) of the
    ///         current interval, the first one whose end state it disputes. `states` are the
    ///         defender's posted interior states (from the StatesPosted event).
    function pick(uint256 disputeId, uint256 index, bytes32[] calldata states) external {
        DisputeSlots storage d = _move(disputeId, false);
        Phase phase = d.phase;
        if (phase != Phase.Pick1 && phase != Phase.Pick2) revert WrongMove(phase);
        if (keccak256(abi.encodePacked(states)) != d.statesHash) revert StatesMismatch();
        (uint64 lo, uint64 hi) = (d.lo, d.hi);
        uint256 count = _count(lo, hi);
        if (index >= count) revert InvalidIndex(index, count);
        uint64 newLo = _point(lo, hi, count, index);
        uint64 newHi = _point(lo, hi, count, index + 1);
        bool one = phase == Phase.Pick1;
        // only the end that moves is written (an end kept is read for the event)
        bytes32 loState;
        bytes32 hiState;
        if (index == 0) {
            loState = one ? d.a : d.lo2;
        } else {
            loState = states[index - 1];
            if (one) d.a = loState;
            else d.lo2 = loState;
        }
        if (index == count - 1) {
            hiState = one ? d.c : d.hi2;
        } else {
            hiState = states[index];
            if (one) d.c = hiState;
            else d.hi2 = hiState;
        }
        if (one && newHi - newLo == 1) {
            // Safe: newHi - newLo == 1 in phase 1, where hi <= N + 1 < 2^32.
            // forge-lint: disable-next-line(unsafe-typecast)
            _selectTransition(disputeId, d, _tasks[d.taskId], uint32(newHi));
        } else {
            Phase next = one ? Phase.Bisect1 : newHi - newLo == 1 ? Phase.Step : Phase.Bisect2;
            _setInterval(disputeId, d, next, newLo, newHi, loState, hiState);
        }
    }

    /// @notice Defender's move opening phase 2: the checker of the selected transition, run
    ///         from the model's checker initial state, exits valid in `finalState` (status
    ///         byte 0) after `steps` steps (1 .. the model's maxSteps, or maxWholeSteps for a
    ///         single-phase task).
    function claimCheck(uint256 disputeId, uint64 steps, bytes32 finalState) external {
        DisputeSlots storage d = _move(disputeId, true);
        if (d.phase != Phase.Claim) revert WrongMove(d.phase);
        if (uint8(finalState[0]) != 0) revert InvalidFinalState(finalState);
        Task storage t = _tasks[d.taskId];
        Model storage m = _models[t.modelId];
        uint256 bound = t.singlePhase ? m.maxWholeSteps : m.maxSteps;
        if (steps == 0 || steps > bound) revert InvalidStepCount(steps, bound);
        emit CheckClaimed(disputeId, steps, finalState);
        // the next claim of this result (if one waits) gets its turn: its clock runs from now
        t.claimTurn = d.claimTicket + 1;
        // forge-lint: disable-next-line(unsafe-typecast)
        t.claimTurnSince = uint40(block.timestamp);
        (d.lo2, d.hi2) = (m.checkerInit, finalState);
        _setInterval(
            disputeId,
            d,
            steps == 1 ? Phase.Step : Phase.Bisect2,
            0,
            steps,
            m.checkerInit,
            finalState
        );
    }

    /// @notice Decides the dispute by executing VM step lo -> lo + 1 on chain. `stateData` is
    ///         the 358-byte state whose hash (with status) is the agreed state at lo; `proof`
    ///         its two memory proofs. Preimage parts other than the checker's local inputs
    ///         must be loaded into the oracle first; a local input read by this step is loaded
    ///         here. The defender wins iff the post-state is its claim at lo + 1. Either party
    ///         may call (it is the challenger's turn: its clock runs).
    function step(uint256 disputeId, bytes calldata stateData, bytes calldata proof) external {
        DisputeSlots storage d = _disputes[disputeId];
        if (d.phase == Phase.None || d.phase == Phase.Resolved) revert GameEnded();
        Task storage t = _tasks[d.taskId];
        bool isDefender = msg.sender == t.server;
        if (!isDefender && msg.sender != d.challenger) revert NotParty();
        if (t.status == Status.Rejected) revert WrongTaskStatus(Status.Rejected);
        if (d.phase != Phase.Step) revert WrongMove(d.phase);
        if (!isDefender) _charge(d, false);
        if (stateData.length != 358) revert InvalidStateLength();
        bytes32 pre = stateHash(stateData);
        bytes32 agreed = d.lo2;
        if (pre != agreed) revert PreStateMismatch(agreed, pre);
        bytes32 ctx = bytes32(disputeId);
        _loadLocal(d, ctx, bytes32(stateData[32:64]), uint32(bytes4(stateData[64:68])));
        bytes32 post = mips.step(stateData, proof, ctx);
        bytes32 claimed = d.hi2;
        emit StepExecuted(disputeId, d.lo, post, claimed);
        _resolve(disputeId, d, post == claimed, Reason.Step);
    }

    /// @notice Ends a dispute whose party to move ran out of time: the other party wins. A
    ///         dispute on a result already rejected by another dispute ends at once, won by its
    ///         challenger (a result proven wrong stays wrong). Anyone may call.
    function timeout(uint256 disputeId) external {
        DisputeSlots storage d = _disputes[disputeId];
        Phase phase = d.phase;
        if (phase == Phase.None || phase == Phase.Resolved) revert GameEnded();
        if (_tasks[d.taskId].status == Status.Rejected) {
            return _resolve(disputeId, d, false, Reason.Rejected);
        }
        bool defenderToMove = _defenderToMove(phase);
        // The clocks and the challenge window are measured in block time by design.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= _deadline(d, defenderToMove)) revert ClockNotExpired();
        _resolve(disputeId, d, !defenderToMove, Reason.Timeout);
    }

    /// @notice Sends the caller its whole credit.
    function withdraw() external {
        _withdraw(msg.sender);
    }

    /// @notice Sends the caller's whole credit to `to` (for accounts that cannot receive ETH).
    function withdrawTo(address to) external {
        if (to == address(0)) revert ZeroAddress();
        _withdraw(to);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _models[modelId];
    }

    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @notice A dispute, unpacked. `loState`/`hiState`: the current interval's (phase 2's from
    ///         the defender's claim on); `preState`/`claimState`: zero before phase 1 ends.
    function getDispute(uint256 disputeId) external view returns (Dispute memory v) {
        DisputeSlots storage d = _disputes[disputeId];
        (v.taskId, v.challenger, v.b, v.phase, v.defenderWon) =
        (d.taskId, d.challenger, d.b, d.phase, d.defenderWon);
        (v.lastMove, v.defenderClock, v.challengerClock, v.claimTicket, v.lo, v.hi) =
        (d.lastMove, d.defenderClock, d.challengerClock, d.claimTicket, d.lo, d.hi);
        Phase phase = d.phase;
        // phase 2's states from the claim on (an ended dispute: if phase 2 had begun)
        bool two = phase == Phase.Bisect2 || phase == Phase.Pick2 || phase == Phase.Step
            || (phase == Phase.Resolved && d.lo2 != 0);
        (v.loState, v.hiState) = two ? (d.lo2, d.hi2) : (d.a, d.c);
        v.statesHash = d.statesHash;
        if (d.b != 0) (v.preState, v.claimState) = (d.a, d.c);
    }

    /// @notice The indices of the current interval's split points: lo, the interior points
    ///         whose states the defender posts, hi. Point j is `lo + (hi - lo) * j / count` with
    ///         `count = min(arity, hi - lo)`.
    function splitPoints(uint256 disputeId) external view returns (uint64[] memory points) {
        DisputeSlots storage d = _disputes[disputeId];
        (uint64 lo, uint64 hi) = (d.lo, d.hi);
        uint256 count = _count(lo, hi);
        if (count == 0) return points;
        points = new uint64[](count + 1);
        for (uint256 j = 0; j <= count; j++) {
            points[j] = _point(lo, hi, count, j);
        }
    }

    /// @notice The last second at which the party to move may still move (`timeout` succeeds
    ///         after it): its last move (or the start of its claim's turn) plus its clock.
    ///         `type(uint256).max` while its clock is paused (a claim waiting for its turn, see
    ///         `ClaimQueued`); 0 for an ended dispute.
    function deadline(uint256 disputeId) external view returns (uint256) {
        DisputeSlots storage d = _disputes[disputeId];
        if (d.phase == Phase.None || d.phase == Phase.Resolved) return 0;
        return _deadline(d, _defenderToMove(d.phase));
    }

    /// @notice Phase-1 state `i` with data key `key`: `H(programKey || u32be(i) || key)`.
    function phase1State(bytes32 programKey, uint32 i, bytes32 key) public pure returns (bytes32) {
        return PreimageKeyLib.keccak256Key(keccak256(abi.encodePacked(programKey, i, key)));
    }

    /// @notice The VM state hash of a 358-byte packed state: keccak256 with its first byte set
    ///         to the status (0 exited 0, 1 exited 1, 2 exited otherwise, 3 running).
    function stateHash(bytes calldata stateData) public pure returns (bytes32 h) {
        uint256 status = 3;
        if (uint8(stateData[89]) != 0) {
            uint8 code = uint8(stateData[88]);
            status = code < 2 ? code : 2;
        }
        // Safe: status <= 3.
        // forge-lint: disable-next-line(unsafe-typecast)
        h = PreimageKeyLib.withType(keccak256(stateData), uint8(status));
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks a move of the defender (or challenger) in an active dispute and charges
    ///      the mover's clock.
    function _move(uint256 disputeId, bool byDefender) internal returns (DisputeSlots storage d) {
        d = _disputes[disputeId];
        Phase phase = d.phase;
        if (phase == Phase.None || phase == Phase.Resolved) revert GameEnded();
        Task storage t = _tasks[d.taskId];
        bool isDefender = msg.sender == t.server;
        if (!isDefender && msg.sender != d.challenger) revert NotParty();
        if (t.status == Status.Rejected) revert WrongTaskStatus(Status.Rejected);
        if (_defenderToMove(phase) != isDefender) revert NotYourTurn();
        if (isDefender != byDefender) revert WrongMove(phase);
        _charge(d, byDefender);
    }

    /// @dev The clock of the party to move runs from its last move, or in `Claim` from the
    ///      start of its claim's turn: the claims of one result are served one at a time in the
    ///      order their disputes reached `Claim` (the claim queue), and a claim's clock is paused
    ///      until its turn (docs/GAME.md, "Bounded honest work"). Returns the clock's start, or
    ///      reverts `ClaimQueued` while the claim waits.
    function _clockStart(DisputeSlots storage d) internal view returns (uint256 start) {
        start = d.lastMove;
        if (d.phase != Phase.Claim) return start;
        Task storage t = _tasks[d.taskId];
        uint256 turn = t.claimTurn;
        if (d.claimTicket != turn) revert ClaimQueued(d.claimTicket - turn);
        if (t.claimTurnSince > start) start = t.claimTurnSince;
    }

    function _deadline(DisputeSlots storage d, bool defender) internal view returns (uint256) {
        if (d.phase == Phase.Claim) {
            Task storage t = _tasks[d.taskId];
            if (d.claimTicket != t.claimTurn) return type(uint256).max;
        }
        return _clockStart(d) + (defender ? d.defenderClock : d.challengerClock);
    }

    function _charge(DisputeSlots storage d, bool defender) internal {
        uint256 elapsed = block.timestamp - _clockStart(d);
        uint40 clock = defender ? d.defenderClock : d.challengerClock;
        if (elapsed > clock) revert ClockExpired();
        // Safe: elapsed <= clock, a uint40; block timestamps fit 40 bits.
        // forge-lint: disable-next-line(unsafe-typecast)
        clock -= uint40(elapsed);
        if (defender) d.defenderClock = clock;
        else d.challengerClock = clock;
        // forge-lint: disable-next-line(unsafe-typecast)
        d.lastMove = uint40(block.timestamp);
    }

    function _defenderToMove(Phase phase) internal pure returns (bool) {
        return phase == Phase.Bisect1 || phase == Phase.Claim || phase == Phase.Bisect2;
    }

    /// @dev Sets the phase and the interval (one slot); the caller has stored the states that
    ///      changed.
    function _setInterval(
        uint256 disputeId,
        DisputeSlots storage d,
        Phase phase,
        uint64 lo,
        uint64 hi,
        bytes32 loState,
        bytes32 hiState
    ) internal {
        // Safe: lo < hi <= MAX_STEPS = 2^40.
        // forge-lint: disable-next-line(unsafe-typecast)
        (d.phase, d.lo, d.hi) = (phase, uint40(lo), uint48(hi));
        emit Interval(disputeId, phase, lo, hi, loState, hiState);
    }

    /// @dev End of phase 1: the checker's local inputs are S_a, the claimed S_b (the phase-1
    ///      interval's states, `a` and `c`, kept as they are) and b. The dispute takes the next
    ///      ticket of the result's claim queue. When no claim waits, its turn starts now (its last
    ///      move is now: the stale `claimTurnSince` is older).
    function _selectTransition(uint256 disputeId, DisputeSlots storage d, Task storage t, uint32 b)
        internal
    {
        uint32 ticket = t.claimTickets;
        (d.phase, d.claimTicket, d.b, t.claimTickets) = (Phase.Claim, ticket, b, ticket + 1);
        emit TransitionSelected(disputeId, b, d.a, d.c);
    }

    /// @dev Link 3: if the pre-state's preimage key is one of the checker's local keys, loads
    ///      the part the step may read (at the pre-state's preimage offset, or part 0 when the
    ///      offset is past the end: the step then needs only the length) under this contract
    ///      and the dispute's localContext.
    function _loadLocal(DisputeSlots storage d, bytes32 ctx, bytes32 key, uint256 offset) internal {
        uint256 ident;
        if (key == PreimageKeyLib.localKey(1)) ident = 1;
        else if (key == PreimageKeyLib.localKey(2)) ident = 2;
        else if (key == PreimageKeyLib.localKey(3)) ident = 3;
        else return;
        (bytes32 word, uint256 size) =
            ident == 1 ? (d.a, 32) : ident == 2 ? (d.c, 32) : (bytes32(bytes4(d.b)), uint256(4));
        oracle.loadLocalData(ident, ctx, word, size, offset < size + 8 ? offset : 0);
    }

    /// @dev If the task's commitment was not revealed within the reveal window: forfeits its
    ///      bond to the requester and reopens the task (true).
    function _expireCommitment(uint256 taskId, Task storage t) internal returns (bool) {
        if (t.status != Status.Committed) return false;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < uint256(t.resultTime) + revealWindow) return false;
        address server = t.server;
        (t.status, t.server, t.resultTime, t.commitment) = (Status.Open, address(0), 0, bytes32(0));
        emit CommitmentForfeited(taskId, server);
        _credit(t.requester, serverBond);
        return true;
    }

    /// @dev Pays a dispute's end. The defender wins the challenger bond. The first dispute the
    ///      challenger wins rejects the result: the fee goes back to the requester, half the
    ///      server bond is burnt (`rejectionBurn`), and the other half (`rejectionReward`) is
    ///      split evenly among the challengers of the `n` disputes open at that moment (this one
    ///      and those still running, which all end won by their challengers: no dispute can be
    ///      opened on a rejected result). Each gets `rejectionReward / n`, this one also the
    ///      remainder. Challengers are anonymous, so a liar's own sybil challengers count among
    ///      the `n`: what they take back is at most the reward, never the burnt half.
    function _resolve(uint256 disputeId, DisputeSlots storage d, bool defenderWon, Reason reason)
        internal
    {
        d.phase = Phase.Resolved;
        d.defenderWon = defenderWon;
        Task storage t = _tasks[d.taskId];
        uint256 open = t.openDisputes;
        // Safe: this dispute is open, so open >= 1.
        // forge-lint: disable-next-line(unsafe-typecast)
        t.openDisputes = uint32(open - 1);
        emit DisputeResolved(disputeId, defenderWon, reason);
        if (defenderWon) return _credit(t.server, challengerBond);
        uint256 part;
        if (t.status != Status.Pending) {
            part = t.share; // a dispute left open at the rejection
        } else {
            t.status = Status.Rejected;
            emit ResultRejected(d.taskId, disputeId);
            _credit(t.requester, t.fee);
            uint256 reward = rejectionReward;
            part = reward / open;
            // Safe: part <= serverBond < 2^96 (constructor). Stored only for the others.
            // forge-lint: disable-next-line(unsafe-typecast)
            if (open > 1) t.share = uint96(part);
            part += reward - part * open;
        }
        _credit(d.challenger, challengerBond + part);
    }

    function _withdraw(address to) internal {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    function _credit(address account, uint256 amount) internal {
        if (amount == 0) return;
        credits[account] += amount;
        emit Credited(account, amount);
    }

    function _count(uint64 lo, uint64 hi) internal view returns (uint256) {
        uint256 len = hi - lo;
        return len < arity ? len : arity;
    }

    function _point(uint64 lo, uint64 hi, uint256 count, uint256 j) internal pure returns (uint64) {
        // Safe: the point lies between lo and hi, both uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(lo + (uint256(hi - lo) * j) / count);
    }
}
