// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPreimageOracle} from "./interfaces/IPreimageOracle.sol";
import {PreimageKeyLib} from "./PreimageKeyLib.sol";

/// @title PreimageOracle
/// @notice Serves preimage data to the MIPS step (docs/VM.md, "Preimage keys"). The data of a
///         key is read as the stream `uint64_be(len) || data` (zero-padded past its end) in
///         32-byte parts starting at any stream offset. A part must be loaded, with its proof,
///         before a step reads it. No bonds, no delays: every part is proven when loaded.
///         - local keys (type 1): at most 32 bytes, bound to (caller, localContext);
///         - keccak256 keys (type 2): the whole preimage in calldata (small data);
///         - Merkle-data keys (type 3): a part is proven against the key's root and length with
///           one or two leaf proofs of `depth = ceil(log2(leafCount))` hashes each.
/// @dev Reading at or past the end of a stream returns `(0, 0)` once the key's length is known
///      (any part of it was loaded): that is how a program sees the end of the data.
contract PreimageOracle is IPreimageOracle {
    /// @notice The part at `offset` of `key` was not loaded.
    error PartNotLoaded(bytes32 key, uint256 offset);
    /// @notice `partOffset` is at or past the end of the stream (`len + 8`).
    error PartOffsetOutOfBounds();
    /// @notice Local data is at most 32 bytes.
    error LocalDataTooLarge();
    /// @notice The Merkle proof does not have `leaves * (depth + 1)` elements.
    error InvalidMerkleProofLength();
    /// @notice A leaf proof does not lead to the key's root (or empty data has a root other
    ///         than the zero leaf).
    error InvalidMerkleProof();

    /// @dev key => `(1 << 64) | length` once a part of the key was loaded, 0 while unknown.
    mapping(bytes32 => uint256) internal _lengths;

    /// @notice key => stream offset => the 32 stream bytes at that offset.
    mapping(bytes32 => mapping(uint256 => bytes32)) public preimageParts;

    /// @notice key => stream offset => whether that part was loaded.
    mapping(bytes32 => mapping(uint256 => bool)) public preimagePartOk;

    /// @notice The data length of `key` and whether it is known (any part loaded).
    function preimageLength(bytes32 key) external view returns (uint256 length, bool known) {
        uint256 l = _lengths[key];
        return (l & type(uint64).max, l != 0);
    }

    /// @inheritdoc IPreimageOracle
    function readPreimage(bytes32 key, uint256 offset)
        external
        view
        returns (bytes32 dat, uint256 datLen)
    {
        uint256 l = _lengths[key];
        if (l == 0) revert PartNotLoaded(key, offset);
        unchecked {
            uint256 streamLen = (l & type(uint64).max) + 8;
            if (offset >= streamLen) return (bytes32(0), 0);
            if (!preimagePartOk[key][offset]) revert PartNotLoaded(key, offset);
            dat = preimageParts[key][offset];
            datLen = streamLen - offset;
            if (datLen > 32) datLen = 32;
        }
    }

    /// @inheritdoc IPreimageOracle
    /// @dev The key is `PreimageKeyLib.localize(PreimageKeyLib.localKey(ident), msg.sender,
    ///      localContext)`; the data is the first `size` bytes of `word` (the rest is ignored).
    ///      The caller owns its local keys: loading again replaces them.
    function loadLocalData(
        uint256 ident,
        bytes32 localContext,
        bytes32 word,
        uint256 size,
        uint256 partOffset
    ) external returns (bytes32 key) {
        if (size > 32) revert LocalDataTooLarge();
        if (partOffset >= size + 8) revert PartOffsetOutOfBounds();
        key = PreimageKeyLib.localize(PreimageKeyLib.localKey(ident), msg.sender, localContext);
        bytes32 part;
        assembly {
            let ptr := mload(0x40)
            mstore(ptr, shl(192, size))
            // Keep the first `size` bytes of the word.
            mstore(add(ptr, 8), and(word, not(shr(shl(3, size), not(0)))))
            mstore(add(ptr, 40), 0)
            part := mload(add(ptr, partOffset))
        }
        _store(key, partOffset, part, size);
    }

    /// @inheritdoc IPreimageOracle
    function loadKeccak256PreimagePart(uint256 partOffset, bytes calldata preimage) external {
        uint256 size = preimage.length;
        if (partOffset >= size + 8) revert PartOffsetOutOfBounds();
        bytes32 part;
        bytes32 dataHash;
        assembly {
            let ptr := mload(0x40)
            mstore(ptr, shl(192, size))
            calldatacopy(add(ptr, 8), preimage.offset, size)
            mstore(add(add(ptr, 8), size), 0)
            part := mload(add(ptr, partOffset))
            dataHash := keccak256(add(ptr, 8), size)
        }
        _store(PreimageKeyLib.keccak256Key(dataHash), partOffset, part, size);
    }

    /// @inheritdoc IPreimageOracle
    /// @dev Argument layout. The data (`length` bytes, key `PreimageKeyLib.merkleDataKey(root,
    ///      length)`) is cut into `leafCount = ceil(length / 32)` leaves of 32 bytes (the last
    ///      zero-padded), padded with zero leaves to `2^depth` with
    ///      `depth = ceil(log2(max(leafCount, 1)))`; `root` is the binary keccak256 Merkle root
    ///      (`node = keccak256(left || right)`, leaves not hashed; empty data: root = 0).
    ///      The part at stream offset `partOffset` covers data bytes
    ///      `[partOffset - 8, partOffset + 24)`, i.e. the leaf `i = max(partOffset - 8, 0) / 32`
    ///      and, when `partOffset >= 8`, `(partOffset - 8) % 32 != 0` and `i + 1 < leafCount`,
    ///      also the leaf `i + 1`. `proof` holds, for each covered leaf in increasing index
    ///      order, the leaf followed by its `depth` siblings from the bottom up:
    ///      `proof.length == covered * (depth + 1)` (`covered` is 0 for empty data).
    ///      Stream bytes past `8 + length` are stored as zero whatever the leaves hold there.
    function loadMerkleDataPart(
        bytes32 root,
        uint64 length,
        uint256 partOffset,
        bytes32[] calldata proof
    ) external {
        unchecked {
            uint256 len = length;
            if (partOffset >= len + 8) revert PartOffsetOutOfBounds();
            uint256 leafCount = (len + 31) >> 5;
            uint256 depth = _ceilLog2(leafCount);
            uint256 part;
            if (len == 0) {
                // Empty data is one zero leaf: the root is the zero leaf.
                if (proof.length != 0) revert InvalidMerkleProofLength();
                if (root != bytes32(0)) revert InvalidMerkleProof();
                part = 0;
            } else if (partOffset < 8) {
                // Part of the length prefix, then the start of leaf 0.
                if (proof.length != depth + 1) revert InvalidMerkleProofLength();
                uint256 leaf = uint256(_verifyLeaf(root, proof, 0, 0, depth));
                part = (len << (192 + 8 * partOffset)) | (leaf >> (64 - 8 * partOffset));
            } else {
                uint256 d = partOffset - 8;
                uint256 index = d >> 5;
                uint256 shift = (d & 31) << 3;
                bool two = shift != 0 && index + 1 < leafCount;
                if (proof.length != (two ? 2 : 1) * (depth + 1)) {
                    revert InvalidMerkleProofLength();
                }
                part = uint256(_verifyLeaf(root, proof, 0, index, depth)) << shift;
                if (two) {
                    uint256 next = uint256(_verifyLeaf(root, proof, depth + 1, index + 1, depth));
                    part |= next >> (256 - shift);
                }
            }
            // Zero the bytes past the end of the stream.
            uint256 avail = len + 8 - partOffset;
            if (avail < 32) part &= ~(type(uint256).max >> (avail << 3));
            _store(PreimageKeyLib.merkleDataKey(root, length), partOffset, bytes32(part), len);
        }
    }

    /// @dev Records a loaded part and the key's length.
    function _store(bytes32 key, uint256 partOffset, bytes32 part, uint256 length) internal {
        preimageParts[key][partOffset] = part;
        preimagePartOk[key][partOffset] = true;
        _lengths[key] = (1 << 64) | length;
    }

    /// @dev Checks the leaf proof at `proof[start .. start + depth]` (leaf, then siblings from
    ///      the bottom up) for leaf `index` against `root`; returns the leaf.
    function _verifyLeaf(
        bytes32 root,
        bytes32[] calldata proof,
        uint256 start,
        uint256 index,
        uint256 depth
    ) internal pure returns (bytes32 leaf) {
        bytes32 node;
        assembly {
            let p := add(proof.offset, shl(5, start))
            leaf := calldataload(p)
            node := leaf
            for { let i := 0 } lt(i, depth) { i := add(i, 1) } {
                p := add(p, 0x20)
                let s := shl(5, and(shr(i, index), 1))
                mstore(s, node)
                mstore(xor(s, 0x20), calldataload(p))
                node := keccak256(0x00, 0x40)
            }
        }
        if (node != root) revert InvalidMerkleProof();
    }

    /// @dev `ceil(log2(n))` for `n >= 1`, 0 for `n <= 1`.
    function _ceilLog2(uint256 n) internal pure returns (uint256 r) {
        unchecked {
            if (n <= 1) return 0;
            uint256 x = n - 1;
            while (x != 0) {
                x >>= 1;
                ++r;
            }
        }
    }
}
