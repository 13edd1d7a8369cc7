// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {OpmlGame} from "../src/OpmlGame.sol";
import {IMIPS} from "../src/interfaces/IMIPS.sol";
import {GameBase} from "./utils/GameBase.sol";

/// @notice The dispute game against synthetic traces (MockMIPS decides the final step): the
///         task lifecycle, every rejected move, honest parties winning at every divergence
///         point, clocks and payouts.
contract OpmlGameTest is GameBase {
    /*//////////////////////////////////////////////////////////////
                               LIFECYCLE
    //////////////////////////////////////////////////////////////*/

    function test_constructor_rejectsBadConfig() public {
        vm.expectRevert(OpmlGame.InvalidConfig.selector);
        new OpmlGame(IMIPS(address(mock)), 1, CLOCK, SBOND, CBOND, WINDOW);
        vm.expectRevert(OpmlGame.InvalidConfig.selector);
        new OpmlGame(IMIPS(address(mock)), 2, 0, SBOND, CBOND, WINDOW);
        // the clocks are packed in 40 bits
        vm.expectRevert(OpmlGame.InvalidConfig.selector);
        new OpmlGame(IMIPS(address(mock)), 2, uint64(1) << 40, SBOND, CBOND, WINDOW);
        new OpmlGame(IMIPS(address(mock)), 2, (uint64(1) << 40) - 1, SBOND, CBOND, WINDOW);
        vm.expectRevert(OpmlGame.InvalidConfig.selector);
        new OpmlGame(IMIPS(address(mock)), 2, CLOCK, SBOND, CBOND, 0);
        // zero bonds: a free result or a free dispute (finding 6)
        vm.expectRevert(OpmlGame.InvalidConfig.selector);
        new OpmlGame(IMIPS(address(mock)), 2, CLOCK, 0, CBOND, WINDOW);
        vm.expectRevert(OpmlGame.InvalidConfig.selector);
        new OpmlGame(IMIPS(address(mock)), 2, CLOCK, SBOND, 0, WINDOW);
        vm.expectRevert(OpmlGame.InvalidConfig.selector);
        new OpmlGame(IMIPS(address(mock)), 2, CLOCK, uint256(type(uint96).max) + 1, CBOND, WINDOW);
        assertEq(address(game.oracle()), address(oracle));
    }

    function test_registerModel() public {
        vm.expectRevert(OpmlGame.InvalidModel.selector);
        game.registerModel(PK, checkerInit, 0, MAX_STEPS, 0);
        vm.expectRevert(OpmlGame.InvalidModel.selector);
        game.registerModel(PK, checkerInit, 4, 0, 0);
        // idempotent
        assertEq(game.registerModel(PK, checkerInit, nodes, MAX_STEPS, MAX_STEPS), modelId);
        OpmlGame.Model memory m = game.getModel(modelId);
        assertEq(m.programKey, PK);
        assertEq(m.nodeCount, nodes);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.UnknownModel.selector, bytes32(0)));
        game.postTask(bytes32(0), IN, false, "");
    }

    function test_unchallengedResultIsFinal() public {
        srv.honest = true;
        uint256 taskId = _postTask(false);
        _postResult(taskId);
        vm.warp(block.timestamp + WINDOW - 1);
        vm.expectRevert(OpmlGame.ChallengeWindowOpen.selector);
        game.finalize(taskId);
        vm.warp(block.timestamp + 1);
        vm.prank(challenger);
        vm.expectRevert(OpmlGame.ChallengeWindowClosed.selector);
        game.challenge{value: CBOND}(taskId);
        game.finalize(taskId);
        assertEq(uint8(game.getTask(taskId).status), uint8(OpmlGame.Status.Finalized));
        assertEq(game.credits(server), FEE + SBOND);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Finalized)
        );
        game.finalize(taskId);
        uint256 before = server.balance;
        vm.prank(server);
        game.withdraw();
        assertEq(server.balance, before + FEE + SBOND);
        assertEq(address(game).balance, 0);
        vm.prank(server);
        vm.expectRevert(OpmlGame.NothingToWithdraw.selector);
        game.withdraw();
    }

    function test_cancelTask() public {
        uint256 taskId = _postTask(false);
        vm.prank(stranger);
        vm.expectRevert(OpmlGame.NotRequester.selector);
        game.cancelTask(taskId);
        vm.prank(requester);
        game.cancelTask(taskId);
        assertEq(game.credits(requester), FEE);
        vm.prank(server);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Cancelled)
        );
        game.commitResult{value: SBOND}(taskId, keccak256("commitment"));
    }

    /// @dev The input and output data reach readers through the events alone (not stored; the
    ///      input is not checked against its key, servers check it off chain; the output is,
    ///      at the reveal).
    function testFuzz_eventsCarryData(bytes calldata input, bytes calldata output) public {
        vm.expectEmit(address(game));
        emit OpmlGame.TaskPosted(1, requester, modelId, IN, FEE, true, input);
        vm.prank(requester);
        uint256 taskId = game.postTask{value: FEE}(modelId, IN, true, input);
        bytes32 key = game.outputKeyOf(_one(output));
        bytes32 c = game.commitmentOf(taskId, key, SALT, server);
        vm.prank(server);
        game.commitResult{value: SBOND}(taskId, c);
        vm.expectEmit(address(game));
        emit OpmlGame.ResultPosted(taskId, server, key, _one(output));
        vm.prank(server);
        game.revealResult(taskId, key, SALT, _one(output));
        OpmlGame.Task memory t = game.getTask(taskId);
        assertEq(t.inputKey, IN);
        assertEq(t.outputKey, key);
    }

    function test_eventsCarryData_logs() public {
        srv.honest = true;
        vm.recordLogs();
        _postTask(false);
        _postResult(1);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3);
        assertEq(logs[0].topics[0], OpmlGame.TaskPosted.selector);
        (bytes32 inputKey,,, bytes memory input) =
            abi.decode(logs[0].data, (bytes32, uint256, bool, bytes));
        assertEq(inputKey, IN);
        assertEq(input, INPUT);
        assertEq(logs[1].topics[0], OpmlGame.ResultCommitted.selector);
        assertEq(logs[2].topics[0], OpmlGame.ResultPosted.selector);
        (, bytes[] memory outputs) = abi.decode(logs[2].data, (bytes32, bytes[]));
        assertEq(outputs.length, 1);
        assertEq(outputs[0], OUTPUT);
    }

    function test_wrongValuesAndStatus() public {
        uint256 taskId = _postTask(false);
        vm.prank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongValue.selector, SBOND, 1));
        game.commitResult{value: 1}(taskId, keccak256("commitment"));
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Open)
        );
        game.challenge{value: CBOND}(taskId);
        _postResult(taskId);
        vm.prank(server);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Pending)
        );
        game.commitResult{value: SBOND}(taskId, keccak256("commitment"));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongValue.selector, CBOND, 0));
        game.challenge(taskId);
        vm.prank(server);
        vm.expectRevert(OpmlGame.SelfChallenge.selector);
        game.challenge{value: CBOND}(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.None)
        );
        game.challenge{value: CBOND}(99);
    }

    /// @dev Links 1 and 2: the ends of phase 1 are computed from the task and the result.
    function test_phase1EndsComputedOnChain() public {
        (, uint256 id) = _open(false);
        OpmlGame.Dispute memory d = game.getDispute(id);
        assertEq(uint8(d.phase), uint8(OpmlGame.Phase.Bisect1));
        assertEq(d.lo, 0);
        assertEq(d.hi, nodes + 1);
        bytes32 s0 = keccak256(abi.encodePacked(PK, uint32(0), IN));
        bytes32 sN = keccak256(abi.encodePacked(PK, uint32(nodes + 1), BAD_OUT));
        s0 = (s0 & bytes32(type(uint256).max >> 8)) | bytes32(uint256(2) << 248);
        sN = (sN & bytes32(type(uint256).max >> 8)) | bytes32(uint256(2) << 248);
        assertEq(d.loState, s0);
        assertEq(d.hiState, sN);
    }

    /// @dev The packed storage, unpacked by getDispute: after every move the interval's states are
    ///      the ones its `Interval` event named, the transition's S_a and S_b stay through phase
    ///      2, and phase 2 starts at the checker's initial state and the claimed final state.
    function test_getDispute_followsTheGame() public {
        chl.honest = true;
        (, uint256 id) = _open(false);
        bytes32 pre;
        bytes32 claim;
        for (uint256 n = 0; n < 200; n++) {
            OpmlGame.Dispute memory before = game.getDispute(id);
            uint64[] memory p = game.splitPoints(id);
            uint256 i = before.phase == OpmlGame.Phase.Pick1 || before.phase == OpmlGame.Phase.Pick2
                ? _choice(id)
                : 0;
            vm.recordLogs();
            if (!_moveOnce(id)) break;
            OpmlGame.Dispute memory d = game.getDispute(id);
            if (before.phase == OpmlGame.Phase.Pick1 || before.phase == OpmlGame.Phase.Pick2) {
                uint256 count = p.length - 1;
                if (d.phase != OpmlGame.Phase.Claim) {
                    // (the transition keeps the last interval's lo and hi, as before)
                    assertEq(d.lo, p[i]);
                    assertEq(d.hi, p[i + 1]);
                }
                bytes32 lo = i == 0 ? before.loState : lastStates[i - 1];
                bytes32 hi = i + 1 == count ? before.hiState : lastStates[i];
                if (d.phase == OpmlGame.Phase.Claim) {
                    (pre, claim) = (lo, hi);
                    assertEq(d.b, p[i + 1]);
                    assertEq(d.preState, lo);
                    assertEq(d.claimState, hi);
                } else if (d.phase != OpmlGame.Phase.Resolved) {
                    assertEq(d.loState, lo);
                    assertEq(d.hiState, hi);
                }
            } else if (before.phase == OpmlGame.Phase.Claim) {
                assertEq(d.lo, 0);
                assertEq(d.loState, checkerInit);
                assertEq(d.hiState, _server2(id, _serverSteps(id)));
            }
            if (pre != 0) {
                assertEq(d.preState, pre);
                assertEq(d.claimState, claim);
            }
        }
        OpmlGame.Dispute memory end = game.getDispute(id);
        assertEq(uint8(end.phase), uint8(OpmlGame.Phase.Resolved));
        assertFalse(end.defenderWon);
        assertTrue(pre != 0, "phase 1 ended");
    }

    function test_singlePhaseSkipsPhase1() public {
        (, uint256 id) = _open(true);
        OpmlGame.Dispute memory d = game.getDispute(id);
        assertEq(uint8(d.phase), uint8(OpmlGame.Phase.Claim));
        assertEq(d.b, nodes + 1);
        assertEq(d.preState, game.phase1State(PK, 0, IN));
        assertEq(d.claimState, game.phase1State(PK, nodes + 1, BAD_OUT));
    }

    /*//////////////////////////////////////////////////////////////
                              WRONG MOVES
    //////////////////////////////////////////////////////////////*/

    function test_rejects_outOfTurnAndThirdParty() public {
        (, uint256 id) = _open(false);
        bytes32[] memory states = _defenderStates(id);
        vm.prank(challenger);
        vm.expectRevert(OpmlGame.NotYourTurn.selector);
        game.bisect(id, states);
        vm.prank(stranger);
        vm.expectRevert(OpmlGame.NotParty.selector);
        game.bisect(id, states);
        vm.prank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongMove.selector, OpmlGame.Phase.Bisect1));
        game.pick(id, 0, states);
        vm.prank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongMove.selector, OpmlGame.Phase.Bisect1));
        game.claimCheck(id, 1, bytes32(0));
        vm.prank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongMove.selector, OpmlGame.Phase.Bisect1));
        game.step(id, initData, "");
        vm.prank(server);
        game.bisect(id, states);
        // replayed move
        vm.prank(server);
        vm.expectRevert(OpmlGame.NotYourTurn.selector);
        game.bisect(id, states);
        vm.prank(stranger);
        vm.expectRevert(OpmlGame.NotParty.selector);
        game.pick(id, 0, states);
        vm.prank(challenger);
        game.pick(id, 0, states);
        // replayed pick
        vm.prank(challenger);
        vm.expectRevert(OpmlGame.NotYourTurn.selector);
        game.pick(id, 0, states);
    }

    function test_rejects_wrongStateCount() public {
        (, uint256 id) = _open(false); // N = 5, arity 3: 6 -> 3 sub-intervals, 2 states
        vm.startPrank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongStateCount.selector, 2, 3));
        game.bisect(id, new bytes32[](3));
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongStateCount.selector, 2, 1));
        game.bisect(id, new bytes32[](1));
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.WrongStateCount.selector, 2, 0));
        game.bisect(id, new bytes32[](0));
        vm.stopPrank();
    }

    function test_rejects_wrongIndexAndStates() public {
        (, uint256 id) = _open(false);
        bytes32[] memory states = _defenderStates(id);
        vm.prank(server);
        game.bisect(id, states);
        vm.startPrank(challenger);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.InvalidIndex.selector, 3, 3));
        game.pick(id, 3, states);
        bytes32[] memory other = new bytes32[](2);
        vm.expectRevert(OpmlGame.StatesMismatch.selector);
        game.pick(id, 0, other);
        vm.stopPrank();
    }

    function test_rejects_badClaim() public {
        (, uint256 id) = _open(true);
        vm.startPrank(server);
        bytes32 running = bytes32(uint256(3) << 248);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.InvalidFinalState.selector, running));
        game.claimCheck(id, 5, running);
        bytes32 invalid = bytes32(uint256(1) << 248);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.InvalidFinalState.selector, invalid));
        game.claimCheck(id, 5, invalid);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.InvalidStepCount.selector, 0, MAX_STEPS));
        game.claimCheck(id, 0, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.InvalidStepCount.selector, MAX_STEPS + 1, MAX_STEPS)
        );
        game.claimCheck(id, MAX_STEPS + 1, bytes32(0));
        vm.stopPrank();
    }

    function test_rejects_badPreState() public {
        chl.honest = true;
        (, uint256 id) = _open(true);
        _playUntil(id, OpmlGame.Phase.Step);
        OpmlGame.Dispute memory d = game.getDispute(id);
        bytes memory wrong = _sd(keccak256("not the agreed state"), 3);
        vm.startPrank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.PreStateMismatch.selector, d.loState, _hashMem(wrong))
        );
        game.step(id, wrong, "");
        vm.expectRevert(OpmlGame.InvalidStateLength.selector);
        game.step(id, new bytes(225), "");
        vm.stopPrank();
        vm.prank(stranger);
        vm.expectRevert(OpmlGame.NotParty.selector);
        game.step(id, wrong, "");
    }

    function test_rejects_movesAfterEnd() public {
        chl.honest = true;
        (uint256 taskId, uint256 id) = _open(false);
        _play(id);
        bytes32[] memory none;
        vm.prank(server);
        vm.expectRevert(OpmlGame.GameEnded.selector);
        game.bisect(id, none);
        vm.prank(challenger);
        vm.expectRevert(OpmlGame.GameEnded.selector);
        game.pick(id, 0, none);
        vm.prank(server);
        vm.expectRevert(OpmlGame.GameEnded.selector);
        game.claimCheck(id, 1, bytes32(0));
        vm.prank(challenger);
        vm.expectRevert(OpmlGame.GameEnded.selector);
        game.step(id, initData, "");
        vm.expectRevert(OpmlGame.GameEnded.selector);
        game.timeout(id);
        vm.expectRevert(OpmlGame.GameEnded.selector);
        game.timeout(42);
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Rejected)
        );
        game.finalize(taskId);
    }

    /*//////////////////////////////////////////////////////////////
                          HONEST PARTIES WIN
    //////////////////////////////////////////////////////////////*/

    /// @dev A server lying from phase-1 state d on, and in phase 2 claiming a valid exit at any
    ///      step count, honest before any step, loses against an honest challenger.
    function testFuzz_dishonestServerLoses(
        uint8 arity,
        uint8 n,
        uint256 d,
        uint64 td,
        uint64 e,
        bool single
    ) public {
        _deploy(bound(arity, 2, 5), uint32(bound(n, 1, 12)));
        srv = Server(false, bound(d, 1, nodes + 1), td, e);
        chl.honest = true;
        (uint256 taskId, uint256 id) = _open(single);
        _play(id);
        _assertChallengerWon(taskId, id);
    }

    /// @dev Every divergence point of phase 1 and phase 2, exhaustively on a small model.
    function test_dishonestServerLoses_everyDivergence() public {
        for (uint256 d = 1; d <= nodes + 1; d++) {
            for (uint64 e = 1; e <= 9; e += 2) {
                srv = Server(false, d, 9, e);
                chl.honest = true;
                (uint256 taskId, uint256 id) = _open(false);
                _play(id);
                _assertChallengerWon(taskId, id);
            }
        }
    }

    /// @dev A challenger picking any sub-intervals loses against an honest server, whether it
    ///      executes the final step or lets its clock run out; the server is paid in the end.
    function testFuzz_dishonestChallengerLoses(
        uint8 arity,
        uint8 n,
        uint256 seed,
        bool stepAtEnd,
        bool single
    ) public {
        _deploy(bound(arity, 2, 5), uint32(bound(n, 1, 12)));
        srv.honest = true;
        chl = Challenger(false, seed, stepAtEnd);
        (uint256 taskId, uint256 id) = _open(single);
        _play(id);
        OpmlGame.Dispute memory dd = game.getDispute(id);
        assertTrue(dd.defenderWon, "defender won");
        assertEq(game.credits(server), CBOND);
        assertEq(game.credits(challenger), 0);
        vm.warp(block.timestamp + WINDOW);
        game.finalize(taskId);
        assertEq(game.credits(server), CBOND + FEE + SBOND);
        assertEq(address(game).balance, CBOND + FEE + SBOND);
    }

    function _assertChallengerWon(uint256 taskId, uint256 id) internal view {
        OpmlGame.Dispute memory dd = game.getDispute(id);
        assertEq(uint8(dd.phase), uint8(OpmlGame.Phase.Resolved));
        assertFalse(dd.defenderWon, "challenger won");
        assertEq(uint8(game.getTask(taskId).status), uint8(OpmlGame.Status.Rejected));
        assertEq(game.getTask(taskId).openDisputes, 0);
    }

    function test_payouts_challengerWins() public {
        chl.honest = true;
        (, uint256 id) = _open(false);
        _play(id);
        assertEq(game.credits(challenger), CBOND + REWARD);
        assertEq(game.credits(requester), FEE);
        assertEq(game.credits(server), 0);
        // the burnt half stays in the game, owed to nobody
        assertEq(address(game).balance, CBOND + REWARD + FEE + BURN);
    }

    /// @dev Two disputes on one wrong result: the first win rejects it; the second dispute can
    ///      no longer be played and ends won by its challenger at once (even after its clock ran
    ///      out); the unburnt half of the server bond is split between the two challengers.
    function test_concurrentDisputes() public {
        chl.honest = true;
        (uint256 taskId, uint256 id1) = _open(false);
        vm.prank(stranger);
        uint256 id2 = game.challenge{value: CBOND}(taskId);
        assertEq(game.getTask(taskId).openDisputes, 2);
        // the second dispute starts; its challenger then stops playing
        bytes32[] memory states = _defenderStates(id2);
        vm.prank(server);
        game.bisect(id2, states);
        _play(id1);
        assertEq(game.getTask(taskId).openDisputes, 1);
        assertEq(game.credits(challenger), CBOND + REWARD / 2);
        vm.warp(block.timestamp + CLOCK + 1);
        vm.prank(server);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Rejected)
        );
        game.bisect(id2, states);
        vm.expectEmit(address(game));
        emit OpmlGame.DisputeResolved(id2, false, OpmlGame.Reason.Rejected);
        game.timeout(id2);
        assertFalse(game.getDispute(id2).defenderWon);
        assertEq(game.credits(server), 0);
        assertEq(game.credits(stranger), CBOND + REWARD / 2);
        assertEq(game.credits(requester), FEE);
        assertEq(address(game).balance, FEE + SBOND + 2 * CBOND);
    }

    function test_finalizeWaitsForOpenDisputes() public {
        srv.honest = true;
        chl = Challenger(false, 7, true);
        (uint256 taskId, uint256 id) = _open(false);
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.DisputesOpen.selector, 1));
        game.finalize(taskId);
        _play(id);
        game.finalize(taskId);
        assertEq(game.credits(server), FEE + SBOND + CBOND);
    }

    /*//////////////////////////////////////////////////////////////
                                 CLOCKS
    //////////////////////////////////////////////////////////////*/

    function test_timeout_defender() public {
        (uint256 taskId, uint256 id) = _open(false);
        vm.warp(block.timestamp + CLOCK);
        vm.expectRevert(OpmlGame.ClockNotExpired.selector);
        game.timeout(id);
        vm.warp(block.timestamp + 1);
        bytes32[] memory states = _defenderStates(id);
        vm.prank(server);
        vm.expectRevert(OpmlGame.ClockExpired.selector);
        game.bisect(id, states);
        vm.prank(stranger); // anyone may end it
        game.timeout(id);
        _assertChallengerWon(taskId, id);
        assertEq(game.credits(challenger), CBOND + REWARD);
    }

    function test_timeout_challenger() public {
        (, uint256 id) = _open(false);
        vm.warp(block.timestamp + 100);
        bytes32[] memory states = _defenderStates(id);
        vm.prank(server);
        game.bisect(id, states);
        vm.warp(block.timestamp + CLOCK + 1);
        vm.prank(challenger);
        vm.expectRevert(OpmlGame.ClockExpired.selector);
        game.pick(id, 0, states);
        game.timeout(id);
        assertTrue(game.getDispute(id).defenderWon);
        assertEq(game.credits(server), CBOND);
    }

    /// @dev Each clock is consumed only while it is its owner's turn; the budget spans all
    ///      moves of a dispute.
    function test_clocks_accounting() public {
        chl.honest = true;
        (, uint256 id) = _open(false);
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 300);
        lastStates = _defenderStates(id);
        vm.prank(server);
        game.bisect(id, lastStates);
        vm.warp(t0 + 300 + 500);
        uint256 i = _choice(id);
        vm.prank(challenger);
        game.pick(id, i, lastStates);
        OpmlGame.Dispute memory d = game.getDispute(id);
        assertEq(d.defenderClock, CLOCK - 300);
        assertEq(d.challengerClock, CLOCK - 500);
        assertEq(d.lastMove, t0 + 800);
        // the defender has CLOCK - 300 left in total
        vm.warp(t0 + 800 + CLOCK - 300 + 1);
        game.timeout(id);
        assertFalse(game.getDispute(id).defenderWon);
    }

    function test_timeout_inStepPhase() public {
        srv.honest = true;
        chl = Challenger(false, 3, false);
        (, uint256 id) = _open(false);
        _playUntil(id, OpmlGame.Phase.Step);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(id);
        assertTrue(game.getDispute(id).defenderWon);
    }

    function test_splitPoints() public {
        _deploy(4, 9); // states 0..10
        (, uint256 id) = _open(false);
        uint64[] memory p = game.splitPoints(id);
        assertEq(p.length, 5);
        assertEq(p[0], 0);
        assertEq(p[1], 2);
        assertEq(p[2], 5);
        assertEq(p[3], 7);
        assertEq(p[4], 10);
        assertEq(game.splitPoints(999).length, 0);
    }
}
