// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {VMTest} from "./utils/VMTest.sol";

/// @notice Gas of one step per instruction class, and of loading preimage parts of each kind.
///         Inputs are built with gas metering paused, so each test's reported gas (and the
///         `.gas-snapshot` entry) is essentially the measured call. Oracle parts read by a step
///         are loaded in setUp so that their storage is cold, as in a real dispute. This is the
///         execution gas of a call from a contract (what a dispute game adds); each test also
///         asserts it stays below the whole-transaction budget (120k ALU, 160k store, 235k
///         preimage read). The transaction gas itself, calldata floor included, is measured on
///         real steps by tasks/gas_table.ts and asserted by tests/chain/anvil.test.ts.
contract GasTest is VMTest {
    uint256 constant ALU_BUDGET = 120_000;
    uint256 constant STORE_BUDGET = 160_000;
    uint256 constant PREIMAGE_READ_BUDGET = 235_000;

    uint32 constant DATA = 0x00200000;
    uint32 constant SYSCALL = 0x0000000C;

    bytes internal preimage;

    function setUp() public override {
        super.setUp();
        // Populate memory a little so that proofs are not all zero hashes.
        for (uint256 i = 0; i < 16; i++) {
            _storeWord(0x00100000 + i * 0x1000, uint32(uint256(keccak256(abi.encode(i)))));
        }
        preimage = new bytes(100);
        for (uint256 i = 0; i < 100; i++) {
            preimage[i] = bytes1(uint8(i + 1));
        }
        oracle.loadKeccak256PreimagePart(12, preimage);
    }

    function _measure(VMState memory s, bool hasData, uint256 dataAddr, string memory label)
        internal
        returns (uint256 used)
    {
        s.memRoot = _memRoot();
        bytes memory st = _encode(s);
        bytes memory pf = _proofs(s, hasData, dataAddr);
        vm.resumeGasMetering();
        used = gasleft();
        mips.step(st, pf, CONTEXT);
        used -= gasleft();
        vm.pauseGasMetering();
        console2.log(label, used);
    }

    function test_gas_step_alu() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        s.regs[8] = 5;
        s.regs[9] = 7;
        _storeWord(s.pc, _r(0x21, 8, 9, 10, 0)); // addu
        assertLe(_measure(s, false, 0, "step alu (addu)"), ALU_BUDGET);
    }

    function test_gas_step_mult() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        s.regs[8] = 5;
        s.regs[9] = 7;
        _storeWord(s.pc, _r(0x18, 8, 9, 0, 0)); // mult
        assertLe(_measure(s, false, 0, "step mult"), ALU_BUDGET);
    }

    /// @dev An FPU fmt S instruction `funct` on f4, f6 into f8.
    function _fpu(uint256 funct, uint32 a, uint32 b, string memory label) internal {
        vm.pauseGasMetering();
        VMState memory s = _state();
        s.fpr[4] = a;
        s.fpr[6] = b;
        _storeWord(
            s.pc, uint32((0x11 << 26) | (16 << 21) | (6 << 16) | (4 << 11) | (8 << 6) | funct)
        );
        assertLe(_measure(s, false, 0, label), ALU_BUDGET);
    }

    function test_gas_step_fpuAdd() public {
        _fpu(0x00, 0x3FA00000, 0xBE400001, "step fpu add.s");
    }

    function test_gas_step_fpuMul() public {
        _fpu(0x02, 0x3FA00001, 0x40490FDB, "step fpu mul.s");
    }

    function test_gas_step_fpuDiv() public {
        _fpu(0x03, 0x3F800000, 0x40490FDB, "step fpu div.s");
    }

    function test_gas_step_fpuSqrt() public {
        _fpu(0x04, 0x40000000, 0, "step fpu sqrt.s");
    }

    function test_gas_step_fpuCompare() public {
        _fpu(0x3C, 0x3F800000, 0x40490FDB, "step fpu c.lt.s");
    }

    function test_gas_step_load() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        s.regs[8] = DATA;
        _storeWord(DATA, 0x12345678);
        _storeWord(s.pc, _i(0x23, 8, 9, 0)); // lw
        assertLe(_measure(s, true, DATA, "step load (lw)"), ALU_BUDGET);
    }

    function test_gas_step_store() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        s.regs[8] = DATA;
        s.regs[9] = 0xCAFE;
        _storeWord(DATA, 0x12345678);
        _storeWord(s.pc, _i(0x2B, 8, 9, 0)); // sw
        assertLe(_measure(s, true, DATA, "step store (sw)"), STORE_BUDGET);
    }

    function test_gas_step_branch() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        _storeWord(s.pc, _i(0x04, 0, 0, 0x10)); // beq taken
        assertLe(_measure(s, false, 0, "step branch (beq)"), ALU_BUDGET);
    }

    function test_gas_step_jump() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        _storeWord(s.pc, _j(0x03, 0x4000)); // jal
        assertLe(_measure(s, false, 0, "step jump (jal)"), ALU_BUDGET);
    }

    function test_gas_step_syscall() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        s.regs[2] = 4090; // mmap
        s.regs[5] = 0x10000;
        _storeWord(s.pc, SYSCALL);
        assertLe(_measure(s, false, 0, "step syscall (mmap)"), ALU_BUDGET);
    }

    function test_gas_step_preimageKeyWrite() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        (s.regs[2], s.regs[4], s.regs[5], s.regs[6]) = (4004, 6, DATA, 4);
        _storeWord(DATA, 0x02ABCDEF);
        _storeWord(s.pc, SYSCALL);
        assertLe(_measure(s, true, DATA, "step preimage key write"), STORE_BUDGET);
    }

    function test_gas_step_preimageRead() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        s.preimageKey = _keccakKey(preimage);
        s.preimageOffset = 12;
        (s.regs[2], s.regs[4], s.regs[5], s.regs[6]) = (4003, 5, DATA, 4);
        _storeWord(s.pc, SYSCALL);
        assertLe(_measure(s, true, DATA, "step preimage read"), PREIMAGE_READ_BUDGET);
    }

    function test_gas_step_fault() public {
        vm.pauseGasMetering();
        VMState memory s = _state();
        _storeWord(s.pc, 0x0000000D); // break
        assertLe(_measure(s, false, 0, "step fault (break)"), ALU_BUDGET);
    }

    /*//////////////////////////////////////////////////////////////
                         LOADING PREIMAGE PARTS
    //////////////////////////////////////////////////////////////*/

    function test_gas_loadLocalData() public {
        uint256 g = gasleft();
        oracle.loadLocalData(1, CONTEXT, keccak256("local"), 32, 8);
        console2.log("loadLocalData", g - gasleft());
    }

    function test_gas_loadKeccak256Part_100B() public {
        vm.pauseGasMetering();
        bytes memory data = preimage;
        vm.resumeGasMetering();
        uint256 g = gasleft();
        oracle.loadKeccak256PreimagePart(40, data);
        console2.log("loadKeccak256PreimagePart (100 bytes)", g - gasleft());
    }

    function test_gas_loadMerkleDataPart_100B() public {
        vm.pauseGasMetering();
        bytes memory data = preimage;
        bytes32 root = _dataRoot(data);
        bytes32[] memory proof = _partProof(data, 45); // two leaves, depth 2
        vm.resumeGasMetering();
        uint256 g = gasleft();
        oracle.loadMerkleDataPart(root, 100, 45, proof);
        console2.log("loadMerkleDataPart (100 bytes, 2 leaves)", g - gasleft());
    }

    /// @dev A part of a 64 MiB item covering two leaves: two depth-21 proofs.
    function test_gas_loadMerkleDataPart_64MiB() public {
        vm.pauseGasMetering();
        uint64 len = 64 << 20;
        bytes32[] memory proof = new bytes32[](44);
        proof[0] = keccak256("leaf 1000");
        proof[1] = keccak256("leaf 1001");
        proof[22] = proof[1];
        proof[23] = proof[0];
        for (uint256 l = 1; l < 21; l++) {
            proof[1 + l] = zeroHashes[l];
            proof[23 + l] = zeroHashes[l];
        }
        bytes32 node = keccak256(abi.encodePacked(proof[0], proof[1]));
        for (uint256 l = 1; l < 21; l++) {
            node = (1000 >> l) & 1 == 0
                ? keccak256(abi.encodePacked(node, zeroHashes[l]))
                : keccak256(abi.encodePacked(zeroHashes[l], node));
        }
        vm.resumeGasMetering();
        uint256 g = gasleft();
        oracle.loadMerkleDataPart(node, len, 8 + 1000 * 32 + 17, proof);
        console2.log("loadMerkleDataPart (64 MiB, 2 x depth 21)", g - gasleft());
    }
}
