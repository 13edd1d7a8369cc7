// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPreimageOracle
/// @notice The preimage oracle read by the MIPS step (docs/VM.md, "Preimage keys"). A key's
///         data is served as the stream `uint64_be(len) || data`, zero-padded, in 32-byte parts
///         that anyone can load after proving them.
interface IPreimageOracle {
    /// @notice The 32 bytes of `key`'s stream at `offset` and how many of them are data.
    /// @return dat    The stream bytes `[offset, offset + 32)`, zero-padded past the end.
    /// @return datLen `min(32, len + 8 - offset)`, or 0 at or past the end of the stream.
    /// @dev Reverts unless the part at `offset` was loaded (or `offset` is past the end of a key
    ///      whose length is known because some part of it was loaded).
    function readPreimage(bytes32 key, uint256 offset)
        external
        view
        returns (bytes32 dat, uint256 datLen);

    /// @notice Loads the part at `partOffset` of local data (at most 32 bytes: the first `size`
    ///         bytes of `word`) for the caller and `localContext`.
    /// @return key The localized key under which the part is stored.
    function loadLocalData(
        uint256 ident,
        bytes32 localContext,
        bytes32 word,
        uint256 size,
        uint256 partOffset
    ) external returns (bytes32 key);

    /// @notice Loads the part at `partOffset` of the keccak256 key of `preimage` (whole
    ///         preimage in calldata: for small data).
    function loadKeccak256PreimagePart(uint256 partOffset, bytes calldata preimage) external;

    /// @notice Loads the part at `partOffset` of the Merkle-data key of (`root`, `length`),
    ///         proving the one or two 32-byte data leaves it covers.
    function loadMerkleDataPart(
        bytes32 root,
        uint64 length,
        uint256 partOffset,
        bytes32[] calldata proof
    ) external;
}
