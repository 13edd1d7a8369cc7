// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPreimageOracle} from "./interfaces/IPreimageOracle.sol";
import {PreimageKeyLib} from "./PreimageKeyLib.sol";
import {FPU32} from "./FPU32.sol";

/// @title MIPS
/// @notice Executes exactly one instruction of the opml fraud-proof VM: a big-endian MIPS32
///         release 1 machine with exact branch delay slots and a binary32 floating-point unit
///         (COP1, FR = 0), in Optimism Cannon's single-threaded formats extended by the FPU's
///         registers. docs/VM.md is the specification; the TypeScript VM
///         (core/vm) implements the same semantics off chain.
/// @dev Layout of `step`'s inputs:
///      - `stateData`: the 358-byte packed state (docs/VM.md, "State");
///      - `proof`: 1792 bytes, two 896-byte memory proofs (the 32-byte leaf, then 27 siblings
///        from the bottom up): proof 0 for the instruction word at `pc`, proof 1 for the data
///        word (all zero, and ignored, when the step reads no data word). Both are checked
///        against the pre-state's memRoot; a write recomputes the root with proof 1's siblings.
///      - `localContext`: binds local preimage keys to the dispute (see PreimageKeyLib.localize;
///        the binding also uses `msg.sender`, so the dispute game must call `step` itself).
///      The state is copied once into memory at `STATE_PTR`, updated in place, and hashed from
///      there. Fields are read and written with the `_load*`/`_store*` helpers.
contract MIPS {
    /// @notice `stateData` is not 358 bytes.
    error InvalidStateLength();
    /// @notice `proof` is not 1792 bytes.
    error InvalidProofLength();
    /// @notice The state's `exited` byte is neither 0 nor 1.
    error InvalidExitedFlag();
    /// @notice The state's register r0 is not zero.
    error InvalidRegisterZero();
    /// @notice A memory proof does not lead to the state's memRoot.
    error InvalidMemoryProof();

    /// @notice Size of the packed state.
    uint256 internal constant STATE_SIZE = 358;
    /// @notice Size of one memory proof: leaf and 27 siblings.
    uint256 internal constant MEM_PROOF_SIZE = 896;
    /// @notice Size of the step proof: instruction proof and data proof.
    uint256 internal constant PROOF_SIZE = 1792;

    /// @notice The program break returned by brk.
    uint256 internal constant BRK_START = 0x40000000;

    // Syscall numbers (Linux o32).
    uint256 internal constant SYS_READ = 4003;
    uint256 internal constant SYS_WRITE = 4004;
    uint256 internal constant SYS_BRK = 4045;
    uint256 internal constant SYS_FCNTL = 4055;
    uint256 internal constant SYS_MMAP = 4090;
    uint256 internal constant SYS_CLONE = 4120;
    uint256 internal constant SYS_EXIT_GROUP = 4246;

    // File descriptors.
    uint256 internal constant FD_STDIN = 0;
    uint256 internal constant FD_STDOUT = 1;
    uint256 internal constant FD_STDERR = 2;
    uint256 internal constant FD_HINT_READ = 3;
    uint256 internal constant FD_HINT_WRITE = 4;
    uint256 internal constant FD_PREIMAGE_READ = 5;
    uint256 internal constant FD_PREIMAGE_WRITE = 6;
    uint256 internal constant FD_PREIMAGE_READ_LE = 7;

    // Errors (Linux o32 convention: v0 = errno, a3 = 1).
    uint256 internal constant EBADF = 9;
    uint256 internal constant EINVAL = 22;

    uint256 private constant MASK32 = 0xFFFFFFFF;

    /// @notice The FCSR bits a step keeps: the condition codes FCC0 (23) and FCC1..7 (25..31).
    uint256 private constant FCC_MASK = 0xFE800000;
    /// @notice FCSR bits that make `ctc1` fault: rounding mode, exception enables, FS.
    uint256 private constant CTC1_FAULT_BITS = 0x01000F83;

    // Memory addresses of the state's fields: the packed state is copied to STATE_PTR (the
    // initial free memory pointer) and the free memory pointer moved 384 bytes past it.
    uint256 private constant STATE_PTR = 0x80;
    uint256 private constant S_MEM_ROOT = 0x80; // 32 bytes
    uint256 private constant S_PREIMAGE_KEY = 0xa0; // 32 bytes
    uint256 private constant S_PREIMAGE_OFFSET = 0xc0; // 4 bytes
    uint256 private constant S_PC = 0xc4; // 4 bytes
    uint256 private constant S_NEXT_PC = 0xc8; // 4 bytes
    uint256 private constant S_LO = 0xcc; // 4 bytes
    uint256 private constant S_HI = 0xd0; // 4 bytes
    uint256 private constant S_HEAP = 0xd4; // 4 bytes
    uint256 private constant S_EXIT_CODE = 0xd8; // 1 byte
    uint256 private constant S_EXITED = 0xd9; // 1 byte
    uint256 private constant S_STEP = 0xda; // 8 bytes
    uint256 private constant S_REGISTERS = 0xe2; // 32 x 4 bytes
    uint256 private constant S_FPR = 0x162; // 32 x 4 bytes: f0..f31
    uint256 private constant S_FCSR = 0x1e2; // 4 bytes

    /// @notice The preimage oracle read by the preimage syscalls.
    IPreimageOracle public immutable oracle;

    /// @param oracle_ The preimage oracle.
    constructor(IPreimageOracle oracle_) {
        oracle = oracle_;
    }

    /*//////////////////////////////////////////////////////////////
                                  STEP
    //////////////////////////////////////////////////////////////*/

    /// @notice Executes one step of the VM (docs/VM.md, "One step").
    /// @param stateData    The 358-byte packed pre-state.
    /// @param proof        The two memory proofs (1792 bytes) against the pre-state's memRoot.
    /// @param localContext The dispute's context for local preimage keys.
    /// @return postStateHash The post-state hash: keccak256 of the packed post-state with its
    ///         first byte replaced by the VM status (0 valid, 1 invalid, 2 panic, 3 unfinished).
    function step(bytes calldata stateData, bytes calldata proof, bytes32 localContext)
        external
        view
        returns (bytes32 postStateHash)
    {
        if (stateData.length != STATE_SIZE) revert InvalidStateLength();
        if (proof.length != PROOF_SIZE) revert InvalidProofLength();
        uint256 exited;
        uint256 r0;
        uint256 proofOffset;
        assembly {
            proofOffset := proof.offset
            // Solidity has not used memory yet: the free memory pointer is STATE_PTR.
            calldatacopy(STATE_PTR, stateData.offset, STATE_SIZE)
            mstore(0x40, add(STATE_PTR, 0x180))
            exited := byte(0, mload(S_EXITED))
            r0 := shr(224, mload(S_REGISTERS))
        }
        if (exited > 1) revert InvalidExitedFlag();
        if (r0 != 0) revert InvalidRegisterZero();
        // An exited state is returned unchanged.
        if (exited == 0) _execute(proofOffset, localContext);
        postStateHash = _stateHash();
    }

    /*//////////////////////////////////////////////////////////////
                          FETCH, DECODE, EXECUTE
    //////////////////////////////////////////////////////////////*/

    /// @dev Executes the instruction at pc on the in-memory state.
    function _execute(uint256 proofOffset, bytes32 localContext) private view {
        unchecked {
            _store64(S_STEP, _load64(S_STEP) + 1);
            uint256 pc = _load32(S_PC);
            if (pc & 3 != 0) return _fault();
            uint256 insn = _readMem(proofOffset, pc);
            uint256 nextPC = _load32(S_NEXT_PC);
            uint256 opcode = insn >> 26;

            // j, jal
            if (opcode == 0x02 || opcode == 0x03) {
                if (opcode == 0x03) _setReg(31, pc + 8);
                return _transfer(nextPC, ((pc + 4) & 0xF0000000) | ((insn & 0x03FFFFFF) << 2));
            }

            uint256 rs = _reg((insn >> 21) & 31);
            uint256 rtReg = (insn >> 16) & 31;
            uint256 rt = _reg(rtReg);

            if (opcode == 0x00) {
                return _special(insn, pc, nextPC, rs, rt, proofOffset, localContext);
            }
            if (opcode == 0x01) return _regimm(insn, pc, nextPC, rs, rtReg);
            if (opcode < 0x08 || (opcode >= 0x14 && opcode < 0x18)) {
                // beq bne blez bgtz (04-07), beql bnel blezl bgtzl (14-17)
                uint256 cond = opcode & 3;
                // blez bgtz blezl bgtzl need rt = 0
                if (cond >= 2 && rtReg != 0) return _fault();
                bool taken;
                if (cond == 0) taken = rs == rt;
                else if (cond == 1) taken = rs != rt;
                else if (cond == 2) taken = !_slt(0, rs);
                else taken = _slt(0, rs);
                return _branch(insn, pc, nextPC, taken, opcode >= 0x14);
            }
            if (opcode < 0x10) return _immediate(opcode, insn, nextPC, rs, rtReg);
            if (opcode == 0x1C) return _special2(insn, nextPC, rs, rt);
            if (opcode == 0x11) return _cop1(insn, pc, nextPC, rtReg);
            if (opcode >= 0x20) {
                return _loadStore(opcode, insn, nextPC, rs, rtReg, rt, proofOffset);
            }
            // Coprocessors 0, 2, 3 (10, 12, 13), 18-1B, jalx (1D), SPECIAL3 (1F: ext, ins, seb...), ...
            return _fault();
        }
    }

    /// @dev SPECIAL (opcode 0), by funct.
    function _special(
        uint256 insn,
        uint256 pc,
        uint256 nextPC,
        uint256 rs,
        uint256 rt,
        uint256 proofOffset,
        bytes32 localContext
    ) private view {
        unchecked {
            uint256 funct = insn & 0x3F;
            uint256 rd = (insn >> 11) & 31;
            uint256 val;
            if (funct < 0x08) {
                uint256 sa = (insn >> 6) & 31;
                if (funct == 0x00) {
                    val = (rt << sa) & MASK32; // sll
                } else if (funct == 0x01) {
                    // movf, movt: move if FPU condition code cc equals tf
                    if (_fcc((insn >> 18) & 7) == (insn >> 16) & 1) _setReg(rd, rs);
                    return _advance(nextPC);
                } else if (funct == 0x02) {
                    // srl: the rs field must be 0 (1 is MIPS32r2 rotr, the rest reserved)
                    if ((insn >> 21) & 31 != 0) return _fault();
                    val = rt >> sa;
                } else if (funct == 0x03) {
                    val = _sra(rt, sa); // sra
                } else if (funct == 0x04) {
                    val = (rt << (rs & 31)) & MASK32; // sllv
                } else if (funct == 0x06) {
                    // srlv: the sa field must be 0 (1 is MIPS32r2 rotrv, the rest reserved)
                    if (sa != 0) return _fault();
                    val = rt >> (rs & 31);
                } else if (funct == 0x07) {
                    val = _sra(rt, rs & 31); // srav
                } else {
                    return _fault();
                }
            } else if (funct < 0x10) {
                if (funct == 0x08) return _transfer(nextPC, rs); // jr
                if (funct == 0x09) {
                    // jalr: the target is read before the link is written
                    _setReg(rd, pc + 8);
                    return _transfer(nextPC, rs);
                }
                if (funct == 0x0A) {
                    if (rt == 0) _setReg(rd, rs); // movz
                    return _advance(nextPC);
                }
                if (funct == 0x0B) {
                    if (rt != 0) _setReg(rd, rs); // movn
                    return _advance(nextPC);
                }
                if (funct == 0x0C) return _syscall(nextPC, proofOffset, localContext);
                if (funct == 0x0F) return _advance(nextPC); // sync
                return _fault(); // break (0D), reserved
            } else if (funct < 0x20) {
                if (funct == 0x10) {
                    val = _load32(S_HI); // mfhi
                } else if (funct == 0x12) {
                    val = _load32(S_LO); // mflo
                } else {
                    if (funct == 0x11) {
                        _store32(S_HI, rs); // mthi
                    } else if (funct == 0x13) {
                        _store32(S_LO, rs); // mtlo
                    } else if (funct == 0x18) {
                        _setHiLo(_smul(rs, rt)); // mult
                    } else if (funct == 0x19) {
                        _setHiLo(rs * rt); // multu
                    } else if (funct == 0x1A) {
                        // div: 0x80000000 / -1 gives lo = 0x80000000, hi = 0
                        if (rt == 0) return _fault();
                        (uint256 q, uint256 r) = _sdivmod(rs, rt);
                        _store32(S_LO, q);
                        _store32(S_HI, r);
                    } else if (funct == 0x1B) {
                        if (rt == 0) return _fault(); // divu
                        _store32(S_LO, rs / rt);
                        _store32(S_HI, rs % rt);
                    } else {
                        return _fault();
                    }
                    return _advance(nextPC);
                }
            } else if (funct < 0x30) {
                if (funct == 0x20 || funct == 0x22) {
                    // add, sub: fault on signed overflow
                    bool overflow;
                    (val, overflow) = funct == 0x20 ? _addSigned(rs, rt) : _subSigned(rs, rt);
                    if (overflow) return _fault();
                } else if (funct == 0x21) {
                    val = (rs + rt) & MASK32; // addu
                } else if (funct == 0x23) {
                    val = (rs - rt) & MASK32; // subu
                } else if (funct == 0x24) {
                    val = rs & rt; // and
                } else if (funct == 0x25) {
                    val = rs | rt; // or
                } else if (funct == 0x26) {
                    val = rs ^ rt; // xor
                } else if (funct == 0x27) {
                    val = ~(rs | rt) & MASK32; // nor
                } else if (funct == 0x2A) {
                    val = _slt(rs, rt) ? 1 : 0; // slt
                } else if (funct == 0x2B) {
                    val = rs < rt ? 1 : 0; // sltu
                } else {
                    return _fault();
                }
            } else {
                // traps: tge tgeu tlt tltu teq tne
                bool trap;
                if (funct == 0x30) trap = !_slt(rs, rt);
                else if (funct == 0x31) trap = rs >= rt;
                else if (funct == 0x32) trap = _slt(rs, rt);
                else if (funct == 0x33) trap = rs < rt;
                else if (funct == 0x34) trap = rs == rt;
                else if (funct == 0x36) trap = rs != rt;
                else return _fault();
                if (trap) return _fault();
                return _advance(nextPC);
            }
            _setReg(rd, val);
            _advance(nextPC);
        }
    }

    /// @dev REGIMM (opcode 1), by rt.
    function _regimm(uint256 insn, uint256 pc, uint256 nextPC, uint256 rs, uint256 rtField)
        private
        pure
    {
        unchecked {
            if (rtField & 0x0C == 0x00) {
                // bltz bgez bltzl bgezl (00-03), bltzal bgezal bltzall bgezall (10-13)
                if (rtField & 0x10 != 0) _setReg(31, pc + 8); // link whether or not taken
                bool taken = _slt(rs, 0) == (rtField & 1 == 0);
                return _branch(insn, pc, nextPC, taken, rtField & 2 != 0);
            }
            if (rtField & 0x18 == 0x08) {
                // tgei tgeiu tlti tltiu teqi tnei (08-0E): se(imm), unsigned forms compare it
                // as a 32-bit unsigned number
                uint256 imm = _se16(insn);
                bool trap;
                if (rtField == 0x08) trap = !_slt(rs, imm);
                else if (rtField == 0x09) trap = rs >= imm;
                else if (rtField == 0x0A) trap = _slt(rs, imm);
                else if (rtField == 0x0B) trap = rs < imm;
                else if (rtField == 0x0C) trap = rs == imm;
                else if (rtField == 0x0E) trap = rs != imm;
                else return _fault();
                if (trap) return _fault();
                return _advance(nextPC);
            }
            _fault();
        }
    }

    /// @dev Immediate ALU (opcodes 08-0F): rt = rs op imm.
    function _immediate(uint256 opcode, uint256 insn, uint256 nextPC, uint256 rs, uint256 rtReg)
        private
        pure
    {
        unchecked {
            uint256 imm = insn & 0xFFFF;
            uint256 simm = _se16(imm);
            uint256 val;
            if (opcode == 0x08) {
                // addi: fault on signed overflow
                bool overflow;
                (val, overflow) = _addSigned(rs, simm);
                if (overflow) return _fault();
            } else if (opcode == 0x09) {
                val = (rs + simm) & MASK32; // addiu
            } else if (opcode == 0x0A) {
                val = _slt(rs, simm) ? 1 : 0; // slti
            } else if (opcode == 0x0B) {
                val = rs < simm ? 1 : 0; // sltiu
            } else if (opcode == 0x0C) {
                val = rs & imm; // andi
            } else if (opcode == 0x0D) {
                val = rs | imm; // ori
            } else if (opcode == 0x0E) {
                val = rs ^ imm; // xori
            } else {
                val = imm << 16; // lui
            }
            _setReg(rtReg, val);
            _advance(nextPC);
        }
    }

    /// @dev SPECIAL2 (opcode 0x1C), by funct.
    function _special2(uint256 insn, uint256 nextPC, uint256 rs, uint256 rt) private pure {
        unchecked {
            uint256 funct = insn & 0x3F;
            if (funct == 0x02) {
                _setReg((insn >> 11) & 31, (rs * rt) & MASK32); // mul
            } else if (funct == 0x20) {
                _setReg((insn >> 11) & 31, _clz32(rs)); // clz
            } else if (funct == 0x21) {
                _setReg((insn >> 11) & 31, _clz32(~rs & MASK32)); // clo
            } else if (funct == 0x00 || funct == 0x01 || funct == 0x04 || funct == 0x05) {
                // madd maddu msub msubu: {hi, lo} +/-= rs * rt (mod 2^64)
                uint256 acc = (_load32(S_HI) << 32) | _load32(S_LO);
                uint256 prod = funct & 1 == 0 ? _smul(rs, rt) : rs * rt;
                _setHiLo(funct < 0x04 ? acc + prod : acc - prod);
            } else {
                return _fault();
            }
            _advance(nextPC);
        }
    }

    /// @dev Loads and stores (opcodes 20-3F): the data word is proof 1.
    function _loadStore(
        uint256 opcode,
        uint256 insn,
        uint256 nextPC,
        uint256 rs,
        uint256 rtReg,
        uint256 rt,
        uint256 proofOffset
    ) private pure {
        unchecked {
            uint256 addr = (rs + _se16(insn)) & MASK32;
            if (opcode == 0x21 || opcode == 0x25 || opcode == 0x29) {
                if (addr & 1 != 0) return _fault(); // lh lhu sh
            } else if (
                opcode == 0x23 || opcode == 0x2B || opcode == 0x30 || opcode == 0x38
                    || opcode == 0x31 || opcode == 0x39
            ) {
                if (addr & 3 != 0) return _fault(); // lw sw ll sc lwc1 swc1
            } else if (opcode == 0x33) {
                return _advance(nextPC); // pref
            } else if (
                opcode != 0x20 && opcode != 0x22 && opcode != 0x24 && opcode != 0x26
                    && opcode != 0x28 && opcode != 0x2A && opcode != 0x2E
            ) {
                return _fault();
            }
            uint256 wordAddr = addr & 0xFFFFFFFC;
            uint256 proof1 = proofOffset + MEM_PROOF_SIZE;
            uint256 mem = _readMem(proof1, wordAddr);
            if (opcode == 0x31) {
                _setFpr(rtReg, mem); // lwc1
                return _advance(nextPC);
            }
            if (opcode == 0x39) {
                _writeMem(proof1, wordAddr, _fpr(rtReg)); // swc1
                return _advance(nextPC);
            }
            // Big-endian: the byte at addr is bits [shift, shift + 8) of the word.
            uint256 shift = (3 - (addr & 3)) << 3;
            if (opcode < 0x28 || opcode == 0x30) {
                uint256 val;
                if (opcode == 0x20) {
                    val = _se8(mem >> shift); // lb
                } else if (opcode == 0x21) {
                    val = _se16(mem >> (shift - 8)); // lh
                } else if (opcode == 0x22) {
                    // lwl: bytes addr..end of word into the high bytes of rt
                    uint256 s = 24 - shift;
                    val = ((mem << s) & MASK32) | (rt & _ones(s));
                } else if (opcode == 0x24) {
                    val = (mem >> shift) & 0xFF; // lbu
                } else if (opcode == 0x25) {
                    val = (mem >> (shift - 8)) & 0xFFFF; // lhu
                } else if (opcode == 0x26) {
                    // lwr: bytes start of word..addr into the low bytes of rt
                    val = (mem >> shift) | (rt & ~(MASK32 >> shift) & MASK32);
                } else {
                    val = mem; // lw ll
                }
                _setReg(rtReg, val);
            } else {
                if (opcode == 0x28) {
                    mem = (mem & ~(_ones(8) << shift)) | ((rt & 0xFF) << shift); // sb
                } else if (opcode == 0x29) {
                    mem = (mem & ~(_ones(16) << (shift - 8))) | ((rt & 0xFFFF) << (shift - 8)); // sh
                } else if (opcode == 0x2A) {
                    // swl: the high bytes of rt into addr..end of word
                    uint256 s = 24 - shift;
                    mem = (rt >> s) | (mem & ~(MASK32 >> s) & MASK32);
                } else if (opcode == 0x2E) {
                    // swr: the low bytes of rt into start of word..addr
                    mem = ((rt << shift) & MASK32) | (mem & _ones(shift));
                } else {
                    mem = rt; // sw sc
                    if (opcode == 0x38) _setReg(rtReg, 1); // sc always succeeds
                }
                _writeMem(proof1, wordAddr, mem & MASK32);
            }
            _advance(nextPC);
        }
    }

    /*//////////////////////////////////////////////////////////////
                          FLOATING POINT (COP1)
    //////////////////////////////////////////////////////////////*/

    /// @dev COP1 (opcode 0x11), by fmt: moves, FCSR, bc1 branches, fmt S and W.
    function _cop1(uint256 insn, uint256 pc, uint256 nextPC, uint256 rtReg) private pure {
        unchecked {
            uint256 fmt = (insn >> 21) & 31;
            uint256 fs = (insn >> 11) & 31;
            if (fmt == 8) {
                // bc1f bc1t (tf = bit 16), likely forms (nd = bit 17), condition code bits 18-20
                bool taken = _fcc((insn >> 18) & 7) == (insn >> 16) & 1;
                return _branch(insn, pc, nextPC, taken, (insn >> 17) & 1 != 0);
            }
            if (fmt == 0) {
                _setReg(rtReg, _fpr(fs)); // mfc1
            } else if (fmt == 2) {
                if (fs != 31) return _fault(); // cfc1: only FCSR
                _setReg(rtReg, _load32(S_FCSR));
            } else if (fmt == 4) {
                _setFpr(fs, _reg(rtReg)); // mtc1
            } else if (fmt == 6) {
                // ctc1: only FCSR, only round to nearest with no exception enabled; the VM keeps
                // the condition codes
                uint256 v = _reg(rtReg);
                if (fs != 31 || v & CTC1_FAULT_BITS != 0) return _fault();
                _store32(S_FCSR, v & FCC_MASK);
            } else if (fmt == 16) {
                if (!_single(insn, rtReg, fs)) return _fault();
            } else if (fmt == 20 && insn & 63 == 0x20) {
                _setFpr((insn >> 6) & 31, FPU32.fromInt(_fpr(fs))); // cvt.s.w
            } else {
                return _fault(); // double precision, L, PS, reserved
            }
            _advance(nextPC);
        }
    }

    /// @dev A fmt S instruction; false if the VM does not implement it (a fault).
    function _single(uint256 insn, uint256 ft, uint256 fs) private pure returns (bool) {
        unchecked {
            uint256 funct = insn & 63;
            uint256 a = _fpr(fs);
            if (funct >= 0x30) {
                // c.cond.s: sets condition code cc (bits 8-10)
                uint256 bit = _fccBit((insn >> 8) & 7);
                // forge-lint: disable-next-line(incorrect-shift)
                uint256 fcsr = _load32(S_FCSR) & ~(1 << bit) & MASK32;
                // forge-lint: disable-next-line(incorrect-shift)
                if (FPU32.compare(a, _fpr(ft), funct & 15)) fcsr |= 1 << bit;
                _store32(S_FCSR, fcsr);
                return true;
            }
            uint256 v;
            if (funct < 0x04) {
                uint256 b = _fpr(ft);
                if (funct == 0x00) v = FPU32.add(a, b);
                else if (funct == 0x01) v = FPU32.sub(a, b);
                else if (funct == 0x02) v = FPU32.mul(a, b);
                else v = FPU32.div(a, b);
            } else if (funct < 0x08) {
                if (funct == 0x04) v = FPU32.sqrt(a);
                else if (funct == 0x05) v = a & 0x7FFFFFFF; // abs.s: the sign bit only
                else if (funct == 0x06) v = a; // mov.s
                else v = a ^ 0x80000000; // neg.s: the sign bit only
            } else if (funct >= 0x0C && funct < 0x10) {
                // round.w trunc.w ceil.w floor.w: modes 0 nearest, 1 zero, 2 up, 3 down
                v = FPU32.toInt(a, funct - 0x0C);
            } else if (funct == 0x24) {
                v = FPU32.toInt(a, 0); // cvt.w.s: FCSR's rounding mode is always nearest
            } else if (funct == 0x11) {
                // movf.s movt.s
                if (_fcc((insn >> 18) & 7) != (insn >> 16) & 1) return true;
                v = a;
            } else if (funct == 0x12) {
                if (_reg(ft) != 0) return true; // movz.s
                v = a;
            } else if (funct == 0x13) {
                if (_reg(ft) == 0) return true; // movn.s
                v = a;
            } else {
                return false; // recip, rsqrt, cvt.d.s, reserved
            }
            _setFpr((insn >> 6) & 31, v);
            return true;
        }
    }

    /// @dev The FCSR bit of condition code cc.
    function _fccBit(uint256 cc) private pure returns (uint256) {
        return cc == 0 ? 23 : 24 + cc;
    }

    /// @dev Condition code cc (0 or 1).
    function _fcc(uint256 cc) private pure returns (uint256) {
        return (_load32(S_FCSR) >> _fccBit(cc)) & 1;
    }

    /// @dev FPU register f (0..31).
    function _fpr(uint256 f) private pure returns (uint256 v) {
        assembly {
            v := shr(224, mload(add(S_FPR, shl(2, f))))
        }
    }

    /// @dev Sets FPU register f to v (32 bits).
    function _setFpr(uint256 f, uint256 v) private pure {
        _store32(S_FPR + (f << 2), v);
    }

    /*//////////////////////////////////////////////////////////////
                                SYSCALLS
    //////////////////////////////////////////////////////////////*/

    /// @dev `syscall`: number in v0, arguments in a0..a2; the result in v0 and the error flag
    ///      in a3 (Linux o32: an error sets v0 = errno, a3 = 1).
    function _syscall(uint256 nextPC, uint256 proofOffset, bytes32 localContext) private view {
        unchecked {
            uint256 sysno = _reg(2);
            uint256 a0 = _reg(4);
            uint256 a1 = _reg(5);
            uint256 a2 = _reg(6);
            uint256 v0;
            uint256 a3;
            if (sysno == SYS_MMAP) {
                uint256 size = (a1 + 4095) & ~uint256(4095);
                if (a0 == 0) {
                    v0 = _load32(S_HEAP);
                    _store32(S_HEAP, (v0 + size) & MASK32);
                } else {
                    v0 = a0;
                }
            } else if (sysno == SYS_BRK) {
                v0 = BRK_START;
            } else if (sysno == SYS_CLONE) {
                v0 = 1;
            } else if (sysno == SYS_EXIT_GROUP) {
                // Nothing else changes: pc stays.
                _store8(S_EXITED, 1);
                _store8(S_EXIT_CODE, a0 & 0xFF);
                return;
            } else if (sysno == SYS_READ) {
                if (a0 == FD_STDIN) {
                    v0 = 0;
                } else if (a0 == FD_HINT_READ) {
                    v0 = a2;
                } else if (a0 == FD_PREIMAGE_READ || a0 == FD_PREIMAGE_READ_LE) {
                    v0 = _preimageRead(
                        a1,
                        a2,
                        proofOffset + MEM_PROOF_SIZE,
                        localContext,
                        a0 == FD_PREIMAGE_READ_LE
                    );
                } else {
                    (v0, a3) = (EBADF, 1);
                }
            } else if (sysno == SYS_WRITE) {
                if (a0 == FD_STDOUT || a0 == FD_STDERR || a0 == FD_HINT_WRITE) {
                    v0 = a2;
                } else if (a0 == FD_PREIMAGE_WRITE) {
                    v0 = _preimageKeyWrite(a1, a2, proofOffset + MEM_PROOF_SIZE);
                } else {
                    (v0, a3) = (EBADF, 1);
                }
            } else if (sysno == SYS_FCNTL) {
                if (a1 != 3) {
                    (v0, a3) = (EINVAL, 1);
                } else if (
                    a0 == FD_STDIN || a0 == FD_HINT_READ || a0 == FD_PREIMAGE_READ
                        || a0 == FD_PREIMAGE_READ_LE
                ) {
                    v0 = 0; // F_GETFL: O_RDONLY
                } else if (
                    a0 == FD_STDOUT || a0 == FD_STDERR || a0 == FD_HINT_WRITE
                        || a0 == FD_PREIMAGE_WRITE
                ) {
                    v0 = 1; // F_GETFL: O_WRONLY
                } else {
                    (v0, a3) = (EBADF, 1);
                }
            }
            // Unlisted numbers: v0 = 0, a3 = 0.
            _setReg(2, v0);
            _setReg(7, a3);
            _advance(nextPC);
        }
    }

    /// @dev Preimage key write (fd 6): shifts `n = min(count, 4 - (addr & 3))` bytes from
    ///      `addr` into the key and resets the preimage offset. Returns n.
    function _preimageKeyWrite(uint256 addr, uint256 count, uint256 proof1)
        private
        pure
        returns (uint256 n)
    {
        unchecked {
            uint256 mem = _readMem(proof1, addr & 0xFFFFFFFC);
            uint256 space = 4 - (addr & 3);
            n = count < space ? count : space;
            uint256 bytes_ = (mem >> ((space - n) << 3)) & _ones(n << 3);
            uint256 key = uint256(_loadWord(S_PREIMAGE_KEY));
            _storeWord(S_PREIMAGE_KEY, bytes32((key << (n << 3)) | bytes_));
            _store32(S_PREIMAGE_OFFSET, 0);
        }
    }

    /// @dev Preimage read (fd 5, and fd 7 when `le`): copies `n = min(avail, 32 - (addr & 31),
    ///      count)` bytes of the oracle's part at the preimage offset into the 32-byte memory leaf
    ///      holding `addr`: byte j to `addr + j`, or with `le` to `(addr + j) ^ 3` (each aligned
    ///      word little-endian). Returns n.
    function _preimageRead(
        uint256 addr,
        uint256 count,
        uint256 proof1,
        bytes32 localContext,
        bool le
    ) private view returns (uint256 n) {
        unchecked {
            _readMem(proof1, addr & 0xFFFFFFFC); // checks the leaf against memRoot
            // A read of 0 bytes changes nothing: the oracle is not asked (no part needed).
            if (count == 0) return 0;
            bytes32 key = _loadWord(S_PREIMAGE_KEY);
            if (uint256(key) >> 248 == PreimageKeyLib.LOCAL_KEY_TYPE) {
                key = PreimageKeyLib.localize(key, msg.sender, localContext);
            }
            uint256 offset = _load32(S_PREIMAGE_OFFSET);
            (bytes32 dat, uint256 avail) = oracle.readPreimage(key, offset);
            n = 32 - (addr & 31);
            if (avail < n) n = avail;
            if (count < n) n = count;
            if (n != 0) _writeLeafBytes(proof1, addr, n, dat, le);
            _store32(S_PREIMAGE_OFFSET, (offset + n) & MASK32);
        }
    }

    /// @dev Writes the first `n` bytes of `dat` into the (already checked) memory leaf of proof
    ///      `proof1` from byte `addr & 31` on, each aligned word little-endian if `le`; sets
    ///      memRoot.
    function _writeLeafBytes(uint256 proof1, uint256 addr, uint256 n, bytes32 dat, bool le)
        private
        pure
    {
        unchecked {
            uint256 pos = addr & 31;
            // bytes pos..pos+n-1 of the leaf (byte 0 is the most significant)
            uint256 mask = _ones(n << 3) << ((32 - pos - n) << 3);
            uint256 data = (uint256(dat) >> (pos << 3)) & mask;
            if (le) (mask, data) = (_swapWords(mask), _swapWords(data));
            uint256 leaf;
            assembly {
                leaf := calldataload(proof1)
            }
            _storeWord(S_MEM_ROOT, _merkleRoot(proof1, addr >> 5, bytes32((leaf & ~mask) | data)));
        }
    }

    /// @dev Reverses the byte order within each of the eight 32-bit words of `x`.
    function _swapWords(uint256 x) private pure returns (uint256) {
        x = ((x >> 8) & 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF)
            | ((x & 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF) << 8);
        return ((x >> 16) & 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF)
            | ((x & 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF) << 16);
    }

    /*//////////////////////////////////////////////////////////////
                           CONTROL TRANSFER
    //////////////////////////////////////////////////////////////*/

    /// @dev The default successor: pc = nextPC, nextPC = nextPC + 4.
    function _advance(uint256 nextPC) private pure {
        unchecked {
            _store32(S_PC, nextPC);
            _store32(S_NEXT_PC, (nextPC + 4) & MASK32);
        }
    }

    /// @dev A jump: execute the delay slot, then go to `target`.
    function _transfer(uint256 nextPC, uint256 target) private pure {
        _store32(S_PC, nextPC);
        _store32(S_NEXT_PC, target & MASK32);
    }

    /// @dev A branch to `pc + 4 + (se(imm) << 2)`. A branch-likely that is not taken skips its
    ///      delay slot.
    function _branch(uint256 insn, uint256 pc, uint256 nextPC, bool taken, bool likely)
        private
        pure
    {
        unchecked {
            if (taken) {
                _transfer(nextPC, pc + 4 + (_se16(insn) << 2));
            } else if (likely) {
                _store32(S_PC, (nextPC + 4) & MASK32);
                _store32(S_NEXT_PC, (nextPC + 8) & MASK32);
            } else {
                _advance(nextPC);
            }
        }
    }

    /// @dev A fault (panic): exited = 1, exitCode = 0xFF, nothing else changes.
    function _fault() private pure {
        _store8(S_EXITED, 1);
        _store8(S_EXIT_CODE, 0xFF);
    }

    /*//////////////////////////////////////////////////////////////
                                 MEMORY
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks the memory proof at calldata `proofPtr` for the aligned word at `addr`
    ///      against the state's memRoot; returns the word.
    function _readMem(uint256 proofPtr, uint256 addr) private pure returns (uint256 word) {
        bytes32 leaf;
        assembly {
            leaf := calldataload(proofPtr)
            word := shr(224, calldataload(add(proofPtr, and(addr, 0x1c))))
        }
        if (_merkleRoot(proofPtr, addr >> 5, leaf) != _loadWord(S_MEM_ROOT)) {
            revert InvalidMemoryProof();
        }
    }

    /// @dev Writes the aligned word at `addr`: the new memRoot is recomputed from the (already
    ///      checked) proof at `proofPtr` with the word replaced in its leaf.
    function _writeMem(uint256 proofPtr, uint256 addr, uint256 word) private pure {
        bytes32 leaf;
        assembly {
            let shift := sub(224, shl(3, and(addr, 0x1c)))
            leaf := calldataload(proofPtr)
            leaf := or(and(leaf, not(shl(shift, 0xffffffff))), shl(shift, word))
        }
        _storeWord(S_MEM_ROOT, _merkleRoot(proofPtr, addr >> 5, leaf));
    }

    /// @dev The root of the depth-27 memory tree from `leaf` at leaf index `index` and the 27
    ///      siblings (bottom up) following the leaf at calldata `p`. Unrolled.
    function _merkleRoot(uint256 p, uint256 index, bytes32 leaf)
        private
        pure
        returns (bytes32 node)
    {
        assembly {
            function h(n, i, sibling) -> r {
                let s := shl(5, and(i, 1))
                mstore(s, n)
                mstore(xor(s, 0x20), sibling)
                r := keccak256(0x00, 0x40)
            }
            node := h(leaf, index, calldataload(add(p, 0x20)))
            node := h(node, shr(1, index), calldataload(add(p, 0x40)))
            node := h(node, shr(2, index), calldataload(add(p, 0x60)))
            node := h(node, shr(3, index), calldataload(add(p, 0x80)))
            node := h(node, shr(4, index), calldataload(add(p, 0xa0)))
            node := h(node, shr(5, index), calldataload(add(p, 0xc0)))
            node := h(node, shr(6, index), calldataload(add(p, 0xe0)))
            node := h(node, shr(7, index), calldataload(add(p, 0x100)))
            node := h(node, shr(8, index), calldataload(add(p, 0x120)))
            node := h(node, shr(9, index), calldataload(add(p, 0x140)))
            node := h(node, shr(10, index), calldataload(add(p, 0x160)))
            node := h(node, shr(11, index), calldataload(add(p, 0x180)))
            node := h(node, shr(12, index), calldataload(add(p, 0x1a0)))
            node := h(node, shr(13, index), calldataload(add(p, 0x1c0)))
            node := h(node, shr(14, index), calldataload(add(p, 0x1e0)))
            node := h(node, shr(15, index), calldataload(add(p, 0x200)))
            node := h(node, shr(16, index), calldataload(add(p, 0x220)))
            node := h(node, shr(17, index), calldataload(add(p, 0x240)))
            node := h(node, shr(18, index), calldataload(add(p, 0x260)))
            node := h(node, shr(19, index), calldataload(add(p, 0x280)))
            node := h(node, shr(20, index), calldataload(add(p, 0x2a0)))
            node := h(node, shr(21, index), calldataload(add(p, 0x2c0)))
            node := h(node, shr(22, index), calldataload(add(p, 0x2e0)))
            node := h(node, shr(23, index), calldataload(add(p, 0x300)))
            node := h(node, shr(24, index), calldataload(add(p, 0x320)))
            node := h(node, shr(25, index), calldataload(add(p, 0x340)))
            node := h(node, shr(26, index), calldataload(add(p, 0x360)))
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 STATE
    //////////////////////////////////////////////////////////////*/

    /// @dev The state hash: keccak256 of the packed state, first byte replaced by the status.
    function _stateHash() private pure returns (bytes32 h) {
        uint256 status;
        assembly {
            let exited := byte(0, mload(S_EXITED))
            let code := byte(0, mload(S_EXIT_CODE))
            switch exited
            case 0 { status := 3 }
            default {
                switch code
                case 0 { status := 0 }
                case 1 { status := 1 }
                default { status := 2 }
            }
            h := or(and(keccak256(STATE_PTR, STATE_SIZE), not(shl(248, 0xff))), shl(248, status))
        }
    }

    /// @dev Register r (0..31).
    function _reg(uint256 r) private pure returns (uint256 v) {
        assembly {
            v := shr(224, mload(add(S_REGISTERS, shl(2, r))))
        }
    }

    /// @dev Sets register r to v (a 32-bit value); writes to r0 are discarded.
    function _setReg(uint256 r, uint256 v) private pure {
        if (r != 0) _store32(S_REGISTERS + (r << 2), v);
    }

    /// @dev Sets hi and lo from the low 64 bits of `v`.
    function _setHiLo(uint256 v) private pure {
        _store32(S_HI, (v >> 32) & MASK32);
        _store32(S_LO, v & MASK32);
    }

    function _load32(uint256 ptr) private pure returns (uint256 v) {
        assembly {
            v := shr(224, mload(ptr))
        }
    }

    /// @dev Writes the 32-bit value `v` (< 2^32) at `ptr`, keeping the following bytes.
    function _store32(uint256 ptr, uint256 v) private pure {
        assembly {
            mstore(ptr, or(shr(32, shl(32, mload(ptr))), shl(224, v)))
        }
    }

    function _load64(uint256 ptr) private pure returns (uint256 v) {
        assembly {
            v := shr(192, mload(ptr))
        }
    }

    /// @dev Writes the low 64 bits of `v` at `ptr`, keeping the following bytes.
    function _store64(uint256 ptr, uint256 v) private pure {
        assembly {
            mstore(ptr, or(shr(64, shl(64, mload(ptr))), shl(192, v)))
        }
    }

    function _store8(uint256 ptr, uint256 v) private pure {
        assembly {
            mstore8(ptr, v)
        }
    }

    function _loadWord(uint256 ptr) private pure returns (bytes32 v) {
        assembly {
            v := mload(ptr)
        }
    }

    function _storeWord(uint256 ptr, bytes32 v) private pure {
        assembly {
            mstore(ptr, v)
        }
    }

    /*//////////////////////////////////////////////////////////////
                               ARITHMETIC
    //////////////////////////////////////////////////////////////*/

    /// @dev Signed 32-bit `a < b`.
    function _slt(uint256 a, uint256 b) private pure returns (bool r) {
        assembly {
            r := slt(signextend(3, a), signextend(3, b))
        }
    }

    /// @dev The low 16 bits of `v` sign-extended to 32 bits.
    function _se16(uint256 v) private pure returns (uint256 r) {
        assembly {
            r := and(signextend(1, v), 0xffffffff)
        }
    }

    /// @dev The low 8 bits of `v` sign-extended to 32 bits.
    function _se8(uint256 v) private pure returns (uint256 r) {
        assembly {
            r := and(signextend(0, v), 0xffffffff)
        }
    }

    /// @dev `2^bits - 1`.
    function _ones(uint256 bits) private pure returns (uint256 r) {
        assembly {
            r := sub(shl(bits, 1), 1)
        }
    }

    /// @dev The signed product of two 32-bit values (its low 64 bits are the 64-bit product).
    function _smul(uint256 a, uint256 b) private pure returns (uint256 r) {
        assembly {
            r := mul(signextend(3, a), signextend(3, b))
        }
    }

    /// @dev Signed 32-bit division (b != 0), truncating; the remainder has the sign of `a`.
    ///      `0x80000000 / -1` gives quotient 0x80000000 and remainder 0.
    function _sdivmod(uint256 a, uint256 b) private pure returns (uint256 q, uint256 r) {
        assembly {
            let sa := signextend(3, a)
            let sb := signextend(3, b)
            q := and(sdiv(sa, sb), 0xffffffff)
            r := and(smod(sa, sb), 0xffffffff)
        }
    }

    /// @dev Signed 32-bit `a - b`, and whether it overflows.
    function _subSigned(uint256 a, uint256 b) private pure returns (uint256 r, bool overflow) {
        assembly {
            let diff := sub(signextend(3, a), signextend(3, b))
            overflow := iszero(eq(diff, signextend(3, diff)))
            r := and(diff, 0xffffffff)
        }
    }

    /// @dev Signed 32-bit `a + b`, and whether it overflows.
    function _addSigned(uint256 a, uint256 b) private pure returns (uint256 r, bool overflow) {
        assembly {
            let sum := add(signextend(3, a), signextend(3, b))
            overflow := iszero(eq(sum, signextend(3, sum)))
            r := and(sum, 0xffffffff)
        }
    }

    /// @dev Arithmetic right shift of a 32-bit value.
    function _sra(uint256 v, uint256 sa) private pure returns (uint256 r) {
        assembly {
            r := and(sar(sa, signextend(3, v)), 0xffffffff)
        }
    }

    /// @dev Count of leading zeros of a 32-bit value (32 for zero).
    function _clz32(uint256 x) private pure returns (uint256 n) {
        unchecked {
            if (x == 0) return 32;
            if (x >> 16 == 0) (n, x) = (n + 16, x << 16);
            if (x >> 24 == 0) (n, x) = (n + 8, x << 8);
            if (x >> 28 == 0) (n, x) = (n + 4, x << 4);
            if (x >> 30 == 0) (n, x) = (n + 2, x << 2);
            if (x >> 31 == 0) n += 1;
        }
    }
}
