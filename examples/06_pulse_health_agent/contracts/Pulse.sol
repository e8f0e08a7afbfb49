// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title Pulse: a sovereign health agent.
/// @notice A user registers the key of her wearable. Only that device key submits vitals;
///         each reading goes through an anomaly model, and a reading whose P(anomaly)
///         reaches the user's own threshold raises an `Alert` indexed by her address (her
///         wallet or app subscribes to it). Only the user changes her threshold, device,
///         price, or which researchers may buy insights. A researcher she granted pays her
///         price to get aggregates (counts and means, never a reading); the payment goes to
///         the user in the same transaction.
contract Pulse {
    using NeuroTensors for ModelOutput;

    int128 public constant VITALS_DECIMALS = 1; // [heart rate, SpO2, temperature, HRV] x10

    struct Profile {
        address device; // the only key that may submit this user's vitals
        uint16 alertBps; // alert when P(anomaly) >= alertBps / 10000
        uint256 insightFee; // wei a granted researcher pays per insight
        uint64 readings;
        uint64 alerts;
        int256 sumHeartRate; // sums with VITALS_DECIMALS decimals, for the means
        int256 sumSpo2;
        int256 sumTemperature;
    }

    string public modelCID; // vitals [N, 4] -> label [N], probabilities [N, 2]
    mapping(address => Profile) public profiles;
    mapping(address => mapping(address => bool)) public granted; // user => researcher => ok

    event Registered(address indexed user, address device, uint16 alertBps, uint256 insightFee);
    event Alert(address indexed user, uint64 indexed reading, uint16 anomalyBps, bytes32 requestId);
    event ThresholdChanged(address indexed user, uint16 alertBps);
    event DeviceChanged(address indexed user, address device);
    event InsightFeeChanged(address indexed user, uint256 fee);
    event AccessChanged(address indexed user, address indexed researcher, bool granted);
    event InsightsSold(
        address indexed user,
        address indexed researcher,
        uint256 fee,
        uint64 readings,
        uint64 alerts,
        int256 meanHeartRate,
        int256 meanSpo2,
        int256 meanTemperature
    );

    error NotUser(address user, address caller);
    error NotDevice(address user, address caller);
    error NotRegistered(address user);
    error AlreadyRegistered(address user);
    error NotGranted(address user, address researcher);
    error WrongFee(uint256 expected, uint256 paid);
    error ThresholdOutOfRange(uint16 alertBps);
    error PaymentFailed(address user);

    modifier onlyUser(address user) {
        if (msg.sender != user) revert NotUser(user, msg.sender);
        if (profiles[user].device == address(0)) revert NotRegistered(user);
        _;
    }

    constructor(string memory modelCID_) {
        modelCID = modelCID_;
    }

    /// @notice The caller becomes a user whose vitals come from `device`.
    function register(address device, uint16 alertBps, uint256 insightFee) external {
        if (profiles[msg.sender].device != address(0)) revert AlreadyRegistered(msg.sender);
        if (alertBps == 0 || alertBps > 10000) revert ThresholdOutOfRange(alertBps);
        Profile storage p = profiles[msg.sender];
        p.device = device;
        p.alertBps = alertBps;
        p.insightFee = insightFee;
        emit Registered(msg.sender, device, alertBps, insightFee);
    }

    function setThreshold(address user, uint16 alertBps) external onlyUser(user) {
        if (alertBps == 0 || alertBps > 10000) revert ThresholdOutOfRange(alertBps);
        profiles[user].alertBps = alertBps;
        emit ThresholdChanged(user, alertBps);
    }

    function setDevice(address user, address device) external onlyUser(user) {
        profiles[user].device = device;
        emit DeviceChanged(user, device);
    }

    function setInsightFee(address user, uint256 fee) external onlyUser(user) {
        profiles[user].insightFee = fee;
        emit InsightFeeChanged(user, fee);
    }

    function grant(address user, address researcher, bool allowed) external onlyUser(user) {
        granted[user][researcher] = allowed;
        emit AccessChanged(user, researcher, allowed);
    }

    /// @notice The device submits one reading (VITALS_DECIMALS decimals); returns the
    ///         model's P(anomaly) in basis points and whether it raised an alert.
    function submitVitals(address user, int256[] calldata vitals)
        external
        returns (uint16 anomalyBps, bool alerted)
    {
        Profile storage p = profiles[user];
        if (p.device == address(0)) revert NotRegistered(user);
        if (msg.sender != p.device) revert NotDevice(user, msg.sender);
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor("vitals", vitals, VITALS_DECIMALS));
        ModelOutput memory out = NeuroTensors.inferenceOf(MODE_VANILLA, modelCID, input);
        int256 bps = NeuroTensors.toFixed(out.getNumber("probabilities", 1), 4);
        anomalyBps = uint16(uint256(bps < 0 ? int256(0) : bps > 10000 ? int256(10000) : bps));
        p.readings += 1;
        p.sumHeartRate += vitals[0];
        p.sumSpo2 += vitals[1];
        p.sumTemperature += vitals[2];
        alerted = anomalyBps >= p.alertBps;
        if (alerted) {
            p.alerts += 1;
            emit Alert(
                user, p.readings, anomalyBps, NeuroTensors.requestId(MODE_VANILLA, modelCID, input)
            );
        }
    }

    /// @notice A granted researcher pays the user's price for her aggregates; the payment
    ///         is forwarded to the user at once.
    function buyInsights(address user)
        external
        payable
        returns (uint64 readings, uint64 alerts, int256 meanHeartRate, int256 meanSpo2,
            int256 meanTemperature)
    {
        Profile storage p = profiles[user];
        if (p.device == address(0)) revert NotRegistered(user);
        if (!granted[user][msg.sender]) revert NotGranted(user, msg.sender);
        if (msg.value != p.insightFee) revert WrongFee(p.insightFee, msg.value);
        readings = p.readings;
        alerts = p.alerts;
        if (readings > 0) {
            int256 n = int256(uint256(readings));
            (meanHeartRate, meanSpo2, meanTemperature) =
                (p.sumHeartRate / n, p.sumSpo2 / n, p.sumTemperature / n);
        }
        emit InsightsSold(
            user, msg.sender, msg.value, readings, alerts, meanHeartRate, meanSpo2, meanTemperature
        );
        (bool paid,) = payable(user).call{value: msg.value}("");
        if (!paid) revert PaymentFailed(user);
    }
}
