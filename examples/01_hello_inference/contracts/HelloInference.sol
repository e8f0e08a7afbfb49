// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title HelloInference: a contract calls an ONNX model and keeps its answer.
/// @notice `predict` sends one row of features (shape [1, n]) to the model through the
///         inference precompile at 0x…F4. The sequencer runs the model before the block
///         (PIPE); the chain verifies the sprinter's signed receipt inside the block that
///         includes the transaction, and the block header commits to it.
contract HelloInference {
    using NeuroTensors for ModelOutput;

    string public modelCID; // content id of the ONNX model on the hub
    string public inputName; // the ONNX input the features are fed to

    int256 public lastValue; // the last prediction is lastValue * 10^-lastDecimals
    int128 public lastDecimals;
    bytes32 public lastRequestId; // the key of its receipt in neuro_getInferenceProof
    uint256 public predictions;

    event Predicted(address indexed by, bytes32 indexed requestId, int256 value, int128 decimals);

    constructor(string memory modelCID_, string memory inputName_) {
        modelCID = modelCID_;
        inputName = inputName_;
    }

    /// @notice Runs the model on `features[i] * 10^-decimals` (VANILLA mode: an admitted
    ///         sprinter's signature) and returns the first output number's value.
    function predict(int256[] calldata features, int128 decimals) external returns (int256) {
        uint8 mode = MODE_VANILLA;
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor(inputName, features, decimals));
        Number memory answer = NeuroTensors.inferenceOf(mode, modelCID, input).firstNumber();
        bytes32 requestId = NeuroTensors.requestId(mode, modelCID, input);
        lastValue = answer.value;
        lastDecimals = answer.decimals;
        lastRequestId = requestId;
        predictions += 1;
        emit Predicted(msg.sender, requestId, answer.value, answer.decimals);
        return answer.value;
    }
}
