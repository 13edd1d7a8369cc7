// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPreimageOracle} from "../../src/interfaces/IPreimageOracle.sol";

/// @notice A stand-in for MIPS in the game's bisection tests: the "true" transition function
///         is a table set by the test (pre-state hash => post-state hash). The pre-state hash is
///         computed from `stateData` as MIPS does (keccak256, first byte = status).
contract MockMIPS {
    IPreimageOracle public immutable oracle;
    mapping(bytes32 => bytes32) public next;

    constructor(IPreimageOracle oracle_) {
        oracle = oracle_;
    }

    function setNext(bytes32 pre, bytes32 post) external {
        next[pre] = post;
    }

    function step(bytes calldata stateData, bytes calldata, bytes32)
        external
        view
        returns (bytes32 post)
    {
        uint256 status = 3;
        if (uint8(stateData[89]) != 0) {
            uint8 code = uint8(stateData[88]);
            status = code < 2 ? code : 2;
        }
        bytes32 h = keccak256(stateData);
        h = (h & bytes32(type(uint256).max >> 8)) | bytes32(status << 248);
        post = next[h];
        require(post != bytes32(0), "MockMIPS: unknown pre-state");
    }
}
