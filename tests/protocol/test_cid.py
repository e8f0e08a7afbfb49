"""Model content ids: golden values, digest extraction, validation."""

import hashlib

import pytest

from neurostack.protocol import InvalidCID, cid_digest, model_cid, model_hash, parse_model_cid

HELLO_CID = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_cid_of_hello_is_the_well_known_value() -> None:
    # The same value `ipfs add --cid-version 1 --raw-leaves` gives for the bytes "hello".
    assert model_cid(b"hello") == HELLO_CID


def test_cid_digest_is_the_model_hash() -> None:
    assert model_hash(b"hello") == hashlib.sha256(b"hello").digest()
    assert cid_digest(HELLO_CID) == model_hash(b"hello")
    assert parse_model_cid(HELLO_CID) == HELLO_CID


def test_same_bytes_same_cid_different_bytes_different_cid() -> None:
    assert model_cid(b"model-a") == model_cid(b"model-a")
    assert model_cid(b"model-a") != model_cid(b"model-b")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "hello",
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",  # CIDv0 dag-pb
        "bafyreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",  # dag-cbor codec
        HELLO_CID.upper(),  # not canonical base32 lower-case
        HELLO_CID[:-1],  # truncated
        HELLO_CID + "a",
        "b!!!!",
    ],
)
def test_invalid_cid_is_rejected_with_invalid_cid(bad: str) -> None:
    with pytest.raises(InvalidCID):
        parse_model_cid(bad)
    with pytest.raises(InvalidCID):
        cid_digest(bad)


def test_invalid_cid_of_non_string() -> None:
    with pytest.raises(InvalidCID, match="non-empty string"):
        parse_model_cid(b"bafk")  # type: ignore[arg-type]
