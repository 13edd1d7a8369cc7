// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {OpmlGame} from "../src/OpmlGame.sol";
import {GameBase} from "./utils/GameBase.sol";

/// @notice Gas of each move of the game (arity 3, N = 5; the final step with MockMIPS, i.e.
///         the game's own overhead: add the MIPS step of GasTest). Everything but the measured
///         call runs with gas metering paused, so the snapshot entry is that call.
///         `forge snapshot --match-contract GasTest` records these beside GasTest's.
contract OpmlGameGasTest is GameBase {
    function _measureStart() internal returns (uint256) {
        vm.resumeGasMetering();
        return gasleft();
    }

    function _measureEnd(uint256 g, string memory label) internal {
        uint256 used = g - gasleft();
        vm.pauseGasMetering();
        console2.log(label, used);
    }

    function test_gas_postTask() public {
        vm.pauseGasMetering();
        vm.prank(requester);
        uint256 g = _measureStart();
        game.postTask{value: FEE}(modelId, IN, false, "");
        _measureEnd(g, "postTask");
    }

    /// @dev With an MNIST-sized input (784 float32 = 3136 bytes) in the event.
    function test_gas_postTask_input3136() public {
        vm.pauseGasMetering();
        bytes memory input = new bytes(3136);
        vm.prank(requester);
        uint256 g = _measureStart();
        game.postTask{value: FEE}(modelId, IN, false, input);
        _measureEnd(g, "postTask (3136-byte input)");
    }

    function test_gas_commitResult() public {
        vm.pauseGasMetering();
        uint256 taskId = _postTask(false);
        bytes32 c = game.commitmentOf(taskId, OUT, SALT, server);
        vm.prank(server);
        uint256 g = _measureStart();
        game.commitResult{value: SBOND}(taskId, c);
        _measureEnd(g, "commitResult");
    }

    function _measureReveal(uint256 size, string memory label) internal {
        vm.pauseGasMetering();
        uint256 taskId = _postTask(false);
        bytes[] memory outputs = new bytes[](1);
        outputs[0] = new bytes(size);
        for (uint256 i = 0; i < size; i += 32) {
            bytes32 w = keccak256(abi.encode(i));
            bytes memory o = outputs[0];
            assembly {
                mstore(add(add(o, 32), i), w)
            }
        }
        assembly {
            mstore(0x40, add(mload(0x40), 64)) // the last word's overrun
        }
        bytes32 key = game.outputKeyOf(outputs);
        bytes32 c = game.commitmentOf(taskId, key, SALT, server);
        vm.prank(server);
        game.commitResult{value: SBOND}(taskId, c);
        vm.prank(server);
        uint256 g = _measureStart();
        game.revealResult(taskId, key, SALT, outputs);
        _measureEnd(g, label);
    }

    /// @dev A 10-class float32 output (40 bytes), checked against its key.
    function test_gas_revealResult_output40() public {
        _measureReveal(40, "revealResult (40-byte output)");
    }

    /// @dev stories260K's logits (49 x 512 float32 = 100,352 bytes), checked against the key.
    function test_gas_revealResult_output100k() public {
        _measureReveal(100_352, "revealResult (100,352-byte output)");
    }

    /// @dev The output key alone of 100,352 bytes (the on-chain check of the reveal).
    function test_gas_outputKeyOf_100k() public {
        vm.pauseGasMetering();
        bytes[] memory outputs = new bytes[](1);
        outputs[0] = new bytes(100_352);
        uint256 g = _measureStart();
        game.outputKeyOf(outputs);
        _measureEnd(g, "outputKeyOf (100,352 bytes)");
    }

    function test_gas_finalize() public {
        vm.pauseGasMetering();
        uint256 taskId = _postTask(false);
        _postResult(taskId);
        vm.warp(block.timestamp + WINDOW);
        uint256 g = _measureStart();
        game.finalize(taskId);
        _measureEnd(g, "finalize");
    }

    function test_gas_challenge() public {
        vm.pauseGasMetering();
        uint256 taskId = _postTask(false);
        _postResult(taskId);
        vm.prank(challenger);
        uint256 g = _measureStart();
        game.challenge{value: CBOND}(taskId);
        _measureEnd(g, "challenge");
    }

    function test_gas_bisect() public {
        vm.pauseGasMetering();
        (, uint256 id) = _open(false);
        bytes32[] memory states = _defenderStates(id);
        vm.prank(server);
        uint256 g = _measureStart();
        game.bisect(id, states);
        _measureEnd(g, "bisect (2 states)");
    }

    function test_gas_pick() public {
        vm.pauseGasMetering();
        chl.honest = true;
        (, uint256 id) = _open(false);
        lastStates = _defenderStates(id);
        vm.prank(server);
        game.bisect(id, lastStates);
        uint256 i = _choice(id);
        vm.prank(challenger);
        uint256 g = _measureStart();
        game.pick(id, i, lastStates);
        _measureEnd(g, "pick");
    }

    /// @dev The pick that selects the transition: the dispute takes a ticket of the result's
    ///      claim queue (the first dispute of a result writes a fresh storage slot).
    function test_gas_pickTransition() public {
        vm.pauseGasMetering();
        chl.honest = true;
        (, uint256 id) = _open(false);
        for (uint256 n = 0; n < 20; n++) {
            OpmlGame.Dispute memory d = game.getDispute(id);
            if (d.phase == OpmlGame.Phase.Pick1 && d.hi - d.lo <= game.arity()) break;
            _moveOnce(id);
        }
        uint256 i = _choice(id);
        vm.prank(challenger);
        uint256 g = _measureStart();
        game.pick(id, i, lastStates);
        _measureEnd(g, "pick (selects the transition)");
        assertEq(uint8(game.getDispute(id).phase), uint8(OpmlGame.Phase.Claim));
    }

    function test_gas_claimCheck() public {
        vm.pauseGasMetering();
        (, uint256 id) = _open(true);
        vm.prank(server);
        uint256 g = _measureStart();
        game.claimCheck(id, 30, bytes32(uint256(1)));
        _measureEnd(g, "claimCheck");
    }

    function test_gas_step() public {
        vm.pauseGasMetering();
        chl.honest = true;
        (, uint256 id) = _open(true);
        _playUntil(id, OpmlGame.Phase.Step);
        OpmlGame.Dispute memory d = game.getDispute(id);
        mock.setNext(_vmHonest(id, d.lo), _vmHonest(id, d.lo + 1));
        bytes memory pre = _vmData(id, d.lo);
        vm.prank(challenger);
        uint256 g = _measureStart();
        game.step(id, pre, "");
        _measureEnd(g, "step (game overhead, mock VM)");
    }

    function test_gas_timeout() public {
        vm.pauseGasMetering();
        (, uint256 id) = _open(false);
        vm.warp(block.timestamp + CLOCK + 1);
        uint256 g = _measureStart();
        game.timeout(id);
        _measureEnd(g, "timeout");
    }

    function test_gas_withdraw() public {
        vm.pauseGasMetering();
        uint256 taskId = _postTask(false);
        vm.prank(requester);
        game.cancelTask(taskId);
        vm.prank(requester);
        uint256 g = _measureStart();
        game.withdraw();
        _measureEnd(g, "withdraw");
    }
}
