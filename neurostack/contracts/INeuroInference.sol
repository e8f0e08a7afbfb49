// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Neuro Stack inference precompile interface
/// @notice ABI-compatible with OpenGradient's `OGInference`: the structs below encode to
/// exactly the same ABI types, so `runModelInference` has the same 4-byte selector and
/// contracts written for OpenGradient call the Neuro Stack precompile unchanged at the ABI
/// level. See docs/contracts.md for the one source-level difference (`mode` is a uint8).

/// @notice How much certainty the caller buys for a result (DESIGN.md section 6).
/// VANILLA = 0 (sprinter signature), ZK = 1 (ezkl proof), TEE = 2 (attested enclave key).
/// Neuro Stack adds OPTIMISTIC = 3 (bonded signature + challenge window); it is not a
/// member of this enum, so that the enum stays identical to OpenGradient's: pass it as
/// `MODE_OPTIMISTIC` (a uint8), which is why `ModelInferenceRequest.mode` is a uint8.
enum ModelInferenceMode {
    VANILLA,
    ZK,
    TEE
}

uint8 constant MODE_VANILLA = 0;
uint8 constant MODE_ZK = 1;
uint8 constant MODE_TEE = 2;
uint8 constant MODE_OPTIMISTIC = 3;

/// @notice A fixed-point number: its real value is `value * 10^-decimals`.
struct Number {
    int128 value;
    int128 decimals;
}

/// @notice A tensor of numbers, `values` in row-major order, `shape` its dimensions.
struct NumberTensor {
    string name;
    Number[] values;
    uint32[] shape;
}

struct StringTensor {
    string name;
    string[] values;
}

/// @notice The named inputs of a model (names are the ONNX input names).
struct ModelInput {
    NumberTensor[] numbers;
    StringTensor[] strings;
}

struct JsonTensor {
    string name;
    string value;
}

/// @notice The named outputs of a model. Float outputs carry 18 decimals, integer and
/// bool outputs 0 (docs/protocol.md "Numbers"). `is_simulation_result` is true only when
/// the output was produced for `eth_call`/`eth_estimateGas` rather than in a block.
struct ModelOutput {
    NumberTensor[] numbers;
    StringTensor[] strings;
    JsonTensor[] jsons;
    bool is_simulation_result;
}

struct ModelInferenceRequest {
    uint8 mode; // a ModelInferenceMode, or MODE_OPTIMISTIC
    string modelCID; // CIDv1 (raw, sha2-256, base32) of the ONNX file
    ModelInput input;
}

interface INeuroInference {
    /// @notice Runs the model on the input and returns its output, verified by the chain
    /// in the block that includes the transaction. Reverts if the model is unknown or the
    /// input does not fit the model.
    function runModelInference(ModelInferenceRequest memory request)
        external
        returns (ModelOutput memory);
}

// The precompile's fixed address.
address constant NEURO_INFERENCE_ADDRESS = 0x00000000000000000000000000000000000000F4;
INeuroInference constant NEURO_INFERENCE = INeuroInference(NEURO_INFERENCE_ADDRESS);
