"""The curated surface of neurostack.protocol: every exported name exists, and the
protocol layer imports nothing else from the repository."""

from __future__ import annotations

import ast
from pathlib import Path

from neurostack import protocol
from neurostack.protocol import errors

PACKAGE = Path(protocol.__file__).parent


def test_all_names_resolve() -> None:
    assert sorted(protocol.__all__) == sorted(set(protocol.__all__))
    for name in protocol.__all__:
        assert getattr(protocol, name) is not None, name


def test_one_root_exception_subclassing_value_error() -> None:
    for exc in (errors.InvalidTensor, errors.InvalidReceipt, errors.InvalidCID, errors.InvalidJob):
        assert issubclass(exc, errors.ProtocolError) and issubclass(exc, ValueError)


def test_protocol_has_no_io_and_no_repo_imports() -> None:
    forbidden_roots = {"sequencer", "bridge", "hub_client", "socket", "requests", "httpx",
                       "celery", "redis", "os", "subprocess", "pathlib"}  # fmt: skip
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {(node.module or "").split(".")[0]}
                if node.module and node.module.startswith("neurostack"):
                    roots.add("neurostack-outside-protocol")
            else:
                continue
            assert not roots & forbidden_roots, f"{path.name} imports {roots & forbidden_roots}"
            assert "neurostack-outside-protocol" not in roots, path.name
            names = {a.name for a in getattr(node, "names", [])}
            assert "open" not in names, path.name
