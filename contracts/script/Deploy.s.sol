// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Script} from "forge-std/Script.sol";
import {console2} from "forge-std/console2.sol";
import {MIPS} from "../src/MIPS.sol";
import {PreimageOracle} from "../src/PreimageOracle.sol";
import {IPreimageOracle} from "../src/interfaces/IPreimageOracle.sol";

/// @notice Deploys the PreimageOracle, then MIPS bound to it, and prints both addresses.
///         `forge script contracts/script/Deploy.s.sol --rpc-url URL --private-key KEY --broadcast`
contract Deploy is Script {
    function run() external returns (PreimageOracle oracle, MIPS mips) {
        vm.startBroadcast();
        oracle = new PreimageOracle();
        mips = new MIPS(IPreimageOracle(address(oracle)));
        vm.stopBroadcast();
        console2.log("PreimageOracle:", address(oracle));
        console2.log("MIPS:", address(mips));
    }
}
