"""The explorer's restatement of the inference fee rule equals the chain's own function
(``sequencer.chain.inference.fees.inference_payouts``) on arbitrary calls."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from neurostack.explorer.fees import ModelCall, fee_split
from neurostack.explorer.registry import TEE_ATTESTATION_TTL
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.types import Address, ModelCID, RequestId
from sequencer.chain.inference.calls import InferenceCall
from sequencer.chain.inference.constants import TEE_ATTESTATION_TTL as CHAIN_TTL
from sequencer.chain.inference.fees import inference_payouts

KEYS = [bytes([i]) * 20 for i in range(1, 5)]

calls_strategy = st.lists(
    st.tuples(
        st.integers(0, 200_000),  # model gas
        st.sampled_from(KEYS),  # sprinter
        st.one_of(st.none(), st.sampled_from(KEYS)),  # owner
        st.integers(0, 10_000),  # royalty bps
    ),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(calls=calls_strategy, gas_used=st.integers(21_000, 1_000_000),
       price=st.integers(1, 10**11), base=st.integers(0, 10**10))  # fmt: skip
def test_fee_split_pays_what_the_chain_pays(
    calls: list[tuple[int, bytes, bytes | None, int]], gas_used: int, price: int, base: int
) -> None:
    base = min(base, price)
    ours = fee_split(
        gas_used=gas_used,
        gas_price=price,
        base_fee=base,
        calls=[
            ModelCall(
                "0x",
                "cid",
                "VANILLA",
                "0x" + s.hex(),
                gas,
                None if o is None else "0x" + o.hex(),
                bps,
            )
            for gas, s, o, bps in calls
        ],
    )
    chain_calls = [
        InferenceCall(
            request_id=RequestId(b"\0" * 32),
            model_cid=ModelCID("cid"),
            mode=InferenceMode.VANILLA,
            sprinter=Address(sprinter),
            model_gas=gas,
            model_owner=None if owner is None else Address(owner),
            royalty_bps=bps,
        )
        for gas, sprinter, owner, bps in calls
    ]
    payouts, paid = inference_payouts(chain_calls, gas_budget=gas_used, gas_price=price)

    assert ours.inference_gas == paid
    totals: dict[str, int] = {}
    for p in ours.payouts:
        if p.call.owner is not None:
            totals[p.call.owner] = totals.get(p.call.owner, 0) + p.owner_amount
        totals[p.call.sprinter] = totals.get(p.call.sprinter, 0) + p.sprinter_amount
    assert {k: v for k, v in totals.items() if v} == {
        "0x" + bytes(p.recipient).hex(): p.amount for p in payouts
    }
    assert ours.total == ours.burned + ours.tip + ours.to_owners + ours.to_sprinters


def test_tee_freshness_window_is_the_chains() -> None:
    assert TEE_ATTESTATION_TTL == CHAIN_TTL
