// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title Predictor, the example of a contract that calls an ML model.
/// @notice `predict` sends one row of features (shape [1, n]) to the model `modelCID`
///         through the inference precompile at 0x…F4 and keeps the first number of the
///         output. The sequencer runs the model before the block; the chain verifies the
///         result's signed receipt inside the block that includes the transaction.
///         The project's tests deploy it from contracts/artifacts/Predictor.json.
contract Predictor {
    using NeuroTensors for ModelOutput;

    string public modelCID; // content id of the ONNX model on the hub
    string public inputName; // the ONNX input the features are fed to

    int256 public lastValue; // the last prediction is lastValue * 10^-lastDecimals
    int128 public lastDecimals;

    event Predicted(address indexed by, bytes32 indexed requestId, int256 value, int128 decimals);

    constructor(string memory modelCID_, string memory inputName_) {
        modelCID = modelCID_;
        inputName = inputName_;
    }

    /// @notice Runs the model on `features[i] * 10^-decimals` (VANILLA mode: a registered
    ///         sprinter's signature) and returns the first output number's value.
    function predict(int256[] calldata features, int128 decimals) external returns (int256) {
        uint8 mode = uint8(ModelInferenceMode.VANILLA);
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor(inputName, features, decimals));
        Number memory answer = NeuroTensors.inferenceOf(mode, modelCID, input).firstNumber();
        lastValue = answer.value;
        lastDecimals = answer.decimals;
        emit Predicted(
            msg.sender, NeuroTensors.requestId(mode, modelCID, input), answer.value, answer.decimals
        );
        return answer.value;
    }
}
