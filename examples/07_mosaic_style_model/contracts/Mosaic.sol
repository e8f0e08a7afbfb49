// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title Mosaic: a style model co-owned by the artists who trained it.
/// @notice The chain's registry lists this contract as the style model's owner, so the
///         royalty share of every inference's fee, whoever calls the model and from
///         whichever contract, is credited to this contract in the same block. Each
///         contributor can withdraw `totalReceived · shares / totalShares` of it (pull
///         payments: `release`). A fork of the style may be remixed here only once every
///         contributor has signed the fork proposal (EIP-712 typed data), so a fork needs
///         the creators' signatures, not a platform's blessing.
contract Mosaic {
    using NeuroTensors for ModelOutput;

    bytes32 public constant FORK_TYPEHASH =
        keccak256("Fork(string parentCID,string childCID,address forker,uint256 nonce)");
    bytes32 private constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    // secp256k1's n / 2: a signature with a larger s is the malleable twin of another one.
    uint256 private constant HALF_N =
        0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    string public modelCID; // sketch [N, 4] -> palette [N, 3]
    address[] public contributors;
    mapping(address => uint256) public shares;
    uint256 public immutable totalShares;
    uint256 public totalReleased;
    mapping(address => uint256) public released;

    mapping(bytes32 => address) public forkedBy; // keccak256(fork CID) => who forked it
    uint256 public forkNonce; // signatures are for one proposal each
    bytes32 public immutable domainSeparator;

    event Remixed(
        address indexed by, string modelCID, bytes32 requestId, uint8 red, uint8 green, uint8 blue
    );
    event Forked(string childCID, address indexed forker, uint256 nonce);
    event Released(address indexed contributor, uint256 amount);

    error NotLicensed(string modelCID);
    error MissingSignatures(uint256 needed, uint256 given);
    error BadSignature(address contributor);
    error AlreadyForked(string childCID);
    error NothingDue(address contributor);
    error PaymentFailed(address contributor);
    error BadShares();

    constructor(string memory modelCID_, address[] memory contributors_, uint256[] memory shares_) {
        if (contributors_.length == 0 || contributors_.length != shares_.length) revert BadShares();
        uint256 total;
        for (uint256 i = 0; i < contributors_.length; i++) {
            address who = contributors_[i];
            if (who == address(0) || shares_[i] == 0 || shares[who] != 0) revert BadShares();
            shares[who] = shares_[i];
            total += shares_[i];
        }
        modelCID = modelCID_;
        contributors = contributors_;
        totalShares = total;
        domainSeparator = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("Mosaic"), keccak256("1"), block.chainid, address(this)
            )
        );
    }

    function contributorCount() external view returns (uint256) {
        return contributors.length;
    }

    // ---- royalties -------------------------------------------------------------------

    /// @notice What `contributor` may withdraw now. Royalties arrive as plain balance
    ///         credits (no code runs), so the total received is the balance plus what left.
    function due(address contributor) public view returns (uint256) {
        uint256 received = address(this).balance + totalReleased;
        return received * shares[contributor] / totalShares - released[contributor];
    }

    /// @notice Pays `contributor` their due; anyone may trigger it.
    function release(address contributor) external returns (uint256 amount) {
        amount = due(contributor);
        if (amount == 0) revert NothingDue(contributor);
        released[contributor] += amount;
        totalReleased += amount;
        emit Released(contributor, amount);
        (bool paid,) = payable(contributor).call{value: amount}("");
        if (!paid) revert PaymentFailed(contributor);
    }

    // ---- the style and its forks ---------------------------------------------------------

    function isLicensed(string memory cid) public view returns (bool) {
        return keccak256(bytes(cid)) == keccak256(bytes(modelCID))
            || forkedBy[keccak256(bytes(cid))] != address(0);
    }

    /// @notice Paints a sketch in the style `cid` (the collective's, or a signed fork).
    function remix(string calldata cid, int256[] calldata sketch, int128 decimals)
        external
        returns (uint8 red, uint8 green, uint8 blue)
    {
        if (!isLicensed(cid)) revert NotLicensed(cid);
        ModelInput memory input =
            NeuroTensors.singleInput(NeuroTensors.rowTensor("sketch", sketch, decimals));
        ModelOutput memory out = NeuroTensors.inferenceOf(MODE_VANILLA, cid, input);
        red = _channel(out.getNumber("palette", 0));
        green = _channel(out.getNumber("palette", 1));
        blue = _channel(out.getNumber("palette", 2));
        emit Remixed(
            msg.sender, cid, NeuroTensors.requestId(MODE_VANILLA, cid, input), red, green, blue
        );
    }

    /// @notice The EIP-712 digest each contributor signs to allow forking into `childCID`.
    function forkDigest(string memory childCID, address forker) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                FORK_TYPEHASH,
                keccak256(bytes(modelCID)),
                keccak256(bytes(childCID)),
                forker,
                forkNonce
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    /// @notice Licenses the fork `childCID` by `forker`; `signatures[i]` must be
    ///         contributor i's signature of `forkDigest(childCID, forker)`.
    function fork(string calldata childCID, address forker, bytes[] calldata signatures)
        external
    {
        if (signatures.length != contributors.length) {
            revert MissingSignatures(contributors.length, signatures.length);
        }
        if (isLicensed(childCID)) revert AlreadyForked(childCID);
        bytes32 digest = forkDigest(childCID, forker);
        for (uint256 i = 0; i < contributors.length; i++) {
            if (_signer(digest, signatures[i]) != contributors[i]) {
                revert BadSignature(contributors[i]);
            }
        }
        forkedBy[keccak256(bytes(childCID))] = forker;
        emit Forked(childCID, forker, forkNonce);
        forkNonce += 1;
    }

    function _signer(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, r, s);
    }

    /// @dev A palette value (0..1) as a colour channel (0..255).
    function _channel(Number memory value) private pure returns (uint8) {
        int256 milli = NeuroTensors.toFixed(value, 3);
        if (milli <= 0) return 0;
        if (milli >= 1000) return 255;
        return uint8(uint256(milli) * 255 / 1000);
    }
}
