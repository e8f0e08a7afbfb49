// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./INeuroInference.sol";

/// @title Helpers for building model inputs and reading model outputs
/// @notice All functions are `internal`: they are inlined into the calling contract, so
/// no library deployment or linking is needed.
library NeuroTensors {
    /// @notice No tensor called `name` in the output.
    error TensorNotFound(string name);
    /// @notice `index` is past the end of tensor `name` (which has `length` values).
    error TensorIndexOutOfRange(string name, uint256 index, uint256 length);
    /// @notice A value does not fit the int128 of a `Number`.
    error NumberOutOfRange(int256 value);
    /// @notice A rescaled value does not fit an int256.
    error FixedPointOverflow(int128 value, int128 decimals, uint8 targetDecimals);

    // ---- building inputs ---------------------------------------------------------

    function number(int128 value, int128 decimals) internal pure returns (Number memory) {
        return Number(value, decimals);
    }

    function numberTensor(string memory name, Number[] memory values, uint32[] memory shape)
        internal
        pure
        returns (NumberTensor memory)
    {
        return NumberTensor(name, values, shape);
    }

    /// @notice A 1-D tensor of shape [values.length].
    function numberTensor1D(string memory name, Number[] memory values)
        internal
        pure
        returns (NumberTensor memory)
    {
        uint32[] memory shape = new uint32[](1);
        shape[0] = uint32(values.length);
        return NumberTensor(name, values, shape);
    }

    /// @notice A 1-D tensor of `values[i] * 10^-decimals`, shape [values.length].
    function numberTensor1D(string memory name, int256[] memory values, int128 decimals)
        internal
        pure
        returns (NumberTensor memory)
    {
        return numberTensor1D(name, numbers(values, decimals));
    }

    /// @notice A [1, n] tensor: one row of features, the usual input of a batch model
    /// (ONNX input shape [None, n], as scikit-learn models exported by skl2onnx have).
    function rowTensor(string memory name, int256[] memory values, int128 decimals)
        internal
        pure
        returns (NumberTensor memory)
    {
        uint32[] memory shape = new uint32[](2);
        shape[0] = 1;
        shape[1] = uint32(values.length);
        return NumberTensor(name, numbers(values, decimals), shape);
    }

    /// @notice `Number`s sharing one `decimals`; reverts if a value does not fit int128.
    function numbers(int256[] memory values, int128 decimals)
        internal
        pure
        returns (Number[] memory out)
    {
        out = new Number[](values.length);
        for (uint256 i = 0; i < values.length; i++) {
            if (values[i] > type(int128).max || values[i] < type(int128).min) {
                revert NumberOutOfRange(values[i]);
            }
            out[i] = Number(int128(values[i]), decimals);
        }
    }

    function stringTensor(string memory name, string[] memory values)
        internal
        pure
        returns (StringTensor memory)
    {
        return StringTensor(name, values);
    }

    /// @notice A ModelInput holding exactly one number tensor.
    function singleInput(NumberTensor memory tensor) internal pure returns (ModelInput memory) {
        NumberTensor[] memory nums = new NumberTensor[](1);
        nums[0] = tensor;
        return ModelInput(nums, new StringTensor[](0));
    }

    /// @notice A ModelInput holding exactly one string tensor.
    function singleInput(StringTensor memory tensor) internal pure returns (ModelInput memory) {
        StringTensor[] memory strs = new StringTensor[](1);
        strs[0] = tensor;
        return ModelInput(new NumberTensor[](0), strs);
    }

    function request(uint8 mode, string memory modelCID, ModelInput memory input)
        internal
        pure
        returns (ModelInferenceRequest memory)
    {
        return ModelInferenceRequest(mode, modelCID, input);
    }

    /// @notice OpenGradient-style overload taking the enum.
    function request(ModelInferenceMode mode, string memory modelCID, ModelInput memory input)
        internal
        pure
        returns (ModelInferenceRequest memory)
    {
        return ModelInferenceRequest(uint8(mode), modelCID, input);
    }

    // ---- calling the precompile --------------------------------------------------

    /// @notice Runs `modelCID` on `input` through the precompile at 0x…F4.
    function inferenceOf(uint8 mode, string memory modelCID, ModelInput memory input)
        internal
        returns (ModelOutput memory)
    {
        return NEURO_INFERENCE.runModelInference(ModelInferenceRequest(mode, modelCID, input));
    }

    /// @notice The id the chain gives this request (docs/protocol.md): the key of its
    /// receipt in `neuro_getInferenceProof`.
    /// keccak256(uint256(chainId) ‖ keccak256(modelCID) ‖ uint8(mode) ‖ keccak256(abi.encode(input)))
    function requestId(uint8 mode, string memory modelCID, ModelInput memory input)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encodePacked(
                block.chainid, keccak256(bytes(modelCID)), mode, keccak256(abi.encode(input))
            )
        );
    }

    // ---- reading outputs ---------------------------------------------------------

    function hasNumberTensor(ModelOutput memory out, string memory name)
        internal
        pure
        returns (bool)
    {
        bytes32 key = keccak256(bytes(name));
        for (uint256 i = 0; i < out.numbers.length; i++) {
            if (keccak256(bytes(out.numbers[i].name)) == key) return true;
        }
        return false;
    }

    /// @notice The number tensor called `name`; reverts with TensorNotFound otherwise.
    function numberTensorOf(ModelOutput memory out, string memory name)
        internal
        pure
        returns (NumberTensor memory)
    {
        bytes32 key = keccak256(bytes(name));
        for (uint256 i = 0; i < out.numbers.length; i++) {
            if (keccak256(bytes(out.numbers[i].name)) == key) return out.numbers[i];
        }
        revert TensorNotFound(name);
    }

    /// @notice The string tensor called `name`; reverts with TensorNotFound otherwise.
    function stringTensorOf(ModelOutput memory out, string memory name)
        internal
        pure
        returns (StringTensor memory)
    {
        bytes32 key = keccak256(bytes(name));
        for (uint256 i = 0; i < out.strings.length; i++) {
            if (keccak256(bytes(out.strings[i].name)) == key) return out.strings[i];
        }
        revert TensorNotFound(name);
    }

    /// @notice Value `index` (row-major) of number tensor `name`.
    function getNumber(ModelOutput memory out, string memory name, uint256 index)
        internal
        pure
        returns (Number memory)
    {
        NumberTensor memory t = numberTensorOf(out, name);
        if (index >= t.values.length) revert TensorIndexOutOfRange(name, index, t.values.length);
        return t.values[index];
    }

    /// @notice Value `index` of string tensor `name`.
    function getString(ModelOutput memory out, string memory name, uint256 index)
        internal
        pure
        returns (string memory)
    {
        StringTensor memory t = stringTensorOf(out, name);
        if (index >= t.values.length) revert TensorIndexOutOfRange(name, index, t.values.length);
        return t.values[index];
    }

    /// @notice The JSON output called `name`.
    function getJson(ModelOutput memory out, string memory name)
        internal
        pure
        returns (string memory)
    {
        bytes32 key = keccak256(bytes(name));
        for (uint256 i = 0; i < out.jsons.length; i++) {
            if (keccak256(bytes(out.jsons[i].name)) == key) return out.jsons[i].value;
        }
        revert TensorNotFound(name);
    }

    /// @notice The first value of the first number tensor: the answer of a model with one
    /// scalar output, whatever the output is called.
    function firstNumber(ModelOutput memory out) internal pure returns (Number memory) {
        if (out.numbers.length == 0) revert TensorNotFound("");
        NumberTensor memory t = out.numbers[0];
        if (t.values.length == 0) revert TensorIndexOutOfRange(t.name, 0, 0);
        return t.values[0];
    }

    /// @notice `n` as an integer with `targetDecimals` decimals: value * 10^(target - decimals).
    /// Rescaling down truncates toward zero (Solidity's signed division), so 1.99 at
    /// 0 decimals is 1 and -1.99 is -1. Reverts with FixedPointOverflow if the result does
    /// not fit an int256.
    function toFixed(Number memory n, uint8 targetDecimals) internal pure returns (int256) {
        int256 shift = int256(uint256(targetDecimals)) - int256(n.decimals);
        if (shift == 0) return n.value;
        if (shift > 0) {
            // |value| >= 1 here, so a factor of 10^77 or more (> 2^255) can never fit
            if (n.value == 0) return 0;
            if (shift > 76) revert FixedPointOverflow(n.value, n.decimals, targetDecimals);
            int256 factor = int256(10 ** uint256(shift));
            int256 result;
            // wrapping multiply, then a division check: a clear error instead of Panic(0x11)
            unchecked {
                result = int256(n.value) * factor;
            }
            if (result / factor != int256(n.value)) {
                revert FixedPointOverflow(n.value, n.decimals, targetDecimals);
            }
            return result;
        }
        // |value| < 10^39: dividing by 10^39 or more always gives 0
        if (-shift > 38) return 0;
        return int256(n.value) / int256(10 ** uint256(-shift));
    }
}
