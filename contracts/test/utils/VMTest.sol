// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {MIPS} from "../../src/MIPS.sol";
import {PreimageOracle} from "../../src/PreimageOracle.sol";
import {IPreimageOracle} from "../../src/interfaces/IPreimageOracle.sol";

/// @notice Test base for the MIPS step: a deployed oracle and MIPS, the VM state as a struct
///         with its packed encoding and hash (built here independently of MIPS.sol), and a
///         sparse model of the VM memory that computes the depth-27 root and memory proofs.
abstract contract VMTest is Test {
    /// @dev The VM state (docs/VM.md). `exited` is a byte so malformed states can be built.
    struct VMState {
        bytes32 memRoot;
        bytes32 preimageKey;
        uint32 preimageOffset;
        uint32 pc;
        uint32 nextPC;
        uint32 lo;
        uint32 hi;
        uint32 heap;
        uint8 exitCode;
        uint8 exited;
        uint64 step;
        uint32[32] regs;
        uint32[32] fpr;
        uint32 fcsr;
    }

    uint256 internal constant MEM_DEPTH = 27;
    bytes32 internal constant CONTEXT = keccak256("opml test dispute");

    PreimageOracle internal oracle;
    MIPS internal mips;

    /// @dev zeroHashes[i]: root of an all-zero subtree of height i.
    bytes32[64] internal zeroHashes;

    // Sparse memory: leaf index => 32-byte leaf, and the list of leaves ever written.
    mapping(uint256 => bytes32) internal _leaves;
    mapping(uint256 => bool) internal _known;
    uint256[] internal _leafList;

    function setUp() public virtual {
        oracle = new PreimageOracle();
        mips = new MIPS(IPreimageOracle(address(oracle)));
        for (uint256 i = 1; i < 64; i++) {
            zeroHashes[i] = keccak256(abi.encodePacked(zeroHashes[i - 1], zeroHashes[i - 1]));
        }
    }

    /*//////////////////////////////////////////////////////////////
                          INSTRUCTION ENCODERS
    //////////////////////////////////////////////////////////////*/

    function _r(uint256 funct, uint256 rs, uint256 rt, uint256 rd, uint256 sa)
        internal
        pure
        returns (uint32)
    {
        return uint32((rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct);
    }

    function _i(uint256 opcode, uint256 rs, uint256 rt, uint256 imm)
        internal
        pure
        returns (uint32)
    {
        return uint32((opcode << 26) | (rs << 21) | (rt << 16) | (imm & 0xFFFF));
    }

    function _j(uint256 opcode, uint256 target) internal pure returns (uint32) {
        return uint32((opcode << 26) | ((target >> 2) & 0x03FFFFFF));
    }

    function _special2(uint256 funct, uint256 rs, uint256 rt, uint256 rd)
        internal
        pure
        returns (uint32)
    {
        return uint32((0x1C << 26) | (rs << 21) | (rt << 16) | (rd << 11) | funct);
    }

    /*//////////////////////////////////////////////////////////////
                                 STATE
    //////////////////////////////////////////////////////////////*/

    /// @dev A running state at pc 0x1000 (nextPC 0x1004), heap 0x20000000, sp 0x7FFFF000.
    function _state() internal pure returns (VMState memory s) {
        s.pc = 0x1000;
        s.nextPC = 0x1004;
        s.heap = 0x20000000;
        s.step = 41;
        s.regs[29] = 0x7FFFF000;
    }

    function _encode(VMState memory s) internal pure returns (bytes memory out) {
        out = abi.encodePacked(
            s.memRoot,
            s.preimageKey,
            s.preimageOffset,
            s.pc,
            s.nextPC,
            s.lo,
            s.hi,
            s.heap,
            s.exitCode,
            s.exited,
            s.step
        );
        for (uint256 i = 0; i < 32; i++) {
            out = bytes.concat(out, bytes4(s.regs[i]));
        }
        for (uint256 i = 0; i < 32; i++) {
            out = bytes.concat(out, bytes4(s.fpr[i]));
        }
        out = bytes.concat(out, bytes4(s.fcsr));
        assertEq(out.length, 358, "state encoding");
    }

    function _hash(VMState memory s) internal pure returns (bytes32) {
        uint8 status = s.exited == 0 ? 3 : s.exitCode == 0 ? 0 : s.exitCode == 1 ? 1 : 2;
        bytes32 h = keccak256(_encode(s));
        return (h & bytes32(type(uint256).max >> 8)) | bytes32(uint256(status) << 248);
    }

    function _copy(VMState memory s) internal pure returns (VMState memory) {
        return abi.decode(abi.encode(s), (VMState));
    }

    /// @dev The expected post-state of an ordinary instruction: step + 1, pc = nextPC,
    ///      nextPC + 4 (registers etc. to be adjusted by the caller).
    function _advanced(VMState memory s) internal pure returns (VMState memory e) {
        e = _copy(s);
        e.step += 1;
        e.pc = s.nextPC;
        unchecked {
            e.nextPC = s.nextPC + 4;
        }
    }

    /// @dev The expected post-state of a fault.
    function _faulted(VMState memory s) internal pure returns (VMState memory e) {
        e = _copy(s);
        e.step += 1;
        e.exited = 1;
        e.exitCode = 0xFF;
    }

    /*//////////////////////////////////////////////////////////////
                                 MEMORY
    //////////////////////////////////////////////////////////////*/

    function _storeWord(uint256 addr, uint32 value) internal {
        require(addr % 4 == 0 && addr < 2 ** 32, "aligned word address");
        uint256 idx = addr >> 5;
        if (!_known[idx]) {
            _known[idx] = true;
            _leafList.push(idx);
        }
        uint256 shift = 224 - 8 * (addr & 28);
        uint256 leaf = uint256(_leaves[idx]);
        leaf = (leaf & ~(uint256(0xFFFFFFFF) << shift)) | (uint256(value) << shift);
        _leaves[idx] = bytes32(leaf);
    }

    function _loadWord(uint256 addr) internal view returns (uint32) {
        return uint32(uint256(_leaves[addr >> 5]) >> (224 - 8 * (addr & 28)));
    }

    function _storeBytes(uint256 addr, bytes memory data) internal {
        for (uint256 i = 0; i < data.length; i++) {
            uint256 a = addr + i;
            uint256 word = _loadWord(a & ~uint256(3));
            uint256 shift = 24 - 8 * (a & 3);
            word = (word & ~(uint256(0xFF) << shift)) | (uint256(uint8(data[i])) << shift);
            _storeWord(a & ~uint256(3), uint32(word));
        }
    }

    function _memRoot() internal view returns (bytes32) {
        return _subtree(_leafArray(), MEM_DEPTH, 0);
    }

    /// @dev The 896-byte memory proof of the word at `addr`.
    function _memProof(uint256 addr) internal view returns (bytes memory proof) {
        uint256[] memory leaves = _leafArray();
        uint256 idx = addr >> 5;
        proof = abi.encodePacked(_leaves[idx]);
        for (uint256 level = 0; level < MEM_DEPTH; level++) {
            proof = bytes.concat(proof, _subtree(leaves, level, (idx >> level) ^ 1));
        }
    }

    function _leafArray() internal view returns (uint256[] memory) {
        return _leafList;
    }

    /// @dev Root of the subtree of height `level` at index `node` of the sparse memory.
    function _subtree(uint256[] memory leaves, uint256 level, uint256 node)
        internal
        view
        returns (bytes32)
    {
        bool any;
        for (uint256 i = 0; i < leaves.length; i++) {
            if (leaves[i] >> level == node) {
                any = true;
                break;
            }
        }
        if (!any) return zeroHashes[level];
        if (level == 0) return _leaves[node];
        return keccak256(
            abi.encodePacked(
                _subtree(leaves, level - 1, 2 * node), _subtree(leaves, level - 1, 2 * node + 1)
            )
        );
    }

    /*//////////////////////////////////////////////////////////////
                                RUNNING
    //////////////////////////////////////////////////////////////*/

    /// @dev Proof bytes: the instruction's proof, then the data word's (zero if none).
    function _proofs(VMState memory s, bool hasData, uint256 dataAddr)
        internal
        view
        returns (bytes memory)
    {
        bytes memory p0 = s.pc % 4 == 0 ? _memProof(s.pc) : new bytes(896);
        bytes memory p1 = hasData ? _memProof(dataAddr & ~uint256(3)) : new bytes(896);
        return bytes.concat(p0, p1);
    }

    /// @dev Executes `insn` at s.pc (written into memory) with no data word. Sets s.memRoot.
    function _exec(VMState memory s, uint32 insn) internal returns (bytes32) {
        _storeWord(s.pc, insn);
        s.memRoot = _memRoot();
        return mips.step(_encode(s), _proofs(s, false, 0), CONTEXT);
    }

    /// @dev Executes `insn` at s.pc with the data word at `dataAddr`. Sets s.memRoot.
    function _exec(VMState memory s, uint32 insn, uint256 dataAddr) internal returns (bytes32) {
        _storeWord(s.pc, insn);
        s.memRoot = _memRoot();
        return mips.step(_encode(s), _proofs(s, true, dataAddr), CONTEXT);
    }

    /// @dev Steps `s` as is (its instruction already in memory), with an optional data word.
    function _run(VMState memory s, bool hasData, uint256 dataAddr) internal returns (bytes32) {
        s.memRoot = _memRoot();
        return mips.step(_encode(s), _proofs(s, hasData, dataAddr), CONTEXT);
    }

    /// @dev Asserts that `got` is the hash of `e`, with e's memRoot the current memory root.
    function _check(bytes32 got, VMState memory e) internal view {
        e.memRoot = _memRoot();
        assertEq(got, _hash(e), "post-state hash");
    }

    /*//////////////////////////////////////////////////////////////
                           MERKLE DATA (type 3)
    //////////////////////////////////////////////////////////////*/

    function _leafCount(uint256 len) internal pure returns (uint256) {
        return len == 0 ? 1 : (len + 31) / 32;
    }

    function _depth(uint256 len) internal pure returns (uint256 d) {
        uint256 n = _leafCount(len);
        while ((uint256(1) << d) < n) d++;
    }

    function _dataLeaf(bytes memory data, uint256 i) internal pure returns (bytes32 leaf) {
        for (uint256 b = 0; b < 32; b++) {
            uint256 j = i * 32 + b;
            if (j < data.length) leaf |= bytes32(uint256(uint8(data[j])) << (248 - 8 * b));
        }
    }

    /// @dev The levels of the padded Merkle tree of `data` (level 0 = leaves).
    function _dataTree(bytes memory data) internal pure returns (bytes32[][] memory levels) {
        uint256 depth = _depth(data.length);
        levels = new bytes32[][](depth + 1);
        levels[0] = new bytes32[](uint256(1) << depth);
        for (uint256 i = 0; i < _leafCount(data.length); i++) {
            levels[0][i] = _dataLeaf(data, i);
        }
        for (uint256 l = 1; l <= depth; l++) {
            levels[l] = new bytes32[](levels[l - 1].length / 2);
            for (uint256 i = 0; i < levels[l].length; i++) {
                levels[l][i] =
                    keccak256(abi.encodePacked(levels[l - 1][2 * i], levels[l - 1][2 * i + 1]));
            }
        }
    }

    function _dataRoot(bytes memory data) internal pure returns (bytes32) {
        bytes32[][] memory levels = _dataTree(data);
        return levels[levels.length - 1][0];
    }

    /// @dev Leaf `index` and its siblings, bottom up.
    function _leafProof(bytes32[][] memory levels, uint256 index)
        internal
        pure
        returns (bytes32[] memory p)
    {
        p = new bytes32[](levels.length);
        p[0] = levels[0][index];
        for (uint256 l = 0; l + 1 < levels.length; l++) {
            p[l + 1] = levels[l][(index >> l) ^ 1];
        }
    }

    /// @dev The loader's proof for the part at `partOffset` (docs in PreimageOracle).
    function _partProof(bytes memory data, uint256 partOffset)
        internal
        pure
        returns (bytes32[] memory)
    {
        uint256 len = data.length;
        if (len == 0) return new bytes32[](0);
        bytes32[][] memory levels = _dataTree(data);
        if (partOffset < 8) return _leafProof(levels, 0);
        uint256 d = partOffset - 8;
        uint256 index = d / 32;
        bytes32[] memory a = _leafProof(levels, index);
        if (d % 32 == 0 || (index + 1) * 32 >= len) return a;
        bytes32[] memory b = _leafProof(levels, index + 1);
        bytes32[] memory both = new bytes32[](a.length + b.length);
        for (uint256 i = 0; i < a.length; i++) {
            both[i] = a[i];
            both[a.length + i] = b[i];
        }
        return both;
    }

    /// @dev The 32 bytes of `uint64_be(len) || data` at `offset`, zero-padded.
    function _streamPart(bytes memory data, uint256 offset) internal pure returns (bytes32 part) {
        bytes memory stream = abi.encodePacked(uint64(data.length), data);
        for (uint256 b = 0; b < 32; b++) {
            if (offset + b < stream.length) {
                part |= bytes32(uint256(uint8(stream[offset + b])) << (248 - 8 * b));
            }
        }
    }

    function _merkleKey(bytes32 root, uint256 len) internal pure returns (bytes32) {
        bytes32 h = keccak256(abi.encodePacked(root, uint64(len)));
        return (h & bytes32(type(uint256).max >> 8)) | bytes32(uint256(3) << 248);
    }

    function _keccakKey(bytes memory data) internal pure returns (bytes32) {
        bytes32 h = keccak256(data);
        return (h & bytes32(type(uint256).max >> 8)) | bytes32(uint256(2) << 248);
    }

    function _localize(bytes32 key, address sender, bytes32 ctx) internal pure returns (bytes32) {
        bytes32 h = keccak256(abi.encode(key, sender, ctx));
        return (h & bytes32(type(uint256).max >> 8)) | bytes32(uint256(1) << 248);
    }
}
