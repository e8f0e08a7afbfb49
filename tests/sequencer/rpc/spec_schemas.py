"""The vendored execution-apis OpenRPC document, as JSON-Schema validators of method results.

``spec/openrpc.json`` keeps its ``$ref``s (``#/components/schemas/...``); each method's result
schema is validated as ``{"$ref": "urn:execution-apis#/methods/<i>/result/schema"}`` against
a registry holding the whole document, so the references inside resolve against it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).parent / "spec"
SPEC_FILE = SPEC_DIR / "openrpc.json"
_URI = "urn:execution-apis"


@cache
def document() -> dict[str, Any]:
    return json.loads(SPEC_FILE.read_text())


def methods() -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in document()["methods"]}


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource)


@cache
def result_validator(method: str) -> Draft202012Validator:
    index = next(i for i, m in enumerate(document()["methods"]) if m["name"] == method)
    schema = {"$ref": f"{_URI}#/methods/{index}/result/schema"}
    return Draft202012Validator(schema, registry=_registry())


def schema_errors(method: str, result: Any) -> list[str]:
    """Every way ``result`` breaks the spec's result schema of ``method`` (empty: valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
        for e in result_validator(method).iter_errors(result)
    ]
