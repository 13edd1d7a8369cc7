// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OpmlGame} from "../src/OpmlGame.sol";
import {GameBase} from "./utils/GameBase.sol";

/// @notice Bounded honest work under parallel disputes (issue 15, finding 7): an attacker with K
///         challenger accounts steers K disputes on one honest result to K different nodes, all
///         reaching `Claim` at once. The claims of one result are served one at a time (the
///         claim queue): a waiting claim's clock is paused, so the honest server, which runs one
///         check at a time at a documented rate, needs a clock of one check (plus its moves),
///         not of K checks. The checks here take most of a clock each: K of them would not fit
///         one clock budget running in parallel (the rule before the queue).
contract OpmlGameBoundedWorkTest is GameBase {
    /// @dev The honest server's documented rate: each node's check takes at most this long
    ///      (0.8 of the clock); every other move (a bisection from the check's checkpoints, a
    ///      claim once checked) takes MOVE_TIME.
    uint64 internal constant MAX_CHECK = (CLOCK * 4) / 5;

    uint256 internal seed;
    /// @dev Every check takes MAX_CHECK (otherwise 1 s .. MAX_CHECK, seeded).
    bool internal fullChecks;
    /// @dev The states the server posted last in each dispute (the attacker passes them back).
    mapping(uint256 => bytes32[]) internal posted;

    function setUp() public override {
        super.setUp();
        _deploy(3, 8);
        srv.honest = true;
    }

    function _attacker(uint256 i) internal returns (address a) {
        a = makeAddr(string(abi.encode("attacker", i)));
        vm.deal(a, CBOND);
    }

    /// @dev Attacker's pick in phase 1: the sub-interval that contains transition `b`.
    function _steer(uint256 id, uint32 b) internal view returns (uint256) {
        uint64[] memory p = game.splitPoints(id);
        for (uint256 j = 0; j + 1 < p.length; j++) {
            if (p[j] < b && b <= p[j + 1]) return j;
        }
        revert("node outside the interval");
    }

    /// @dev The check time of node b for this run (seeded): 1 second .. MAX_CHECK.
    function _checkTime(uint32 b) internal view returns (uint64) {
        if (fullChecks) return MAX_CHECK;
        return uint64(bound(uint256(keccak256(abi.encode(seed, b))), 1, MAX_CHECK));
    }

    /// @dev One move of dispute `id` (MOVE_TIME after the last): the honest server's bisections,
    ///      the attacker's picks (toward `b` in phase 1, at random in phase 2) and its step.
    ///      Returns false at `Claim` (the server's check is scheduled by the caller) or once
    ///      resolved.
    function _advance(uint256 id, uint32 b) internal returns (bool) {
        OpmlGame.Dispute memory d = game.getDispute(id);
        if (d.phase == OpmlGame.Phase.Claim || d.phase == OpmlGame.Phase.Resolved) return false;
        vm.warp(block.timestamp + MOVE_TIME);
        if (d.phase == OpmlGame.Phase.Bisect1 || d.phase == OpmlGame.Phase.Bisect2) {
            posted[id] = _defenderStates(id);
            vm.prank(server);
            game.bisect(id, posted[id]);
        } else if (d.phase == OpmlGame.Phase.Pick1) {
            uint256 index = _steer(id, b);
            vm.prank(d.challenger);
            game.pick(id, index, posted[id]);
        } else if (d.phase == OpmlGame.Phase.Pick2) {
            uint256 count = game.splitPoints(id).length - 1;
            uint256 index = uint256(keccak256(abi.encode(seed, id, d.lo))) % count;
            vm.prank(d.challenger);
            game.pick(id, index, posted[id]);
        } else {
            _step(id, d.challenger);
        }
        return true;
    }

    /// @dev The honest server's claim of dispute `id` (its check done).
    function _claim(uint256 id) internal {
        uint64 steps = _serverSteps(id);
        bytes32 fin = _server2(id, steps);
        vm.prank(server);
        game.claimCheck(id, steps, fin);
    }

    /// @dev Plays dispute `id` to its end (transition `b`), claiming at once.
    function _finish(uint256 id, uint32 b) internal {
        while (_advance(id, b)) {}
        if (game.getDispute(id).phase == OpmlGame.Phase.Claim) _claim(id);
        while (_advance(id, b)) {}
    }

    /// @dev The dispute of the result whose claim has the turn (the one claim whose clock runs).
    function _head(uint256[] memory ids) internal view returns (uint256 head, uint256 waiting) {
        for (uint256 i = 0; i < ids.length; i++) {
            if (game.getDispute(ids[i]).phase != OpmlGame.Phase.Claim) continue;
            if (game.deadline(ids[i]) == type(uint256).max) waiting++;
            else head = ids[i];
        }
    }

    /// @dev K attacker disputes steered to K distinct nodes (a seeded order), all phase-1 moves
    ///      played round-robin so that every dispute reaches `Claim` within a few moves; the
    ///      server then serves the claim queue: it starts each check when its claim gets the
    ///      turn, claims when the check is done, and meanwhile answers the phase-2 bisections
    ///      of the disputes it already claimed. Returns the disputes.
    function _griefAndServe(uint256 k)
        internal
        returns (uint256 taskId, uint256[] memory ids, uint256 checksTotal)
    {
        taskId = _postTask(false);
        _postResult(taskId);
        ids = new uint256[](k);
        uint32[] memory target = new uint32[](k);
        for (uint256 i = 0; i < k; i++) {
            vm.prank(_attacker(i));
            ids[i] = game.challenge{value: CBOND}(taskId);
            // distinct nodes 1 .. N + 1 in a seeded order
            target[i] = uint32(1 + (uint256(keccak256(abi.encode(seed))) + i) % (nodes + 1));
        }
        // phase 1 of every dispute, interleaved
        for (bool moved = true; moved;) {
            moved = false;
            for (uint256 i = 0; i < k; i++) {
                if (_advance(ids[i], target[i])) moved = true;
            }
        }
        for (uint256 i = 0; i < k; i++) {
            assertEq(uint8(game.getDispute(ids[i]).phase), uint8(OpmlGame.Phase.Claim));
            assertEq(game.getDispute(ids[i]).b, target[i], "steered to its node");
            checksTotal += _checkTime(target[i]);
        }
        // the claims are served in the order the disputes reached Claim
        for (uint256 served = 0; served < k; served++) {
            (uint256 head, uint256 waiting) = _head(ids);
            assertEq(waiting, k - served - 1, "one claim's clock runs, the others wait");
            OpmlGame.Dispute memory d = game.getDispute(head);
            uint256 turnStart = block.timestamp;
            uint256 checked = turnStart + _checkTime(d.b);
            // while the check runs, the server answers the moves of the disputes claimed before
            for (uint256 i = 0; i < k; i++) {
                while (block.timestamp + MOVE_TIME <= checked && _advance(ids[i], 0)) {}
            }
            if (block.timestamp < checked) vm.warp(checked);
            vm.warp(block.timestamp + MOVE_TIME);
            assertLe(block.timestamp, game.deadline(head), "the server claims in time");
            _claim(head);
        }
        for (uint256 i = 0; i < k; i++) {
            while (_advance(ids[i], 0)) {}
        }
    }

    /// @dev The attack of finding 7: the honest server wins every dispute, is paid every bond,
    ///      and never ran two checks at once, whatever the number of disputes and the nodes'
    ///      check times (each up to 0.8 of the clock: K of them add up to 0.8 K clocks).
    function testFuzz_finding7_honestServerServesEveryClaim(uint8 k, uint256 seed_) public {
        k = uint8(bound(k, 1, nodes + 1));
        seed = seed_;
        (uint256 taskId, uint256[] memory ids,) = _griefAndServe(k);
        for (uint256 i = 0; i < k; i++) {
            OpmlGame.Dispute memory d = game.getDispute(ids[i]);
            assertEq(uint8(d.phase), uint8(OpmlGame.Phase.Resolved));
            assertTrue(d.defenderWon, "the honest server wins every dispute");
        }
        assertEq(game.credits(server), uint256(k) * CBOND);
        vm.warp(block.timestamp + WINDOW);
        game.finalize(taskId);
        assertEq(game.credits(server), uint256(k) * CBOND + FEE + SBOND);
    }

    /// @dev All nine transitions at once, each check 0.8 of the clock (7.2 clocks in all).
    function test_finding7_everyNodeAtOnce() public {
        seed = 7;
        fullChecks = true;
        (, uint256[] memory ids, uint256 checksTotal) = _griefAndServe(nodes + 1);
        // in parallel clocks (the rule before the claim queue) the last claim would have come
        // 7.2 clocks after its dispute reached Claim: the server would have lost by timeout
        assertGt(checksTotal, 7 * uint256(CLOCK));
        for (uint256 i = 0; i < ids.length; i++) {
            assertTrue(game.getDispute(ids[i]).defenderWon);
        }
    }

    /// @dev A waiting claim's clock is paused (no timeout, no claim out of turn, whatever the
    ///      time); its turn starts when the claim before it is made, with the clock it had.
    function test_claimQueue_pausesWaitingClocks() public {
        uint256 taskId = _postTask(false);
        _postResult(taskId);
        vm.prank(challenger);
        uint256 first = game.challenge{value: CBOND}(taskId);
        vm.prank(stranger);
        uint256 second = game.challenge{value: CBOND}(taskId);
        while (_advance(first, 3)) {}
        while (_advance(second, 7)) {}
        uint64 clock2 = game.getDispute(second).defenderClock;
        assertEq(game.getDispute(first).claimTicket, 0);
        assertEq(game.getDispute(second).claimTicket, 1);
        assertEq(game.deadline(second), type(uint256).max);
        // the server lets the first claim take almost its whole clock
        uint256 firstDeadline = game.deadline(first);
        assertEq(
            firstDeadline, game.getDispute(first).lastMove + game.getDispute(first).defenderClock
        );
        vm.warp(firstDeadline);
        vm.expectRevert(OpmlGame.ClockNotExpired.selector);
        game.timeout(second);
        vm.prank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.ClaimQueued.selector, 1));
        game.claimCheck(second, 1, bytes32(0));
        vm.expectRevert(OpmlGame.ClockNotExpired.selector);
        game.timeout(first);
        _claim(first);
        // the second claim's turn: its clock runs from now, none of the wait charged
        assertEq(game.getTask(taskId).claimTurn, 1);
        assertEq(game.deadline(second), block.timestamp + clock2);
        vm.warp(block.timestamp + clock2 + 1);
        game.timeout(second); // an absent server loses the claim that has the turn
        assertFalse(game.getDispute(second).defenderWon);
        assertEq(uint8(game.getTask(taskId).status), uint8(OpmlGame.Status.Rejected));
        // the rejection ends the other dispute for its challenger, as before
        game.timeout(first);
        assertFalse(game.getDispute(first).defenderWon);
    }

    /// @dev A claim that reaches `Claim` with no other claim waiting has the turn at once, its
    ///      clock running from its last move (single-phase tasks reach `Claim` at `challenge`).
    function test_claimQueue_emptyQueueRunsAtOnce() public {
        (uint256 taskId, uint256 id) = _open(true);
        OpmlGame.Dispute memory d = game.getDispute(id);
        assertEq(uint8(d.phase), uint8(OpmlGame.Phase.Claim));
        assertEq(game.deadline(id), d.lastMove + CLOCK);
        _finish(id, nodes + 1);
        // a later dispute on the same result: the queue is empty again
        vm.prank(stranger);
        uint256 id2 = game.challenge{value: CBOND}(taskId);
        assertEq(game.getDispute(id2).claimTicket, 1);
        assertEq(game.deadline(id2), block.timestamp + CLOCK);
        _finish(id2, nodes + 1);
        assertTrue(game.getDispute(id2).defenderWon);
    }
}
