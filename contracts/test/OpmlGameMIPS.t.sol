// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OpmlGame} from "../src/OpmlGame.sol";
import {IMIPS} from "../src/interfaces/IMIPS.sol";
import {PreimageKeyLib} from "../src/PreimageKeyLib.sol";
import {VMTest} from "./utils/VMTest.sol";

/// @notice The dispute game deciding real steps with the real MIPS contract. The checker is a
///         five-instruction program that reads local key 3 (`u32be(b)`) from the oracle and
///         exits with code `b - K`: it accepts exactly the transition ending at S_K. Its
///         result therefore depends on the local data the GAME loads for the dispute (link 3).
contract OpmlGameMIPSTest is VMTest {
    uint32 constant P = 0x1000;
    uint32 constant DATA = 0x00200000;
    uint32 constant K = 4;
    uint64 constant CLOCK = 1 days;
    bytes32 constant PK = keccak256("program key");

    OpmlGame game;
    address requester = makeAddr("requester");
    address server = makeAddr("server");
    address challenger = makeAddr("challenger");

    // the honest trace of the checker for one b: states 0..5 (5 exited, a fixed point)
    bytes[6] sd;
    bytes[6] pf;
    bytes32[6] h;
    uint256 picks;

    function setUp() public override {
        super.setUp();
        game = new OpmlGame(IMIPS(address(mips)), 2, CLOCK, 2 ether, 1 ether, 1 hours);
        vm.deal(requester, 10 ether);
        vm.deal(server, 10 ether);
        vm.deal(challenger, 10 ether);
        _storeWord(P, 0x0000000C); // syscall: read(5, DATA, 4) of local key 3
        _storeWord(P + 4, _i(0x23, 16, 4, 0)); // lw a0, 0(s0)
        _storeWord(P + 8, _i(0x09, 4, 4, uint16(uint256(-int256(uint256(K)))))); // addiu a0, a0, -K
        _storeWord(P + 12, _i(0x09, 0, 2, 4246)); // addiu v0, zero, exit_group
        _storeWord(P + 16, 0x0000000C); // syscall: exit_group(a0)
    }

    /// @dev The honest trace for transition end b, checked step by step against MIPS with the
    ///      local data loaded by this test under its own context.
    function _buildTrace(uint32 b) internal {
        _storeWord(DATA, 0);
        VMState memory s;
        s.pc = P;
        s.nextPC = P + 4;
        s.heap = 0x20000000;
        s.preimageKey = PreimageKeyLib.localKey(3);
        s.preimageOffset = 8;
        (s.regs[2], s.regs[4], s.regs[5], s.regs[6], s.regs[16]) = (4003, 5, DATA, 4, DATA);
        s.regs[29] = 0x7FFFF000;
        s.memRoot = _memRoot();
        _record(0, s, true);
        // 1: the read stores u32be(b) at DATA
        _storeWord(DATA, b);
        s = _advanced(s);
        s.memRoot = _memRoot();
        s.preimageOffset = 12;
        s.regs[2] = 4;
        _record(1, s, true);
        s = _advanced(s); // 2: lw
        s.regs[4] = b;
        _record(2, s, false);
        s = _advanced(s); // 3: addiu a0
        unchecked {
            s.regs[4] = b - K;
        }
        _record(3, s, false);
        s = _advanced(s); // 4: addiu v0
        s.regs[2] = 4246;
        _record(4, s, false);
        s = _copy(s); // 5: exit_group
        s.step += 1;
        s.exited = 1;
        s.exitCode = uint8(s.regs[4] & 0xFF);
        _record(5, s, false);
        oracle.loadLocalData(3, CONTEXT, bytes32(bytes4(b)), 4, 8);
        for (uint256 j = 0; j < 5; j++) {
            assertEq(mips.step(sd[j], pf[j], CONTEXT), h[j + 1], "trace");
        }
        assertEq(mips.step(sd[5], pf[5], CONTEXT), h[5], "fixed point");
    }

    function _record(uint256 j, VMState memory s, bool data) internal {
        sd[j] = _encode(s);
        pf[j] = _proofs(s, data, DATA);
        h[j] = _hash(s);
    }

    function _honest(uint64 j) internal view returns (bytes32) {
        return h[j < 5 ? j : 5];
    }

    /// @dev Opens a dispute on a task of a model with `n` nodes; the checker's initial state is
    ///      h[0], whatever b.
    function _open(uint32 n, bool single) internal returns (uint256 id) {
        _buildTrace(0);
        bytes32 modelId = game.registerModel(PK, h[0], n, 10, 10);
        vm.prank(requester);
        uint256 taskId = game.postTask{value: 1 ether}(modelId, keccak256("in"), single, "");
        bytes[] memory outputs = new bytes[](1);
        outputs[0] = "out";
        bytes32 key = game.outputKeyOf(outputs);
        bytes32 commitment = game.commitmentOf(taskId, key, 0, server);
        vm.prank(server);
        game.commitResult{value: 2 ether}(taskId, commitment);
        vm.prank(server);
        game.revealResult(taskId, key, 0, outputs);
        vm.prank(challenger);
        id = game.challenge{value: 1 ether}(taskId);
    }

    /// @dev Phase 1: the challenger steers the bisection to transition k.
    function _phase1To(uint256 id, uint64 k) internal {
        while (game.getDispute(id).phase == OpmlGame.Phase.Bisect1) {
            uint64[] memory p = game.splitPoints(id);
            bytes32[] memory states = new bytes32[](p.length - 2);
            for (uint256 j = 1; j + 1 < p.length; j++) {
                states[j - 1] = keccak256(abi.encode("phase-1 state", p[j]));
            }
            vm.prank(server);
            game.bisect(id, states);
            uint256 i;
            while (!(p[i] < k && k <= p[i + 1])) i++;
            vm.prank(challenger);
            game.pick(id, i, states);
        }
    }

    /// @dev Phase 2: the server claims `fin` at `td`, honest before step e, garbage after; the
    ///      challenger picks honestly or pseudo-randomly; then the challenger executes the step.
    function _phase2(uint256 id, uint64 td, uint64 e, bytes32 fin, bool honestPicks, uint256 seed)
        internal
    {
        vm.prank(server);
        game.claimCheck(id, td, fin);
        while (true) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            if (d.phase == OpmlGame.Phase.Step) break;
            uint64[] memory p = game.splitPoints(id);
            bytes32[] memory states = new bytes32[](p.length - 2);
            for (uint256 j = 1; j + 1 < p.length; j++) {
                states[j - 1] = p[j] < e ? _honest(p[j]) : keccak256(abi.encode("garbage", p[j]));
            }
            vm.prank(server);
            game.bisect(id, states);
            uint256 count = p.length - 1;
            uint256 i;
            if (honestPicks) {
                while (i + 1 < count && states[i] == _honest(p[i + 1])) i++;
            } else {
                i = uint256(keccak256(abi.encode(seed, picks++))) % count;
            }
            vm.prank(challenger);
            game.pick(id, i, states);
        }
        uint64 lo = game.getDispute(id).lo;
        vm.prank(challenger);
        game.step(id, sd[lo < 5 ? lo : 5], pf[lo < 5 ? lo : 5]);
    }

    /// @dev Single phase, honest server (b = N + 1 = K: the checker exits 0 in 5 steps): the
    ///      real step agrees with the server at whatever step the challenger drives it to.
    function testFuzz_realStep_honestServerWins(uint256 seed) public {
        uint256 id = _open(K - 1, true);
        _buildTrace(K);
        assertEq(uint8(h[5][0]), 0, "valid exit");
        _phase2(id, 5, 6, h[5], false, seed);
        assertTrue(game.getDispute(id).defenderWon);
    }

    /// @dev Single phase, lying server (b = N + 1 = K + 1: the checker exits 1): it claims a
    ///      valid exit at step td, honest before step e; the real step convicts it.
    function testFuzz_realStep_lyingServerLoses(uint64 td, uint64 e) public {
        td = uint64(bound(td, 1, 10));
        e = uint64(bound(e, 1, td));
        uint256 id = _open(K, true);
        _buildTrace(K + 1);
        assertEq(uint8(h[5][0]), 1, "invalid exit");
        _phase2(id, td, e, bytes32(uint256(keccak256("fake")) >> 8), true, 0);
        assertFalse(game.getDispute(id).defenderWon);
    }

    /// @dev Link 3: multi-phase, the bisection selects transition k; the game loads u32be(k)
    ///      as local key 3 (bound to itself and the dispute) and the real step 0 -> 1 reads it.
    ///      The server's claim is honest iff k = K.
    function testFuzz_realStep_localInputsByGame(uint64 k) public {
        k = uint64(bound(k, 1, 6)); // N = 5: transitions 1..6
        uint256 id = _open(5, false);
        _phase1To(id, k);
        OpmlGame.Dispute memory d = game.getDispute(id);
        assertEq(d.b, k);
        assertEq(uint8(d.phase), uint8(OpmlGame.Phase.Claim));
        _buildTrace(uint32(k));
        if (k == K) {
            // the challenger drives the game to step 0 -> 1: the read of local key 3
            vm.prank(server);
            game.claimCheck(id, 5, h[5]);
            while (game.getDispute(id).phase != OpmlGame.Phase.Step) {
                uint64[] memory p = game.splitPoints(id);
                bytes32[] memory states = new bytes32[](p.length - 2);
                for (uint256 j = 1; j + 1 < p.length; j++) {
                    states[j - 1] = _honest(p[j]);
                }
                vm.prank(server);
                game.bisect(id, states);
                vm.prank(challenger);
                game.pick(id, 0, states);
            }
            assertEq(game.getDispute(id).lo, 0);
            vm.prank(challenger);
            uint256 g = gasleft();
            game.step(id, sd[0], pf[0]);
            emit log_named_uint(
                "game.step (real MIPS, local read loaded by the game)", g - gasleft()
            );
            assertTrue(game.getDispute(id).defenderWon, "the game served u32be(K)");
            bytes32 key =
                PreimageKeyLib.localize(PreimageKeyLib.localKey(3), address(game), bytes32(id));
            (uint256 len, bool known) = oracle.preimageLength(key);
            assertTrue(known);
            assertEq(len, 4);
        } else {
            _phase2(id, 5, 1, bytes32(uint256(keccak256("fake")) >> 8), true, 0);
            assertFalse(game.getDispute(id).defenderWon);
        }
    }
}
