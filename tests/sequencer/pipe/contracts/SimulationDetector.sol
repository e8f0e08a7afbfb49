// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "neurostack/NeuroTensors.sol";

/// An attacker's contract: each `by*` function calls the model only where it believes it is
/// being simulated (PIPE's detection) and not when it runs in a block, hoping to make the
/// hub work for a transaction that never pays for a model call. `honest` always calls it.
contract SimulationDetector {
    using NeuroTensors for ModelOutput;

    string public modelCID;
    int256 public lastValue;
    uint256 public calls;
    bool public armed;

    constructor(string memory cid) {
        modelCID = cid;
    }

    function _infer(int256 v) internal {
        int256[] memory values = new int256[](1);
        values[0] = v;
        ModelInput memory input = NeuroTensors.singleInput(NeuroTensors.rowTensor("x", values, 0));
        lastValue = NeuroTensors.inferenceOf(0, modelCID, input).firstNumber().value;
        calls += 1;
    }

    function honest(int256 v) external {
        _infer(v);
    }

    /// eth_call style simulations run with a gas price of 0
    function byGasPrice(int256 v) external {
        if (tx.gasprice == 0) _infer(v);
    }

    /// ... and a base fee of 0
    function byBaseFee(int256 v) external {
        if (block.basefee == 0) _infer(v);
    }

    /// a simulation that does not buy gas leaves the sender's whole balance
    function byBalance(int256 v, uint256 balanceBefore) external {
        if (tx.origin.balance >= balanceBefore) _infer(v);
    }

    /// a simulation on the head block sees the head's number and timestamp
    function byNumber(int256 v, uint256 headNumber) external {
        if (block.number <= headNumber) _infer(v);
    }

    function byTimestamp(int256 v, uint256 headTimestamp) external {
        if (block.timestamp <= headTimestamp) _infer(v);
    }

    /// a simulation that does not name the sequencer as coinbase
    function byCoinbase(int256 v, address sequencer) external {
        if (block.coinbase != sequencer) _infer(v);
    }

    /// a simulation that does not run the block's earlier transactions: an accomplice's
    /// `arm` in front of this one (higher tip) makes the block skip the model call
    function byState(int256 v) external {
        if (!armed) _infer(v);
        armed = false;
    }

    function arm() external {
        armed = true;
    }
}
