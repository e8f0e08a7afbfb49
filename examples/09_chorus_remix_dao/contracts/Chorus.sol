// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title Chorus: a fan-powered remix DAO around a music model.
/// @notice Supporters fund the artist's model (the funding goes to the artist at once).
///         When the artist closes the round, each supporter's funding becomes their
///         weight: they vote on which version of the model is canonical (the version with
///         the most weight; a tie keeps the earlier version), and they share the royalties
///         pro rata. `press` runs the canonical version on a track. The chain's registry
///         lists this contract as the owner of every version, so the royalty share of each
///         inference fee is credited here in the same block; each supporter withdraws
///         `totalReceived · funding / totalFunding` (pull payments: `release`).
contract Chorus {
    using NeuroTensors for ModelOutput;

    address public immutable artist;
    string[] public versions; // model CIDs
    mapping(address => uint256) public funding;
    uint256 public totalFunding;
    bool public fundingClosed;

    mapping(uint256 => uint256) public votesFor; // version => weight
    mapping(address => uint256) public votedFor; // supporter => version + 1 (0: no vote)

    uint256 public totalReleased;
    mapping(address => uint256) public released;

    event Funded(address indexed supporter, uint256 amount);
    event VersionProposed(uint256 indexed version, string modelCID);
    event FundingClosed(uint256 totalFunding);
    event Voted(address indexed supporter, uint256 indexed version, uint256 weight);
    event Pressed(address indexed listener, uint256 indexed version, bytes32 requestId, uint16 energyBps);
    event Released(address indexed supporter, uint256 amount);

    error NotArtist(address caller);
    error FundingIsClosed();
    error FundingIsOpen();
    error NotSupporter(address caller);
    error UnknownVersion(uint256 version);
    error NoVersion();
    error NoFunding();
    error NothingDue(address supporter);
    error PaymentFailed(address to);

    modifier onlyArtist() {
        if (msg.sender != artist) revert NotArtist(msg.sender);
        _;
    }

    constructor() {
        artist = msg.sender;
    }

    // ---- the round: fund, propose, close, vote ----------------------------------------------

    function fund() external payable {
        if (fundingClosed) revert FundingIsClosed();
        if (msg.value == 0) revert NotSupporter(msg.sender);
        funding[msg.sender] += msg.value;
        totalFunding += msg.value;
        emit Funded(msg.sender, msg.value);
        (bool paid,) = payable(artist).call{value: msg.value}("");
        if (!paid) revert PaymentFailed(artist);
    }

    function propose(string calldata modelCID) external onlyArtist {
        versions.push(modelCID);
        emit VersionProposed(versions.length - 1, modelCID);
    }

    function closeFunding() external onlyArtist {
        if (fundingClosed) revert FundingIsClosed();
        if (totalFunding == 0) revert NoFunding();
        fundingClosed = true;
        emit FundingClosed(totalFunding);
    }

    /// @notice Put all of the caller's funding behind `version` (moving an earlier vote).
    function vote(uint256 version) external {
        if (!fundingClosed) revert FundingIsOpen();
        uint256 weight = funding[msg.sender];
        if (weight == 0) revert NotSupporter(msg.sender);
        if (version >= versions.length) revert UnknownVersion(version);
        uint256 previous = votedFor[msg.sender];
        if (previous != 0) votesFor[previous - 1] -= weight;
        votesFor[version] += weight;
        votedFor[msg.sender] = version + 1;
        emit Voted(msg.sender, version, weight);
    }

    /// @notice The version with the most weight behind it (the earlier one on a tie).
    function canonical() public view returns (uint256 version, string memory modelCID) {
        if (versions.length == 0) revert NoVersion();
        for (uint256 i = 1; i < versions.length; i++) {
            if (votesFor[i] > votesFor[version]) version = i;
        }
        modelCID = versions[version];
    }

    function versionCount() external view returns (uint256) {
        return versions.length;
    }

    // ---- using the model ----------------------------------------------------------------

    /// @notice Presses a track with the canonical version: its energy, in basis points.
    function press(int256[] calldata track, int128 decimals) external returns (uint16 energyBps) {
        (uint256 version, string memory cid) = canonical();
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor("track", track, decimals));
        ModelOutput memory out = NeuroTensors.inferenceOf(MODE_VANILLA, cid, input);
        int256 bps = NeuroTensors.toFixed(out.getNumber("energy", 0), 4);
        energyBps = uint16(uint256(bps < 0 ? int256(0) : bps > 10000 ? int256(10000) : bps));
        emit Pressed(msg.sender, version, NeuroTensors.requestId(MODE_VANILLA, cid, input), energyBps);
    }

    // ---- royalties ----------------------------------------------------------------------

    /// @notice What `supporter` may withdraw now (nothing while the round is open: the
    ///         weights are final only once it closes).
    function due(address supporter) public view returns (uint256) {
        if (!fundingClosed) return 0;
        uint256 received = address(this).balance + totalReleased;
        return received * funding[supporter] / totalFunding - released[supporter];
    }

    /// @notice Pays `supporter` their due; anyone may trigger it.
    function release(address supporter) external returns (uint256 amount) {
        amount = due(supporter);
        if (amount == 0) revert NothingDue(supporter);
        released[supporter] += amount;
        totalReleased += amount;
        emit Released(supporter, amount);
        (bool paid,) = payable(supporter).call{value: amount}("");
        if (!paid) revert PaymentFailed(supporter);
    }
}
