"""The chain spec of a project: ``ChainConfig`` (chain.toml) → ``sequencer.chain.ChainSpec``.

The one place that reads chain.toml's consensus fields for the state transition
(``sequencer.chain`` never imports ``sequencer.config``). It needs no private key: the
registry owner is ``[sequencer] address`` (written by ``neurostack new``), or the address
of ``[sequencer] key_file`` when the address is not given, so a follower holding only
the public ``chain.toml`` builds the same spec as the sequencer. Node settings (ports,
data dir, deadlines, redundancy, dev methods) are not part of it.

Problems are :class:`~sequencer.errors.ConfigError` naming the chain.toml field.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import MappingProxyType

from eth_utils import is_hex, to_canonical_address

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.registry import Admission, StakingParams
from neurostack.protocol.types import Address, Hash32

from .chain import (
    ChainSpec,
    GenesisTeeKey,
    InferencePolicy,
    InvalidGenesis,
    RegistrySeed,
    genesis_hash,
)
from .config import ChainConfig, InferenceSection, sequencer_address
from .errors import ConfigError


def chain_spec(config: ChainConfig) -> ChainSpec:
    """The spec of ``config``'s chain; checks that its genesis can be built."""
    spec = ChainSpec(
        chain_id=config.chain.chain_id,
        gas_limit=config.chain.gas_limit,
        base_fee=config.chain.base_fee,
        alloc=tuple(
            (Address(to_canonical_address(address)), balance)
            for address, balance in config.premine().items()
        ),
        registry=registry_seed(config.inference, sequencer_address(config)),
        inference=inference_policy(config.inference, config.root),
    )
    try:
        genesis_hash(spec)  # genesis TEE keys are verified while it is built: fail early
    except InvalidGenesis as exc:
        entry = config.inference.tee_keys[exc.tee_key_index]
        raise ConfigError(
            f"[inference] tee_keys[{exc.tee_key_index}] ({entry.key}): {exc.reason}; "
            f"{exc.hint} (in chain.toml: [inference] tee_keys, attestation_roots, "
            "approved_measurements; dev documents are signed with keys/attestation-root.key)"
        ) from None
    return spec


def inference_policy(section: InferenceSection, root: Path = Path(".")) -> InferencePolicy:
    """The proof policy of a chain's ``[inference]`` section (files relative to ``root``)."""
    return InferencePolicy(
        modes=frozenset(InferenceMode[m] for m in section.modes),
        default_model_gas=section.default_model_gas,
        allow_unregistered_models=section.allow_unregistered_models,
        max_calls_per_tx=section.max_calls_per_tx,
        zk_srs=zk_srs_files(section, root),
        max_output_bytes=section.max_output_bytes,
    )


def zk_srs_files(section: InferenceSection, root: Path) -> MappingProxyType[Hash32, bytes]:
    """``[[inference.zk_srs]]``: each file's bytes by sha256, checked against the pinned hash."""
    out: dict[Hash32, bytes] = {}
    for i, entry in enumerate(section.zk_srs):
        path = root / entry.file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"[[inference.zk_srs]] {i} ({entry.file}): cannot read {path}: "
                f"{exc.strerror or exc}; put the chain's SRS file there (every node needs "
                "the same bytes)"
            ) from None
        digest = hashlib.sha256(data).digest()
        if "0x" + digest.hex() != entry.sha256:
            raise ConfigError(
                f"[[inference.zk_srs]] {i} ({entry.file}): the file's sha256 is "
                f"0x{digest.hex()}, chain.toml pins {entry.sha256}; this is not the chain's "
                "SRS (get the file the chain publishes)"
            )
        out[Hash32(digest)] = data
    return MappingProxyType(out)


def registry_seed(section: InferenceSection, owner: bytes) -> RegistrySeed:
    """The registry's genesis content from ``[inference]`` and the chain owner."""
    listed = [entry.key for entry in section.tee_keys]
    if len(set(listed)) != len(listed):
        twice = sorted({k for k in listed if listed.count(k) > 1})
        raise ConfigError(f"[inference] tee_keys: {twice} listed more than once; keep one each")
    try:
        return RegistrySeed(
            owner=Address(bytes(owner)),
            sprinters=tuple(_address(a) for a in section.sprinters),
            attestation_roots=tuple(_address(a) for a in section.attestation_roots),
            measurements=tuple(_measurement(m) for m in section.approved_measurements),
            tee_keys=tuple(
                GenesisTeeKey(_address(entry.key), entry.document) for entry in section.tee_keys
            ),
            staking=staking_params(section),
            genesis_bond=section.genesis_bond,
        )
    except ConfigError:
        raise
    except ValueError as exc:  # a bad address in [inference]
        raise ConfigError(f"[inference]: {exc}") from None


def _address(text: str) -> Address:
    return Address(to_canonical_address(text))


def _measurement(text: str) -> Hash32:
    raw = bytes.fromhex(text.removeprefix("0x")) if is_hex(text) else b""
    if len(raw) != 32:
        raise ConfigError(
            f"[inference] approved_measurements: {text!r} is not a 32-byte hex string"
        )
    return Hash32(raw)


def staking_params(section: InferenceSection) -> StakingParams:
    """Sprinter admission and the OPTIMISTIC challenge game of ``[inference]``."""
    return StakingParams(
        admission=Admission[section.sprinter_admission.upper()],
        min_bond=section.min_bond,
        challenge_window=section.challenge_window,
        unbonding_delay=section.unbonding_delay,
        challenger_share_bps=section.challenger_share_bps,
    )
