// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VMTest} from "./utils/VMTest.sol";
import {PreimageOracle} from "../src/PreimageOracle.sol";
import {PreimageKeyLib} from "../src/PreimageKeyLib.sol";

/// @notice PreimageOracle: loading and reading parts of each key type, and rejections.
contract PreimageOracleTest is VMTest {
    function _data(uint256 len, uint256 seed) internal pure returns (bytes memory d) {
        d = new bytes(len);
        for (uint256 i = 0; i < len; i++) {
            d[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
        }
    }

    function _expectRead(bytes32 key, uint256 offset, bytes memory data) internal view {
        (bytes32 dat, uint256 datLen) = oracle.readPreimage(key, offset);
        uint256 streamLen = data.length + 8;
        uint256 eLen = offset >= streamLen ? 0 : streamLen - offset;
        if (eLen > 32) eLen = 32;
        assertEq(datLen, eLen, "datLen");
        assertEq(dat, offset >= streamLen ? bytes32(0) : _streamPart(data, offset), "dat");
    }

    /*//////////////////////////////////////////////////////////////
                             KEY DERIVATIONS
    //////////////////////////////////////////////////////////////*/

    function test_keyLib() public pure {
        bytes memory data = "abc";
        assertEq(PreimageKeyLib.keccak256Key(keccak256(data)), _keccakKey(data));
        assertEq(
            PreimageKeyLib.merkleDataKey(bytes32(uint256(5)), 77),
            _merkleKey(bytes32(uint256(5)), 77)
        );
        assertEq(
            PreimageKeyLib.localKey(type(uint256).max),
            bytes32((uint256(1) << 248) | (type(uint256).max >> 8))
        );
        bytes32 k = bytes32((uint256(1) << 248) | 42);
        assertEq(
            PreimageKeyLib.localize(k, address(0xAB), bytes32(uint256(9))),
            _localize(k, address(0xAB), bytes32(uint256(9)))
        );
        assertEq(uint8(PreimageKeyLib.localize(k, address(0xAB), bytes32(uint256(9)))[0]), 1);
    }

    /*//////////////////////////////////////////////////////////////
                                 KECCAK
    //////////////////////////////////////////////////////////////*/

    function test_keccakParts() public {
        bytes memory data = _data(70, 1);
        bytes32 key = _keccakKey(data);
        uint256[7] memory offsets = [uint256(0), 1, 7, 8, 39, 40, 77];
        for (uint256 i = 0; i < offsets.length; i++) {
            oracle.loadKeccak256PreimagePart(offsets[i], data);
            _expectRead(key, offsets[i], data);
            assertTrue(oracle.preimagePartOk(key, offsets[i]));
        }
        (uint256 len, bool known) = oracle.preimageLength(key);
        assertEq(len, 70);
        assertTrue(known);
        // past the end: (0, 0) once the length is known
        _expectRead(key, 78, data);
        _expectRead(key, 1 << 40, data);
    }

    function test_keccakEmptyPreimage() public {
        bytes memory data = "";
        oracle.loadKeccak256PreimagePart(0, data);
        oracle.loadKeccak256PreimagePart(7, data);
        _expectRead(_keccakKey(data), 0, data);
        _expectRead(_keccakKey(data), 7, data);
        _expectRead(_keccakKey(data), 8, data);
        vm.expectRevert(PreimageOracle.PartOffsetOutOfBounds.selector);
        oracle.loadKeccak256PreimagePart(8, data);
    }

    function test_keccakRejectsOffsetPastTheEnd() public {
        bytes memory data = _data(10, 2);
        vm.expectRevert(PreimageOracle.PartOffsetOutOfBounds.selector);
        oracle.loadKeccak256PreimagePart(18, data);
        vm.expectRevert(PreimageOracle.PartOffsetOutOfBounds.selector);
        oracle.loadKeccak256PreimagePart(type(uint256).max - 4, data);
        oracle.loadKeccak256PreimagePart(17, data);
    }

    function test_readUnloadedReverts() public {
        bytes memory data = _data(50, 3);
        bytes32 key = _keccakKey(data);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, key, 0));
        oracle.readPreimage(key, 0);
        // past the end of a key whose length is unknown: not loaded either
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, key, 100));
        oracle.readPreimage(key, 100);
        oracle.loadKeccak256PreimagePart(0, data);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, key, 1));
        oracle.readPreimage(key, 1);
    }

    /// @notice A part is served only under the key it was proven for: a part of another
    ///         preimage, of the same data with another length, or of another dispute's local
    ///         data does not make the key readable. Keys of other types can never be loaded.
    function test_partsOfOtherKeysAreNotServed() public {
        bytes memory data = _data(100, 11);
        bytes memory other = _data(100, 12);
        bytes32 key = _keccakKey(data);
        // keccak256: a part of another preimage is stored under that preimage's key
        oracle.loadKeccak256PreimagePart(8, other);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, key, 8));
        oracle.readPreimage(key, 8);
        // ... and a loaded part does not serve another offset
        oracle.loadKeccak256PreimagePart(8, data);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, key, 9));
        oracle.readPreimage(key, 9);

        // Merkle data: a wrong length of the same tree depth proves a part of another key
        bytes32 root = _dataRoot(data);
        bytes32 mkey = _merkleKey(root, data.length);
        oracle.loadMerkleDataPart(root, uint64(data.length - 1), 8, _partProof(data, 8));
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, mkey, 8));
        oracle.readPreimage(mkey, 8);

        // local: dispute A's data is not dispute B's, nor another caller's for dispute A
        bytes32 a = oracle.loadLocalData(3, keccak256("dispute A"), bytes32("A"), 1, 8);
        bytes32 b =
            _localize(bytes32((uint256(1) << 248) | 3), address(this), keccak256("dispute B"));
        bytes32 c =
            _localize(bytes32((uint256(1) << 248) | 3), address(0xB0B), keccak256("dispute A"));
        (bytes32 dat,) = oracle.readPreimage(a, 8);
        assertEq(dat, bytes32("A"));
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, b, 8));
        oracle.readPreimage(b, 8);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, c, 8));
        oracle.readPreimage(c, 8);

        // every load stores under a key of type 1, 2 or 3: other types are unprovable
        assertEq(uint8(a[0]), 1);
        assertEq(uint8(key[0]), 2);
        assertEq(uint8(mkey[0]), 3);
        bytes32 odd = bytes32((uint256(7) << 248) | uint256(keccak256(data)) >> 8);
        vm.expectRevert(abi.encodeWithSelector(PreimageOracle.PartNotLoaded.selector, odd, 8));
        oracle.readPreimage(odd, 8);
    }

    function testFuzz_keccakPart(bytes memory data, uint256 offset) public {
        offset = bound(offset, 0, data.length + 7);
        oracle.loadKeccak256PreimagePart(offset, data);
        _expectRead(_keccakKey(data), offset, data);
    }

    /*//////////////////////////////////////////////////////////////
                                  LOCAL
    //////////////////////////////////////////////////////////////*/

    function test_localData() public {
        bytes32 word =
            bytes32(hex"0102030405060708090a0b0c0d0e0f10111213141516171819ffffffffffffff");
        uint256 size = 25;
        bytes memory data = new bytes(size);
        for (uint256 i = 0; i < size; i++) {
            data[i] = word[i];
        }
        bytes32 ctx = keccak256("ctx");
        bytes32 expected = _localize(bytes32((uint256(1) << 248) | 5), address(this), ctx);
        for (uint256 off = 0; off < size + 8; off++) {
            bytes32 key = oracle.loadLocalData(5, ctx, word, size, off);
            assertEq(key, expected);
            // the bytes of word past size are not data
            _expectRead(key, off, data);
        }
        _expectRead(expected, size + 8, data);
    }

    function test_localDataIdentTypeByteIgnored() public {
        bytes32 ctx = keccak256("ctx");
        bytes32 a = oracle.loadLocalData(5, ctx, 0, 0, 0);
        bytes32 b = oracle.loadLocalData((uint256(0xEE) << 248) | 5, ctx, 0, 0, 0);
        assertEq(a, b);
    }

    function test_localDataIsBoundToCallerAndContext() public {
        bytes32 a = oracle.loadLocalData(5, bytes32(uint256(1)), bytes32(uint256(1)), 32, 0);
        bytes32 b = oracle.loadLocalData(5, bytes32(uint256(2)), bytes32(uint256(2)), 32, 0);
        vm.prank(address(0xD15));
        bytes32 c = oracle.loadLocalData(5, bytes32(uint256(1)), bytes32(uint256(3)), 32, 0);
        assertTrue(a != b && a != c && b != c);
        oracle.loadLocalData(5, bytes32(uint256(1)), bytes32(uint256(1)), 32, 8);
        vm.prank(address(0xD15));
        oracle.loadLocalData(5, bytes32(uint256(1)), bytes32(uint256(3)), 32, 8);
        (bytes32 dat,) = oracle.readPreimage(a, 0);
        assertEq(dat, bytes32(uint256(32) << 192));
        (dat,) = oracle.readPreimage(a, 8);
        assertEq(dat, bytes32(uint256(1)), "another dispute's data did not overwrite ours");
    }

    function test_localDataRejections() public {
        vm.expectRevert(PreimageOracle.LocalDataTooLarge.selector);
        oracle.loadLocalData(1, 0, 0, 33, 0);
        vm.expectRevert(PreimageOracle.PartOffsetOutOfBounds.selector);
        oracle.loadLocalData(1, 0, 0, 32, 40);
        vm.expectRevert(PreimageOracle.PartOffsetOutOfBounds.selector);
        oracle.loadLocalData(1, 0, 0, 0, 8);
        oracle.loadLocalData(1, 0, 0, 32, 39);
    }

    /*//////////////////////////////////////////////////////////////
                               MERKLE DATA
    //////////////////////////////////////////////////////////////*/

    function _loadAndCheckAll(bytes memory data) internal {
        bytes32 root = _dataRoot(data);
        bytes32 key = _merkleKey(root, data.length);
        for (uint256 off = 0; off < data.length + 8; off++) {
            oracle.loadMerkleDataPart(root, uint64(data.length), off, _partProof(data, off));
            _expectRead(key, off, data);
        }
        _expectRead(key, data.length + 8, data);
    }

    function test_merkleEveryOffset() public {
        _loadAndCheckAll(_data(100, 4)); // 4 leaves, depth 2, partial last leaf
        _loadAndCheckAll(_data(32, 5)); // one leaf, depth 0
        _loadAndCheckAll(_data(1, 6));
        _loadAndCheckAll(_data(65, 7)); // 3 leaves padded to 4
        _loadAndCheckAll(_data(256, 8)); // 8 full leaves
    }

    function test_merkleEmptyData() public {
        bytes memory data = "";
        assertEq(_dataRoot(data), bytes32(0));
        _loadAndCheckAll(data);
        // empty data's root is the zero leaf
        vm.expectRevert(PreimageOracle.InvalidMerkleProof.selector);
        oracle.loadMerkleDataPart(bytes32(uint256(1)), 0, 0, new bytes32[](0));
        vm.expectRevert(PreimageOracle.InvalidMerkleProofLength.selector);
        oracle.loadMerkleDataPart(0, 0, 0, new bytes32[](1));
    }

    /// @dev The stream bytes past the end are zero even if the root commits to non-zero
    ///      padding in the last leaf.
    function test_merkleDirtyPaddingIsIgnored() public {
        bytes32 leaf = bytes32(type(uint256).max); // 3 bytes of data, then non-zero padding
        oracle.loadMerkleDataPart(leaf, 3, 8, _one(leaf));
        (bytes32 dat, uint256 len) = oracle.readPreimage(_merkleKey(leaf, 3), 8);
        assertEq(len, 3);
        assertEq(dat, bytes32(uint256(0xFFFFFF) << 232));
    }

    function _one(bytes32 x) internal pure returns (bytes32[] memory a) {
        a = new bytes32[](1);
        a[0] = x;
    }

    function test_merkleRejections() public {
        bytes memory data = _data(200, 9); // 7 leaves, depth 3
        bytes32 root = _dataRoot(data);
        uint64 len = uint64(data.length);
        uint256 off = 8 + 32 + 5; // covers leaves 1 and 2
        bytes32[] memory proof = _partProof(data, off);
        assertEq(proof.length, 8);

        // wrong part: a tampered leaf or sibling
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32[] memory bad = _clone(proof);
            bad[i] ^= bytes32(uint256(1));
            vm.expectRevert(PreimageOracle.InvalidMerkleProof.selector);
            oracle.loadMerkleDataPart(root, len, off, bad);
        }
        // wrong offset: the proof of another part
        vm.expectRevert(PreimageOracle.InvalidMerkleProof.selector);
        oracle.loadMerkleDataPart(root, len, off + 32, proof);
        // an offset whose part covers one leaf needs one leaf proof
        vm.expectRevert(PreimageOracle.InvalidMerkleProofLength.selector);
        oracle.loadMerkleDataPart(root, len, 8 + 32, proof);
        // wrong length: same depth, other key; or another depth
        oracle.loadMerkleDataPart(root, len, off, proof);
        vm.expectRevert(PreimageOracle.InvalidMerkleProofLength.selector);
        oracle.loadMerkleDataPart(root, len + 100, off, proof);
        // (length 199 has the same depth: the part is stored under another key, with the
        //  last byte cut, and the key of the real data is unaffected)
        // a part of another key
        bytes memory other = _data(200, 10);
        vm.expectRevert(PreimageOracle.InvalidMerkleProof.selector);
        oracle.loadMerkleDataPart(root, len, off, _partProof(other, off));
        // offset past the end
        vm.expectRevert(PreimageOracle.PartOffsetOutOfBounds.selector);
        oracle.loadMerkleDataPart(root, len, 208, _partProof(data, 207));
        vm.expectRevert(PreimageOracle.PartOffsetOutOfBounds.selector);
        oracle.loadMerkleDataPart(root, len, type(uint256).max, proof);
        // too many or too few proof elements
        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i = 0; i < proof.length; i++) {
            longer[i] = proof[i];
        }
        vm.expectRevert(PreimageOracle.InvalidMerkleProofLength.selector);
        oracle.loadMerkleDataPart(root, len, off, longer);
        vm.expectRevert(PreimageOracle.InvalidMerkleProofLength.selector);
        oracle.loadMerkleDataPart(root, len, off, _partProof(data, 8 + 32));
    }

    function _clone(bytes32[] memory a) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
    }

    function testFuzz_merklePart(uint256 len, uint256 off, uint256 seed) public {
        len = bound(len, 0, 600);
        off = bound(off, 0, len + 7);
        bytes memory data = _data(len, seed);
        bytes32 root = _dataRoot(data);
        oracle.loadMerkleDataPart(root, uint64(len), off, _partProof(data, off));
        _expectRead(_merkleKey(root, len), off, data);
    }

    /// @dev A 64 MiB item (2^21 leaves, depth-21 proofs), mostly zero: its root is computed
    ///      with the zero hashes. Parts covering two leaves and the length prefix.
    function test_merkleLargeItem() public {
        (bytes32 root, uint64 len, bytes32[] memory proof, uint256 off, bytes32 expected) =
            largeItemPart();
        oracle.loadMerkleDataPart(root, len, off, proof);
        (bytes32 dat, uint256 datLen) = oracle.readPreimage(_merkleKey(root, len), off);
        assertEq(datLen, 32);
        assertEq(dat, expected);
    }

    /// @dev Leaves 1000 and 1001 of a 64 MiB item; returns the two-leaf proof of the part at
    ///      data offset 1000 * 32 + 17.
    function largeItemPart()
        public
        view
        returns (bytes32 root, uint64 len, bytes32[] memory proof, uint256 off, bytes32 expected)
    {
        len = 64 << 20;
        uint256 depth = 21;
        uint256 i0 = 1000;
        bytes32 l0 = keccak256("leaf 1000");
        bytes32 l1 = keccak256("leaf 1001");
        // the two leaves are siblings (1000 is even): their parent, then zero siblings
        proof = new bytes32[](2 * (depth + 1));
        proof[0] = l0;
        proof[1] = l1;
        proof[depth + 1] = l1;
        proof[depth + 2] = l0;
        for (uint256 l = 1; l < depth; l++) {
            proof[1 + l] = zeroHashes[l];
            proof[depth + 2 + l] = zeroHashes[l];
        }
        bytes32 node = keccak256(abi.encodePacked(l0, l1));
        for (uint256 l = 1; l < depth; l++) {
            node = (i0 >> l) & 1 == 0
                ? keccak256(abi.encodePacked(node, zeroHashes[l]))
                : keccak256(abi.encodePacked(zeroHashes[l], node));
        }
        root = node;
        off = 8 + i0 * 32 + 17;
        expected = bytes32((uint256(l0) << (17 * 8)) | (uint256(l1) >> (256 - 17 * 8)));
    }
}
