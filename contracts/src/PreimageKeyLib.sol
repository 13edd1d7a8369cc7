// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PreimageKeyLib
/// @notice Derivations of the preimage oracle's keys (docs/VM.md, "Preimage keys"). The first
///         byte of a key is its type: 1 local, 2 keccak256, 3 Merkle data.
library PreimageKeyLib {
    /// @notice Type byte of a local key: data bound to one dispute.
    uint8 internal constant LOCAL_KEY_TYPE = 1;
    /// @notice Type byte of a keccak256 key: `0x02 || keccak256(data)[1..32]`.
    uint8 internal constant KECCAK256_KEY_TYPE = 2;
    /// @notice Type byte of a Merkle-data key: `0x03 || keccak256(root || uint64_be(len))[1..32]`.
    uint8 internal constant MERKLE_DATA_KEY_TYPE = 3;

    /// @notice Replaces the first (most significant) byte of `h` with the key type `keyType`.
    function withType(bytes32 h, uint8 keyType) internal pure returns (bytes32 key) {
        assembly {
            key := or(and(h, not(shl(248, 0xff))), shl(248, keyType))
        }
    }

    /// @notice The raw (unlocalized) local key of an identifier: `0x01 || ident[1..32]`, as the
    ///         program writes it to the preimage key fd. The first byte of `ident` is ignored.
    function localKey(uint256 ident) internal pure returns (bytes32) {
        return withType(bytes32(ident), LOCAL_KEY_TYPE);
    }

    /// @notice Localizes a local key: binds it to the caller of the step (the dispute game)
    ///         and to the dispute's `localContext`, so that one dispute cannot read another's
    ///         local data.
    /// @dev    Encoding: `localized = 0x01 || keccak256(abi.encode(key, sender, localContext))[1..32]`,
    ///         i.e. the keccak256 of the 96 bytes `key (32) || uint256(uint160(sender)) (32) ||
    ///         localContext (32)`, with its first byte set to 1. `key` is the full raw key,
    ///         type byte included. `MIPS.step` uses `sender = msg.sender` of `step`, and
    ///         `PreimageOracle.loadLocalData` uses `msg.sender` of `loadLocalData`: the same
    ///         contract (the dispute game) must load the data and call `step`.
    function localize(bytes32 key, address sender, bytes32 localContext)
        internal
        pure
        returns (bytes32 localized)
    {
        assembly {
            let fmp := mload(0x40)
            mstore(0x00, key)
            mstore(0x20, and(sender, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(0x40, localContext)
            localized := or(and(keccak256(0x00, 0x60), not(shl(248, 0xff))), shl(248, 1))
            mstore(0x40, fmp)
        }
    }

    /// @notice The keccak256 key of data whose keccak256 hash is `dataHash`.
    function keccak256Key(bytes32 dataHash) internal pure returns (bytes32) {
        return withType(dataHash, KECCAK256_KEY_TYPE);
    }

    /// @notice The Merkle-data key of data of `length` bytes whose leaf Merkle root is `root`:
    ///         `0x03 || keccak256(root || uint64_be(length))[1..32]` (40 hashed bytes).
    function merkleDataKey(bytes32 root, uint64 length) internal pure returns (bytes32 key) {
        assembly {
            mstore(0x00, root)
            mstore(0x20, shl(192, length))
            key := or(and(keccak256(0x00, 0x28), not(shl(248, 0xff))), shl(248, 3))
        }
    }
}
