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

from eth_utils import is_hex, to_canonical_address

from neurostack.protocol.modes import InferenceMode
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
        inference=inference_policy(config.inference),
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


def inference_policy(section: InferenceSection) -> InferencePolicy:
    """The proof policy of a chain's ``[inference]`` section."""
    return InferencePolicy(
        modes=frozenset(InferenceMode[m] for m in section.modes),
        default_model_gas=section.default_model_gas,
        allow_unregistered_models=section.allow_unregistered_models,
        max_calls_per_tx=section.max_calls_per_tx,
        max_output_bytes=section.max_output_bytes,
    )


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
