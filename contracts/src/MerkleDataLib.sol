// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PreimageKeyLib} from "./PreimageKeyLib.sol";

/// @title MerkleDataLib
/// @notice Merkle-data keys computed on chain (docs/VM.md, "Preimage keys"): the data cut into
///         32-byte leaves (the last one zero-padded, empty data is one zero leaf), the leaf count
///         padded to a power of two with zero subtrees, the binary keccak256 root, then
///         `0x03 || keccak256(root || uint64_be(length))[1..32]`. The output key of a result is
///         the Merkle-data key of its tensors' keys concatenated (`keyOfKeys`).
library MerkleDataLib {
    /// @notice The Merkle-data key of `data`.
    function key(bytes calldata data) internal pure returns (bytes32 k) {
        uint256 len = data.length;
        uint256 buf;
        assembly ("memory-safe") {
            // scratch past the free memory pointer (not allocated: nothing else runs meanwhile)
            buf := mload(0x40)
            let n := shr(5, add(len, 31))
            if iszero(n) { n := 1 }
            mstore(add(buf, shl(5, sub(n, 1))), 0) // the last leaf's padding
            calldatacopy(buf, data.offset, len)
        }
        k = PreimageKeyLib.merkleDataKey(_root(buf, len), uint64(len));
    }

    /// @notice The key of several data items: the Merkle-data key of their keys concatenated,
    ///         `K(K(d_0) || K(d_1) || ...)` (a result's output key from its output tensors).
    function keyOfItems(bytes[] calldata items) internal pure returns (bytes32 k) {
        uint256 count = items.length;
        uint256 keys;
        assembly ("memory-safe") {
            keys := mload(0x40)
            // count key words, at least one (zero) leaf, and the spare word of _root
            let words := add(count, 2)
            mstore(0x40, add(keys, shl(5, words)))
            mstore(keys, 0)
        }
        for (uint256 i = 0; i < count; i++) {
            bytes32 ki = key(items[i]);
            assembly ("memory-safe") {
                mstore(add(keys, shl(5, i)), ki)
            }
        }
        k = PreimageKeyLib.merkleDataKey(_root(keys, count * 32), uint64(count * 32));
    }

    /// @dev The Merkle root of the `len` bytes at `buf` (zero-padded to whole leaves), hashed in
    ///      place: level h+1's node i overwrites level h's node i. Writes one word past the last
    ///      leaf (an odd node's zero sibling).
    function _root(uint256 buf, uint256 len) private pure returns (bytes32 r) {
        assembly ("memory-safe") {
            let n := shr(5, add(len, 31))
            if iszero(n) { n := 1 }
            let z := 0 // the zero subtree of the current height
            for {} gt(n, 1) {} {
                let half := shr(1, n)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(buf, shl(5, i)), keccak256(add(buf, shl(6, i)), 64))
                }
                if and(n, 1) {
                    let last := add(buf, shl(5, sub(n, 1)))
                    mstore(add(last, 32), z)
                    mstore(add(buf, shl(5, half)), keccak256(last, 64))
                    half := add(half, 1)
                }
                n := half
                mstore(0x00, z)
                mstore(0x20, z)
                z := keccak256(0x00, 0x40)
            }
            r := mload(buf)
        }
    }
}
