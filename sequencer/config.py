"""The chain configuration: the typed model of a chain project's ``chain.toml``.

Every field is documented here and commented in the template's ``chain.toml``.
Paths in the file are relative to the folder holding ``chain.toml``;
:func:`load_chain_config` resolves them. The sequencer reads this model; only the
CLI reads files and environment variables and passes the result down.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

from eth_keys import keys
from eth_typing import Address
from eth_utils import is_checksum_address, is_hex, is_hex_address, to_checksum_address
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .chain.inference.constants import DEFAULT_MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES
from .errors import ConfigError

WEI_PER_TOKEN = 10**18


UNITS = {"wei": 1, "gwei": 10**9, "ether": WEI_PER_TOKEN, "eth": WEI_PER_TOKEN,
         "token": WEI_PER_TOKEN, "tokens": WEI_PER_TOKEN}  # fmt: skip


def parse_amount(value: int | str) -> int:
    """Turn ``"10000 ether"``, ``"1.5 token"``, ``"2 gwei"``, ``"1000000"`` (wei) or an int
    into wei; a value that is not a whole number of wei is refused, never rounded."""
    if isinstance(value, int):
        return value
    problem = f"cannot read amount {value!r}: use an integer of wei, '<n> gwei' or '<n> ether'"
    text = str(value).replace("_", "").strip()
    if text.lower().startswith("0x"):
        try:
            return int(text, 16)
        except ValueError:
            raise ValueError(problem) from None
    parts = text.split()
    if len(parts) not in (1, 2):
        raise ValueError(problem)
    unit = UNITS.get(parts[1].lower()) if len(parts) == 2 else 1
    try:
        number = Decimal(parts[0])
    except InvalidOperation:
        raise ValueError(problem) from None
    if unit is None or not number.is_finite():
        raise ValueError(problem)
    wei = number * unit
    if wei != wei.to_integral_value():
        raise ValueError(f"amount {value!r} is not a whole number of wei")
    return int(wei)


# An amount of wei; chain.toml may also write it as "10000 ether" or "1 gwei".
Wei = Annotated[int, BeforeValidator(parse_amount), Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChainSection(_Section):
    name: str = Field(description="human-readable chain name")
    chain_id: int = Field(gt=0, lt=2**63, description="EIP-155 chain id")
    block_time: float = Field(1.0, ge=0, description="seconds between blocks; 0 = mine on demand")
    gas_limit: int = Field(30_000_000, ge=5_000, description="block gas limit")
    base_fee: Wei = Field(1_000_000_000, description="base fee per gas of the genesis block, wei")
    empty_blocks: bool = Field(False, description="produce blocks when there are no transactions")


class TokenSection(_Section):
    name: str = Field("Neuro", description="native token name")
    symbol: str = Field("NEURO", description="native token symbol")
    decimals: int = Field(18, ge=18, le=18, description="always 18, as for ether")


class SequencerSection(_Section):
    key_file: Path = Field(
        Path("keys/sequencer.key"), description="hex private key of the sequencer"
    )
    address: str | None = Field(
        None,
        description="the sequencer key's address: the registry owner and fee recipient "
        "(public, so a follower needs no key); derived from key_file when not given",
    )
    data_dir: Path = Field(Path("data"), description="chain database and mempool journal")
    verify_built_blocks: bool = Field(
        False,
        description="run the state-transition function on every block this node builds "
        "before committing it (about doubles the cost of a block; the test suite turns it on)",
    )

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if not is_hex_address(v):
            raise ValueError(f"{v!r} is not a 20-byte hex address")
        if v != v.lower() and not is_checksum_address(v):
            raise ValueError(f"{v!r} has a bad EIP-55 checksum")
        return to_checksum_address(v)


class TxPoolSection(_Section):
    """Mempool limits, as geth's legacypool (``--txpool.globalslots`` and friends)."""

    global_slots: int = Field(
        15_360, ge=1, description="executable transactions in the pool, all senders "
        "(no per-sender limit: a burst of in-order transactions from one account is accepted)",
    )  # fmt: skip
    global_queue: int = Field(
        1_024, ge=0, description="transactions behind a nonce gap, all senders (pool size "
        "= global_slots + global_queue; beyond it: `txpool is full`)",
    )  # fmt: skip
    account_queue: int = Field(
        64, ge=0, description="transactions one sender may have behind a nonce gap "
        "(beyond it: `account limit exceeded`)",
    )  # fmt: skip


# Browser origins a node allows by default: pages served from this machine.
DEFAULT_CORS_ORIGINS = (
    "http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*",
    "https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*",
)  # fmt: skip
# A browser origin pattern of [rpc] cors_origins (sequencer/rpc/origins.py reads them).
_ORIGIN = re.compile(
    r"^(\*|null|[a-z][a-z0-9+.-]*://(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(:(\d{1,5}|\*))?)$"
)


class RpcSection(_Section):
    host: str = Field("127.0.0.1", description="JSON-RPC listen address")
    port: int = Field(8545, ge=0, le=65535, description="JSON-RPC port (HTTP and WebSocket)")
    dev_methods: bool = Field(
        True, description="enable evm_mine, evm_snapshot, evm_revert, ... (devnets only)"
    )
    max_logs_range: int = Field(10_000, ge=1, description="eth_getLogs block-range cap")
    cors_origins: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CORS_ORIGINS),
        description="browser origins allowed to call the node (others are refused)",
    )
    max_filters: int = Field(1000, ge=1, description="installed eth_newFilter-family filters")
    max_ws_connections: int = Field(1000, ge=1, description="WebSocket connections at once")
    max_subscriptions_per_connection: int = Field(
        100, ge=1, description="eth_subscribe subscriptions per WebSocket connection"
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        out = [o.strip().lower().rstrip("/") for o in v]
        bad = [o for o in out if not _ORIGIN.match(o)]
        if bad:
            raise ValueError(
                f"cannot read origins {bad}: write scheme://host[:port], 'scheme://host:*' "
                "for any port, 'scheme://*.domain' for subdomains, 'null' or '*'"
            )
        return out


class DevSection(_Section):
    mnemonic: str = Field(
        "test test test test test test test test test test test junk",
        description="BIP-39 mnemonic of the funded dev accounts (public: dev only)",
    )
    accounts: int = Field(10, ge=0, le=100, description="how many dev accounts to fund")
    balance: Wei = Field(10_000 * WEI_PER_TOKEN, description="premine of each dev account, wei")


class HubSection(_Section):
    host: str = Field("127.0.0.1", description="reference hub API listen address")
    port: int = Field(8600, ge=0, le=65535, description="reference hub API port")
    workers: int = Field(2, ge=0, le=64, description="sprinter worker processes `up` starts")
    store_dir: Path = Field(Path("hub"), description="model store and hub state")
    sprinter_keys: list[Path] = Field(
        default_factory=lambda: [Path("keys/sprinter-0.key"), Path("keys/sprinter-1.key")],
        description="hex private keys the devnet's workers sign receipts with",
    )


class GenesisTeeKey(_Section):
    """A TEE sprinter key admitted in genesis, with the attestation document vouching for it.

    Genesis admits it only after the chain's attestation verifier accepts ``attestation``
    (signed by one of ``attestation_roots``, for this ``key``, with a measurement in
    ``approved_measurements``), exactly as ``registerTeeKey`` would; a bad document is a
    :class:`ConfigError` when the genesis is built.
    """

    key: str = Field(description="the TEE key's address (it signs TEE receipts)")
    attestation: str = Field(description="0x-hex attestation document for the key")

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not is_hex_address(v):
            raise ValueError(f"{v!r} is not a 20-byte hex address")
        return to_checksum_address(v)

    @field_validator("attestation")
    @classmethod
    def _document(cls, v: str) -> str:
        digits = v.removeprefix("0x")
        if not v.startswith("0x") or len(digits) % 2 or not digits:
            raise ValueError("the attestation document must be 0x-prefixed hex bytes")
        try:
            bytes.fromhex(digits)
        except ValueError:
            raise ValueError("the attestation document must be 0x-prefixed hex bytes") from None
        return v.lower()

    @property
    def document(self) -> bytes:
        """The attestation document's bytes."""
        return bytes.fromhex(self.attestation[2:])


class ZkSrsFile(_Section):
    """A structured reference string (KZG parameters) ZK proofs of this chain verify with.

    Consensus: the file's sha256 must be ``sha256`` (checked when the chain spec is built),
    so every node verifies with the same bytes. Name it ``kzg<logrows>.srs`` (what the hub
    looks for in ``--zk-srs-dir``); ``neurostack up`` points the hub at its folder.
    """

    file: Path = Field(description="the SRS file (relative to chain.toml's folder)")
    sha256: str = Field(description="0x-hex sha256 of the file")

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, v: str) -> str:
        digits = v.removeprefix("0x")
        if not v.startswith("0x") or len(digits) != 64 or not is_hex(v):
            raise ValueError(f"{v!r} is not a 0x-prefixed 32-byte hex sha256")
        return v.lower()


class InferenceSection(_Section):
    modes: list[str] = Field(
        default_factory=lambda: ["VANILLA", "TEE"],
        description="proof policy: the inference modes this chain accepts",
    )
    sprinters: list[str] = Field(
        default_factory=list, description="sprinter addresses admitted in the genesis registry"
    )
    attestation_roots: list[str] = Field(
        default_factory=list, description="dev attestation root addresses (TEE mode)"
    )
    approved_measurements: list[str] = Field(
        default_factory=list, description="approved TEE code measurements (32-byte hex)"
    )
    tee_keys: list[GenesisTeeKey] = Field(
        default_factory=list,
        description="TEE keys admitted in genesis, each with its attestation document "
        "(`neurostack new` signs dev documents for the devnet's sprinter keys)",
    )
    attestation_root_key: Path | None = Field(
        None,
        description="hex private key of a dev attestation root; with it `neurostack up` "
        "renews [inference] tee_keys with heartbeats, paid from the root's account (devnets)",
    )
    default_model_gas: int = Field(
        50_000, ge=0, description="inference gas of a model the registry does not list"
    )
    allow_unregistered_models: bool = Field(
        True, description="accept calls to models not in the registry (devnets)"
    )
    redundancy: int = Field(1, ge=1, le=8, description="sprinters racing each job")
    deadline: float = Field(30.0, gt=0, description="seconds a parked transaction may wait")
    speculative_after: float = Field(
        5.0, gt=0, description="seconds before a slow job gets a speculative duplicate"
    )
    receipt_ttl: int = Field(3600, gt=0, description="seconds a receipt stays valid (expiry)")
    max_calls_per_tx: int = Field(
        4, ge=1, le=64, description="model calls one transaction may make"
    )
    zk_srs: list[ZkSrsFile] = Field(
        default_factory=list,
        description="mode ZK: the SRS files proofs verify with (consensus; each with its sha256)",
    )
    zk_deadline: float = Field(
        120.0,
        gt=0,
        description="seconds a parked transaction waits for a mode-ZK result (witness and "
        "proof take longer than a plain inference)",
    )
    sprinter_admission: str = Field(
        "list",
        description='"list": the owner admits sprinters (addSprinter; devnets); "stake": anyone '
        "bonding at least min_bond signs VANILLA and OPTIMISTIC receipts",
    )
    min_bond: Wei = Field(
        10**18,
        gt=0,
        description="wei a sprinter must bond to sign OPTIMISTIC (and, with "
        'sprinter_admission = "stake", VANILLA) receipts',
    )
    challenge_window: int = Field(
        600,
        ge=1,
        lt=2**63,
        description="blocks during which an OPTIMISTIC result can be challenged",
    )
    unbonding_delay: int = Field(
        1200,
        ge=2,
        lt=2**63,
        description="blocks between unstake and withdraw; must exceed "
        "challenge_window so a sprinter cannot leave before its results are final",
    )
    challenger_share_bps: int = Field(
        5000,
        ge=0,
        le=10_000,
        description="share of a slashed bond paid to the challenger "
        "(basis points); the rest is burned",
    )

    genesis_bond: Wei = Field(
        0,
        description="bond each [inference] sprinters entry holds from genesis (devnets: "
        "OPTIMISTIC calls work from the first block; the registry account is premined with "
        "the sum)",
    )

    max_parked_per_sender: int = Field(
        16, ge=1, description="inference txs per sender that PIPE tracks (parked or ready)"
    )
    max_deferrals: int = Field(
        3, ge=0, description="times a ready inference tx may be deferred at sealing before "
        "PIPE drops it (its block behaviour differs from its simulation)",
    )  # fmt: skip
    max_unpaid_jobs_per_sender: int = Field(
        8, ge=1, description="model jobs a sender's transactions may leave unpaid (failed, "
        "or not used by the included tx) within unpaid_jobs_window before it is refused",
    )  # fmt: skip
    unpaid_jobs_window: float = Field(
        600.0, gt=0, description="seconds an unpaid job counts against its sender"
    )
    max_inference_calls: int = Field(
        16, ge=1, le=32, description="eth_call/eth_estimateGas waiting for a model result at once, "
        "all callers together (more: -32005 limit exceeded); below the RPC's 40 worker threads",
    )  # fmt: skip
    max_inference_calls_per_caller: int = Field(
        8, ge=1, description="of those, per caller (client IP address)"
    )
    inference_calls_per_minute: int = Field(
        120, ge=1, description="eth_call/eth_estimateGas per caller per minute that start a "
        "model job (answers from the receipt cache are not counted)",
    )  # fmt: skip
    max_output_bytes: int = Field(
        DEFAULT_MAX_OUTPUT_BYTES,
        ge=1,
        le=MAX_OUTPUT_BYTES,
        description="largest model output (ABI bytes) a call may return; larger ones revert "
        "(consensus: every node of the chain must use the same value)",
    )

    @field_validator("sprinter_admission")
    @classmethod
    def _admission(cls, v: str) -> str:
        if v not in ("list", "stake"):
            raise ValueError(f'sprinter_admission is {v!r}; use "list" or "stake"')
        return v

    @model_validator(mode="after")
    def _unbonding_after_window(self) -> InferenceSection:
        if self.unbonding_delay <= self.challenge_window:
            raise ValueError(
                f"unbonding_delay ({self.unbonding_delay} blocks) must be longer than "
                f"challenge_window ({self.challenge_window} blocks): a sprinter could withdraw "
                "its bond before its last result can no longer be challenged"
            )
        return self

    @field_validator("modes")
    @classmethod
    def _modes(cls, v: list[str]) -> list[str]:
        known = {"VANILLA", "ZK", "TEE", "OPTIMISTIC"}
        bad = [m for m in v if m.upper() not in known]
        if bad:
            raise ValueError(f"unknown modes {bad}; choose from {sorted(known)}")
        return [m.upper() for m in v]


class Allocation(_Section):
    address: str
    balance: Wei

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if not is_hex_address(v):
            raise ValueError(f"{v!r} is not a 20-byte hex address")
        if v != v.lower() and not is_checksum_address(v):
            raise ValueError(f"{v!r} has a bad EIP-55 checksum")
        return to_checksum_address(v)


class DevAccount(BaseModel):
    address: str
    private_key: str


class ChainConfig(_Section):
    """The whole ``chain.toml``. ``root`` is the folder that relative paths start from."""

    chain: ChainSection
    token: TokenSection = TokenSection()
    sequencer: SequencerSection = SequencerSection()
    txpool: TxPoolSection = TxPoolSection()
    rpc: RpcSection = RpcSection()
    dev: DevSection = DevSection()
    hub: HubSection = HubSection()
    inference: InferenceSection = InferenceSection()
    alloc: list[Allocation] = Field(default_factory=list, description="extra premined balances")
    root: Path = Field(Path("."), exclude=True)

    @property
    def data_dir(self) -> Path:
        return self.root / self.sequencer.data_dir

    @property
    def key_file(self) -> Path:
        return self.root / self.sequencer.key_file

    def dev_accounts(self) -> list[DevAccount]:
        """The funded dev accounts derived from the mnemonic (anvil's derivation path)."""
        if not self.dev.accounts:
            return []
        # Imported here: eth_account costs about half a second of CPU to import (py_ecc's
        # BLS tables, through eth_keyfile), which a chain without dev accounts never needs.
        from eth_account import Account

        Account.enable_unaudited_hdwallet_features()
        out = []
        for i in range(self.dev.accounts):
            acct = Account.from_mnemonic(self.dev.mnemonic, account_path=f"m/44'/60'/0'/0/{i}")
            out.append(DevAccount(address=acct.address, private_key="0x" + bytes(acct.key).hex()))
        return out

    def premine(self) -> dict[str, int]:
        """Genesis balances: every dev account plus the explicit ``[[alloc]]`` entries."""
        balances = {a.address: self.dev.balance for a in self.dev_accounts()}
        for entry in self.alloc:
            balances[entry.address] = balances.get(entry.address, 0) + entry.balance
        return balances


def sequencer_address(config: ChainConfig) -> Address:
    """The sequencer's address: the fee recipient of every block and the registry's chain
    owner. ``[sequencer] address`` when given (a follower has no key file), else the
    address of ``[sequencer] key_file``; the zero address when there is neither, so a chain
    without a key still runs (its tips go to the zero address). A key file whose address
    differs from ``[sequencer] address`` is a ``ConfigError``."""
    given = config.sequencer.address
    try:
        text = Path(config.key_file).read_text().strip()
    except OSError:
        text = None
    derived = None
    if text is not None:
        try:
            private_key = keys.PrivateKey(bytes.fromhex(text.removeprefix("0x")))
        except ValueError:
            raise ConfigError(f"{config.key_file}: not a hex private key") from None
        derived = Address(private_key.public_key.to_canonical_address())
    if given is not None:
        address = Address(bytes.fromhex(given[2:]))
        if derived is not None and derived != address:
            raise ConfigError(
                f"{config.key_file} is the key of {to_checksum_address(derived)}, but "
                f"[sequencer] address is {given}; make them agree (the address is public, "
                "the key stays with the sequencer)"
            )
        return address
    return derived if derived is not None else Address(b"\x00" * 20)


def load_chain_config(path: Path) -> ChainConfig:
    """Read and validate ``chain.toml``; errors name the file and the bad field."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; run `neurostack new NAME` first") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = ChainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
    config.root = path.parent.resolve()
    return config
