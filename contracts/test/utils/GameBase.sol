// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {OpmlGame} from "../../src/OpmlGame.sol";
import {PreimageOracle} from "../../src/PreimageOracle.sol";
import {IPreimageOracle} from "../../src/interfaces/IPreimageOracle.sol";
import {IMIPS} from "../../src/interfaces/IMIPS.sol";
import {MockMIPS} from "./MockMIPS.sol";

/// @notice Test base of the dispute game with synthetic traces: phase-1 states of a model with
///         N nodes, checker traces run by MockMIPS, and players that follow a strategy (honest
///         or lying from a divergence point), driven move by move through the game.
abstract contract GameBase is Test {
    uint256 internal constant FEE = 1 ether;
    uint256 internal constant SBOND = 2 ether;
    uint256 internal constant CBOND = 1.5 ether;
    /// @dev A rejected result's burnt half and the challengers' half (OpmlGame.rejectionBurn).
    uint256 internal constant BURN = SBOND / 2;
    uint256 internal constant REWARD = SBOND - BURN;
    uint64 internal constant CLOCK = 1 days;
    uint64 internal constant WINDOW = 1 hours;
    uint64 internal constant MAX_STEPS = 40;
    uint64 internal constant MOVE_TIME = 10 minutes;

    bytes32 internal constant PK = keccak256("program key");
    bytes32 internal constant IN = keccak256("input key");
    /// @dev Task input data as posted (only emitted: the game ignores it).
    bytes internal constant INPUT = hex"00010203a0b0c0d0";
    /// @dev The honest and the wrong result's output data (one tensor each), and their keys
    ///      (`outputKeyOf`, checked against the TypeScript keys in tests/chain/output_key.test.ts).
    bytes internal constant OUTPUT = hex"3f800000";
    bytes internal constant BAD_OUTPUT = hex"40000000";
    bytes32 internal OUT;
    bytes32 internal BAD_OUT;
    bytes32 internal constant SALT = keccak256("salt");

    PreimageOracle internal oracle;
    MockMIPS internal mock;
    OpmlGame internal game;

    address internal requester = makeAddr("requester");
    address internal server = makeAddr("server");
    address internal challenger = makeAddr("challenger");
    address internal stranger = makeAddr("stranger");

    uint32 internal nodes; // N
    bytes32 internal modelId;
    bytes internal initData; // the checker's initial VM state
    bytes32 internal checkerInit;

    /// @dev A server: honest, or lying from phase-1 state `d` on (its output key is wrong), and
    ///      in phase 2 claiming a valid exit at step `td`, honest before step `e`.
    struct Server {
        bool honest;
        uint256 d;
        uint64 td;
        uint64 e;
    }

    /// @dev A challenger: honest (picks the first sub-interval it disagrees with), or picking
    ///      pseudo-randomly from `seed`; `stepAtEnd`: executes the final step itself.
    struct Challenger {
        bool honest;
        uint256 seed;
        bool stepAtEnd;
    }

    Server internal srv;
    Challenger internal chl;
    bytes32[] internal lastStates;
    uint256 internal rounds;

    function setUp() public virtual {
        oracle = new PreimageOracle();
        mock = new MockMIPS(IPreimageOracle(address(oracle)));
        _deploy(3, 5);
        vm.deal(requester, 100 ether);
        vm.deal(server, 100 ether);
        vm.deal(challenger, 100 ether);
        vm.deal(stranger, 100 ether);
        vm.warp(1_700_000_000);
    }

    function _deploy(uint256 arity, uint32 n) internal {
        game = new OpmlGame(IMIPS(address(mock)), arity, CLOCK, SBOND, CBOND, WINDOW);
        nodes = n;
        initData = _sd(keccak256("checker init"), 3);
        checkerInit = _hashMem(initData);
        modelId = game.registerModel(PK, checkerInit, n, MAX_STEPS, MAX_STEPS);
        OUT = game.outputKeyOf(_one(OUTPUT));
        BAD_OUT = game.outputKeyOf(_one(BAD_OUTPUT));
    }

    /// @dev Output data of one tensor.
    function _one(bytes memory output) internal pure returns (bytes[] memory outputs) {
        outputs = new bytes[](1);
        outputs[0] = output;
    }

    /// @dev `who` commits to `output` (one tensor) with `bond`, and reveals it at once.
    function _answer(uint256 taskId, address who, bytes memory output, uint256 bond) internal {
        bytes[] memory outputs = _one(output);
        bytes32 key = game.outputKeyOf(outputs);
        bytes32 commitment = game.commitmentOf(taskId, key, SALT, who);
        vm.prank(who);
        game.commitResult{value: bond}(taskId, commitment);
        vm.prank(who);
        game.revealResult(taskId, key, SALT, outputs);
    }

    /*//////////////////////////////////////////////////////////////
                             SYNTHETIC TRACES
    //////////////////////////////////////////////////////////////*/

    /// @dev A 358-byte VM state with `seed` as memRoot and the given status.
    function _sd(bytes32 seed, uint8 status) internal pure returns (bytes memory s) {
        s = new bytes(358);
        assembly {
            mstore(add(s, 32), seed)
        }
        if (status != 3) {
            s[89] = 0x01;
            s[88] = bytes1(status);
        }
    }

    function _hashMem(bytes memory s) internal pure returns (bytes32 h) {
        uint256 status = 3;
        if (uint8(s[89]) != 0) status = uint8(s[88]) < 2 ? uint8(s[88]) : 2;
        h = keccak256(s);
        h = (h & bytes32(type(uint256).max >> 8)) | bytes32(status << 248);
    }

    function _honest1(uint256 i) internal view returns (bytes32) {
        if (i == 0) return game.phase1State(PK, 0, IN);
        if (i == nodes + 1) return game.phase1State(PK, nodes + 1, OUT);
        return keccak256(abi.encode("honest state", i));
    }

    function _server1(uint256 i) internal view returns (bytes32) {
        if (srv.honest || i < srv.d) return _honest1(i);
        if (i == nodes + 1) return game.phase1State(PK, nodes + 1, BAD_OUT);
        return keccak256(abi.encode("bad state", i));
    }

    /// @dev The honest checker trace of dispute `id`'s transition: Th steps, then exited (status
    ///      0 iff the claim is the honest state), a fixed point afterwards.
    function _trace(uint256 id) internal view returns (bytes32 tag, uint64 th, uint8 status) {
        OpmlGame.Dispute memory d = game.getDispute(id);
        tag = keccak256(abi.encode(d.b, d.preState, d.claimState));
        th = uint64(2 + uint256(tag) % 7);
        status = d.claimState == _honest1(d.b) ? 0 : 1;
    }

    function _vmData(uint256 id, uint64 j) internal view returns (bytes memory) {
        if (j == 0) return initData;
        (bytes32 tag, uint64 th, uint8 status) = _trace(id);
        if (j >= th) return _sd(keccak256(abi.encode(tag, th)), status);
        return _sd(keccak256(abi.encode(tag, j)), 3);
    }

    function _vmHonest(uint256 id, uint64 j) internal view returns (bytes32) {
        return _hashMem(_vmData(id, j));
    }

    function _serverLies2(uint256 id) internal view returns (bool) {
        (,, uint8 status) = _trace(id);
        return !srv.honest && status != 0;
    }

    function _serverSteps(uint256 id) internal view returns (uint64) {
        if (!_serverLies2(id)) {
            (, uint64 th,) = _trace(id);
            return th;
        }
        return uint64(bound(srv.td, 1, MAX_STEPS));
    }

    function _server2(uint256 id, uint64 j) internal view returns (bytes32) {
        if (!_serverLies2(id)) return _vmHonest(id, j);
        uint64 td = _serverSteps(id);
        uint64 e = uint64(bound(srv.e, 1, td));
        if (j < e) return _vmHonest(id, j);
        if (j == td) return bytes32(uint256(keccak256("fake final")) >> 8); // status 0
        return keccak256(abi.encode("garbage", j));
    }

    /*//////////////////////////////////////////////////////////////
                                 PLAYERS
    //////////////////////////////////////////////////////////////*/

    function _postTask(bool single) internal returns (uint256 taskId) {
        vm.prank(requester);
        taskId = game.postTask{value: FEE}(modelId, IN, single, INPUT);
    }

    function _postResult(uint256 taskId) internal {
        _answer(taskId, server, srv.honest ? OUTPUT : BAD_OUTPUT, SBOND);
    }

    function _open(bool single) internal returns (uint256 taskId, uint256 id) {
        taskId = _postTask(single);
        _postResult(taskId);
        vm.warp(block.timestamp + 1);
        vm.prank(challenger);
        id = game.challenge{value: CBOND}(taskId);
    }

    /// @dev The states the defender posts for the current interval.
    function _defenderStates(uint256 id) internal view returns (bytes32[] memory states) {
        OpmlGame.Dispute memory d = game.getDispute(id);
        uint64[] memory p = game.splitPoints(id);
        states = new bytes32[](p.length - 2);
        for (uint256 j = 1; j + 1 < p.length; j++) {
            states[j - 1] = d.phase == OpmlGame.Phase.Bisect1 ? _server1(p[j]) : _server2(id, p[j]);
        }
    }

    /// @dev The challenger's pick of the current interval.
    function _choice(uint256 id) internal view returns (uint256) {
        OpmlGame.Dispute memory d = game.getDispute(id);
        uint64[] memory p = game.splitPoints(id);
        uint256 count = p.length - 1;
        if (!chl.honest) return uint256(keccak256(abi.encode(chl.seed, rounds))) % count;
        for (uint256 i = 0; i < count; i++) {
            bytes32 theirs = i + 1 == count ? d.hiState : lastStates[i];
            bytes32 mine =
                d.phase == OpmlGame.Phase.Pick1 ? _honest1(p[i + 1]) : _vmHonest(id, p[i + 1]);
            if (theirs != mine) return i;
        }
        revert("honest challenger agrees with every state");
    }

    /// @dev Makes the next move of dispute `id`; returns false once it is resolved.
    function _moveOnce(uint256 id) internal returns (bool) {
        OpmlGame.Dispute memory d = game.getDispute(id);
        OpmlGame.Phase ph = d.phase;
        if (ph == OpmlGame.Phase.Resolved) return false;
        vm.warp(block.timestamp + MOVE_TIME);
        if (ph == OpmlGame.Phase.Bisect1 || ph == OpmlGame.Phase.Bisect2) {
            lastStates = _defenderStates(id);
            vm.prank(server);
            game.bisect(id, lastStates);
        } else if (ph == OpmlGame.Phase.Pick1 || ph == OpmlGame.Phase.Pick2) {
            uint256 i = _choice(id);
            rounds++;
            vm.prank(challenger);
            game.pick(id, i, lastStates);
        } else if (ph == OpmlGame.Phase.Claim) {
            uint64 steps = _serverSteps(id);
            bytes32 fin = _server2(id, steps);
            vm.prank(server);
            game.claimCheck(id, steps, fin);
        } else {
            _step(id, chl.honest || chl.stepAtEnd ? challenger : server);
        }
        return true;
    }

    function _step(uint256 id, address caller) internal {
        OpmlGame.Dispute memory d = game.getDispute(id);
        mock.setNext(_vmHonest(id, d.lo), _vmHonest(id, d.lo + 1));
        bytes memory pre = _vmData(id, d.lo);
        vm.prank(caller);
        game.step(id, pre, "");
    }

    function _play(uint256 id) internal {
        for (uint256 i = 0; i < 500; i++) {
            if (!_moveOnce(id)) return;
        }
        revert("game did not end");
    }

    /// @dev Plays until the dispute reaches `phase` (or ends).
    function _playUntil(uint256 id, OpmlGame.Phase phase) internal {
        for (uint256 i = 0; i < 500; i++) {
            OpmlGame.Phase ph = game.getDispute(id).phase;
            if (ph == phase || ph == OpmlGame.Phase.Resolved) return;
            _moveOnce(id);
        }
    }
}
