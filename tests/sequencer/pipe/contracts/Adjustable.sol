// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "neurostack/NeuroTensors.sol";

/// A model call whose input is contract state: an earlier transaction in the same block
/// (setOffset) changes the request of a later one (predict), as PIPE's Seal step must handle.
contract Adjustable {
    using NeuroTensors for ModelOutput;

    int256 public offset = 1;
    int256 public lastValue;
    string public modelCID;

    constructor(string memory cid) {
        modelCID = cid;
    }

    function setOffset(int256 value) external {
        offset = value;
    }

    function predict() external {
        int256[] memory values = new int256[](1);
        values[0] = offset;
        ModelInput memory input = NeuroTensors.singleInput(NeuroTensors.rowTensor("x", values, 0));
        lastValue = NeuroTensors.inferenceOf(0, modelCID, input).firstNumber().value;
    }
}
