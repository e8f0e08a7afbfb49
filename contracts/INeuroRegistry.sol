// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title The sprinter/model registry of a Neuro Stack chain (system contract at 0x4E53…0001)
/// @notice A native system contract: its storage is ordinary chain state, read by the
/// state-transition function when it verifies inference receipts. Mirrors the ABI of
/// sequencer/chain/inference/system_contract.py (a test keeps the two equal).
/// Functions marked "owner" may only be called by the chain owner (the sequencer key's
/// address at genesis); every refusal reverts with Error(string) saying why. Changes take
/// effect from the next block on.
interface INeuroRegistry {
    event SprinterAdded(address indexed sprinter);
    event SprinterRevoked(address indexed sprinter);
    event MeasurementApproved(bytes32 indexed measurement);
    event MeasurementRevoked(bytes32 indexed measurement);
    event AttestationRootAdded(address indexed root);
    event AttestationRootRevoked(address indexed root);
    event TeeKeyRegistered(address indexed key, bytes32 indexed measurement, uint64 attestedAt);
    event TeeKeyRevoked(address indexed key);
    event ModelRegistered(
        string modelCID,
        bytes32 modelHash,
        address indexed owner,
        uint64 inferenceGas,
        uint16 royaltyBps
    );
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ZkModelRegistered(string modelCID, bytes32 settingsHash, bytes32 verifyingKeyHash);

    // ---- views ---------------------------------------------------------------------

    /// @notice The chain owner, who administers the registry.
    function owner() external view returns (address);

    /// @notice Whether `sprinter` may sign VANILLA receipts.
    function isSprinter(address sprinter) external view returns (bool);

    function isMeasurementApproved(bytes32 measurement) external view returns (bool);

    function isAttestationRoot(address root) external view returns (bool);

    /// @notice The TEE admission of `key`: its code measurement, the time of its latest
    /// attestation, and whether it is active (all zero/false if never admitted).
    function teeKeyOf(address key)
        external
        view
        returns (bytes32 measurement, uint64 attestedAt, bool active);

    /// @notice A registered model: the sha256 of its file, who earns royalties, its price
    /// in gas per call, the owner's share in basis points; `registered` false if unknown.
    function modelOf(string calldata modelCID)
        external
        view
        returns (
            bytes32 modelHash,
            address modelOwner,
            uint64 inferenceGas,
            uint16 royaltyBps,
            bool registered
        );

    // ---- owner functions -----------------------------------------------------------

    function addSprinter(address sprinter) external;

    function revokeSprinter(address sprinter) external;

    function approveMeasurement(bytes32 measurement) external;

    function revokeMeasurement(bytes32 measurement) external;

    function addAttestationRoot(address root) external;

    function revokeAttestationRoot(address root) external;

    function revokeTeeKey(address key) external;

    /// @notice Registers (or re-prices) a model. `modelHash` must be the sha256 digest
    /// inside `modelCID`; `royaltyBps` at most 10000.
    function registerModel(
        string calldata modelCID,
        bytes32 modelHash,
        address modelOwner,
        uint64 inferenceGas,
        uint16 royaltyBps
    ) external;

    function transferOwnership(address newOwner) external;

    // ---- open to anyone: the attestation document is the credential ----------------

    /// @notice Admits `key` as a TEE sprinter key with an attestation document whose
    /// measurement is approved and whose timestamp is fresh.
    function registerTeeKey(address key, bytes calldata attestation) external;

    /// @notice Renews an admitted TEE key's attestation with a newer document.
    function heartbeat(address key, bytes calldata attestation) external;

    // ---- ZK models (mode ZK) -------------------------------------------------------

    /// @notice A model's registered ZK circuit: the sha256 of its circuit settings and of
    /// its verifying key, and the fixed-point scales (2-adic bits) of its inputs and
    /// outputs; `registered` false if the model has no circuit on this chain.
    function zkModelOf(string calldata modelCID)
        external
        view
        returns (
            bytes32 settingsHash,
            bytes32 verifyingKeyHash,
            int8[] memory inputScales,
            int8[] memory outputScales,
            bool registered
        );

    /// @notice Owner: registers (or replaces) a model's ZK circuit. `settings` is the
    /// circuit settings document (neurostack.zk.circuit.v1) and `verifyingKey` the key it
    /// names; its SRS must be one of the chain's ([[inference.zk_srs]]). Both are stored
    /// by sha256 (gas per new 32-byte word), so the state transition verifies proofs from
    /// chain state alone.
    function registerZkModel(
        string calldata modelCID,
        bytes calldata settings,
        bytes calldata verifyingKey
    ) external;
    // ---- bonds and OPTIMISTIC results (docs/inference.md, "OPTIMISTIC mode") -------

    /// @notice `sprinter` bonded `amount` more; its bond is now `bonded`.
    event Staked(address indexed sprinter, uint256 amount, uint256 bonded);
    /// @notice `amount` stops counting as bond; withdrawable from block `releaseBlock`.
    event Unstaked(address indexed sprinter, uint256 amount, uint64 releaseBlock);
    event Withdrawn(address indexed sprinter, uint256 amount);
    /// @notice A block used an OPTIMISTIC result: its challenge window opens. `input` is
    /// the call's ABI-encoded ModelInput: with `modelCID`, what a watcher recomputes.
    event OptimisticResultRecorded(
        bytes32 indexed requestId,
        address indexed sprinter,
        bytes32 outputHash,
        string modelCID,
        bytes input
    );
    /// @notice A counter-proof overturned a result: the sprinter's stake (`slashed` wei)
    /// is gone, `reward` of it paid to the challenger and the rest burned.
    event ResultChallenged(
        bytes32 indexed requestId,
        address indexed sprinter,
        address indexed challenger,
        bytes32 claimedOutputHash,
        bytes32 provenOutputHash,
        uint256 slashed,
        uint256 reward
    );

    /// @notice Whether the OPTIMISTIC result of `requestId` is final: recorded, its
    /// challenge window over, never challenged. Wait for it before acting on a
    /// high-value output.
    function isFinal(bytes32 requestId) external view returns (bool);

    /// @notice The recorded OPTIMISTIC result of `requestId`: its sprinter, output hash
    /// (the proven one once challenged), block, the last block a challenge is accepted,
    /// and `state` 0 none, 1 pending, 2 final, 3 challenged.
    function optimisticResultOf(bytes32 requestId)
        external
        view
        returns (
            address sprinter,
            bytes32 outputHash,
            uint64 blockNumber,
            uint64 challengeDeadline,
            uint8 state
        );

    /// @notice `sprinter`'s stake: bonded (admits it), unbonding (still slashable) and
    /// the block from which `withdraw` pays the unbonding amount.
    function bondOf(address sprinter)
        external
        view
        returns (uint256 bonded, uint256 unbonding, uint64 releaseBlock);

    /// @notice The chain's parameters (chain.toml [inference]): admission by stake or by
    /// the owner's list, minimum bond (wei), challenge window and unbonding delay
    /// (blocks), the challenger's share of a slashed bond (basis points).
    function stakingParams()
        external
        view
        returns (
            bool stakeAdmission,
            uint256 minBond,
            uint64 challengeWindow,
            uint64 unbondingDelay,
            uint16 challengerShareBps
        );

    /// @notice Wei burned by slashing since genesis.
    function totalSlashBurned() external view returns (uint256);

    /// @notice Bonds the call's value for the caller.
    function stake() external payable;

    /// @notice Starts unbonding `amount`: it no longer admits the caller and can be
    /// withdrawn `unbondingDelay` blocks later; slashable until then.
    function unstake(uint256 amount) external;

    /// @notice Pays the caller what finished unbonding.
    function withdraw() external;

    /// @notice Overturns the OPTIMISTIC result of `requestId` within its window with a
    /// TEE receipt `counterReceipt` (the inference witness encoding) for the same
    /// model and `input` (ABI-encoded ModelInput) giving another output. Reverts with the
    /// reason otherwise (window closed, invalid proof, another request, same output).
    function challenge(bytes32 requestId, bytes calldata input, bytes calldata counterReceipt)
        external;
}

// The registry's fixed address.
address constant NEURO_REGISTRY_ADDRESS = 0x4E53000000000000000000000000000000000001;
INeuroRegistry constant NEURO_REGISTRY = INeuroRegistry(NEURO_REGISTRY_ADDRESS);
