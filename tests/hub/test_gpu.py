"""On a machine where onnxruntime really runs CUDA: the sprinter picks it, and its outputs
match the CPU's within float32 tolerance (GPU kernels may sum in another order)."""

from __future__ import annotations

import numpy as np
import pytest

from neurostack.hub.samples import sample_model_path
from neurostack.hub.sessions import CPU, CUDA, ProviderChoice

from .helpers import run_onnx

pytestmark = pytest.mark.gpu

RTOL, ATOL = 1e-5, 1e-6  # documented in docs/hub.md


@pytest.mark.parametrize("name", ["mlp_regressor", "text_classifier"])
def test_cuda_outputs_match_cpu(name: str) -> None:
    data = sample_model_path(name).read_bytes()
    session, provider = ProviderChoice("auto").create(data)
    if provider != CUDA:
        pytest.skip(f"onnxruntime runs {provider} here (no usable GPU)")
    assert session.get_providers()[0] == CUDA
    x = np.random.default_rng(5).normal(size=(64, 4)).astype(np.float32)
    names = [o.name for o in session.get_outputs()]
    gpu = dict(zip(names, session.run(names, {"x": x}), strict=True))
    cpu = run_onnx(sample_model_path(name), {"x": x})
    for out, expected in cpu.items():
        if expected.dtype == object:
            assert gpu[out].tolist() == expected.tolist()
        else:
            np.testing.assert_allclose(gpu[out], expected, rtol=RTOL, atol=ATOL)
    assert ProviderChoice("cpu").create(data)[1] == CPU
