// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/INeuroInference.sol";

contract Constants {
    // NEURO_INFERENCE_ADDRESS = 0x00000000000000000000000000000000000000F4
    INeuroInference public constant PRECOMPILE = NEURO_INFERENCE;
    // 0, 1, 2 (the enum ModelInferenceMode) and 3 (ours)
    uint8[4] public modes = [MODE_VANILLA, MODE_ZK, MODE_TEE, MODE_OPTIMISTIC];
}
