"""The catalog itself: every example is complete, its committed models and artifacts are
exactly what its sources build, its script runs on its own, and the README lists it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import _compile
import _models
import pytest

from conftest import EXAMPLES, load

NAMES = [p.name for p in _compile.examples()]
# Examples that build on another's model and contract instead of their own: 04 checks an
# inference of example 01's.
REUSES = {"04_verify_without_trust": "01_hello_inference"}
BUILDS = [name for name in NAMES if name not in REUSES]  # their own models and contracts


def test_the_catalog_lists_every_example_with_what_an_example_needs() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    assert NAMES, "no examples found"
    for name in NAMES:
        folder = EXAMPLES / name
        assert f"| [{name[:2]}]({name}/)" in readme, f"{name} is not in examples/README.md"
        for part in ("README.md", "run.py"):
            assert (folder / part).is_file(), f"{name} has no {part}"
        assert list(folder.glob("test_*.py")), f"{name} has no test"
        if name in REUSES:
            assert REUSES[name] in BUILDS and REUSES[name] in (folder / "run.py").read_text()
            assert not (folder / "contracts").exists() and not (folder / "models").exists()
            continue
        assert (folder / "build_model.py").is_file(), f"{name} has no build_model.py"
        assert list((folder / "contracts").glob("*.sol")), f"{name} has no Solidity"
        assert list((folder / "models").glob("*.onnx")), f"{name} has no model"


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDS)
def test_models_are_rebuilt_byte_for_byte(name: str) -> None:
    built = load(name, "build_model").build()
    folder = EXAMPLES / name / "models"
    assert sorted(built) == sorted(p.name for p in folder.glob("*.onnx"))
    for file_name, data in built.items():
        committed = folder / file_name
        assert len(data) < 4096, f"{file_name} is {len(data)} bytes: keep example models small"
        if data == committed.read_bytes():
            continue
        # Another CPU's BLAS kernels (OpenBLAS picks them at run time: AVX-512 here, AVX2
        # there) round differently, and a thousand L-BFGS steps carry that into the weights.
        # Then the build must still be deterministic on this machine and give the committed
        # file's graph exactly, only with other learned numbers.
        assert load(name, "build_model").build()[file_name] == data, (
            f"{name}/models/{file_name}: two builds on this machine differ"
        )
        assert _models.graph_shape(data) == _models.graph_shape(committed.read_bytes()), (
            f"{name}/models/{file_name} differs from what build_model.py builds now beyond "
            f"its learned weights; it was built with {_models.built_with(committed)}: if "
            f"your scikit-learn or skl2onnx differs, run `python examples/{name}/"
            "build_model.py` and commit the result"
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDS)
def test_artifacts_equal_a_fresh_compile(name: str) -> None:
    out = EXAMPLES / name / "contracts" / "artifacts"
    built = _compile.build(EXAMPLES / name)
    committed = {p.name: p.read_text() for p in out.glob("*.json")}
    assert sorted(built) == sorted(committed)
    stale = [file for file, text in built.items() if committed[file] != text]
    assert not stale, f"stale: {stale}; run `python examples/_compile.py {name}`"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_the_script_runs_on_its_own(name: str) -> None:
    """``python examples/NN_x/run.py`` from any folder: its imports resolve."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name / "run.py"), "--help"],
        cwd=Path("/"), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--rpc" in result.stdout and "--config" in result.stdout


@pytest.mark.parametrize("name", NAMES)
def test_invalid_no_devnet_is_one_error_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neurostack.hub.broker import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    code = load(name).main(["--config", str(tmp_path / "chain.toml"), "--rpc", dead, "--hub", dead])

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "cannot reach" in err
