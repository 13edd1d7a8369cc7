// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VMTest} from "./utils/VMTest.sol";
import {MIPS} from "../src/MIPS.sol";

/// @notice Instruction-level tests of MIPS.step on hand-built states (docs/VM.md).
contract MIPSTest is VMTest {
    // Registers used by the tests.
    uint256 constant T0 = 8;
    uint256 constant T1 = 9;
    uint256 constant T2 = 10;
    uint256 constant RA = 31;

    /*//////////////////////////////////////////////////////////////
                                DECODING
    //////////////////////////////////////////////////////////////*/

    function test_decode_revertsOnStateLength() public {
        VMState memory s = _state();
        _storeWord(s.pc, 0);
        s.memRoot = _memRoot();
        bytes memory st = _encode(s);
        bytes memory pf = _proofs(s, false, 0);
        bytes memory shortState = new bytes(225);
        vm.expectRevert(MIPS.InvalidStateLength.selector);
        mips.step(shortState, pf, CONTEXT);
        vm.expectRevert(MIPS.InvalidStateLength.selector);
        mips.step(bytes.concat(st, hex"00"), pf, CONTEXT);
        vm.expectRevert(MIPS.InvalidStateLength.selector);
        mips.step("", pf, CONTEXT);
    }

    function test_decode_revertsOnProofLength() public {
        VMState memory s = _state();
        _storeWord(s.pc, 0);
        s.memRoot = _memRoot();
        bytes memory st = _encode(s);
        bytes memory p0 = _memProof(s.pc);
        vm.expectRevert(MIPS.InvalidProofLength.selector);
        mips.step(st, p0, CONTEXT);
        vm.expectRevert(MIPS.InvalidProofLength.selector);
        mips.step(st, bytes.concat(p0, new bytes(897)), CONTEXT);
        vm.expectRevert(MIPS.InvalidProofLength.selector);
        mips.step(st, "", CONTEXT);
    }

    function test_decode_revertsOnExitedFlag() public {
        VMState memory s = _state();
        s.exited = 2;
        vm.expectRevert(MIPS.InvalidExitedFlag.selector);
        mips.step(_encode(s), new bytes(1792), CONTEXT);
    }

    function test_decode_revertsOnNonZeroR0() public {
        VMState memory s = _state();
        s.regs[0] = 1;
        vm.expectRevert(MIPS.InvalidRegisterZero.selector);
        mips.step(_encode(s), new bytes(1792), CONTEXT);
    }

    /// @dev An exited state is returned unchanged (no proof needed, step does not move), with
    ///      the status byte of its exit code.
    function test_exitedStateIsUnchanged() public {
        uint8[5] memory codes = [0, 1, 2, 0x7F, 0xFF];
        for (uint256 i = 0; i < codes.length; i++) {
            VMState memory s = _state();
            s.exited = 1;
            s.exitCode = codes[i];
            s.memRoot = keccak256("any root");
            bytes32 got = mips.step(_encode(s), new bytes(1792), CONTEXT);
            assertEq(got, _hash(s));
            uint8 status = codes[i] == 0 ? 0 : codes[i] == 1 ? 1 : 2;
            assertEq(uint8(got[0]), status, "status byte");
        }
    }

    function test_statusByteOfRunningState() public {
        VMState memory s = _state();
        bytes32 got = _exec(s, _r(0x21, T0, T1, T2, 0));
        assertEq(uint8(got[0]), 3);
    }

    function test_misalignedPcFaultsWithoutProof() public {
        for (uint32 off = 1; off < 4; off++) {
            VMState memory s = _state();
            s.pc = 0x1000 + off;
            s.nextPC = 0x1004 + off;
            bytes32 got = mips.step(_encode(s), new bytes(1792), CONTEXT);
            assertEq(got, _hash(_faulted(s)));
        }
    }

    /*//////////////////////////////////////////////////////////////
                                  ALU
    //////////////////////////////////////////////////////////////*/

    /// @dev Executes `insn` with t0 = a, t1 = b and checks register `dest` = expected.
    function _alu(uint32 insn, uint32 a, uint32 b, uint256 dest, uint32 expected) internal {
        VMState memory s = _state();
        s.regs[T0] = a;
        s.regs[T1] = b;
        s.regs[T2] = 0xDEADBEEF;
        bytes32 got = _exec(s, insn);
        VMState memory e = _advanced(s);
        if (dest != 0) e.regs[dest] = expected;
        _check(got, e);
    }

    /// @dev Executes `insn` with t0 = a, t1 = b and expects a fault.
    function _aluFault(uint32 insn, uint32 a, uint32 b) internal {
        VMState memory s = _state();
        s.regs[T0] = a;
        s.regs[T1] = b;
        bytes32 got = _exec(s, insn);
        _check(got, _faulted(s));
    }

    function _rr(uint256 funct) internal pure returns (uint32) {
        return _r(funct, T0, T1, T2, 0);
    }

    function test_special_alu() public {
        _alu(_rr(0x21), 5, 7, T2, 12); // addu
        _alu(_rr(0x21), 0xFFFFFFFF, 2, T2, 1); // addu wraps
        _alu(_rr(0x20), 0x7FFFFFFE, 1, T2, 0x7FFFFFFF); // add
        _alu(_rr(0x20), 0xFFFFFFFF, 0xFFFFFFFF, T2, 0xFFFFFFFE); // add -1 + -1
        _alu(_rr(0x23), 5, 7, T2, 0xFFFFFFFE); // subu
        _alu(_rr(0x22), 0x80000001, 1, T2, 0x80000000); // sub
        _alu(_rr(0x24), 0xF0F0FF00, 0x0FF0F0F0, T2, 0x00F0F000); // and
        _alu(_rr(0x25), 0xF0F0FF00, 0x0FF0F0F0, T2, 0xFFF0FFF0); // or
        _alu(_rr(0x26), 0xF0F0FF00, 0x0FF0F0F0, T2, 0xFF000FF0); // xor
        _alu(_rr(0x27), 0xF0F0FF00, 0x0FF0F0F0, T2, 0x000F000F); // nor
        _alu(_rr(0x2A), 0xFFFFFFFF, 1, T2, 1); // slt -1 < 1
        _alu(_rr(0x2A), 1, 0xFFFFFFFF, T2, 0);
        _alu(_rr(0x2B), 0xFFFFFFFF, 1, T2, 0); // sltu
        _alu(_rr(0x2B), 1, 0xFFFFFFFF, T2, 1);
        _alu(_rr(0x2B), 1, 1, T2, 0);
    }

    function test_shifts() public {
        _alu(_r(0x00, 0, T1, T2, 4), 0, 0x8000000F, T2, 0x000000F0); // sll
        _alu(_r(0x00, 0, 0, 0, 0), 0, 0, 0, 0); // nop
        _alu(_r(0x02, 0, T1, T2, 4), 0, 0x8000000F, T2, 0x08000000); // srl
        _alu(_r(0x03, 0, T1, T2, 4), 0, 0x8000000F, T2, 0xF8000000); // sra
        _alu(_r(0x03, 0, T1, T2, 31), 0, 0x7FFFFFFF, T2, 0); // sra positive
        _alu(_r(0x04, T0, T1, T2, 0), 36, 0x8000000F, T2, 0x000000F0); // sllv uses rs & 31
        _alu(_r(0x06, T0, T1, T2, 0), 36, 0x8000000F, T2, 0x08000000); // srlv
        _alu(_r(0x07, T0, T1, T2, 0), 0xFFFFFFE4, 0x8000000F, T2, 0xF8000000); // srav rs&31=4
        _alu(_r(0x07, T0, T1, T2, 0), 31, 0x80000000, T2, 0xFFFFFFFF);
    }

    /// @dev srl needs rs = 0 and srlv needs sa = 0: MIPS32r2's rotr/rotrv (field = 1) and every
    ///      other value fault (qemu -cpu 24Kc rotates for 1 and raises SIGILL for the rest).
    function test_srlSrlvReservedFieldsFault() public {
        _aluFault(_r(0x02, 1, T1, T2, 4), 0, 0x8000000F); // rotr = srl with rs = 1
        _aluFault(_r(0x02, 2, T1, T2, 4), 0, 0x8000000F); // srl with rs = 2
        _aluFault(_r(0x02, 16, T1, T2, 4), 0, 0x8000000F); // srl with rs = 16
        _aluFault(_r(0x02, 31, T1, T2, 4), 0, 0x8000000F); // srl with rs = 31
        _aluFault(_r(0x06, T0, T1, T2, 1), 4, 0x8000000F); // rotrv = srlv with sa = 1
        _aluFault(_r(0x06, T0, T1, T2, 2), 4, 0x8000000F); // srlv with sa = 2
        _aluFault(_r(0x06, T0, T1, T2, 31), 4, 0x8000000F); // srlv with sa = 31
    }

    function test_overflowFaults() public {
        _aluFault(_rr(0x20), 0x7FFFFFFF, 1); // add
        _aluFault(_rr(0x20), 0x80000000, 0xFFFFFFFF);
        _aluFault(_rr(0x22), 0x80000000, 1); // sub
        _aluFault(_rr(0x22), 0, 0x80000000); // 0 - (-2^31) = 2^31
        _aluFault(_rr(0x22), 0x7FFFFFFF, 0xFFFFFFFF);
        _aluFault(_i(0x08, T0, T2, 1), 0x7FFFFFFF, 0); // addi
        _aluFault(_i(0x08, T0, T2, 0x8000), 0x80000000, 0);
        // no overflow at the edges
        _alu(_rr(0x22), 0xFFFFFFFF, 0x7FFFFFFF, T2, 0x80000000);
        _alu(_i(0x08, T0, T2, 0xFFFF), 0x80000001, 0, T2, 0x80000000);
    }

    function test_immediates() public {
        _alu(_i(0x08, T0, T2, 0xFFFF), 5, 0, T2, 4); // addi -1
        _alu(_i(0x09, T0, T2, 0x8000), 0x7FFFFFFF, 0, T2, 0x7FFF7FFF); // addiu
        _alu(_i(0x09, T0, T2, 0x0001), 0x7FFFFFFF, 0, T2, 0x80000000); // addiu: no overflow fault
        _alu(_i(0x09, T0, T2, 0xFFFF), 0, 0, T2, 0xFFFFFFFF);
        _alu(_i(0x0A, T0, T2, 0xFFFF), 0xFFFFFFFE, 0, T2, 1); // slti -2 < -1
        _alu(_i(0x0A, T0, T2, 0x0001), 1, 0, T2, 0);
        _alu(_i(0x0B, T0, T2, 0xFFFF), 5, 0, T2, 1); // sltiu 5 < 0xFFFFFFFF
        _alu(_i(0x0B, T0, T2, 0x8000), 0xFFFF8000, 0, T2, 0);
        _alu(_i(0x0C, T0, T2, 0xFF0F), 0xFFFFFFFF, 0, T2, 0xFF0F); // andi ze
        _alu(_i(0x0D, T0, T2, 0x8001), 0x10000000, 0, T2, 0x10008001); // ori
        _alu(_i(0x0E, T0, T2, 0xFFFF), 0xF0F0F0F0, 0, T2, 0xF0F00F0F); // xori
        _alu(_i(0x0F, 0, T2, 0x8765), 0, 0, T2, 0x87650000); // lui
    }

    function test_writesToR0AreDiscarded() public {
        _alu(_r(0x21, T0, T1, 0, 0), 5, 7, 0, 0); // addu r0
        _alu(_i(0x0F, 0, 0, 0x1234), 0, 0, 0, 0); // lui r0
    }

    /// @dev Executes a hi/lo instruction with t0 = a, t1 = b and given hi/lo.
    function _hilo(
        uint32 insn,
        uint32 a,
        uint32 b,
        uint32 hi,
        uint32 lo,
        uint32 eHi,
        uint32 eLo,
        uint256 dest,
        uint32 eDest
    ) internal {
        VMState memory s = _state();
        s.regs[T0] = a;
        s.regs[T1] = b;
        s.hi = hi;
        s.lo = lo;
        bytes32 got = _exec(s, insn);
        VMState memory e = _advanced(s);
        e.hi = eHi;
        e.lo = eLo;
        if (dest != 0) e.regs[dest] = eDest;
        _check(got, e);
    }

    function test_hiLo() public {
        _hilo(_r(0x10, 0, 0, T2, 0), 0, 0, 0xAAAA, 0xBBBB, 0xAAAA, 0xBBBB, T2, 0xAAAA); // mfhi
        _hilo(_r(0x12, 0, 0, T2, 0), 0, 0, 0xAAAA, 0xBBBB, 0xAAAA, 0xBBBB, T2, 0xBBBB); // mflo
        _hilo(_r(0x11, T0, 0, 0, 0), 7, 0, 0xAAAA, 0xBBBB, 7, 0xBBBB, 0, 0); // mthi
        _hilo(_r(0x13, T0, 0, 0, 0), 7, 0, 0xAAAA, 0xBBBB, 0xAAAA, 7, 0, 0); // mtlo
        // mult: -2 * 3 = -6
        _hilo(_r(0x18, T0, T1, 0, 0), 0xFFFFFFFE, 3, 1, 1, 0xFFFFFFFF, 0xFFFFFFFA, 0, 0);
        // multu: 0xFFFFFFFE * 3
        _hilo(_r(0x19, T0, T1, 0, 0), 0xFFFFFFFE, 3, 1, 1, 2, 0xFFFFFFFA, 0, 0);
        // mult: (-2^31)^2 = 2^62
        _hilo(_r(0x18, T0, T1, 0, 0), 0x80000000, 0x80000000, 0, 0, 0x40000000, 0, 0, 0);
    }

    function test_div() public {
        // div -7 / 2 = -3 rem -1
        _hilo(_r(0x1A, T0, T1, 0, 0), 0xFFFFFFF9, 2, 0, 0, 0xFFFFFFFF, 0xFFFFFFFD, 0, 0);
        // div 7 / -2 = -3 rem 1
        _hilo(_r(0x1A, T0, T1, 0, 0), 7, 0xFFFFFFFE, 0, 0, 1, 0xFFFFFFFD, 0, 0);
        // div 0x80000000 / -1 = 0x80000000 rem 0
        _hilo(_r(0x1A, T0, T1, 0, 0), 0x80000000, 0xFFFFFFFF, 5, 5, 0, 0x80000000, 0, 0);
        // divu 0xFFFFFFF9 / 2
        _hilo(_r(0x1B, T0, T1, 0, 0), 0xFFFFFFF9, 2, 0, 0, 1, 0x7FFFFFFC, 0, 0);
    }

    function test_divByZeroFaults() public {
        _aluFault(_r(0x1A, T0, T1, 0, 0), 5, 0);
        _aluFault(_r(0x1B, T0, T1, 0, 0), 5, 0);
    }

    function test_special2() public {
        _alu(_special2(0x02, T0, T1, T2), 0xFFFFFFFE, 3, T2, 0xFFFFFFFA); // mul
        _alu(_special2(0x02, T0, T1, T2), 0x10000, 0x10001, T2, 0x10000); // mul low bits
        _alu(_special2(0x20, T0, 0, T2), 0, 0, T2, 32); // clz 0
        _alu(_special2(0x20, T0, 0, T2), 1, 0, T2, 31);
        _alu(_special2(0x20, T0, 0, T2), 0x80000000, 0, T2, 0);
        _alu(_special2(0x20, T0, 0, T2), 0x00012345, 0, T2, 15);
        _alu(_special2(0x21, T0, 0, T2), 0xFFFFFFFF, 0, T2, 32); // clo
        _alu(_special2(0x21, T0, 0, T2), 0xFFF0FFFF, 0, T2, 12);
        _alu(_special2(0x21, T0, 0, T2), 0x7FFFFFFF, 0, T2, 0);
        // madd: {1, 0xFFFFFFFF} + (-2 * 3) = {1, 0xFFFFFFF9}
        _hilo(_special2(0x00, T0, T1, 0), 0xFFFFFFFE, 3, 1, 0xFFFFFFFF, 1, 0xFFFFFFF9, 0, 0);
        // madd wraps mod 2^64: {0, 0} + (-1 * 1) = {0xFFFFFFFF, 0xFFFFFFFF}
        _hilo(_special2(0x00, T0, T1, 0), 0xFFFFFFFF, 1, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0);
        // maddu: {0, 0xFFFFFFFF} + 0xFFFFFFFF * 2 = {2, 0xFFFFFFFD}
        _hilo(_special2(0x01, T0, T1, 0), 0xFFFFFFFF, 2, 0, 0xFFFFFFFF, 2, 0xFFFFFFFD, 0, 0);
        // msub: {0, 0} - (-2 * 3) = 6
        _hilo(_special2(0x04, T0, T1, 0), 0xFFFFFFFE, 3, 0, 0, 0, 6, 0, 0);
        // msubu: {0, 0} - 1 * 1 = 2^64 - 1
        _hilo(_special2(0x05, T0, T1, 0), 1, 1, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0);
    }

    function test_movzMovn() public {
        _alu(_r(0x0A, T0, T1, T2, 0), 42, 0, T2, 42); // movz taken
        _alu(_r(0x0A, T0, T1, T2, 0), 42, 1, T2, 0xDEADBEEF); // movz not taken
        _alu(_r(0x0B, T0, T1, T2, 0), 42, 1, T2, 42); // movn taken
        _alu(_r(0x0B, T0, T1, T2, 0), 42, 0, T2, 0xDEADBEEF); // movn not taken
    }

    function test_noOps() public {
        _alu(_r(0x0F, 0, 0, 0, 0), 0, 0, 0, 0); // sync
        _alu(_i(0x33, T0, 0, 0x10), 1, 0, 0, 0); // pref (misaligned address, no data word)
    }

    function test_traps() public {
        // funct, a, b, condition holds
        _trap(_rr(0x30), 0xFFFFFFFF, 0xFFFFFFFF, true); // tge
        _trap(_rr(0x30), 0xFFFFFFFF, 0, false);
        _trap(_rr(0x31), 0xFFFFFFFF, 0, true); // tgeu
        _trap(_rr(0x31), 0, 1, false);
        _trap(_rr(0x32), 0xFFFFFFFF, 0, true); // tlt
        _trap(_rr(0x32), 0, 0xFFFFFFFF, false);
        _trap(_rr(0x33), 0, 0xFFFFFFFF, true); // tltu
        _trap(_rr(0x33), 1, 1, false);
        _trap(_rr(0x34), 3, 3, true); // teq
        _trap(_rr(0x34), 3, 4, false);
        _trap(_rr(0x36), 3, 4, true); // tne
        _trap(_rr(0x36), 3, 3, false);
        // immediates: se(imm) = -1
        _trap(_i(0x01, T0, 0x08, 0xFFFF), 0, 0, true); // tgei 0 >= -1
        _trap(_i(0x01, T0, 0x08, 0xFFFF), 0xFFFFFFFE, 0, false);
        _trap(_i(0x01, T0, 0x09, 0xFFFF), 0xFFFFFFFF, 0, true); // tgeiu
        _trap(_i(0x01, T0, 0x09, 0xFFFF), 0xFFFFFFFE, 0, false);
        _trap(_i(0x01, T0, 0x0A, 0xFFFF), 0xFFFFFFFE, 0, true); // tlti
        _trap(_i(0x01, T0, 0x0A, 0xFFFF), 0, 0, false);
        _trap(_i(0x01, T0, 0x0B, 0xFFFF), 0xFFFFFFFE, 0, true); // tltiu
        _trap(_i(0x01, T0, 0x0B, 0xFFFF), 0xFFFFFFFF, 0, false);
        _trap(_i(0x01, T0, 0x0C, 0xFFFF), 0xFFFFFFFF, 0, true); // teqi
        _trap(_i(0x01, T0, 0x0C, 0xFFFF), 0xFFFF, 0, false);
        _trap(_i(0x01, T0, 0x0E, 0xFFFF), 0xFFFF, 0, true); // tnei
        _trap(_i(0x01, T0, 0x0E, 0xFFFF), 0xFFFFFFFF, 0, false);
    }

    function _trap(uint32 insn, uint32 a, uint32 b, bool holds) internal {
        if (holds) _aluFault(insn, a, b);
        else _alu(insn, a, b, 0, 0);
    }

    function test_invalidInstructionsFault() public {
        uint32[18] memory bad = [
            _r(0x0D, 0, 0, 0, 0), // break
            _r(0x05, 0, 0, 0, 0), // reserved
            _r(0x0E, 0, 0, 0, 0), // reserved
            _r(0x14, 0, 0, 0, 0), // dsllv
            _r(0x35, 0, 0, 0, 0), // reserved
            _r(0x3F, 0, 0, 0, 0), // dsra32
            _i(0x01, 0, 0x1F, 0), // regimm synci
            _i(0x01, 0, 0x04, 0), // regimm reserved
            0x40000000, // cop0
            0x46200000, // cop1 fmt D (add.d)
            0x4600001F, // cop1 fmt S reserved funct
            0x44400800, // cfc1 of a register other than FCSR
            0x7C000000, // special3 (ext)
            0x7C0A0420, // seb
            _special2(0x3F, 0, 0, 0), // sdbbp
            _i(0x2F, 0, 0, 0), // cache
            _i(0x35, 0, 0, 0), // ldc1
            _i(0x27, 0, 0, 0) // lwu (MIPS64)
        ];
        for (uint256 i = 0; i < bad.length; i++) {
            _aluFault(bad[i], 0, 0);
        }
        _aluFault(0x42000018, 0, 0); // eret
    }

    /*//////////////////////////////////////////////////////////////
                           BRANCHES AND JUMPS
    //////////////////////////////////////////////////////////////*/

    /// @dev Executes a control transfer at s.pc = 0x1000 with t0 = a, t1 = b; expects
    ///      pc' = ePc, nextPC' = eNext, and r31 = eRa when `links`.
    function _ctl(uint32 insn, uint32 a, uint32 b, uint32 ePc, uint32 eNext, bool links, uint32 eRa)
        internal
    {
        VMState memory s = _state();
        s.regs[T0] = a;
        s.regs[T1] = b;
        s.regs[RA] = 0x5555;
        bytes32 got = _exec(s, insn);
        VMState memory e = _copy(s);
        e.step += 1;
        e.pc = ePc;
        e.nextPC = eNext;
        if (links) e.regs[RA] = eRa;
        _check(got, e);
    }

    function test_branches() public {
        uint32 fwd = 0x1000 + 4 + 0x40; // offset 0x10 words
        uint32 back = 0x1000 + 4 - 0x40; // offset -0x10 words
        // beq
        _ctl(_i(0x04, T0, T1, 0x10), 3, 3, 0x1004, fwd, false, 0);
        _ctl(_i(0x04, T0, T1, 0xFFF0), 3, 3, 0x1004, back, false, 0);
        _ctl(_i(0x04, T0, T1, 0x10), 3, 4, 0x1004, 0x1008, false, 0);
        // bne
        _ctl(_i(0x05, T0, T1, 0x10), 3, 4, 0x1004, fwd, false, 0);
        _ctl(_i(0x05, T0, T1, 0x10), 3, 3, 0x1004, 0x1008, false, 0);
        // blez
        _ctl(_i(0x06, T0, 0, 0x10), 0, 0, 0x1004, fwd, false, 0);
        _ctl(_i(0x06, T0, 0, 0x10), 0x80000000, 0, 0x1004, fwd, false, 0);
        _ctl(_i(0x06, T0, 0, 0x10), 1, 0, 0x1004, 0x1008, false, 0);
        // bgtz
        _ctl(_i(0x07, T0, 0, 0x10), 1, 0, 0x1004, fwd, false, 0);
        _ctl(_i(0x07, T0, 0, 0x10), 0, 0, 0x1004, 0x1008, false, 0);
        _ctl(_i(0x07, T0, 0, 0x10), 0xFFFFFFFF, 0, 0x1004, 0x1008, false, 0);
        // bltz / bgez
        _ctl(_i(0x01, T0, 0x00, 0x10), 0xFFFFFFFF, 0, 0x1004, fwd, false, 0);
        _ctl(_i(0x01, T0, 0x00, 0x10), 0, 0, 0x1004, 0x1008, false, 0);
        _ctl(_i(0x01, T0, 0x01, 0x10), 0, 0, 0x1004, fwd, false, 0);
        _ctl(_i(0x01, T0, 0x01, 0x10), 0x80000000, 0, 0x1004, 0x1008, false, 0);
    }

    function test_branchLikely() public {
        uint32 fwd = 0x1000 + 4 + 0x40;
        // taken: like a branch
        _ctl(_i(0x14, T0, T1, 0x10), 3, 3, 0x1004, fwd, false, 0); // beql
        _ctl(_i(0x15, T0, T1, 0x10), 3, 4, 0x1004, fwd, false, 0); // bnel
        _ctl(_i(0x16, T0, 0, 0x10), 0, 0, 0x1004, fwd, false, 0); // blezl
        _ctl(_i(0x17, T0, 0, 0x10), 1, 0, 0x1004, fwd, false, 0); // bgtzl
        _ctl(_i(0x01, T0, 0x02, 0x10), 0xFFFFFFFF, 0, 0x1004, fwd, false, 0); // bltzl
        _ctl(_i(0x01, T0, 0x03, 0x10), 0, 0, 0x1004, fwd, false, 0); // bgezl
        // not taken: the delay slot is skipped
        _ctl(_i(0x14, T0, T1, 0x10), 3, 4, 0x1008, 0x100C, false, 0);
        _ctl(_i(0x15, T0, T1, 0x10), 3, 3, 0x1008, 0x100C, false, 0);
        _ctl(_i(0x16, T0, 0, 0x10), 1, 0, 0x1008, 0x100C, false, 0);
        _ctl(_i(0x17, T0, 0, 0x10), 0, 0, 0x1008, 0x100C, false, 0);
        _ctl(_i(0x01, T0, 0x02, 0x10), 0, 0, 0x1008, 0x100C, false, 0);
        _ctl(_i(0x01, T0, 0x03, 0x10), 0xFFFFFFFF, 0, 0x1008, 0x100C, false, 0);
    }

    function test_blezBgtzWithNonZeroRtFault() public {
        _aluFault(_i(0x06, T0, T1, 0x10), 0, 0); // blez
        _aluFault(_i(0x07, T0, T1, 0x10), 1, 0); // bgtz
        _aluFault(_i(0x16, T0, 1, 0x10), 0, 0); // blezl
        _aluFault(_i(0x17, T0, 31, 0x10), 1, 0); // bgtzl
    }

    function test_branchAndLink() public {
        uint32 fwd = 0x1000 + 4 + 0x40;
        // the link is written whether or not the branch is taken
        _ctl(_i(0x01, T0, 0x10, 0x10), 0xFFFFFFFF, 0, 0x1004, fwd, true, 0x1008); // bltzal
        _ctl(_i(0x01, T0, 0x10, 0x10), 0, 0, 0x1004, 0x1008, true, 0x1008);
        _ctl(_i(0x01, T0, 0x11, 0x10), 0, 0, 0x1004, fwd, true, 0x1008); // bgezal
        _ctl(_i(0x01, 0, 0x11, 0x10), 0, 0, 0x1004, fwd, true, 0x1008); // bal
        _ctl(_i(0x01, T0, 0x11, 0x10), 0xFFFFFFFF, 0, 0x1004, 0x1008, true, 0x1008);
        _ctl(_i(0x01, T0, 0x12, 0x10), 0xFFFFFFFF, 0, 0x1004, fwd, true, 0x1008); // bltzall
        _ctl(_i(0x01, T0, 0x12, 0x10), 0, 0, 0x1008, 0x100C, true, 0x1008);
        _ctl(_i(0x01, T0, 0x13, 0x10), 0, 0, 0x1004, fwd, true, 0x1008); // bgezall
        _ctl(_i(0x01, T0, 0x13, 0x10), 0xFFFFFFFF, 0, 0x1008, 0x100C, true, 0x1008);
    }

    function test_bgezalReadsRsBeforeLink() public {
        // bgezal ra: the condition uses ra's old value (negative): not taken, ra = pc + 8
        VMState memory s = _state();
        s.regs[RA] = 0x80000000;
        bytes32 got = _exec(s, _i(0x01, RA, 0x11, 0x10));
        VMState memory e = _advanced(s);
        e.regs[RA] = 0x1008;
        _check(got, e);
    }

    function test_jumps() public {
        // j/jal: ((pc + 4) & 0xF0000000) | index << 2
        _ctl(_j(0x02, 0x0ABCDEF0), 0, 0, 0x1004, 0x0ABCDEF0, false, 0);
        _ctl(_j(0x03, 0x00002000), 0, 0, 0x1004, 0x2000, true, 0x1008);
        // jr / jalr
        _ctl(_r(0x08, T0, 0, 0, 0), 0x00400000, 0, 0x1004, 0x00400000, false, 0);
        _ctl(_r(0x09, T0, 0, RA, 0), 0x00400000, 0, 0x1004, 0x00400000, true, 0x1008);
    }

    function test_jumpRegionUsesPcPlus4() public {
        VMState memory s = _state();
        s.pc = 0x1FFFFFFC;
        s.nextPC = 0x20000000;
        bytes32 got = _exec(s, _j(0x02, 0x100));
        VMState memory e = _copy(s);
        e.step += 1;
        e.pc = 0x20000000;
        e.nextPC = 0x20000100;
        _check(got, e);
    }

    function test_jalrSameRegisterReadsTargetFirst() public {
        VMState memory s = _state();
        s.regs[T0] = 0x4000;
        bytes32 got = _exec(s, _r(0x09, T0, 0, T0, 0)); // jalr t0, t0
        VMState memory e = _copy(s);
        e.step += 1;
        e.pc = 0x1004;
        e.nextPC = 0x4000;
        e.regs[T0] = 0x1008;
        _check(got, e);
    }

    function test_misalignedJumpTargetFaultsWhenFetched() public {
        VMState memory s = _state();
        s.regs[T0] = 0x4002;
        bytes32 got = _exec(s, _r(0x08, T0, 0, 0, 0)); // jr t0: no fault yet
        VMState memory e = _copy(s);
        e.step += 1;
        e.pc = 0x1004;
        e.nextPC = 0x4002;
        _check(got, e);
        // the delay slot executes, then the target faults on fetch
        got = _exec(e, 0);
        VMState memory e2 = _advanced(e);
        _check(got, e2);
        assertEq(e2.pc, 0x4002);
        got = mips.step(_encode(e2), new bytes(1792), CONTEXT);
        _check(got, _faulted(e2));
    }

    /// @dev A branch in a delay slot: its target is relative to its own pc, and pc becomes
    ///      the old nextPC.
    function test_branchInDelaySlot() public {
        VMState memory s = _state();
        s.pc = 0x1000;
        s.nextPC = 0x3000; // a previous jump's target
        bytes32 got = _exec(s, _i(0x04, 0, 0, 0x0001)); // beq zero, zero, +1
        VMState memory e = _copy(s);
        e.step += 1;
        e.pc = 0x3000;
        e.nextPC = 0x1008;
        _check(got, e);
    }

    /// @dev An ordinary instruction in a delay slot continues at the branch target.
    function test_delaySlotContinuesAtTarget() public {
        VMState memory s = _state();
        s.pc = 0x1004;
        s.nextPC = 0x2000;
        s.regs[T0] = 1;
        s.regs[T1] = 2;
        bytes32 got = _exec(s, _rr(0x21));
        VMState memory e = _advanced(s);
        e.regs[T2] = 3;
        assertEq(e.pc, 0x2000);
        assertEq(e.nextPC, 0x2004);
        _check(got, e);
    }

    function test_pcWrapsAround() public {
        VMState memory s = _state();
        s.pc = 0xFFFFFFF8;
        s.nextPC = 0xFFFFFFFC;
        bytes32 got = _exec(s, 0);
        VMState memory e = _advanced(s);
        assertEq(e.nextPC, 0);
        _check(got, e);
    }

    /*//////////////////////////////////////////////////////////////
                              LOADS AND STORES
    //////////////////////////////////////////////////////////////*/

    uint32 constant DATA = 0x00200000;
    uint32 constant WORD = 0x8192A3B4;

    /// @dev Load `insn` (base t0 = DATA, offset imm) with t1 = rtOld; expects t1 = expected.
    function _load(uint32 insn, uint32 rtOld, uint32 expected) internal {
        _storeWord(DATA, WORD);
        _storeWord(DATA + 4, 0x11223344);
        VMState memory s = _state();
        s.regs[T0] = DATA;
        s.regs[T1] = rtOld;
        uint256 addr = DATA + (insn & 0xFFFF);
        bytes32 got = _exec(s, insn, addr);
        VMState memory e = _advanced(s);
        e.regs[T1] = expected;
        _check(got, e);
    }

    function test_loads() public {
        _load(_i(0x20, T0, T1, 0), 0, 0xFFFFFF81); // lb
        _load(_i(0x20, T0, T1, 1), 0, 0xFFFFFF92);
        _load(_i(0x20, T0, T1, 2), 0, 0xFFFFFFA3);
        _load(_i(0x20, T0, T1, 7), 0, 0x44);
        _load(_i(0x24, T0, T1, 0), 0, 0x81); // lbu
        _load(_i(0x24, T0, T1, 3), 0, 0xB4);
        _load(_i(0x21, T0, T1, 0), 0, 0xFFFF8192); // lh
        _load(_i(0x21, T0, T1, 2), 0, 0xFFFFA3B4);
        _load(_i(0x21, T0, T1, 4), 0, 0x1122);
        _load(_i(0x25, T0, T1, 0), 0, 0x8192); // lhu
        _load(_i(0x25, T0, T1, 6), 0, 0x3344);
        _load(_i(0x23, T0, T1, 0), 0, WORD); // lw
        _load(_i(0x23, T0, T1, 4), 0, 0x11223344);
        _load(_i(0x30, T0, T1, 0), 0, WORD); // ll
    }

    function test_loadNegativeOffset() public {
        _storeWord(DATA - 4, 0xCAFEBABE);
        VMState memory s = _state();
        s.regs[T0] = DATA;
        bytes32 got = _exec(s, _i(0x23, T0, T1, 0xFFFC), DATA - 4);
        VMState memory e = _advanced(s);
        e.regs[T1] = 0xCAFEBABE;
        _check(got, e);
    }

    /// @dev Byte-level reference of lwl/lwr (big-endian): byte i of a word is bits
    ///      [24 - 8i, 32 - 8i).
    function _byteOf(uint32 w, uint256 i) internal pure returns (uint256) {
        return (w >> (24 - 8 * i)) & 0xFF;
    }

    function _withByte(uint32 w, uint256 i, uint256 v) internal pure returns (uint32) {
        uint256 shift = 24 - 8 * i;
        return uint32((uint256(w) & ~(uint256(0xFF) << shift)) | (v << shift));
    }

    function _refLwl(uint32 mem, uint32 reg, uint256 b) internal pure returns (uint32 r) {
        r = reg;
        for (uint256 i = b; i < 4; i++) {
            r = _withByte(r, i - b, _byteOf(mem, i));
        }
    }

    function _refLwr(uint32 mem, uint32 reg, uint256 b) internal pure returns (uint32 r) {
        r = reg;
        for (uint256 i = 0; i <= b; i++) {
            r = _withByte(r, 3 - b + i, _byteOf(mem, i));
        }
    }

    function _refSwl(uint32 mem, uint32 reg, uint256 b) internal pure returns (uint32 m) {
        m = mem;
        for (uint256 i = b; i < 4; i++) {
            m = _withByte(m, i, _byteOf(reg, i - b));
        }
    }

    function _refSwr(uint32 mem, uint32 reg, uint256 b) internal pure returns (uint32 m) {
        m = mem;
        for (uint256 i = 0; i <= b; i++) {
            m = _withByte(m, i, _byteOf(reg, 3 - b + i));
        }
    }

    function test_lwlLwr() public {
        uint32 reg = 0xC1C2C3C4;
        for (uint256 b = 0; b < 4; b++) {
            _load(_i(0x22, T0, T1, b), reg, _refLwl(WORD, reg, b));
            _load(_i(0x26, T0, T1, b), reg, _refLwr(WORD, reg, b));
        }
        // spot checks of the references
        assertEq(_refLwl(WORD, reg, 1), 0x92A3B4C4);
        assertEq(_refLwr(WORD, reg, 1), 0xC1C28192);
    }

    /// @dev Store `insn` (base t0 = DATA) with t1 = value; expects memory word = expected.
    function _store(uint32 insn, uint32 value, uint32 expected) internal {
        _storeWord(DATA, WORD);
        _storeWord(DATA + 4, 0x11223344);
        VMState memory s = _state();
        s.regs[T0] = DATA;
        s.regs[T1] = value;
        uint256 addr = DATA + (insn & 0xFFFF);
        bytes32 got = _exec(s, insn, addr);
        VMState memory e = _advanced(s);
        if (insn >> 26 == 0x38) e.regs[T1] = 1; // sc
        _storeWord(addr & ~uint256(3), expected);
        _check(got, e);
    }

    function test_stores() public {
        _store(_i(0x28, T0, T1, 0), 0xAABBCCDD, 0xDD92A3B4); // sb
        _store(_i(0x28, T0, T1, 1), 0xAABBCCDD, 0x81DDA3B4);
        _store(_i(0x28, T0, T1, 3), 0xAABBCCDD, 0x8192A3DD);
        _store(_i(0x28, T0, T1, 6), 0xAABBCCDD, 0x1122DD44);
        _store(_i(0x29, T0, T1, 0), 0xAABBCCDD, 0xCCDDA3B4); // sh
        _store(_i(0x29, T0, T1, 2), 0xAABBCCDD, 0x8192CCDD);
        _store(_i(0x2B, T0, T1, 0), 0xAABBCCDD, 0xAABBCCDD); // sw
        _store(_i(0x2B, T0, T1, 4), 0xAABBCCDD, 0xAABBCCDD);
        _store(_i(0x38, T0, T1, 0), 0xAABBCCDD, 0xAABBCCDD); // sc
    }

    function test_swlSwr() public {
        uint32 reg = 0xC1C2C3C4;
        for (uint256 b = 0; b < 4; b++) {
            _store(_i(0x2A, T0, T1, b), reg, _refSwl(WORD, reg, b));
            _store(_i(0x2E, T0, T1, b), reg, _refSwr(WORD, reg, b));
        }
        assertEq(_refSwl(WORD, reg, 1), 0x81C1C2C3);
        assertEq(_refSwr(WORD, reg, 1), 0xC3C4A3B4);
    }

    function test_storeIntoTheInstructionLeaf() public {
        // The data word shares the instruction's 32-byte leaf; both proofs are against the
        // pre-state root and the new root replaces only the data word.
        VMState memory s = _state();
        s.regs[T0] = s.pc + 8;
        s.regs[T1] = 0x01020304;
        _storeWord(s.pc + 4, 0x77777777);
        bytes32 got = _exec(s, _i(0x2B, T0, T1, 0), s.pc + 8);
        VMState memory e = _advanced(s);
        _storeWord(s.pc + 8, 0x01020304);
        _check(got, e);
    }

    function test_storeOverwritesItsOwnInstruction() public {
        VMState memory s = _state();
        s.regs[T0] = s.pc;
        s.regs[T1] = 0;
        bytes32 got = _exec(s, _i(0x2B, T0, T1, 0), s.pc);
        VMState memory e = _advanced(s);
        _storeWord(s.pc, 0);
        _check(got, e);
    }

    function test_misalignedAccessFaults() public {
        uint32[8] memory bad = [
            _i(0x21, T0, T1, 1), // lh
            _i(0x25, T0, T1, 3), // lhu
            _i(0x29, T0, T1, 1), // sh
            _i(0x23, T0, T1, 2), // lw
            _i(0x2B, T0, T1, 1), // sw
            _i(0x30, T0, T1, 3), // ll
            _i(0x38, T0, T1, 2), // sc
            _i(0x23, T0, T1, 0xFFFF) // lw -1
        ];
        for (uint256 i = 0; i < bad.length; i++) {
            // No data word is read: the data proof is all zero.
            _aluFault(bad[i], DATA, 0x12345678);
        }
    }

    /*//////////////////////////////////////////////////////////////
                            PROOF TAMPERING
    //////////////////////////////////////////////////////////////*/

    function _loadStep() internal returns (bytes memory st, bytes memory pf) {
        _storeWord(DATA, WORD);
        _storeWord(0x7FFF0000, 1);
        VMState memory s = _state();
        s.regs[T0] = DATA;
        _storeWord(s.pc, _i(0x23, T0, T1, 0));
        s.memRoot = _memRoot();
        st = _encode(s);
        pf = _proofs(s, true, DATA);
        mips.step(st, pf, CONTEXT); // valid
    }

    function test_tamperedInstructionProofReverts() public {
        (bytes memory st, bytes memory pf) = _loadStep();
        pf[3] ^= 0x01; // the instruction's leaf
        vm.expectRevert(MIPS.InvalidMemoryProof.selector);
        mips.step(st, pf, CONTEXT);
        pf[3] ^= 0x01;
        pf[32 * 27 + 5] ^= 0x80; // the top sibling
        vm.expectRevert(MIPS.InvalidMemoryProof.selector);
        mips.step(st, pf, CONTEXT);
    }

    function test_tamperedDataProofReverts() public {
        (bytes memory st, bytes memory pf) = _loadStep();
        pf[896] ^= 0x01; // the data leaf
        vm.expectRevert(MIPS.InvalidMemoryProof.selector);
        mips.step(st, pf, CONTEXT);
    }

    function test_wrongMemRootReverts() public {
        (bytes memory st,) = _loadStep();
        VMState memory s = _state();
        s.regs[T0] = DATA;
        bytes memory pf = _proofs(s, true, DATA);
        st[0] ^= 0x01;
        vm.expectRevert(MIPS.InvalidMemoryProof.selector);
        mips.step(st, pf, CONTEXT);
    }

    /// @dev Any change to either proof of a load changes the computed root.
    function testFuzz_corruptedProofReverts(uint256 pos, uint8 flip) public {
        vm.assume(flip != 0);
        (bytes memory st, bytes memory pf) = _loadStep();
        pos = bound(pos, 0, pf.length - 1);
        pf[pos] ^= bytes1(flip);
        vm.expectRevert(MIPS.InvalidMemoryProof.selector);
        mips.step(st, pf, CONTEXT);
    }

    /// @dev A store's data proof must be valid too (the old leaf is checked before the write).
    function testFuzz_corruptedStoreProofReverts(uint256 pos, uint8 flip) public {
        vm.assume(flip != 0);
        _storeWord(DATA, WORD);
        VMState memory s = _state();
        s.regs[T0] = DATA;
        s.regs[T1] = 7;
        _storeWord(s.pc, _i(0x2B, T0, T1, 0));
        s.memRoot = _memRoot();
        bytes memory pf = _proofs(s, true, DATA);
        pos = bound(pos, 896, pf.length - 1);
        pf[pos] ^= bytes1(flip);
        vm.expectRevert(MIPS.InvalidMemoryProof.selector);
        mips.step(_encode(s), pf, CONTEXT);
    }

    /*//////////////////////////////////////////////////////////////
                         FUZZ: ALU VS REFERENCE
    //////////////////////////////////////////////////////////////*/

    function _s(uint32 v) internal pure returns (int64) {
        return int64(int32(v));
    }

    function testFuzz_aluRType(uint32 a, uint32 b, uint8 sel) public {
        uint256[13] memory functs =
            [uint256(0x21), 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x04, 0x06, 0x07, 0x20, 0x22];
        uint256 f = functs[sel % functs.length];
        uint32 insn = _r(f, T0, T1, T2, 0);
        uint32 expected;
        unchecked {
            if (f == 0x21) {
                expected = a + b;
            } else if (f == 0x23) {
                expected = a - b;
            } else if (f == 0x24) {
                expected = a & b;
            } else if (f == 0x25) {
                expected = a | b;
            } else if (f == 0x26) {
                expected = a ^ b;
            } else if (f == 0x27) {
                expected = ~(a | b);
            } else if (f == 0x2A) {
                expected = int32(a) < int32(b) ? 1 : 0;
            } else if (f == 0x2B) {
                expected = a < b ? 1 : 0;
            } else if (f == 0x04) {
                expected = b << (a & 31);
            } else if (f == 0x06) {
                expected = b >> (a & 31);
            } else if (f == 0x07) {
                expected = uint32(int32(b) >> (a & 31));
            } else {
                int64 r = f == 0x20 ? _s(a) + _s(b) : _s(a) - _s(b);
                if (r != int64(int32(r))) return _aluFault(insn, a, b);
                expected = uint32(uint64(r));
            }
        }
        _alu(insn, a, b, T2, expected);
    }

    function testFuzz_aluImmediate(uint32 a, uint16 imm, uint8 sel) public {
        uint256 op = 0x08 + (sel % 8);
        uint32 se = uint32(int32(int16(imm)));
        uint32 insn = _i(op, T0, T2, imm);
        uint32 expected;
        if (op == 0x08) {
            int64 r = _s(a) + _s(se);
            if (r != int64(int32(r))) return _aluFault(insn, a, 0);
            expected = uint32(uint64(r));
        } else if (op == 0x09) {
            unchecked {
                expected = a + se;
            }
        } else if (op == 0x0A) {
            expected = int32(a) < int16(imm) ? 1 : 0;
        } else if (op == 0x0B) {
            expected = a < se ? 1 : 0;
        } else if (op == 0x0C) {
            expected = a & imm;
        } else if (op == 0x0D) {
            expected = a | imm;
        } else if (op == 0x0E) {
            expected = a ^ imm;
        } else {
            expected = uint32(imm) << 16;
        }
        _alu(insn, a, 0, T2, expected);
    }

    function testFuzz_shiftImmediate(uint32 b, uint8 sa, uint8 sel) public {
        sa %= 32;
        uint256 f = [uint256(0x00), 0x02, 0x03][sel % 3];
        uint32 expected = f == 0x00 ? b << sa : f == 0x02 ? b >> sa : uint32(int32(b) >> sa);
        _alu(_r(f, 0, T1, T2, sa), 0, b, T2, expected);
    }

    function testFuzz_multDiv(uint32 a, uint32 b, uint8 sel) public {
        uint256 f = 0x18 + (sel % 4);
        uint32 hi;
        uint32 lo;
        if (f == 0x18) {
            uint64 p = uint64(int64(int32(a)) * int64(int32(b)));
            (hi, lo) = (uint32(p >> 32), uint32(p));
        } else if (f == 0x19) {
            uint64 p = uint64(a) * uint64(b);
            (hi, lo) = (uint32(p >> 32), uint32(p));
        } else if (b == 0) {
            return _aluFault(_r(f, T0, T1, 0, 0), a, b);
        } else if (f == 0x1A) {
            int64 q = _s(a) / _s(b); // in 64 bits: no overflow for -2^31 / -1
            int64 r = _s(a) % _s(b);
            (hi, lo) = (uint32(uint64(r)), uint32(uint64(q)));
        } else {
            (hi, lo) = (a % b, a / b);
        }
        _hilo(_r(f, T0, T1, 0, 0), a, b, 0x1111, 0x2222, hi, lo, 0, 0);
    }

    function testFuzz_maddMsub(uint32 a, uint32 b, uint32 hi, uint32 lo, uint8 sel) public {
        uint256 f = [uint256(0x00), 0x01, 0x04, 0x05][sel % 4];
        uint64 acc = (uint64(hi) << 32) | lo;
        uint64 prod = f == 0x00 || f == 0x04
            ? uint64(int64(int32(a)) * int64(int32(b)))
            : uint64(a) * uint64(b);
        uint64 r;
        unchecked {
            r = f < 0x04 ? acc + prod : acc - prod;
        }
        _hilo(_special2(f, T0, T1, 0), a, b, hi, lo, uint32(r >> 32), uint32(r), 0, 0);
    }

    function testFuzz_clzClo(uint32 a) public {
        uint32 z;
        while (z < 32 && (a >> (31 - z)) & 1 == 0) z++;
        uint32 o;
        while (o < 32 && (a >> (31 - o)) & 1 == 1) o++;
        _alu(_special2(0x20, T0, 0, T2), a, 0, T2, z);
        _alu(_special2(0x21, T0, 0, T2), a, 0, T2, o);
    }

    function testFuzz_partialWordAccess(uint32 mem, uint32 reg, uint8 b) public {
        b %= 4;
        _storeWord(DATA, mem);
        _storeWord(DATA + 4, mem);
        // lwl / lwr against the byte-level reference
        _loadWith(_i(0x22, T0, T1, b), reg, _refLwl(mem, reg, b));
        _loadWith(_i(0x26, T0, T1, b), reg, _refLwr(mem, reg, b));
        _storeWith(_i(0x2A, T0, T1, b), mem, reg, _refSwl(mem, reg, b));
        _storeWith(_i(0x2E, T0, T1, b), mem, reg, _refSwr(mem, reg, b));
    }

    function _loadWith(uint32 insn, uint32 rtOld, uint32 expected) internal {
        VMState memory s = _state();
        s.regs[T0] = DATA;
        s.regs[T1] = rtOld;
        bytes32 got = _exec(s, insn, DATA + (insn & 0xFFFF));
        VMState memory e = _advanced(s);
        e.regs[T1] = expected;
        _check(got, e);
    }

    function _storeWith(uint32 insn, uint32 mem, uint32 value, uint32 expected) internal {
        _storeWord(DATA, mem);
        VMState memory s = _state();
        s.regs[T0] = DATA;
        s.regs[T1] = value;
        bytes32 got = _exec(s, insn, DATA);
        VMState memory e = _advanced(s);
        _storeWord(DATA, expected);
        _check(got, e);
    }
}
