"""Post-generation hook: create this chain's keys, admit them in chain.toml, add the model.

Runs inside the freshly rendered project with the interpreter that runs
`neurostack new`. Keys are fresh random secp256k1 keys (``secrets`` via
eth-account), written as 0x-prefixed hex with mode 0600; their addresses go into
chain.toml's [hub] and [inference] sections, which the template leaves empty.
The example model (models/mlp_regressor.onnx) is copied from Neuro Stack's samples
rather than committed twice.

TEE mode works out of the box: the development measurement is approved and every
sprinter key gets a development attestation document signed by the new attestation
root (``[inference] tee_keys``), which genesis verifies before admitting the key.

The ``production`` profile (``neurostack new --production``) creates no attestation
root and approves no development measurement (a production chain lists its enclaves'),
and, as it funds no dev accounts, premines the initial supply to the chain owner (the
sequencer key) instead.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

WORKERS = int("{{ cookiecutter.workers }}")
PROFILE = "{{ cookiecutter.profile }}"  # rendered by cookiecutter: devnet or production
PRODUCTION = PROFILE == "production"
INITIAL_SUPPLY = "1000000 ether"  # the owner's premine on a production chain


def write_key(path: Path) -> LocalAccount:
    """Create ``path`` holding a new private key (owner-only) and return its account."""
    account = Account.create()
    path.parent.mkdir(mode=0o700, exist_ok=True)
    # O_EXCL: never overwrite a key; 0o600 from the first byte, not chmod afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("0x" + bytes(account.key).hex() + "\n")
    return account


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def fill(text: str, key: str, items: list[str]) -> str:
    """Replace the empty ``key = []`` line the template renders with the real list."""
    pattern = re.compile(rf"^{key} = \[\]$", re.MULTILINE)
    text, count = pattern.subn(f"{key} = {toml_list(items)}", text, count=1)
    if count != 1:
        sys.exit(f"template error: chain.toml has no empty `{key} = []` line to fill")
    return text


def tee_keys_toml(sprinters: list[LocalAccount], root: LocalAccount) -> str:
    """``tee_keys = [...]``: a development attestation document for each sprinter key.

    The document's timestamp is now: the key is fresh for TEE_ATTESTATION_TTL of block
    time from now on, and heartbeats renew it.
    """
    from sequencer.chain.inference.attestation import DEV_MEASUREMENT, make_dev_attestation

    now = int(time.time())
    rows = []
    for sprinter in sprinters:
        document = make_dev_attestation(
            key=bytes.fromhex(sprinter.address[2:]),
            measurement=DEV_MEASUREMENT,
            timestamp=now,
            root_private_key=bytes(root.key),
        )
        # Concatenated rather than an f-string: cookiecutter renders this file with Jinja,
        # which would read doubled braces as its own.
        rows.append('    { key = "' + sprinter.address + '", attestation = "0x' + document.hex() + '" },')
    return "tee_keys = [\n" + "\n".join(rows) + "\n]"


def dev_measurement() -> str:
    from sequencer.chain.inference.attestation import DEV_MEASUREMENT

    return "0x" + DEV_MEASUREMENT.hex()


def copy_example_model() -> None:
    """The model the example contract calls: Neuro Stack's sample MLP regressor."""
    from neurostack.hub.samples import sample_model_path

    Path("models").mkdir(exist_ok=True)
    shutil.copyfile(sample_model_path("mlp_regressor"), Path("models") / "mlp_regressor.onnx")


def main() -> None:
    copy_example_model()
    keys = Path("keys")
    sequencer = write_key(keys / "sequencer.key")
    sprinter_files = [f"keys/sprinter-{i}.key" for i in range(max(WORKERS, 1))]
    sprinters = [write_key(Path(name)) for name in sprinter_files]

    chain_toml = Path("chain.toml")
    text = chain_toml.read_text()
    text, count = re.subn(
        r'^address = ""$', f'address = "{sequencer.address}"', text, count=1, flags=re.MULTILINE
    )
    if count != 1:
        sys.exit('template error: chain.toml has no empty `address = ""` line to fill')
    text = fill(text, "sprinter_keys", sprinter_files)
    text = fill(text, "sprinters", [s.address for s in sprinters])
    if PRODUCTION:
        text += (
            "\n# The initial supply, held by the chain owner (keys/sequencer.key); set the amount\n"
            "# before the first `neurostack up`: it is part of the genesis block.\n"
            f'[[alloc]]\naddress = "{sequencer.address}"\nbalance = "{INITIAL_SUPPLY}"\n'
        )
        chain_toml.write_text(text)
        return
    attestation_root = write_key(keys / "attestation-root.key")
    text = fill(text, "attestation_roots", [attestation_root.address])
    text = fill(text, "approved_measurements", [dev_measurement()])
    text, count = re.subn(
        r"^tee_keys = \[\]$",
        lambda _: tee_keys_toml(sprinters, attestation_root),
        text,
        count=1,
        flags=re.MULTILINE,
    )
    if count != 1:
        sys.exit("template error: chain.toml has no empty `tee_keys = []` line to fill")
    text += (
        "\n# The dev attestation root pays for the TEE heartbeats `neurostack up` sends.\n"
        f'[[alloc]]\naddress = "{attestation_root.address}"\nbalance = "100 ether"\n'
    )
    chain_toml.write_text(text)


if __name__ == "__main__":
    main()
