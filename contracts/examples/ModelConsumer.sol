// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "../NeuroTensors.sol";

/// @title Calls a model in a transaction and keeps its answer
/// @notice `predict` sends one row of features (shape [1, n]) to the model through the
/// inference precompile, stores the first number of the output and emits `Prediction`.
/// The sequencer runs the model before the block (PIPE); the chain verifies the result's
/// proof inside the block that includes the transaction.
contract ModelConsumer {
    using NeuroTensors for ModelOutput;

    /// @notice `requestKey` is the request id of the inference (its receipt's key in
    /// `neuro_getInferenceProof`); the prediction is `value * 10^-decimals`.
    event Prediction(bytes32 indexed requestKey, int256 value, int128 decimals);

    string public inputName; // the ONNX input the features are fed to
    uint8 public mode; // a ModelInferenceMode or MODE_OPTIMISTIC

    int256 public lastValue;
    int128 public lastDecimals;
    bytes32 public lastRequestKey;
    uint256 public predictionCount;

    constructor(string memory inputName_, uint8 mode_) {
        inputName = inputName_;
        mode = mode_;
    }

    /// @notice Runs `modelCID` on `features[i] * 10^-decimals`; returns the first output
    /// number's value (with `lastDecimals` decimals).
    function predict(string calldata modelCID, int128[] calldata features, int128 decimals)
        external
        returns (int256)
    {
        int256[] memory values = new int256[](features.length);
        for (uint256 i = 0; i < features.length; i++) {
            values[i] = features[i];
        }
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor(inputName, values, decimals));
        ModelOutput memory output = NeuroTensors.inferenceOf(mode, modelCID, input);
        Number memory answer = output.firstNumber();
        bytes32 key = NeuroTensors.requestId(mode, modelCID, input);
        lastValue = answer.value;
        lastDecimals = answer.decimals;
        lastRequestKey = key;
        predictionCount += 1;
        emit Prediction(key, answer.value, answer.decimals);
        return answer.value;
    }
}
