// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VMTest} from "./utils/VMTest.sol";
import {PreimageOracle} from "../src/PreimageOracle.sol";

/// @notice Syscall tests of MIPS.step, including the preimage protocol end to end.
contract SyscallTest is VMTest {
    uint32 constant SYSCALL = 0x0000000C;
    uint32 constant BUF = 0x00300000;
    uint32 constant DEST = 0x00400000;

    /// @dev A state about to execute `syscall` with v0, a0..a2 set and a3 dirty.
    function _sys(uint32 v0, uint32 a0, uint32 a1, uint32 a2) internal returns (VMState memory s) {
        s = _state();
        s.regs[2] = v0;
        s.regs[4] = a0;
        s.regs[5] = a1;
        s.regs[6] = a2;
        s.regs[7] = 0x777;
        _storeWord(s.pc, SYSCALL);
    }

    function _ret(VMState memory s, uint32 v0, uint32 a3) internal pure returns (VMState memory e) {
        e = _advanced(s);
        e.regs[2] = v0;
        e.regs[7] = a3;
    }

    /// @dev Runs a syscall state that reads no data word and checks v0 and a3.
    function _expect(VMState memory s, uint32 v0, uint32 a3) internal {
        bytes32 got = _run(s, false, 0);
        _check(got, _ret(s, v0, a3));
    }

    /*//////////////////////////////////////////////////////////////
                             SIMPLE SYSCALLS
    //////////////////////////////////////////////////////////////*/

    function test_mmap() public {
        VMState memory s = _sys(4090, 0, 5000, 0);
        bytes32 got = _run(s, false, 0);
        VMState memory e = _ret(s, 0x20000000, 0);
        e.heap = 0x20002000;
        _check(got, e);
        // exact multiple of the page size
        s = _sys(4090, 0, 0x3000, 0);
        got = _run(s, false, 0);
        e = _ret(s, 0x20000000, 0);
        e.heap = 0x20003000;
        _check(got, e);
        // size 0
        s = _sys(4090, 0, 0, 0);
        _expect(s, 0x20000000, 0);
        // a hint address is returned as is; the heap does not move
        s = _sys(4090, 0x12340000, 0x1000, 0);
        _expect(s, 0x12340000, 0);
    }

    function test_mmapHeapWraps() public {
        VMState memory s = _sys(4090, 0, 0x2000, 0);
        s.heap = 0xFFFFF000;
        bytes32 got = _run(s, false, 0);
        VMState memory e = _ret(s, 0xFFFFF000, 0);
        e.heap = 0x1000;
        _check(got, e);
        // a size that rounds up to 2^32 leaves the heap where it was
        s = _sys(4090, 0, 0xFFFFFFFF, 0);
        _expect(s, 0x20000000, 0);
    }

    function test_brkClone() public {
        _expect(_sys(4045, 0, 0, 0), 0x40000000, 0);
        _expect(_sys(4120, 0, 0, 0), 1, 0);
    }

    function test_exitGroup() public {
        uint32[4] memory codes = [uint32(0), 1, 0x1234, 0xFFFFFFFF];
        for (uint256 i = 0; i < codes.length; i++) {
            VMState memory s = _sys(4246, codes[i], 0, 0);
            bytes32 got = _run(s, false, 0);
            VMState memory e = _copy(s);
            e.step += 1;
            e.exited = 1;
            e.exitCode = uint8(codes[i]);
            _check(got, e);
            assertEq(uint8(got[0]), codes[i] == 0 ? 0 : codes[i] == 1 ? 1 : 2, "status");
        }
    }

    function test_read() public {
        _expect(_sys(4003, 0, BUF, 100), 0, 0); // stdin: end of input
        _expect(_sys(4003, 3, BUF, 100), 100, 0); // hint read
        _expect(_sys(4003, 1, BUF, 100), 9, 1); // EBADF: v0 = errno, a3 = 1
        _expect(_sys(4003, 8, BUF, 100), 9, 1);
    }

    function test_write() public {
        _expect(_sys(4004, 1, BUF, 100), 100, 0);
        _expect(_sys(4004, 2, BUF, 7), 7, 0);
        _expect(_sys(4004, 4, BUF, 0xFFFFFFFF), 0xFFFFFFFF, 0);
        _expect(_sys(4004, 0, BUF, 100), 9, 1);
        _expect(_sys(4004, 5, BUF, 100), 9, 1);
        _expect(_sys(4004, 99, BUF, 100), 9, 1);
    }

    function test_fcntl() public {
        uint32[10] memory fds = [uint32(0), 1, 2, 3, 4, 5, 6, 7, 8, 0xFFFFFFFF];
        uint32[10] memory flags = [uint32(0), 1, 1, 0, 1, 0, 1, 0, 0, 0];
        for (uint256 i = 0; i < fds.length; i++) {
            if (fds[i] <= 7) _expect(_sys(4055, fds[i], 3, 0), flags[i], 0);
            else _expect(_sys(4055, fds[i], 3, 0), 9, 1);
        }
        _expect(_sys(4055, 1, 1, 0), 22, 1); // F_GETFD: EINVAL
        _expect(_sys(4055, 99, 4, 0), 22, 1);
    }

    function test_unknownSyscall() public {
        _expect(_sys(4001, 1, 2, 3), 0, 0);
        _expect(_sys(0, 1, 2, 3), 0, 0);
        _expect(_sys(0xFFFFFFFF, 1, 2, 3), 0, 0);
    }

    /*//////////////////////////////////////////////////////////////
                            PREIMAGE PROTOCOL
    //////////////////////////////////////////////////////////////*/

    /// @dev Key write of `a2` bytes from `a1`; checks the new key and v0 = n.
    function _keyWrite(VMState memory s, uint32 a1, uint32 a2) internal returns (VMState memory e) {
        s.regs[2] = 4004;
        s.regs[4] = 6;
        s.regs[5] = a1;
        s.regs[6] = a2;
        _storeWord(s.pc, SYSCALL);
        bytes32 got = _run(s, true, a1);
        uint256 space = 4 - (a1 % 4);
        uint256 n = a2 < space ? a2 : space;
        uint256 key = uint256(s.preimageKey);
        for (uint256 i = 0; i < n; i++) {
            uint256 a = a1 + i;
            key = (key << 8) | ((_loadWord(a & ~uint256(3)) >> (24 - 8 * (a % 4))) & 0xFF);
        }
        e = _ret(s, uint32(n), 0);
        e.preimageKey = bytes32(key);
        e.preimageOffset = 0;
        _check(got, e);
    }

    /// @dev Preimage read of `a2` bytes into `a1` through fd 5; `stream` is the key's stream.
    function _read(VMState memory s, uint32 a1, uint32 a2, bytes memory stream)
        internal
        returns (VMState memory e, uint256 n)
    {
        return _readFd(s, 5, a1, a2, stream);
    }

    /// @dev Preimage read of `a2` bytes into `a1` through `fd` (5, or 7: byte j to
    ///      `(a1 + j) ^ 3`); `stream` is the key's stream. Checks the memory write (up to the end
    ///      of the 32-byte leaf), the new offset and v0 = n.
    function _readFd(VMState memory s, uint32 fd, uint32 a1, uint32 a2, bytes memory stream)
        internal
        returns (VMState memory e, uint256 n)
    {
        s.regs[2] = 4003;
        s.regs[4] = fd;
        s.regs[5] = a1;
        s.regs[6] = a2;
        _storeWord(s.pc, SYSCALL);
        bytes32 got = _run(s, true, a1);
        uint256 off = s.preimageOffset;
        uint256 avail = off >= stream.length ? 0 : stream.length - off;
        if (avail > 32) avail = 32;
        n = 32 - (a1 % 32);
        if (avail < n) n = avail;
        if (a2 < n) n = a2;
        uint256 flip = fd == 7 ? 3 : 0;
        for (uint256 i = 0; i < n; i++) {
            _storeBytes((a1 + i) ^ flip, abi.encodePacked(stream[off + i]));
        }
        e = _ret(s, uint32(n), 0);
        e.preimageOffset = uint32(off + n);
        _check(got, e);
    }

    function _data(uint256 len) internal pure returns (bytes memory d) {
        d = new bytes(len);
        for (uint256 i = 0; i < len; i++) {
            d[i] = bytes1(uint8(uint256(keccak256(abi.encode(i))) % 251 + 1));
        }
    }

    /// @dev The program writes a 32-byte key in eight 4-byte writes, then reads the whole
    ///      stream 4 bytes at a time, then sees the end of the data.
    function test_preimageEndToEnd() public {
        bytes memory data = _data(45);
        bytes32 key = _keccakKey(data);
        _storeBytes(BUF, abi.encodePacked(key));
        VMState memory s = _state();
        s.preimageKey = keccak256("stale key, shifted out");
        s.preimageOffset = 77;
        for (uint32 i = 0; i < 8; i++) {
            s = _keyWrite(s, BUF + 4 * i, 4);
        }
        assertEq(s.preimageKey, key, "key assembled");
        bytes memory stream = abi.encodePacked(uint64(data.length), data);
        for (uint256 off = 0; off < stream.length; off += 4) {
            oracle.loadKeccak256PreimagePart(off, data);
        }
        uint256 n;
        for (uint32 off = 0; off < stream.length; off += 4) {
            (s, n) = _read(s, DEST + off, 4, stream);
            assertEq(n, off + 4 <= stream.length ? 4 : stream.length - off);
        }
        assertEq(s.preimageOffset, stream.length);
        // The end of the data: v0 = 0, memory unchanged.
        (s, n) = _read(s, DEST + 64, 4, stream);
        assertEq(n, 0);
        for (uint256 i = 0; i < stream.length; i++) {
            uint256 a = DEST + i;
            assertEq(
                uint8(_loadWord(a & ~uint256(3)) >> (24 - 8 * (a % 4))), uint8(stream[i]), "copied"
            );
        }
    }

    function test_preimageKeyWriteUnaligned() public {
        _storeWord(BUF, 0xA1A2A3A4);
        VMState memory s = _state();
        s.preimageKey = bytes32(uint256(0x55));
        s.preimageOffset = 9;
        s = _keyWrite(s, BUF + 1, 10); // n = 3
        assertEq(s.preimageKey, bytes32(uint256(0x55A2A3A4)));
        s = _keyWrite(s, BUF + 2, 1); // n = 1
        assertEq(s.preimageKey, bytes32(uint256(0x55A2A3A4A3)));
        s.preimageOffset = 5;
        s = _keyWrite(s, BUF + 3, 0); // n = 0: the key is unchanged, the offset reset
        assertEq(s.preimageKey, bytes32(uint256(0x55A2A3A4A3)));
        assertEq(s.preimageOffset, 0);
    }

    function test_preimageReadUnaligned() public {
        bytes memory data = _data(20);
        bytes memory stream = abi.encodePacked(uint64(data.length), data);
        _storeWord(DEST, 0xB1B2B3B4);
        VMState memory s = _state();
        s.preimageKey = _keccakKey(data);
        s.preimageOffset = 5;
        oracle.loadKeccak256PreimagePart(5, data);
        oracle.loadKeccak256PreimagePart(7, data);
        oracle.loadKeccak256PreimagePart(9, data);
        uint256 n;
        (s, n) = _read(s, DEST + 1, 100, stream); // the 23 bytes left, from byte 1 of the leaf
        assertEq(n, 23);
        assertEq(
            _loadWord(DEST),
            uint32(0xB1000000) | uint32(uint8(stream[5])) << 16 | uint32(uint8(stream[6])) << 8
                | uint32(uint8(stream[7]))
        );
        s.preimageOffset = 7;
        (s, n) = _read(s, DEST + 2, 1, stream); // count 1
        assertEq(n, 1);
        (s, n) = _read(s, DEST + 3, 0, stream); // count 0: nothing
        assertEq(n, 0);
        assertEq(s.preimageOffset, 8);
    }

    function test_preimageReadStopsAtTheLeafEnd() public {
        bytes memory data = _data(100);
        bytes memory stream = abi.encodePacked(uint64(data.length), data);
        VMState memory s = _state();
        s.preimageKey = _keccakKey(data);
        s.preimageOffset = 0;
        for (uint256 off = 0; off < 48; off++) {
            oracle.loadKeccak256PreimagePart(off, data);
        }
        _storeWord(DEST + 36, 0xC1C2C3C4);
        uint256 n;
        (s, n) = _read(s, DEST + 9, 100, stream); // bytes 9..31 of the leaf
        assertEq(n, 23);
        (s, n) = _read(s, DEST + 32, 6, stream); // the count bounds it
        assertEq(n, 6);
        assertEq(_loadWord(DEST + 36) & 0xFFFF, 0xC3C4, "bytes after the count untouched");
        (s, n) = _read(s, DEST + 38, 100, stream); // to the leaf's end
        assertEq(n, 26);
        assertEq(s.preimageOffset, 55);
    }

    /// @dev fd 7 writes each aligned word little-endian: a float32 tensor arrives in host order.
    function test_preimageReadLittleEndianWords() public {
        bytes memory data = _data(60);
        bytes memory stream = abi.encodePacked(uint64(data.length), data);
        VMState memory s = _state();
        s.preimageKey = _keccakKey(data);
        for (uint256 off = 0; off < 68; off++) {
            oracle.loadKeccak256PreimagePart(off, data);
        }
        _storeWord(DEST, 0xD1D2D3D4);
        _storeWord(DEST + 32, 0xE1E2E3E4);
        uint256 n;
        s.preimageOffset = 8;
        (s, n) = _readFd(s, 7, DEST, 100, stream); // a whole leaf
        assertEq(n, 32);
        for (uint256 i = 0; i < 8; i++) {
            uint256 w = uint256(uint8(data[4 * i])) | uint256(uint8(data[4 * i + 1])) << 8
                | uint256(uint8(data[4 * i + 2])) << 16 | uint256(uint8(data[4 * i + 3])) << 24;
            assertEq(_loadWord(DEST + 4 * i), w, "little-endian word");
        }
        s.preimageOffset = 3;
        (s, n) = _readFd(s, 7, DEST + 33, 5, stream); // unaligned, bounded by the count
        assertEq(n, 5);
        s.preimageOffset = 60;
        (s, n) = _readFd(s, 7, DEST + 50, 100, stream); // the last 8 bytes
        assertEq(n, 8);
        s.preimageOffset = 68;
        (s, n) = _readFd(s, 7, DEST + 50, 100, stream); // the end
        assertEq(n, 0);
    }

    function test_preimageReadAtEndOfLastPart() public {
        bytes memory data = _data(3); // stream of 11 bytes
        bytes memory stream = abi.encodePacked(uint64(3), data);
        oracle.loadKeccak256PreimagePart(8, data);
        VMState memory s = _state();
        s.preimageKey = _keccakKey(data);
        s.preimageOffset = 8;
        uint256 n;
        (s, n) = _read(s, DEST, 4, stream); // 3 bytes left
        assertEq(n, 3);
        // past the end, far away: still the end
        s.preimageOffset = 1000;
        (s, n) = _read(s, DEST, 4, stream);
        assertEq(n, 0);
        assertEq(s.preimageOffset, 1000);
    }

    function test_preimageReadOfUnloadedPartReverts() public {
        bytes memory data = _data(40);
        VMState memory s = _state();
        s.preimageKey = _keccakKey(data);
        s.preimageOffset = 4;
        s.regs[2] = 4003;
        s.regs[4] = 5;
        s.regs[5] = DEST;
        s.regs[6] = 4;
        _storeWord(s.pc, SYSCALL);
        s.memRoot = _memRoot();
        bytes memory st = _encode(s);
        bytes memory pf = _proofs(s, true, DEST);
        bytes32 key = s.preimageKey;
        // unknown key
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, key, 4));
        mips.step(st, pf, CONTEXT);
        // known key, other part
        oracle.loadKeccak256PreimagePart(0, data);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, key, 4));
        mips.step(st, pf, CONTEXT);
        oracle.loadKeccak256PreimagePart(4, data);
        mips.step(st, pf, CONTEXT);
    }

    function test_localKeyRead() public {
        bytes32 word = bytes32(bytes("local input, 24 bytes ok"));
        uint256 size = 24;
        uint256 ident = 7;
        bytes32 rawKey = bytes32((uint256(1) << 248) | ident);
        bytes memory stream = abi.encodePacked(uint64(size), bytes24(word));
        for (uint256 off = 0; off < stream.length; off += 4) {
            bytes32 k = oracle.loadLocalData(ident, CONTEXT, word, size, off);
            assertEq(k, _localize(rawKey, address(this), CONTEXT));
        }
        VMState memory s = _state();
        s.preimageKey = rawKey;
        uint256 n;
        for (uint32 off = 0; off < stream.length; off += 4) {
            (s, n) = _read(s, DEST + off, 4, stream);
            assertEq(n, 4);
        }
        (s, n) = _read(s, DEST + 64, 4, stream);
        assertEq(n, 0);
    }

    /// @dev Local data loaded by another caller, or for another context, is not readable.
    function test_localKeyIsBoundToCallerAndContext() public {
        bytes32 rawKey = bytes32((uint256(1) << 248) | 7);
        VMState memory s = _state();
        s.preimageKey = rawKey;
        s.regs[2] = 4003;
        s.regs[4] = 5;
        s.regs[5] = DEST;
        s.regs[6] = 4;
        _storeWord(s.pc, SYSCALL);
        s.memRoot = _memRoot();
        bytes memory st = _encode(s);
        bytes memory pf = _proofs(s, true, DEST);

        vm.prank(address(0xBEEF));
        oracle.loadLocalData(7, CONTEXT, bytes32(uint256(1)), 32, 0);
        oracle.loadLocalData(7, keccak256("other dispute"), bytes32(uint256(1)), 32, 0);
        bytes32 mine = _localize(rawKey, address(this), CONTEXT);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, mine, 0));
        mips.step(st, pf, CONTEXT);

        oracle.loadLocalData(7, CONTEXT, bytes32(uint256(1)), 32, 0);
        mips.step(st, pf, CONTEXT);
        // the same step called by another contract localizes to another key
        bytes32 theirs = _localize(rawKey, address(0xCAFE), CONTEXT);
        vm.prank(address(0xCAFE));
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, theirs, 0));
        mips.step(st, pf, CONTEXT);
    }

    function test_merkleKeyRead() public {
        bytes memory data = _data(100);
        bytes32 root = _dataRoot(data);
        bytes memory stream = abi.encodePacked(uint64(data.length), data);
        for (uint256 off = 0; off < stream.length; off += 4) {
            oracle.loadMerkleDataPart(root, uint64(data.length), off, _partProof(data, off));
        }
        VMState memory s = _state();
        s.preimageKey = _merkleKey(root, data.length);
        uint256 n;
        for (uint32 off = 0; off < stream.length; off += 4) {
            (s, n) = _read(s, DEST + off, 4, stream);
            assertEq(n, 4);
        }
        (s, n) = _read(s, DEST + 128, 4, stream);
        assertEq(n, 0);
    }

    /// @dev Non-preimage fds read no data word: their data proof may be all zero.
    function test_otherFdsNeedNoDataProof() public {
        _expect(_sys(4003, 3, 0x12345679, 4), 4, 0);
        _expect(_sys(4004, 1, 0x12345679, 4), 4, 0);
    }
}
