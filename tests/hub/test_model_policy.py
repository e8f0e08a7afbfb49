"""An uploaded model is only its own bytes: every way ONNX has of pointing outside the
file is refused, with a message that depends on the model alone, never on whether the
path it names exists."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from neurostack.hub.errors import InvalidModel
from neurostack.hub.model_policy import ModelNotSelfContained, check_self_contained
from neurostack.hub.samples import SAMPLE_NAMES, sample_model_path
from neurostack.hub.store import inspect_model

from . import hostile_models as hm


def _inspect(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    inspect_model(path)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_the_samples_are_self_contained(name: str) -> None:
    check_self_contained(onnx.load(sample_model_path(name)))


def test_invalid_models_reaching_outside_are_refused_everywhere_they_can_hide(
    tmp_path: Path,
) -> None:
    (tmp_path / "models").mkdir()
    key = tmp_path / "sprinter.key"
    key.write_text("0x" + "11" * 32)
    for trick, data in hm.reaching_outside(tmp_path, key).items():
        with pytest.raises(InvalidModel) as refused:
            _inspect(tmp_path, data)
        if trick != "unknown operator":  # that one is onnx.checker's to refuse
            assert isinstance(refused.value, ModelNotSelfContained), trick
        assert refused.value.status_code == 422, trick
        assert str(key) not in str(refused.value), trick


def test_invalid_external_data_message_does_not_depend_on_the_path(tmp_path: Path) -> None:
    real = tmp_path / "exists.bin"
    real.write_bytes(b"\0" * 64)
    messages = set()
    for location in (str(real), str(tmp_path / "missing.bin"), "exists.bin", "missing.bin"):
        with pytest.raises(ModelNotSelfContained) as refused:
            _inspect(tmp_path, hm.external_initializer(location))
        messages.add(str(refused.value))
    assert len(messages) == 1


def test_invalid_recursive_local_function(tmp_path: Path) -> None:
    model = onnx.load_model_from_string(hm.function_with_custom_op())
    body = model.functions[0].node
    body[0].CopyFrom(onnx.helper.make_node("Wrap", ["a"], ["b"], domain="local"))
    with pytest.raises(ModelNotSelfContained, match="calls itself"):
        check_self_contained(model)


def test_local_functions_of_standard_operators_are_served(tmp_path: Path) -> None:
    model = onnx.load_model_from_string(hm.function_with_custom_op())
    body = model.functions[0].node
    body[0].CopyFrom(onnx.helper.make_node("Relu", ["a"], ["b"]))
    check_self_contained(model)


@pytest.mark.parametrize(
    "build",
    [hm.endless_loop, hm.allocation_sized_by_input, hm.expand_sized_by_input,
     hm.output_sized_by_input],
)  # fmt: skip
def test_costly_but_valid_models_are_accepted_and_bounded_when_run(
    tmp_path: Path, build: object
) -> None:
    """These are legal ONNX; the sandbox's time and memory bounds deal with them."""
    _inspect(tmp_path, build())  # type: ignore[operator]
