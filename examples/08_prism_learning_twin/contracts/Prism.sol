// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title Prism: a student's private learning twin, owned by her wallet.
/// @notice The twin is a tutor model that predicts whether she will recall a topic. Only
///         the owner's key publishes versions; the contract points at the current one.
///         Apps pay `queryFee` per question, and the fee is forwarded to the owner in the
///         same transaction.
contract Prism {
    using NeuroTensors for ModelOutput;

    address public immutable owner; // the student's wallet
    uint256 public queryFee; // wei per question
    string[] private versions; // model CIDs, oldest first

    event Published(uint256 indexed version, string modelCID);
    event QueryFeeChanged(uint256 fee);
    event Answered(
        address indexed app, uint256 indexed version, bytes32 requestId, uint16 recallBps
    );

    error NotOwner(address caller);
    error NothingPublished();
    error WrongFee(uint256 expected, uint256 paid);
    error PaymentFailed();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(uint256 queryFee_) {
        owner = msg.sender;
        queryFee = queryFee_;
    }

    function publish(string calldata modelCID) external onlyOwner {
        versions.push(modelCID);
        emit Published(versions.length, modelCID);
    }

    function setQueryFee(uint256 fee) external onlyOwner {
        queryFee = fee;
        emit QueryFeeChanged(fee);
    }

    /// @notice The number of published versions; the current one is `currentModel()`.
    function version() external view returns (uint256) {
        return versions.length;
    }

    function currentModel() public view returns (string memory) {
        if (versions.length == 0) revert NothingPublished();
        return versions[versions.length - 1];
    }

    /// @notice P(recall) in basis points for `[hours, days since review, quiz score,
    ///         difficulty]` (with `decimals` decimals), from the current version.
    function ask(int256[] calldata topic, int128 decimals)
        external
        payable
        returns (uint16 recallBps)
    {
        if (msg.value != queryFee) revert WrongFee(queryFee, msg.value);
        string memory cid = currentModel();
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor("x", topic, decimals));
        ModelOutput memory out = NeuroTensors.inferenceOf(MODE_VANILLA, cid, input);
        int256 bps = NeuroTensors.toFixed(out.getNumber("probabilities", 1), 4);
        recallBps = uint16(uint256(bps < 0 ? int256(0) : bps > 10000 ? int256(10000) : bps));
        emit Answered(
            msg.sender, versions.length, NeuroTensors.requestId(MODE_VANILLA, cid, input), recallBps
        );
        (bool paid,) = payable(owner).call{value: msg.value}("");
        if (!paid) revert PaymentFailed();
    }
}

/// @title StudyApp: a third-party app that asks a student's twin what to review.
contract StudyApp {
    uint16 public constant REVIEW_BELOW_BPS = 6000;

    event Advice(address indexed learner, address indexed twin, uint16 recallBps, bool review);

    /// @notice Forwards the caller's payment as the twin's query fee.
    function advise(Prism twin, int256[] calldata topic, int128 decimals)
        external
        payable
        returns (bool review)
    {
        uint16 recallBps = twin.ask{value: msg.value}(topic, decimals);
        review = recallBps < REVIEW_BELOW_BPS;
        emit Advice(msg.sender, address(twin), recallBps, review);
    }
}
