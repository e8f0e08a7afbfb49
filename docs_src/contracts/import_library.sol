// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol"; // also brings in INeuroInference.sol

contract UsesTheLibrary {
    using NeuroTensors for ModelOutput;

    function firstValue(ModelOutput memory output) external pure returns (int128) {
        return output.firstNumber().value;
    }
}
