"""Tensors of the inference precompile: data model, ABI codec, numpy conversion, JSON forms.

Import everything from here (``neurostack.protocol.tensors``); the submodules are
``model`` (dataclasses), ``abi`` (ABI codec), ``numbers`` (exact number conversion),
``arrays`` (numpy and onnxruntime feeds) and ``jsonform`` (JSON forms).
"""

from .abi import (
    INFERENCE_REQUEST_ABI,
    JSON_TENSOR_ABI,
    MODEL_INPUT_ABI,
    MODEL_OUTPUT_ABI,
    NUMBER_ABI,
    NUMBER_TENSOR_ABI,
    STRING_TENSOR_ABI,
    decode_model_input,
    decode_model_output,
    encode_model_input,
    encode_model_output,
)
from .arrays import (
    InputSpecs,
    array_to_tensor,
    model_input_to_feeds,
    model_output_to_arrays,
    number_tensor_to_array,
    outputs_to_model_output,
    resolve_dtype,
    string_tensor_to_array,
)
from .jsonform import (
    decimal_to_number,
    float_to_shortest_number,
    model_input_from_json,
    model_input_from_mapping,
    model_input_to_json,
    model_output_from_json,
    model_output_to_json,
)
from .model import (
    MAX_TENSOR_ELEMENTS,
    JsonTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
    number_to_decimal,
)
from .numbers import OUTPUT_DECIMALS

__all__ = [
    "INFERENCE_REQUEST_ABI",
    "JSON_TENSOR_ABI",
    "MAX_TENSOR_ELEMENTS",
    "MODEL_INPUT_ABI",
    "MODEL_OUTPUT_ABI",
    "NUMBER_ABI",
    "NUMBER_TENSOR_ABI",
    "OUTPUT_DECIMALS",
    "STRING_TENSOR_ABI",
    "InputSpecs",
    "JsonTensor",
    "ModelInput",
    "ModelOutput",
    "Number",
    "NumberTensor",
    "StringTensor",
    "array_to_tensor",
    "decimal_to_number",
    "decode_model_input",
    "decode_model_output",
    "encode_model_input",
    "encode_model_output",
    "float_to_shortest_number",
    "model_input_from_json",
    "model_input_from_mapping",
    "model_input_to_feeds",
    "model_input_to_json",
    "model_output_from_json",
    "model_output_to_arrays",
    "model_output_to_json",
    "number_tensor_to_array",
    "number_to_decimal",
    "outputs_to_model_output",
    "resolve_dtype",
    "string_tensor_to_array",
]
