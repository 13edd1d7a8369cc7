// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {console2} from "forge-std/console2.sol";
import {MIPS} from "../src/MIPS.sol";
import {PreimageOracle} from "../src/PreimageOracle.sol";
import {IPreimageOracle} from "../src/interfaces/IPreimageOracle.sol";
import {FixtureReader} from "./utils/FixtureReader.sol";

/// @notice Replays the witnesses that the TypeScript VM generated (tasks/gen_fixtures.ts,
///         contracts/test/fixtures/*.bin) through MIPS.step: every step must give the TypeScript
///         VM's post-state hash, or revert with the custom error the fixture names (states and
///         reads the TypeScript VM rejects). The fuzz tests corrupt fixture inputs: the step must
///         then revert with the right error or give the unchanged answer, never another one.
///         The test contract loads preimage parts and calls `step` itself, so local keys are
///         localized with its address; the oracle state is rolled back after each record.
contract FixturesTest is Test {
    using FixtureReader for FixtureReader.Reader;

    string internal constant DIR = "contracts/test/fixtures/";

    PreimageOracle internal oracle;
    MIPS internal mips;

    function setUp() public {
        oracle = new PreimageOracle();
        mips = new MIPS(IPreimageOracle(address(oracle)));
    }

    function _open(string memory file) internal view returns (FixtureReader.Reader memory) {
        return
            FixtureReader.open(vm.readFileBinary(string.concat(vm.projectRoot(), "/", DIR, file)));
    }

    /*//////////////////////////////////////////////////////////////
                              REPLAY
    //////////////////////////////////////////////////////////////*/

    /// @notice Hand-built states: every opcode class, syscall, key type and rule of docs/VM.md.
    function test_fixtures_edge() public {
        _replay("edge.bin", 1000);
    }

    /// @notice Random states (random instruction words, registers, fields and memory).
    function test_fixtures_random() public {
        _replay("random.bin", 500);
    }

    /// @notice Windows of consecutive steps of whole runs of the C corpus and soft-float code.
    function test_fixtures_corpus() public {
        _replay("corpus.bin", 5000);
    }

    /// @notice FPU instructions on thousands of random and edge binary32 operand pairs: the
    ///         contract's integer IEEE-754 arithmetic (FPU32) against the TypeScript VM's.
    function test_fixtures_fpu() public {
        _replay("fpu.bin", 10000);
    }

    /// @notice Every syscall of a guest reading local, keccak256 and Merkle-data preimages.
    function test_fixtures_preimage() public {
        _replay("preimage.bin", 300);
    }

    function _replay(string memory file, uint256 minRecords) internal {
        FixtureReader.Reader memory r = _open(file);
        assertGe(r.count, minRecords, string.concat(file, ": too few records"));
        uint256 failures;
        string memory first;
        for (uint256 i = 0; i < r.count; i++) {
            uint256 fmp;
            assembly {
                fmp := mload(0x40)
            }
            FixtureReader.Record memory rec = r.next();
            string memory err = _check(r, rec);
            if (bytes(err).length != 0) {
                if (failures == 0) {
                    first =
                        string.concat(file, " record ", vm.toString(i), " (", r.name(), "): ", err);
                    console2.log(first);
                } else if (failures < 20) {
                    console2.log(
                        string.concat(file, " record ", vm.toString(i), " (", r.name(), "): ", err)
                    );
                }
                failures++;
                // the message must survive the memory reset below
                continue;
            }
            assembly {
                mstore(0x40, fmp)
            }
        }
        console2.log(string.concat(file, ": steps checked:"), r.count);
        assertEq(failures, 0, first);
    }

    /// @dev Runs one record; returns "" when the outcome is the expected one.
    function _check(FixtureReader.Reader memory r, FixtureReader.Record memory rec)
        internal
        returns (string memory)
    {
        // step is a view: only a loaded part changes state, and it is rolled back
        uint256 snap = rec.kind == FixtureReader.KIND_NONE ? 0 : vm.snapshotState();
        _load(r, rec);
        (bool ok, bytes memory ret) =
            address(mips).call(abi.encodeCall(MIPS.step, (r.stateData, r.proof, r.localContext)));
        if (rec.kind != FixtureReader.KIND_NONE) vm.revertToState(snap);
        if (rec.expectRevert) {
            if (ok) return "expected a revert, got a post-state";
            if (ret.length < 4 || bytes4(ret) != rec.selector) {
                return string.concat(
                    "reverted with ",
                    vm.toString(ret),
                    ", expected selector ",
                    vm.toString(abi.encodePacked(rec.selector))
                );
            }
            return "";
        }
        if (!ok) return string.concat("reverted with ", vm.toString(ret));
        bytes32 got = abi.decode(ret, (bytes32));
        if (got != rec.postStateHash) {
            return string.concat(
                "post-state ",
                vm.toString(got),
                " != TypeScript VM ",
                vm.toString(rec.postStateHash)
            );
        }
        return "";
    }

    /// @dev Loads the preimage part the record's step reads.
    function _load(FixtureReader.Reader memory r, FixtureReader.Record memory rec) internal {
        if (rec.kind == FixtureReader.KIND_LOCAL) {
            oracle.loadLocalData(
                uint256(rec.ident), r.localContext, rec.word, rec.size, rec.partOffset
            );
        } else if (rec.kind == FixtureReader.KIND_KECCAK) {
            oracle.loadKeccak256PreimagePart(rec.partOffset, r.blob(rec.blob));
        } else if (rec.kind == FixtureReader.KIND_MERKLE) {
            oracle.loadMerkleDataPart(rec.root, rec.length, rec.partOffset, rec.merkleProof);
        }
    }

    /*//////////////////////////////////////////////////////////////
                               FUZZ
    //////////////////////////////////////////////////////////////*/

    /// @dev A record of edge.bin, random.bin, preimage.bin or fpu.bin, decoded (index bounded).
    function _pick(uint256 which, uint256 index)
        internal
        view
        returns (FixtureReader.Reader memory r, FixtureReader.Record memory rec)
    {
        uint256 w = which % 4;
        r = _open(w == 0 ? "edge.bin" : w == 1 ? "random.bin" : w == 2 ? "preimage.bin" : "fpu.bin");
        r.seek(bound(index, 0, r.count - 1));
        rec = r.next();
    }

    /// @notice A corrupted proof byte: the step reverts with InvalidMemoryProof (the byte was
    ///         read) or gives the TypeScript VM's post-state (it was not). Never another one.
    function testFuzz_corruptedProof(uint256 which, uint256 index, uint256 pos, uint8 flip) public {
        (FixtureReader.Reader memory r, FixtureReader.Record memory rec) = _pick(which, index);
        vm.assume(!rec.expectRevert);
        pos = bound(pos, 0, r.proof.length - 1);
        r.proof[pos] ^= bytes1(flip == 0 ? 1 : flip);
        _load(r, rec);
        (bool ok, bytes memory ret) =
            address(mips).call(abi.encodeCall(MIPS.step, (r.stateData, r.proof, r.localContext)));
        if (ok) {
            assertEq(abi.decode(ret, (bytes32)), rec.postStateHash, r.name());
        } else {
            assertEq(bytes4(ret), MIPS.InvalidMemoryProof.selector, r.name());
        }
    }

    /// @notice A corrupted memRoot, exited flag or r0: a step that reads its instruction proof
    ///         reverts with InvalidMemoryProof; exited > 1 and r0 != 0 revert as malformed.
    function testFuzz_corruptedState(
        uint256 which,
        uint256 index,
        uint256 field,
        uint256 pos,
        uint8 flip
    ) public {
        (FixtureReader.Reader memory r, FixtureReader.Record memory rec) = _pick(which, index);
        vm.assume(!rec.expectRevert);
        bytes memory s = r.stateData;
        bool exited = s[89] != 0;
        bool reads = !exited && (uint8(s[71]) & 3) == 0; // reads proof 0: running, pc aligned
        bytes1 x = bytes1(flip == 0 ? 1 : flip);
        bytes4 want;
        field %= 3;
        if (field == 0) {
            s[bound(pos, 0, 31)] ^= x; // memRoot
            want = MIPS.InvalidMemoryProof.selector;
        } else if (field == 1) {
            s[89] = bytes1(uint8(bound(flip, 2, 255))); // exited
            want = MIPS.InvalidExitedFlag.selector;
        } else {
            s[98 + bound(pos, 0, 3)] ^= x; // r0
            want = MIPS.InvalidRegisterZero.selector;
        }
        _load(r, rec);
        (bool ok, bytes memory ret) =
            address(mips).call(abi.encodeCall(MIPS.step, (r.stateData, r.proof, r.localContext)));
        if (field == 0 && !reads) {
            // neither proof is read: the changed root is simply part of the answer
            assertTrue(ok, r.name());
            assertTrue(abi.decode(ret, (bytes32)) != rec.postStateHash, r.name());
        } else {
            assertFalse(ok, r.name());
            assertEq(bytes4(ret), want, r.name());
        }
    }
}
