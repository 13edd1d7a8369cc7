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

    function test_gas_postResult() public {
        vm.pauseGasMetering();
        uint256 taskId = _postTask(false);
        vm.prank(server);
        uint256 g = _measureStart();
        game.postResult{value: SBOND}(taskId, OUT, "");
        _measureEnd(g, "postResult");
    }

    /// @dev With a 10-class float32 output (40 bytes) in the event.
    function test_gas_postResult_output40() public {
        vm.pauseGasMetering();
        uint256 taskId = _postTask(false);
        bytes memory output = new bytes(40);
        vm.prank(server);
        uint256 g = _measureStart();
        game.postResult{value: SBOND}(taskId, OUT, output);
        _measureEnd(g, "postResult (40-byte output)");
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
