// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {OpmlGame} from "../src/OpmlGame.sol";
import {PreimageOracle} from "../src/PreimageOracle.sol";
import {IPreimageOracle} from "../src/interfaces/IPreimageOracle.sol";
import {IMIPS} from "../src/interfaces/IMIPS.sol";
import {MockMIPS} from "./utils/MockMIPS.sol";
import {GameBase} from "./utils/GameBase.sol";

/// @notice Random sequences of lifecycle calls and moves (valid and invalid ones) by a few
///         actors; the invariant test checks that bonds and fees are conserved.
contract GameHandler is CommonBase, StdCheats, StdUtils {
    OpmlGame public game;
    bytes32 public modelId;
    address[] public actors;
    mapping(uint256 => bytes32[]) internal _posted;

    constructor(OpmlGame game_, bytes32 modelId_) {
        game = game_;
        modelId = modelId_;
        for (uint256 i = 0; i < 4; i++) {
            address a = makeAddr(string(abi.encodePacked("actor", bytes1(uint8(48 + i)))));
            actors.push(a);
            vm.deal(a, 1_000 ether);
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _task(uint256 seed) internal view returns (uint256) {
        uint256 n = game.taskCount();
        return n == 0 ? 0 : 1 + seed % n;
    }

    function _dispute(uint256 seed) internal view returns (uint256) {
        uint256 n = game.disputeCount();
        return n == 0 ? 0 : 1 + seed % n;
    }

    function postTask(uint256 who, uint96 fee, bool single, bytes calldata input) external {
        fee = uint96(bound(fee, 0, 5 ether));
        vm.prank(_actor(who));
        game.postTask{value: fee}(modelId, keccak256(abi.encode(fee)), single, input);
    }

    function cancel(uint256 who, uint256 t) external {
        vm.prank(_actor(who));
        try game.cancelTask(_task(t)) {} catch {}
    }

    /// @dev A commitment to `output` (whose reveal may follow), or to junk.
    function commit(uint256 who, uint256 t, bytes calldata output, bool junk) external {
        uint256 bond = game.serverBond();
        uint256 taskId = _task(t);
        address a = _actor(who);
        bytes32 c = junk
            ? keccak256(output)
            : game.commitmentOf(taskId, game.outputKeyOf(_one(output)), keccak256(output), a);
        vm.prank(a);
        try game.commitResult{value: bond}(taskId, c) {} catch {}
    }

    /// @dev A reveal of `output` by a random actor (often the committer).
    function reveal(uint256 who, uint256 t, bytes calldata output) external {
        uint256 taskId = _task(t);
        address a = who % 2 == 0 ? game.getTask(taskId).server : _actor(who);
        bytes32 key = game.outputKeyOf(_one(output));
        vm.prank(a);
        try game.revealResult(taskId, key, keccak256(output), _one(output)) {} catch {}
    }

    function forfeit(uint256 t) external {
        try game.forfeitCommitment(_task(t)) {} catch {}
    }

    function _one(bytes calldata output) internal pure returns (bytes[] memory outputs) {
        outputs = new bytes[](1);
        outputs[0] = output;
    }

    function challenge(uint256 who, uint256 t) external {
        uint256 bond = game.challengerBond();
        vm.prank(_actor(who));
        try game.challenge{value: bond}(_task(t)) {} catch {}
    }

    /// @dev A move by a random actor (often the right party): states, picks and claims with
    ///      random contents.
    function move(uint256 who, uint256 dSeed, uint256 seed) external {
        uint256 id = _dispute(dSeed);
        if (id == 0) return;
        OpmlGame.Dispute memory d = game.getDispute(id);
        address server = game.getTask(d.taskId).server;
        address mover = seed % 3 == 0 ? _actor(who) : seed % 3 == 1 ? server : d.challenger;
        uint64[] memory p = game.splitPoints(id);
        uint256 count = p.length == 0 ? 1 : p.length - 1;
        vm.startPrank(mover);
        if (d.phase == OpmlGame.Phase.Bisect1 || d.phase == OpmlGame.Phase.Bisect2) {
            bytes32[] memory states = new bytes32[](count - 1);
            for (uint256 j = 0; j < states.length; j++) {
                states[j] = keccak256(abi.encode(seed, j));
            }
            try game.bisect(id, states) {
                _posted[id] = states;
            } catch {}
        } else if (d.phase == OpmlGame.Phase.Pick1 || d.phase == OpmlGame.Phase.Pick2) {
            try game.pick(id, seed % (count + 1), _posted[id]) {} catch {}
        } else if (d.phase == OpmlGame.Phase.Claim) {
            try game.claimCheck(id, uint64(seed % 50), bytes32(seed >> 8)) {} catch {}
        } else {
            try game.step(id, new bytes(358), "") {} catch {}
        }
        vm.stopPrank();
    }

    function timeout(uint256 dSeed) external {
        try game.timeout(_dispute(dSeed)) {} catch {}
    }

    function finalize(uint256 t) external {
        try game.finalize(_task(t)) {} catch {}
    }

    function withdraw(uint256 who) external {
        vm.prank(_actor(who));
        try game.withdraw() {} catch {}
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 2 days));
    }
}

contract OpmlGameInvariantTest is Test {
    OpmlGame game;
    GameHandler handler;

    function setUp() public {
        PreimageOracle oracle = new PreimageOracle();
        MockMIPS mock = new MockMIPS(IPreimageOracle(address(oracle)));
        game = new OpmlGame(IMIPS(address(mock)), 3, 1 days, 2 ether, 1.5 ether, 1 hours);
        bytes32 modelId = game.registerModel(
            keccak256("pk"), bytes32((uint256(keccak256("init")) >> 8) | (3 << 248)), 6, 40, 40
        );
        handler = new GameHandler(game, modelId);
        targetContract(address(handler));
    }

    /// @dev The game's balance is exactly what it owes: credits, fees of open, committed and
    ///      pending tasks, bonds of commitments and pending results and of unresolved disputes, and the parts of the
    ///      server bond kept for the unresolved disputes of rejected results; plus the burnt
    ///      halves of rejected results' bonds.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 60
    function invariant_balanceIsObligations() public view {
        uint256 owed;
        uint256 burnt;
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            owed += game.credits(handler.actors(i));
        }
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            OpmlGame.Task memory task = game.getTask(t);
            OpmlGame.Status s = task.status;
            bool bonded = s == OpmlGame.Status.Committed || s == OpmlGame.Status.Pending;
            if (s == OpmlGame.Status.Open || bonded) owed += task.fee;
            if (bonded) owed += game.serverBond();
            if (s == OpmlGame.Status.Rejected) burnt += game.rejectionBurn();
        }
        for (uint256 id = 1; id <= game.disputeCount(); id++) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            if (d.phase != OpmlGame.Phase.Resolved) {
                owed += game.challengerBond();
                // a dispute of a rejected result will also be paid its part of the server bond
                owed += game.getTask(d.taskId).share;
            }
        }
        // the burnt halves of rejected results' bonds, owed to nobody
        assertEq(address(game).balance, owed + burnt);
    }

    /// @dev A task's count of open disputes is the number of its unresolved disputes.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 60
    function invariant_openDisputesCount() public view {
        uint256[] memory open = new uint256[](game.taskCount() + 1);
        for (uint256 id = 1; id <= game.disputeCount(); id++) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            if (d.phase != OpmlGame.Phase.Resolved) open[d.taskId]++;
        }
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            assertEq(game.getTask(t).openDisputes, open[t]);
        }
    }
}

/// @notice A payee that re-enters the game when paid.
contract Reenterer {
    OpmlGame public game;
    uint256 public reentries;
    bool public reentryFailed;
    bool public refuse;

    constructor(OpmlGame game_) {
        game = game_;
    }

    function post(uint256 taskId, bytes[] calldata outputs) external payable {
        bytes32 key = game.outputKeyOf(outputs);
        game.commitResult{value: msg.value}(
            taskId, game.commitmentOf(taskId, key, bytes32(0), address(this))
        );
        game.revealResult(taskId, key, bytes32(0), outputs);
    }

    function setRefuse(bool r) external {
        refuse = r;
    }

    function withdraw() external {
        game.withdraw();
    }

    receive() external payable {
        require(!refuse, "refused");
        if (reentries++ == 0) {
            try game.withdraw() {}
            catch {
                reentryFailed = true;
            }
        }
    }
}

contract OpmlGameReentrancyTest is GameBase {
    function test_withdraw_reentrantPayee() public {
        Reenterer r = new Reenterer(game);
        uint256 taskId = _postTask(false);
        // a second task whose fee stays in the game
        _postTask(false);
        r.post{value: SBOND}(taskId, _one(OUTPUT));
        vm.warp(block.timestamp + WINDOW);
        game.finalize(taskId);
        assertEq(game.credits(address(r)), FEE + SBOND);
        uint256 gameBefore = address(game).balance;
        r.withdraw();
        assertEq(address(r).balance, FEE + SBOND);
        assertEq(address(game).balance, gameBefore - FEE - SBOND);
        assertTrue(r.reentryFailed(), "reentrant withdraw got nothing");
        assertEq(game.credits(address(r)), 0);
        assertEq(address(game).balance, FEE); // the other task's fee
    }

    function test_withdraw_refusingPayeeKeepsCredit() public {
        Reenterer r = new Reenterer(game);
        uint256 taskId = _postTask(false);
        r.post{value: SBOND}(taskId, _one(OUTPUT));
        vm.warp(block.timestamp + WINDOW);
        game.finalize(taskId);
        r.setRefuse(true);
        vm.expectRevert(OpmlGame.TransferFailed.selector);
        r.withdraw();
        assertEq(game.credits(address(r)), FEE + SBOND);
        r.setRefuse(false);
        r.withdraw();
        assertEq(address(r).balance, FEE + SBOND);
    }
}
