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

/// @notice The audit's findings on the game's incentives (issue 15), each replayed by attacker
///         actors that no longer profit: a lying server that challenges its own result from a
///         second account (sybil) and throws that dispute (finding 1), a rejected result that
///         would still win the remaining disputes (2), single-phase tasks whose whole-model check
///         exceeds the node-check bound (5), and the registration and payment gaps (6).
contract OpmlGameIncentivesTest is GameBase {
    address internal sybil = makeAddr("sybil");
    address internal sybil2 = makeAddr("sybil2");

    function setUp() public override {
        super.setUp();
        vm.deal(sybil, 100 ether);
        vm.deal(sybil2, 100 ether);
    }

    /// @dev The liar's sybil opens a dispute, the liar throws it (lets its clock run out).
    function _throw(uint256 id) internal {
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(id);
    }

    /*//////////////////////////////////////////////////////////////
                 FINDING 1: NO REFUND THROUGH A SYBIL CHALLENGER
    //////////////////////////////////////////////////////////////*/

    /// @dev The attack of the audit: the honest challenger challenges the wrong result, the
    ///      liar's sybil too; the liar throws the sybil's dispute first, then tries to time out
    ///      the honest one. The honest challenger's dispute ends won (the result stays
    ///      rejected) and it gets half the reward; the liar loses that and the burnt half.
    function test_finding1_sybilThrowsFirst() public {
        chl.honest = true;
        (uint256 taskId, uint256 honestId) = _open(false);
        vm.prank(sybil);
        uint256 sybilId = game.challenge{value: CBOND}(taskId);
        // the liar answers nothing in the sybil's dispute; in the honest one it bisects once
        lastStates = _defenderStates(honestId);
        vm.prank(server);
        game.bisect(honestId, lastStates);
        _throw(sybilId);
        assertEq(uint8(game.getTask(taskId).status), uint8(OpmlGame.Status.Rejected));
        // the honest challenger's clock ran out meanwhile: the liar still cannot win
        game.timeout(honestId);
        assertFalse(game.getDispute(honestId).defenderWon);
        assertEq(game.credits(challenger), CBOND + REWARD / 2, "honest challenger paid");
        assertEq(game.credits(sybil), CBOND + REWARD / 2);
        assertEq(game.credits(server), 0);
        assertEq(game.credits(requester), FEE);
        // the liar and its sybil put in SBOND + CBOND and get back less
        assertEq(SBOND + CBOND - game.credits(sybil), BURN + REWARD / 2, "liar's loss");
    }

    /// @dev The sybil challenges first (front-running the honest challenger) and the liar
    ///      throws it at once: the honest challenger, opened before the rejection, is paid.
    function test_finding1_sybilFrontRuns() public {
        srv.honest = false;
        uint256 taskId = _postTask(false);
        _postResult(taskId);
        vm.prank(sybil);
        uint256 sybilId = game.challenge{value: CBOND}(taskId);
        vm.prank(challenger);
        uint256 honestId = game.challenge{value: CBOND}(taskId);
        _throw(sybilId); // the liar lets its own clock run out
        vm.prank(challenger);
        game.timeout(honestId);
        assertEq(game.credits(challenger), CBOND + REWARD / 2);
        assertEq(game.credits(server) + game.credits(sybil), CBOND + REWARD / 2);
    }

    /// @dev Without a sybil the honest challenger takes the whole reward; the other half of
    ///      the bond is burnt.
    function test_finding1_aloneTakesWholeReward() public {
        chl.honest = true;
        (uint256 taskId, uint256 id) = _open(false);
        _play(id);
        assertEq(uint8(game.getTask(taskId).status), uint8(OpmlGame.Status.Rejected));
        assertEq(game.credits(challenger), CBOND + REWARD);
    }

    /// @dev No refund path through sybils: however many sybil disputes the liar opens (here
    ///      one hundred, against one honest challenger) and whichever it throws, the coalition
    ///      gets back less than the bond by at least the burnt half.
    function test_finding1_manySybilsNeverRefund() public {
        uint256 taskId = _postTask(false);
        _postResult(taskId); // srv.honest is false: BAD_OUT
        vm.prank(challenger);
        uint256 honestId = game.challenge{value: CBOND}(taskId);
        uint256[] memory ids = new uint256[](100);
        for (uint256 i = 0; i < ids.length; i++) {
            address who = makeAddr(string(abi.encode("sybil", i)));
            vm.deal(who, CBOND);
            vm.prank(who);
            ids[i] = game.challenge{value: CBOND}(taskId);
        }
        _throw(ids[0]);
        uint256 back = game.credits(server);
        for (uint256 i = 0; i < ids.length; i++) {
            if (i > 0) game.timeout(ids[i]);
            back += game.credits(makeAddr(string(abi.encode("sybil", i))));
        }
        game.timeout(honestId);
        // the coalition put in SBOND + 100 CBOND
        assertLe(back + BURN, SBOND + 100 * CBOND, "refund through sybils");
        assertGt(game.credits(challenger), CBOND, "honest challenger paid");
    }

    /// @dev With k sybils and h honest challenger accounts open at the rejection, in any order
    ///      and whichever dispute the liar throws, each honest dispute is paid its bond and
    ///      `REWARD / (k + h)`, and the liar coalition loses the burnt half plus `h` parts: it
    ///      never breaks even, whatever k.
    function testFuzz_finding1_sybils(uint8 k, uint8 h, uint256 order, bool honestRejects) public {
        k = uint8(bound(k, 0, 12));
        h = uint8(bound(h, 1, 6));
        uint256 taskId = _postTask(false);
        _postResult(taskId); // srv.honest is false: BAD_OUT
        uint256[] memory ids = new uint256[](uint256(k) + h);
        bool[] memory isSybil = new bool[](ids.length);
        uint256 sybils;
        for (uint256 i = 0; i < ids.length; i++) {
            bool s = sybils < k
                && (uint256(keccak256(abi.encode(order, i))) % 2 == 0
                    || ids.length - i <= k - sybils);
            if (s) sybils++;
            isSybil[i] = s;
            address who = s ? makeAddr(string(abi.encode("sybil", i))) : challenger;
            vm.deal(who, CBOND);
            vm.prank(who);
            ids[i] = game.challenge{value: CBOND}(taskId);
        }
        // the rejecting dispute: a sybil's (thrown) or an honest one's (time out the liar)
        uint256 first = honestRejects || k == 0 ? _firstHonest(isSybil) : _firstSybil(isSybil);
        _throw(ids[first]);
        for (uint256 i = 0; i < ids.length; i++) {
            if (i != first) game.timeout(ids[i]);
            assertFalse(game.getDispute(ids[i]).defenderWon);
        }
        uint256 part = REWARD / ids.length;
        uint256 dust = REWARD - part * ids.length;
        uint256 honestGets = h * (CBOND + part) + (isSybil[first] ? 0 : dust);
        assertEq(game.credits(challenger), honestGets, "every honest dispute paid");
        assertGe(game.credits(challenger), h * CBOND + h * (REWARD / (uint256(k) + h)));
        assertEq(game.credits(server), 0);
        // the coalition (server and sybils) gets back at most its sybils' bonds and parts
        uint256 sybilsGet = k * CBOND + k * part + (isSybil[first] ? dust : 0);
        assertLe(sybilsGet + BURN, SBOND + k * CBOND, "liar refunded");
        assertEq(address(game).balance, FEE + SBOND + ids.length * CBOND);
    }

    function _firstHonest(bool[] memory isSybil) internal pure returns (uint256) {
        for (uint256 i = 0; i < isSybil.length; i++) {
            if (!isSybil[i]) return i;
        }
        revert("no honest dispute");
    }

    function _firstSybil(bool[] memory isSybil) internal pure returns (uint256) {
        for (uint256 i = 0; i < isSybil.length; i++) {
            if (isSybil[i]) return i;
        }
        revert("no sybil dispute");
    }

    /*//////////////////////////////////////////////////////////////
              FINDING 2: A REJECTED RESULT STAYS REJECTED
    //////////////////////////////////////////////////////////////*/

    /// @dev After the rejection the proven-wrong server can make no move in the remaining
    ///      disputes, and a challenger who stopped playing does not lose its bond to it.
    function test_finding2_noWinAfterRejection() public {
        chl.honest = true;
        (uint256 taskId, uint256 id1) = _open(false);
        vm.prank(stranger);
        uint256 id2 = game.challenge{value: CBOND}(taskId);
        lastStates = _defenderStates(id2);
        vm.prank(server);
        game.bisect(id2, lastStates); // the stranger's turn now; it stops playing
        _play(id1);
        vm.warp(block.timestamp + CLOCK + 1);
        // the stranger's clock ran out, yet the dispute is its challenger's
        bytes memory rejected =
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Rejected);
        vm.prank(stranger);
        vm.expectRevert(rejected);
        game.pick(id2, 0, lastStates);
        vm.prank(server);
        game.timeout(id2);
        assertFalse(game.getDispute(id2).defenderWon);
        assertEq(game.credits(stranger), CBOND + REWARD / 2);
        assertEq(game.credits(server), 0);
        vm.expectRevert(OpmlGame.GameEnded.selector);
        game.timeout(id2);
    }

    /// @dev Whatever the remaining disputes' phase, the server's moves and steps revert.
    function testFuzz_finding2_movesRevert(uint8 moves) public {
        chl.honest = true;
        (uint256 taskId, uint256 id1) = _open(false);
        vm.prank(challenger);
        uint256 id2 = game.challenge{value: CBOND}(taskId);
        // play the second dispute a few moves
        uint256 n = bound(moves, 0, 6);
        for (uint256 i = 0; i < n && game.getDispute(id2).phase != OpmlGame.Phase.Step; i++) {
            _moveOnce(id2);
        }
        // a claim of id2 would hold the result's claim queue: id1's claim waits for it
        if (game.getDispute(id2).phase == OpmlGame.Phase.Claim) _moveOnce(id2);
        _play(id1);
        OpmlGame.Dispute memory d = game.getDispute(id2);
        bytes memory rejected =
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Rejected);
        vm.startPrank(server);
        vm.expectRevert(rejected);
        game.bisect(id2, new bytes32[](0));
        vm.expectRevert(rejected);
        game.claimCheck(id2, 1, bytes32(0));
        vm.expectRevert(rejected);
        game.step(id2, new bytes(358), "");
        vm.stopPrank();
        assertTrue(d.phase != OpmlGame.Phase.Resolved);
        game.timeout(id2);
        assertFalse(game.getDispute(id2).defenderWon);
    }

    /*//////////////////////////////////////////////////////////////
                 FINDING 5: STEP BOUNDS PER DISPUTE MODE
    //////////////////////////////////////////////////////////////*/

    /// @dev A single-phase claim is bounded by maxWholeSteps, a node's claim by maxSteps.
    function test_finding5_boundPerMode() public {
        // a model whose whole check may take 1000 steps, one node's 40
        bytes32 m = game.registerModel(PK, checkerInit, nodes, MAX_STEPS, 1000);
        assertEq(game.getModel(m).maxWholeSteps, 1000);
        bytes32 fin = bytes32(uint256(keccak256("final")) >> 8);
        vm.prank(requester);
        uint256 single = game.postTask{value: FEE}(m, IN, true, "");
        _answer(single, server, OUTPUT, SBOND);
        vm.prank(challenger);
        uint256 id = game.challenge{value: CBOND}(single);
        vm.startPrank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.InvalidStepCount.selector, 1001, 1000));
        game.claimCheck(id, 1001, fin);
        game.claimCheck(id, 1000, fin); // 25 times the node bound: an honest whole check
        vm.stopPrank();
        assertEq(game.getDispute(id).hi, 1000);
        // a multi-phase task of the same model: the node bound
        vm.prank(requester);
        uint256 multi = game.postTask{value: FEE}(m, IN, false, "");
        _answer(multi, server, OUTPUT, SBOND);
        vm.prank(challenger);
        uint256 id2 = game.challenge{value: CBOND}(multi);
        srv.honest = true;
        for (uint256 i = 0; game.getDispute(id2).phase != OpmlGame.Phase.Claim; i++) {
            _moveOnce(id2);
        }
        vm.prank(server);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.InvalidStepCount.selector, MAX_STEPS + 1, MAX_STEPS)
        );
        game.claimCheck(id2, MAX_STEPS + 1, fin);
    }

    /// @dev A model registered without a whole-model bound takes no single-phase task: an
    ///      honest server can never be asked for a check it cannot claim.
    function test_finding5_singlePhaseRefused() public {
        bytes32 m = game.registerModel(PK, checkerInit, nodes, MAX_STEPS, 0);
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.SinglePhaseUnavailable.selector, m));
        game.postTask{value: FEE}(m, IN, true, "");
        vm.prank(requester);
        game.postTask{value: FEE}(m, IN, false, "");
    }

    /*//////////////////////////////////////////////////////////////
                 FINDING 6: REGISTRATION AND PAYMENT GAPS
    //////////////////////////////////////////////////////////////*/

    /// @dev An exited checker (any exit status) would make a lie irrefutable: refused.
    function testFuzz_finding6_exitedCheckerRefused(bytes32 seed, uint8 status) public {
        status = uint8(bound(status, 0, 2));
        bytes32 exited = _hashMem(_sd(seed, status));
        vm.expectRevert(OpmlGame.InvalidModel.selector);
        game.registerModel(PK, exited, nodes, MAX_STEPS, MAX_STEPS);
        bytes32 running = _hashMem(_sd(seed, 3));
        game.registerModel(PK, running, nodes, MAX_STEPS, MAX_STEPS);
    }

    function test_finding6_boundsChecked() public {
        uint32 maxNodes = game.MAX_NODES();
        uint64 maxSteps = game.MAX_STEPS();
        vm.expectRevert(OpmlGame.InvalidModel.selector);
        game.registerModel(PK, checkerInit, maxNodes + 1, 1, 0);
        vm.expectRevert(OpmlGame.InvalidModel.selector);
        game.registerModel(PK, checkerInit, 1, maxSteps + 1, 0);
        vm.expectRevert(OpmlGame.InvalidModel.selector);
        game.registerModel(PK, checkerInit, 1, 1, maxSteps + 1);
        vm.expectRevert(OpmlGame.InvalidModel.selector);
        game.registerModel(PK, checkerInit, type(uint32).max, 1, 0);
        game.registerModel(PK, checkerInit, maxNodes, maxSteps, maxSteps);
    }

    /// @dev 65,535 open disputes no longer block `challenge` (the count is a uint32).
    function test_finding6_manyOpenDisputes() public {
        uint256 taskId = _postTask(false);
        _postResult(taskId);
        // _tasks is storage slot 1; openDisputes is byte 27 of the task's second slot
        bytes32 slot = bytes32(uint256(keccak256(abi.encode(taskId, uint256(1)))) + 1);
        uint256 word = uint256(vm.load(address(game), slot));
        word |= uint256(type(uint16).max) << 216;
        vm.store(address(game), slot, bytes32(word));
        assertEq(game.getTask(taskId).openDisputes, type(uint16).max);
        vm.prank(challenger);
        game.challenge{value: CBOND}(taskId);
        assertEq(game.getTask(taskId).openDisputes, uint32(type(uint16).max) + 1);
        assertEq(game.getTask(taskId).server, server);
        assertEq(uint8(game.getTask(taskId).status), uint8(OpmlGame.Status.Pending));
    }

    /// @dev An account that cannot receive ETH withdraws to another address.
    function test_finding6_withdrawTo() public {
        NoReceive payee = new NoReceive(game);
        uint256 taskId = _postTask(false);
        vm.deal(address(payee), SBOND);
        payee.post(taskId, _one(OUTPUT));
        vm.warp(block.timestamp + WINDOW);
        game.finalize(taskId);
        vm.expectRevert(OpmlGame.TransferFailed.selector);
        payee.withdraw();
        vm.expectRevert(OpmlGame.ZeroAddress.selector);
        payee.withdrawTo(address(0));
        address to = makeAddr("cold wallet");
        vm.expectEmit(address(game));
        emit OpmlGame.Withdrawn(address(payee), FEE + SBOND);
        payee.withdrawTo(to);
        assertEq(to.balance, FEE + SBOND);
        assertEq(game.credits(address(payee)), 0);
        vm.expectRevert(OpmlGame.NothingToWithdraw.selector);
        payee.withdrawTo(to);
    }
}

/// @notice Findings 3 and 4 (front-running `postResult`) and the output binding of finding 6:
///         results are committed (a hiding commitment that names its server) and revealed
///         with output data checked against the output key on chain.
contract OpmlGameCommitRevealTest is GameBase {
    address internal copier = makeAddr("copier");

    function setUp() public override {
        super.setUp();
        vm.deal(copier, 100 ether);
    }

    function _commit(uint256 taskId, address who, bytes32 commitment) internal {
        vm.prank(who);
        game.commitResult{value: SBOND}(taskId, commitment);
    }

    /// @dev Finding 3: the copier lands the honest server's commitment first. It cannot reveal
    ///      it (the commitment names the server), the honest server cannot be locked out for
    ///      longer than the reveal window, and the copier's bond goes to the requester.
    function test_finding3_copiedCommitmentIsWorthless() public {
        uint256 taskId = _postTask(false);
        bytes[] memory outs = _one(OUTPUT);
        bytes32 honest = game.commitmentOf(taskId, OUT, SALT, server);
        _commit(taskId, copier, honest); // front-runs the server's commitResult
        vm.prank(server);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Committed)
        );
        game.commitResult{value: SBOND}(taskId, honest);
        // the copier saw the key and the salt too late (the reveal) or never: either way no use
        vm.prank(copier);
        vm.expectRevert(OpmlGame.CommitmentMismatch.selector);
        game.revealResult(taskId, OUT, SALT, outs);
        vm.expectRevert(OpmlGame.RevealWindowOpen.selector);
        game.forfeitCommitment(taskId);
        vm.warp(block.timestamp + CLOCK); // the reveal window is the clock budget
        vm.prank(copier);
        vm.expectRevert(OpmlGame.RevealWindowClosed.selector);
        game.revealResult(taskId, OUT, SALT, outs);
        // the honest server commits again: the copier's commitment is forfeited on the way
        vm.expectEmit(address(game));
        emit OpmlGame.CommitmentForfeited(taskId, copier);
        _answer(taskId, server, OUTPUT, SBOND);
        assertEq(game.credits(requester), SBOND, "copier's bond to the requester");
        vm.warp(block.timestamp + WINDOW);
        game.finalize(taskId);
        assertEq(game.credits(server), FEE + SBOND);
        assertEq(game.credits(copier), 0);
    }

    /// @dev Finding 3 at reveal: a reveal in the mempool shows the key, the salt and the data,
    ///      but the task is locked to its committer: a copier can neither reveal nor commit.
    function test_finding3_revealCannotBeCopied() public {
        uint256 taskId = _postTask(false);
        bytes[] memory outs = _one(OUTPUT);
        _commit(taskId, server, game.commitmentOf(taskId, OUT, SALT, server));
        bytes32 own = game.commitmentOf(taskId, OUT, SALT, copier);
        vm.startPrank(copier);
        vm.expectRevert(OpmlGame.NotServer.selector);
        game.revealResult(taskId, OUT, SALT, outs);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Committed)
        );
        game.commitResult{value: SBOND}(taskId, own);
        vm.stopPrank();
        vm.prank(server);
        game.revealResult(taskId, OUT, SALT, outs);
        assertEq(game.getTask(taskId).server, server);
    }

    /// @dev Finding 4: the requester cannot cancel once a server committed (the output is not
    ///      public before), neither before nor after the reveal; a cancellation that front-runs
    ///      the commitment only sees a hash.
    function test_finding4_noCancelAfterCommitment() public {
        uint256 taskId = _postTask(false);
        _commit(taskId, server, game.commitmentOf(taskId, OUT, SALT, server));
        vm.prank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Committed)
        );
        game.cancelTask(taskId);
        vm.prank(server);
        game.revealResult(taskId, OUT, SALT, _one(OUTPUT));
        vm.prank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Pending)
        );
        game.cancelTask(taskId);
        // a cancellation landed before the commitment: the server loses only the gas
        uint256 t2 = _postTask(false);
        vm.prank(requester);
        game.cancelTask(t2);
        bytes32 c2 = game.commitmentOf(t2, OUT, SALT, server);
        vm.prank(server);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Cancelled)
        );
        game.commitResult{value: SBOND}(t2, c2);
    }

    /// @dev A server that does not reveal forfeits its bond to the requester, which may then
    ///      cancel (in one call) or wait for another server.
    function test_unrevealedCommitmentForfeits() public {
        uint256 taskId = _postTask(false);
        _commit(taskId, server, keccak256("a fake commitment"));
        vm.warp(block.timestamp + CLOCK - 1);
        vm.prank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(OpmlGame.WrongTaskStatus.selector, OpmlGame.Status.Committed)
        );
        game.cancelTask(taskId);
        vm.warp(block.timestamp + 1);
        vm.prank(requester);
        game.cancelTask(taskId);
        assertEq(game.credits(requester), FEE + SBOND);
        assertEq(uint8(game.getTask(taskId).status), uint8(OpmlGame.Status.Cancelled));
        assertEq(address(game).balance, FEE + SBOND);
    }

    /// @dev The challenge window starts at the reveal, not at the commitment.
    function test_challengeWindowStartsAtReveal() public {
        uint256 taskId = _postTask(false);
        _commit(taskId, server, game.commitmentOf(taskId, BAD_OUT, SALT, server));
        vm.warp(block.timestamp + CLOCK - 1);
        uint256 revealed = block.timestamp;
        vm.prank(server);
        game.revealResult(taskId, BAD_OUT, SALT, _one(BAD_OUTPUT));
        assertEq(game.getTask(taskId).resultTime, revealed);
        vm.warp(revealed + WINDOW - 1);
        vm.prank(challenger);
        game.challenge{value: CBOND}(taskId);
    }

    /// @dev Finding 6, output binding: a right key with other bytes cannot be revealed, nor
    ///      another key than the committed one, nor bytes split differently.
    function testFuzz_outputBoundToKey(bytes calldata output, bytes calldata other) public {
        vm.assume(keccak256(output) != keccak256(other));
        uint256 taskId = _postTask(false);
        bytes32 key = game.outputKeyOf(_one(output));
        _commit(taskId, server, game.commitmentOf(taskId, key, SALT, server));
        bytes32 otherKey = game.outputKeyOf(_one(other));
        vm.startPrank(server);
        vm.expectRevert(abi.encodeWithSelector(OpmlGame.OutputMismatch.selector, key, otherKey));
        game.revealResult(taskId, key, SALT, _one(other));
        vm.expectRevert(OpmlGame.CommitmentMismatch.selector);
        game.revealResult(taskId, otherKey, SALT, _one(other));
        bytes[] memory two = new bytes[](2);
        two[0] = output;
        vm.expectRevert();
        game.revealResult(taskId, key, SALT, two);
        vm.expectEmit(address(game));
        emit OpmlGame.ResultPosted(taskId, server, key, _one(output));
        game.revealResult(taskId, key, SALT, _one(output));
        vm.stopPrank();
        assertEq(game.getTask(taskId).outputKey, key);
    }

    /// @dev A commitment is bound to its task: replayed on another task it cannot be revealed.
    function test_commitmentBoundToTask() public {
        uint256 t1 = _postTask(false);
        uint256 t2 = _postTask(false);
        bytes32 c1 = game.commitmentOf(t1, OUT, SALT, server);
        _commit(t2, server, c1);
        vm.prank(server);
        vm.expectRevert(OpmlGame.CommitmentMismatch.selector);
        game.revealResult(t2, OUT, SALT, _one(OUTPUT));
    }
}

/// @notice A server contract without a receive function.
contract NoReceive {
    OpmlGame internal game;

    constructor(OpmlGame game_) {
        game = game_;
    }

    function post(uint256 taskId, bytes[] calldata outputs) external {
        bytes32 key = game.outputKeyOf(outputs);
        bytes32 salt = keccak256("no receive");
        game.commitResult{value: address(this).balance}(
            taskId, game.commitmentOf(taskId, key, salt, address(this))
        );
        game.revealResult(taskId, key, salt, outputs);
    }

    function withdraw() external {
        game.withdraw();
    }

    function withdrawTo(address to) external {
        game.withdrawTo(to);
    }
}

/// @notice The actors of the incentive invariant: a requester, an honest server (HS), a liar
///         (L) with its sybil challenger (Y), an honest challenger (HC) and a griefer (G) who
///         challenges anything. Honest parties always move in time (before any clock advance)
///         with valid moves; the others move at random or not at all. The final step is
///         decided for the honest party (soundness of the bisection, tested elsewhere); between
///         two dishonest parties at random. Ghost totals track what each actor paid in.
contract IncentiveHandler is CommonBase, StdCheats, StdUtils {
    OpmlGame public game;
    MockMIPS public mock;
    bytes32 public modelId;
    bytes32 public checkerInit;
    address public requester = makeAddr("inv requester");
    address public hs = makeAddr("inv honest server");
    address public liar = makeAddr("inv liar");
    address public sybil = makeAddr("inv sybil");
    address public hc = makeAddr("inv honest challenger");
    address public griefer = makeAddr("inv griefer");
    /// @dev The front-runner: copies the designated server's commitment from the mempool (or
    ///      commits junk), tries to reveal what it copied, and never computes anything.
    address public frontRunner = makeAddr("inv front-runner");
    mapping(address => uint256) public paidIn;
    /// @dev The server a task is meant for (its result is honest iff that is hs).
    mapping(uint256 => address) public serverOf;
    bytes32 internal constant SALT = keccak256("inv salt");
    mapping(address => uint256) public withdrawn;
    mapping(bytes32 => bytes) internal _pre;
    mapping(uint256 => bytes32[]) internal _posted;
    bytes internal constant GOOD_OUTPUT = "inv good output";
    bytes32 internal good;

    constructor(OpmlGame game_, MockMIPS mock_) {
        game = game_;
        mock = mock_;
        checkerInit = _state(keccak256("inv init"), 3);
        modelId = game.registerModel(keccak256("inv pk"), checkerInit, 6, 40, 40);
        good = game.outputKeyOf(_one(GOOD_OUTPUT));
        address[7] memory all = [requester, hs, liar, sybil, hc, griefer, frontRunner];
        for (uint256 i = 0; i < all.length; i++) {
            vm.deal(all[i], 10_000 ether);
        }
    }

    function _one(bytes memory output) internal pure returns (bytes[] memory outputs) {
        outputs = new bytes[](1);
        outputs[0] = output;
    }

    function _outputs(uint256 taskId) internal view returns (bytes[] memory) {
        return _one(serverOf[taskId] == liar ? abi.encode("lie", taskId) : GOOD_OUTPUT);
    }

    function _state(bytes32 seed, uint8 status) internal returns (bytes32 h) {
        bytes memory s = new bytes(358);
        assembly {
            mstore(add(s, 32), seed)
        }
        if (status != 3) {
            s[89] = 0x01;
            s[88] = bytes1(status);
        }
        h = keccak256(s);
        h = (h & bytes32(type(uint256).max >> 8)) | bytes32(uint256(status) << 248);
        _pre[h] = s;
    }

    function _pay(address who, uint256 value) internal {
        paidIn[who] += value;
        vm.prank(who);
    }

    function isHonestTask(uint256 taskId) public view returns (bool) {
        return game.getTask(taskId).outputKey == good;
    }

    function newTask(uint96 fee, bool single, bool byLiar) external {
        fee = uint96(bound(fee, 0, 3 ether));
        _pay(requester, fee);
        uint256 taskId = game.postTask{value: fee}(modelId, keccak256("in"), single, "");
        serverOf[taskId] = byLiar ? liar : hs;
    }

    function _taskOf(uint256 t) internal view returns (uint256) {
        uint256 n = game.taskCount();
        return n == 0 ? 0 : 1 + t % n;
    }

    /// @dev The designated server answers an open task (commit, then reveal at once).
    function serve(uint256 t) public {
        uint256 taskId = _taskOf(t);
        if (taskId == 0) return;
        OpmlGame.Task memory task = game.getTask(taskId);
        bool expired = task.status == OpmlGame.Status.Committed
            && block.timestamp >= task.resultTime + game.revealWindow();
        if (task.status != OpmlGame.Status.Open && !expired) return;
        address server = serverOf[taskId];
        bytes[] memory outputs = _outputs(taskId);
        bytes32 key = game.outputKeyOf(outputs);
        uint256 bond = game.serverBond();
        bytes32 c = game.commitmentOf(taskId, key, SALT, server);
        _pay(server, bond);
        game.commitResult{value: bond}(taskId, c);
        vm.prank(server);
        game.revealResult(taskId, key, SALT, outputs);
    }

    /// @dev The front-runner lands a commitment before the server's: a copy of the server's
    ///      own, or junk; then tries to reveal with the copied key, salt and data.
    function frontRun(uint256 t, bool copy) external {
        uint256 taskId = _taskOf(t);
        if (taskId == 0 || game.getTask(taskId).status != OpmlGame.Status.Open) return;
        bytes[] memory outputs = _outputs(taskId);
        bytes32 key = game.outputKeyOf(outputs);
        bytes32 c = copy
            ? game.commitmentOf(taskId, key, SALT, serverOf[taskId])
            : keccak256(abi.encode("junk", taskId));
        uint256 bond = game.serverBond();
        _pay(frontRunner, bond);
        game.commitResult{value: bond}(taskId, c);
        vm.prank(frontRunner);
        try game.revealResult(taskId, key, SALT, outputs) {
            revert("a copied commitment was revealed");
        } catch {}
    }

    /// @dev The requester tries to cancel (it succeeds only before any commitment, or after an
    ///      unrevealed one).
    function cancel(uint256 t) external {
        uint256 taskId = _taskOf(t);
        if (taskId == 0) return;
        vm.prank(requester);
        try game.cancelTask(taskId) {} catch {}
    }

    function forfeit(uint256 t) external {
        uint256 taskId = _taskOf(t);
        if (taskId == 0) return;
        try game.forfeitCommitment(taskId) {} catch {}
    }

    /// @dev HC challenges only wrong results; the sybil and the griefer anything.
    function challenge(uint256 t, uint8 who) external {
        uint256 n = game.taskCount();
        if (n == 0) return;
        uint256 taskId = 1 + t % n;
        address c = who % 3 == 0 ? hc : who % 3 == 1 ? sybil : griefer;
        if (c == hc && isHonestTask(taskId)) return;
        OpmlGame.Task memory task = game.getTask(taskId);
        if (
            task.status != OpmlGame.Status.Pending
                || block.timestamp >= task.resultTime + game.challengeWindow()
        ) return;
        uint256 bond = game.challengerBond();
        _pay(c, bond);
        game.challenge{value: bond}(taskId);
    }

    function _honest(address a) internal view returns (bool) {
        return a == hs || a == hc;
    }

    /// @dev A dishonest party to move in a random dispute moves (or, half the time, does not).
    function dishonestMove(uint256 dSeed, uint256 seed) external {
        uint256 n = game.disputeCount();
        if (n == 0) return;
        uint256 id = 1 + dSeed % n;
        if (seed % 2 == 0) return;
        _moveIfDue(id, seed, false);
    }

    /// @dev Every honest party makes each move due (and settles disputes of rejected results).
    function honestMoves(uint256 seed) public {
        for (uint256 id = 1; id <= game.disputeCount(); id++) {
            // a pick can leave the same party to move (the step)
            for (uint256 i = 0; i < 3; i++) {
                _moveIfDue(id, seed, true);
            }
        }
    }

    function _moveIfDue(uint256 id, uint256 seed, bool honest) internal {
        OpmlGame.Dispute memory d = game.getDispute(id);
        if (d.phase == OpmlGame.Phase.Resolved) return;
        OpmlGame.Task memory t = game.getTask(d.taskId);
        if (t.status == OpmlGame.Status.Rejected) {
            if (honest && d.challenger == hc) game.timeout(id);
            return;
        }
        bool defenderToMove = d.phase == OpmlGame.Phase.Bisect1 || d.phase == OpmlGame.Phase.Claim
            || d.phase == OpmlGame.Phase.Bisect2;
        address mover = defenderToMove ? t.server : d.challenger;
        if (d.phase == OpmlGame.Phase.Step) mover = d.challenger;
        if (_honest(mover) != honest) {
            // at Step an honest defender executes the step itself
            if (!(honest && d.phase == OpmlGame.Phase.Step && _honest(t.server))) return;
            mover = t.server;
        }
        uint256 deadline = game.deadline(id);
        // a claim waiting for its turn in the result's claim queue (its clock is paused), or too
        // late (only a dishonest party can be)
        if (deadline == type(uint256).max || block.timestamp > deadline) return;
        uint64[] memory p = game.splitPoints(id);
        uint256 count = p.length == 0 ? 1 : p.length - 1;
        vm.startPrank(mover);
        if (d.phase == OpmlGame.Phase.Bisect1 || d.phase == OpmlGame.Phase.Bisect2) {
            bytes32[] memory states = new bytes32[](count - 1);
            for (uint256 j = 0; j < states.length; j++) {
                states[j] = _state(keccak256(abi.encode(seed, id, j, d.lo)), 3);
            }
            game.bisect(id, states);
            _posted[id] = states;
        } else if (d.phase == OpmlGame.Phase.Pick1 || d.phase == OpmlGame.Phase.Pick2) {
            game.pick(id, seed % count, _posted[id]);
        } else if (d.phase == OpmlGame.Phase.Claim) {
            game.claimCheck(id, uint64(1 + seed % 40), _state(keccak256(abi.encode(seed, id)), 0));
        } else {
            // the honest party's step wins; between dishonest parties either may
            bool defenderWins =
                _honest(t.server) ? true : d.challenger == hc ? false : seed % 4 == 0;
            mock.setNext(d.loState, defenderWins ? d.hiState : keccak256(abi.encode(d.hiState)));
            game.step(id, _pre[d.loState], "");
        }
        vm.stopPrank();
    }

    function timeout(uint256 dSeed) external {
        uint256 n = game.disputeCount();
        if (n == 0) return;
        try game.timeout(1 + dSeed % n) {} catch {}
    }

    function finalize(uint256 t) external {
        uint256 n = game.taskCount();
        if (n == 0) return;
        try game.finalize(1 + t % n) {} catch {}
    }

    function withdraw(uint8 who) external {
        address[7] memory all = [requester, hs, liar, sybil, hc, griefer, frontRunner];
        address a = all[who % 7];
        uint256 c = game.credits(a);
        if (c == 0) return;
        withdrawn[a] += c;
        vm.prank(a);
        if (who % 2 == 0) game.withdraw();
        else game.withdrawTo(a);
    }

    /// @dev Clocks only advance once the honest parties have moved.
    function warp(uint256 secs, uint256 seed) external {
        honestMoves(seed);
        vm.warp(block.timestamp + bound(secs, 0, 2 days));
    }
}

contract OpmlGameIncentiveInvariantTest is Test {
    OpmlGame game;
    IncentiveHandler h;

    function setUp() public {
        PreimageOracle oracle = new PreimageOracle();
        MockMIPS mock = new MockMIPS(IPreimageOracle(address(oracle)));
        game = new OpmlGame(IMIPS(address(mock)), 3, 1 days, 2 ether, 1.5 ether, 1 hours);
        h = new IncentiveHandler(game, mock);
        targetContract(address(h));
    }

    /// @dev What `a` holds from the game: credited (still there or withdrawn).
    function _value(address a) internal view returns (uint256) {
        return game.credits(a) + h.withdrawn(a);
    }

    /// @dev A task's number of challenger wins, counting the unresolved disputes of a rejected
    ///      result (they are all the challengers'): the `n` of its split.
    function _winners(uint256 taskId) internal view returns (uint256 n) {
        bool rejected = game.getTask(taskId).status == OpmlGame.Status.Rejected;
        for (uint256 id = 1; id <= game.disputeCount(); id++) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            if (d.taskId != taskId) continue;
            if (d.phase == OpmlGame.Phase.Resolved ? !d.defenderWon : rejected) n++;
        }
    }

    /// @dev Honest parties never lose a dispute, an honest result is never rejected, and
    ///      neither honest party ever loses money: the honest server's value plus its bonds
    ///      at stake covers what it put in; the honest challenger's exceeds what it put in by
    ///      at least its part of the server bond for every dispute it won.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_honestNeverLose() public view {
        uint256 hsLocked;
        uint256 hcLocked;
        uint256 hcEarned;
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            OpmlGame.Task memory task = game.getTask(t);
            if (task.server == h.hs()) {
                assertTrue(task.status != OpmlGame.Status.Rejected, "honest result rejected");
                if (task.status == OpmlGame.Status.Pending) hsLocked += game.serverBond();
            }
        }
        for (uint256 id = 1; id <= game.disputeCount(); id++) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            address server = game.getTask(d.taskId).server;
            bool resolved = d.phase == OpmlGame.Phase.Resolved;
            if (server == h.hs() && resolved) assertTrue(d.defenderWon, "honest server lost");
            if (d.challenger == h.hc()) {
                if (!resolved) {
                    hcLocked += game.challengerBond();
                } else {
                    assertFalse(d.defenderWon, "honest challenger lost");
                    hcEarned += game.rejectionReward() / _winners(d.taskId);
                }
            }
        }
        assertGe(_value(h.hs()) + hsLocked, h.paidIn(h.hs()), "honest server lost money");
        assertGe(_value(h.hc()) + hcLocked, h.paidIn(h.hc()) + hcEarned, "honest challenger");
    }

    /// @dev The liar and its sybil, together, gain only the fees of their unchallenged results
    ///      and the bonds of (griefing) challengers who lost to the liar; every rejected result
    ///      costs them the burnt half of the bond and one part of the reward per dispute won by
    ///      someone else (their own disputes are zero-sum between them): no sybil refunds the
    ///      burnt half.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_liarPays() public view {
        address liar = h.liar();
        address sybil = h.sybil();
        uint256 income;
        uint256 loss;
        uint256 locked;
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            OpmlGame.Task memory task = game.getTask(t);
            if (task.server != liar) continue;
            if (task.status == OpmlGame.Status.Finalized) income += task.fee;
            if (task.status == OpmlGame.Status.Rejected) loss += game.rejectionBurn();
            if (task.status == OpmlGame.Status.Pending) locked += game.serverBond();
        }
        for (uint256 id = 1; id <= game.disputeCount(); id++) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            OpmlGame.Task memory task = game.getTask(d.taskId);
            bool resolved = d.phase == OpmlGame.Phase.Resolved;
            if (d.challenger == sybil && !resolved) locked += game.challengerBond();
            if (task.server == liar) {
                if (resolved && d.defenderWon && d.challenger != sybil) {
                    income += game.challengerBond();
                }
                bool othersWin = resolved ? !d.defenderWon : task.status == OpmlGame.Status.Rejected;
                if (othersWin && d.challenger != sybil) {
                    loss += game.rejectionReward() / _winners(d.taskId);
                }
                // a rejected result's unresolved parts are not the coalition's
                if (!resolved && task.status == OpmlGame.Status.Rejected && d.challenger == sybil) {
                    locked += task.share;
                }
            }
        }
        uint256 had = _value(liar) + _value(sybil) + locked;
        assertLe(had + loss, h.paidIn(liar) + h.paidIn(sybil) + income, "liar profits");
    }

    /// @dev The front-runner never gains: copied or junk commitments cannot be revealed, and
    ///      each one's bond goes to the requester.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_frontRunnerPays() public view {
        address f = h.frontRunner();
        uint256 locked;
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            OpmlGame.Task memory task = game.getTask(t);
            assertTrue(
                task.server != f || task.status == OpmlGame.Status.Committed, "front-runner served"
            );
            if (task.server == f) locked += game.serverBond();
        }
        assertEq(_value(f), 0, "front-runner credited");
        assertLe(locked, h.paidIn(f));
    }

    /// @dev The requester never pays for nothing: its fee goes only to a final result; it gets
    ///      back the fee of every cancelled or rejected task and the bond of every forfeited
    ///      commitment (what it put in minus the fees of final results, of tasks still running,
    ///      plus forfeited bonds, is what it holds).
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_requesterPaysOnlyResults() public view {
        uint256 spent;
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            OpmlGame.Task memory task = game.getTask(t);
            OpmlGame.Status s = task.status;
            if (s != OpmlGame.Status.Cancelled && s != OpmlGame.Status.Rejected) spent += task.fee;
        }
        assertGe(_value(h.requester()) + spent, h.paidIn(h.requester()), "requester lost");
        // no free result: a cancelled task was never revealed
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            OpmlGame.Task memory task = game.getTask(t);
            if (task.status == OpmlGame.Status.Cancelled) assertEq(task.outputKey, bytes32(0));
        }
    }

    /// @dev Conservation: the game holds exactly what it owes.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_conservation() public view {
        uint256 owed;
        uint256 burnt;
        address[7] memory all =
            [h.requester(), h.hs(), h.liar(), h.sybil(), h.hc(), h.griefer(), h.frontRunner()];
        for (uint256 i = 0; i < all.length; i++) {
            owed += game.credits(all[i]);
        }
        for (uint256 t = 1; t <= game.taskCount(); t++) {
            OpmlGame.Task memory task = game.getTask(t);
            OpmlGame.Status s = task.status;
            if (s == OpmlGame.Status.Pending || s == OpmlGame.Status.Committed) {
                owed += task.fee + game.serverBond();
            }
            if (s == OpmlGame.Status.Open) owed += task.fee;
            if (s == OpmlGame.Status.Rejected) burnt += game.rejectionBurn();
        }
        for (uint256 id = 1; id <= game.disputeCount(); id++) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            if (d.phase != OpmlGame.Phase.Resolved) {
                owed += game.challengerBond() + game.getTask(d.taskId).share;
            }
        }
        // the burnt halves: one per rejected result, owed to nobody
        assertEq(address(game).balance, owed + burnt);
    }
}
