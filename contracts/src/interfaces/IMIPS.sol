// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPreimageOracle} from "./IPreimageOracle.sol";

/// @title IMIPS
/// @notice The one-step VM as the dispute game sees it (contracts/src/MIPS.sol, docs/VM.md).
interface IMIPS {
    /// @notice The preimage oracle read by the preimage syscalls.
    function oracle() external view returns (IPreimageOracle);

    /// @notice Executes one step from the packed pre-state `stateData` with the two memory
    ///         proofs `proof`; local preimage keys are bound to (msg.sender, `localContext`).
    /// @return postStateHash keccak256 of the post-state with its first byte set to the status.
    function step(bytes calldata stateData, bytes calldata proof, bytes32 localContext)
        external
        view
        returns (bytes32 postStateHash);
}
