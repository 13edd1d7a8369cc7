// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title FixtureReader
/// @notice Decodes the binary step fixtures written by tasks/gen_fixtures.ts (format:
///         contracts/test/fixtures/README.md). Records are delta-encoded: the reader keeps the
///         current `stateData`, `proof` and `localContext` and patches them record by record.
///         Everything lives in memory; a caller may reset the free memory pointer after each
///         record (the reader allocates nothing in `next` except a Merkle proof array).
library FixtureReader {
    /// @notice The file does not start with the magic bytes.
    error BadMagic();
    /// @notice A record runs past the end of the file.
    error Truncated();

    bytes8 internal constant MAGIC = "OPMLFX2\n";
    uint256 internal constant KEYFRAME = 32;
    uint256 internal constant STATE_SIZE = 358;
    /// @dev chunks of the state and its padding in a record: 384 bytes
    uint256 internal constant STATE_CHUNKS = 12;
    uint256 internal constant PROOF_SIZE = 1792;

    uint256 internal constant KIND_NONE = 0;
    uint256 internal constant KIND_LOCAL = 1;
    uint256 internal constant KIND_KECCAK = 2;
    uint256 internal constant KIND_MERKLE = 3;

    struct Reader {
        bytes buf;
        /// @dev offset in `buf` of the next record
        uint256 pos;
        uint256 count;
        /// @dev index of the next record
        uint256 index;
        uint256[] blobOffset;
        uint256[] blobLength;
        /// @dev 358 bytes, 384 allocated (chunk 11 carries the padding)
        bytes stateData;
        bytes proof;
        bytes32 localContext;
        /// @dev the last name seen: its offset and length in `buf`, and its record's index
        uint256 nameOffset;
        uint256 nameLength;
        uint256 nameIndex;
    }

    struct Record {
        uint256 index;
        uint256 kind;
        // local
        bytes32 ident;
        bytes32 word;
        uint256 size;
        // all kinds
        uint256 partOffset;
        // keccak
        uint256 blob;
        // merkle
        bytes32 root;
        uint64 length;
        bytes32[] merkleProof;
        // outcome
        bool expectRevert;
        bytes4 selector;
        bytes32 postStateHash;
    }

    /// @notice Opens a fixture file.
    function open(bytes memory buf) internal pure returns (Reader memory r) {
        if (buf.length < 14 || bytes8(_word(buf, 0)) != MAGIC) revert BadMagic();
        r.buf = buf;
        uint256 p = 8;
        uint256 nBlobs = _uint(buf, p, 2);
        p += 2;
        r.blobOffset = new uint256[](nBlobs);
        r.blobLength = new uint256[](nBlobs);
        for (uint256 i = 0; i < nBlobs; i++) {
            uint256 len = _uint(buf, p, 4);
            r.blobOffset[i] = p + 4;
            r.blobLength[i] = len;
            p += 4 + len;
        }
        r.count = _uint(buf, p, 4);
        r.pos = p + 4;
        if (r.pos > buf.length) revert Truncated();
        r.stateData = new bytes(32 * STATE_CHUNKS);
        bytes memory s = r.stateData;
        assembly {
            mstore(s, STATE_SIZE)
        }
        r.proof = new bytes(PROOF_SIZE);
    }

    /// @notice Decodes the next record: updates `r.stateData`, `r.proof`, `r.localContext`.
    function next(Reader memory r) internal pure returns (Record memory rec) {
        _next(r, rec, true);
    }

    /// @notice Positions the reader so that the next record is `index` (decoding from the
    ///         keyframe at or before it).
    function seek(Reader memory r, uint256 index) internal pure {
        require(index < r.count, "FixtureReader: index out of range");
        uint256 key = index - (index % KEYFRAME);
        if (r.index > index) {
            // restart from the beginning
            Reader memory fresh = open(r.buf);
            r.pos = fresh.pos;
            r.index = 0;
        }
        Record memory scratch;
        while (r.index < key) _next(r, scratch, false);
        while (r.index < index) _next(r, scratch, true);
    }

    /// @notice The data of blob `i` (a keccak256 preimage), copied.
    function blob(Reader memory r, uint256 i) internal pure returns (bytes memory out) {
        uint256 off = r.blobOffset[i];
        uint256 len = r.blobLength[i];
        out = new bytes(len);
        bytes memory buf = r.buf;
        assembly {
            mcopy(add(out, 0x20), add(add(buf, 0x20), off), len)
        }
    }

    /// @notice The name of the current record: the last name seen, with `+k` for the k-th
    ///         record after it.
    function name(Reader memory r) internal pure returns (string memory) {
        bytes memory n = new bytes(r.nameLength);
        uint256 off = r.nameOffset;
        uint256 len = r.nameLength;
        bytes memory buf = r.buf;
        assembly {
            mcopy(add(n, 0x20), add(add(buf, 0x20), off), len)
        }
        uint256 k = r.index - 1 - r.nameIndex;
        if (k == 0) return string(n);
        return string.concat(string(n), " +", _itoa(k));
    }

    function _next(Reader memory r, Record memory rec, bool decode) private pure {
        require(r.index < r.count, "FixtureReader: no more records");
        bytes memory buf = r.buf;
        uint256 p = r.pos;
        uint256 flags = _uint(buf, p, 1);
        p += 1;
        rec.index = r.index;
        if (flags & 1 != 0) {
            uint256 len = _uint(buf, p, 1);
            r.nameOffset = p + 1;
            r.nameLength = len;
            r.nameIndex = r.index;
            p += 1 + len;
        }
        if (flags & 2 != 0) {
            r.localContext = _word(buf, p);
            p += 32;
        }
        uint256 mask = _uint(buf, p, 16);
        p += 16;
        bytes memory s = r.stateData;
        bytes memory pf = r.proof;
        for (uint256 c = 0; mask != 0; c++) {
            if (mask & 1 != 0) {
                if (decode) {
                    bytes32 chunk = _word(buf, p);
                    uint256 dst = c < STATE_CHUNKS ? 32 * c : 32 * (c - STATE_CHUNKS);
                    bytes memory target = c < STATE_CHUNKS ? s : pf;
                    assembly {
                        mstore(add(add(target, 0x20), dst), chunk)
                    }
                }
                p += 32;
            }
            mask >>= 1;
        }
        rec.kind = (flags >> 4) & 3;
        if (rec.kind == KIND_LOCAL) {
            rec.ident = _word(buf, p);
            rec.word = _word(buf, p + 32);
            rec.size = _uint(buf, p + 64, 1);
            rec.partOffset = _uint(buf, p + 65, 4);
            p += 69;
        } else if (rec.kind == KIND_KECCAK) {
            rec.partOffset = _uint(buf, p, 4);
            rec.blob = _uint(buf, p + 4, 2);
            p += 6;
        } else if (rec.kind == KIND_MERKLE) {
            rec.root = _word(buf, p);
            rec.length = uint64(_uint(buf, p + 32, 8));
            rec.partOffset = _uint(buf, p + 40, 4);
            uint256 n = _uint(buf, p + 44, 2);
            p += 46;
            if (decode) {
                rec.merkleProof = new bytes32[](n);
                for (uint256 i = 0; i < n; i++) {
                    rec.merkleProof[i] = _word(buf, p + 32 * i);
                }
            }
            p += 32 * n;
        }
        if (flags & 4 != 0) {
            rec.expectRevert = true;
            rec.selector = bytes4(_word(buf, p));
            p += 4;
        } else {
            rec.postStateHash = _word(buf, p);
            p += 32;
        }
        if (p > buf.length) revert Truncated();
        r.pos = p;
        r.index++;
    }

    function _word(bytes memory b, uint256 p) private pure returns (bytes32 w) {
        assembly {
            w := mload(add(add(b, 0x20), p))
        }
    }

    /// @dev The big-endian unsigned integer of `n` bytes at `p`.
    function _uint(bytes memory b, uint256 p, uint256 n) private pure returns (uint256 v) {
        assembly {
            v := shr(sub(256, shl(3, n)), mload(add(add(b, 0x20), p)))
        }
    }

    function _itoa(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory out = new bytes(78);
        uint256 i = 78;
        while (v != 0) {
            out[--i] = bytes1(uint8(48 + v % 10));
            v /= 10;
        }
        bytes memory t = new bytes(78 - i);
        for (uint256 j = 0; j < t.length; j++) {
            t[j] = out[i + j];
        }
        return string(t);
    }
}
