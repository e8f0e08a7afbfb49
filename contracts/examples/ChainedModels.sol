// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "../NeuroTensors.sol";

/// @title Two models in one transaction, the second fed by the first
/// @notice `run` sends a row of features to model A, passes A's first output tensor
/// (same values and shape) to model B as its input `inputNameB`, stores B's first output
/// number and emits `Chained`. During pre-execution the sequencer resolves A first, then
/// re-simulates to discover B's request (DESIGN.md section 5, "Stitch").
contract ChainedModels {
    using NeuroTensors for ModelOutput;

    event Chained(bytes32 indexed firstKey, bytes32 indexed secondKey, int256 value, int128 decimals);

    string public inputNameA;
    string public inputNameB;
    uint8 public mode;

    int256 public lastValue;
    int128 public lastDecimals;
    int256 public lastIntermediate; // first value of A's output, as A returned it
    int128 public lastIntermediateDecimals;

    constructor(string memory inputNameA_, string memory inputNameB_, uint8 mode_) {
        inputNameA = inputNameA_;
        inputNameB = inputNameB_;
        mode = mode_;
    }

    function run(
        string calldata modelA,
        string calldata modelB,
        int128[] calldata features,
        int128 decimals
    ) external returns (int256) {
        (ModelOutput memory outA, bytes32 firstKey) = _first(modelA, features, decimals);
        if (outA.numbers.length == 0) revert NeuroTensors.TensorNotFound("");
        Number memory mid = outA.firstNumber();
        lastIntermediate = mid.value;
        lastIntermediateDecimals = mid.decimals;

        NumberTensor memory carried = outA.numbers[0];
        carried.name = inputNameB;
        ModelInput memory inputB = NeuroTensors.singleInput(carried);
        Number memory answer = NeuroTensors.inferenceOf(mode, modelB, inputB).firstNumber();
        lastValue = answer.value;
        lastDecimals = answer.decimals;
        emit Chained(
            firstKey, NeuroTensors.requestId(mode, modelB, inputB), answer.value, answer.decimals
        );
        return answer.value;
    }

    // Split out of `run` to keep the stack shallow (no viaIR needed).
    function _first(string calldata modelA, int128[] calldata features, int128 decimals)
        private
        returns (ModelOutput memory, bytes32)
    {
        int256[] memory values = new int256[](features.length);
        for (uint256 i = 0; i < features.length; i++) {
            values[i] = features[i];
        }
        ModelInput memory inputA =
            NeuroTensors.singleInput(NeuroTensors.rowTensor(inputNameA, values, decimals));
        return (
            NeuroTensors.inferenceOf(mode, modelA, inputA),
            NeuroTensors.requestId(mode, modelA, inputA)
        );
    }
}
