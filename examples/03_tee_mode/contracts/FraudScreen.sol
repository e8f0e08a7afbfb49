// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title FraudScreen: a model call in TEE mode.
/// @notice `screen` asks a fraud model for the probability that a payment is fraudulent,
///         in TEE mode: the chain accepts the result only if it is signed by a key that an
///         attestation document admitted to the registry (approved code measurement, not
///         revoked, attested within the last 24 h). Payments at or above `thresholdBps`
///         are flagged.
contract FraudScreen {
    using NeuroTensors for ModelOutput;

    string public modelCID; // x [N, 4] -> label [N], probabilities [N, 2]
    uint16 public immutable thresholdBps;

    uint256 public screened;
    uint256 public flagged;
    uint16 public lastFraudBps; // P(fraud) of the last payment, in basis points

    event Screened(
        address indexed by, bytes32 indexed requestId, uint16 fraudBps, bool flagged
    );

    constructor(string memory modelCID_, uint16 thresholdBps_) {
        modelCID = modelCID_;
        thresholdBps = thresholdBps_;
    }

    function screen(int256[] calldata payment, int128 decimals) external returns (bool) {
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor("x", payment, decimals));
        ModelOutput memory out = NeuroTensors.inferenceOf(MODE_TEE, modelCID, input);
        int256 bps = NeuroTensors.toFixed(out.getNumber("probabilities", 1), 4);
        uint16 fraudBps = uint16(uint256(bps < 0 ? int256(0) : bps > 10000 ? int256(10000) : bps));
        bool isFlagged = fraudBps >= thresholdBps;
        screened += 1;
        if (isFlagged) flagged += 1;
        lastFraudBps = fraudBps;
        emit Screened(
            msg.sender, NeuroTensors.requestId(MODE_TEE, modelCID, input), fraudBps, isFlagged
        );
        return isFlagged;
    }
}
