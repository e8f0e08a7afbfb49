"""An in-process stand-in for the hub's HTTP API, served through ``httpx.MockTransport``.

It answers like the real hub (same paths, JSON shapes and status codes) and signs real
receipts with the protocol code, so the SDK's parsing and verification run for real; the
"model" is a fixed function (y = row sums of x). ``tamper`` hooks let a test corrupt an
answer the way a dishonest hub or a broken network would.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from eth_account import Account

from neurostack.protocol.cid import cid_digest, model_cid
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import make_receipt, receipt_to_json
from neurostack.protocol.tensors import (
    encode_model_input,
    encode_model_output,
    model_input_from_json,
    model_input_to_feeds,
    model_output_to_json,
    outputs_to_model_output,
)
from neurostack.protocol.uploads import model_upload, recover_upload_signer

SPRINTER_KEY = bytes.fromhex("11" * 32)
OTHER_KEY = bytes.fromhex("22" * 32)
SPRINTER = Account.from_key(SPRINTER_KEY).address
MODEL_BYTES = b"not really onnx, but the fake hub does not care"
MODEL_CID = model_cid(MODEL_BYTES)
HUB_ID = bytes.fromhex("5a" * 32)


def answer_for(
    body: dict[str, Any],
    key: bytes = SPRINTER_KEY,
    expiry_in: int = 600,
    model_hash: bytes | None = None,
) -> dict[str, Any]:
    """The hub's answer to a ``POST /v1/infer`` body, signed by ``key``."""
    cid = body["modelCID"]
    mode = InferenceMode(int(body["mode"]))
    model_input = model_input_from_json(body["input"])
    feeds = model_input_to_feeds(model_input, {"x": ("float32", (None, 4))})
    output = outputs_to_model_output({"y": feeds["x"].sum(axis=1, keepdims=True)})
    input_abi, output_abi = encode_model_input(model_input), encode_model_output(output)
    receipt = make_receipt(
        chain_id=0,
        model_cid=cid,
        model_hash=cid_digest(cid) if model_hash is None else model_hash,
        mode=mode,
        input_abi=input_abi,
        output_abi=output_abi,
        expiry=int(time.time()) + expiry_in,
        private_key=key,
    )
    return {
        "requestId": "0x" + receipt.request_id.hex(),
        "output": model_output_to_json(output),
        "receipt": receipt_to_json(receipt),
        "worker": "fake-sprinter",
    }


def model_record(data: bytes = MODEL_BYTES, **extra: Any) -> dict[str, Any]:
    return {
        "cid": model_cid(data),
        "name": "mlp",
        "version": "1",
        "owner": SPRINTER,
        "description": "",
        "size": len(data),
        "modelHash": "0x" + hashlib.sha256(data).hexdigest(),
        "inputs": [{"name": "x", "dtype": "float32", "shape": [None, 4]}],
        "outputs": [{"name": "y", "dtype": "float32", "shape": [None, 1]}],
        "created": 1700000000.0,
        **extra,
    }


@dataclass
class FakeHub:
    """State and routing of the fake hub; ``tamper`` rewrites an inference answer."""

    tamper: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    files: dict[str, bytes] = field(default_factory=lambda: {MODEL_CID: MODEL_BYTES})
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "POST" and path == "/v1/infer":
            body = json.loads(request.content)
            if body["modelCID"] not in self.files:
                return httpx.Response(404, json={"detail": f"model {body['modelCID']} not found"})
            answer = answer_for(body)
            if self.tamper:
                answer = self.tamper(body, answer)
            if request.url.params.get("wait") == "false":
                job_id = f"job-{len(self.jobs)}"
                self.jobs[job_id] = answer
                return httpx.Response(202, json={"jobId": job_id})
            return httpx.Response(200, json=answer)
        if method == "GET" and path.startswith("/v1/jobs/"):
            job_id = path.rsplit("/", 1)[1]
            if job_id not in self.jobs:
                return httpx.Response(404, json={"detail": f"no job {job_id}"})
            return httpx.Response(200, json={"status": "done", "result": self.jobs[job_id]})
        if method == "POST" and path == "/v1/models":
            return self._upload(request)
        if method == "GET" and path == "/v1/hub":
            return httpx.Response(200, json={"hubId": "0x" + HUB_ID.hex()})
        if method == "GET" and path == "/v1/models":
            return httpx.Response(200, json=[model_record(b) for b in self.files.values()])
        if method == "GET" and path.startswith("/v1/models/"):
            parts = path.split("/")
            cid = parts[3]
            if cid not in self.files:
                return httpx.Response(404, json={"detail": f"model {cid} not found"})
            if len(parts) == 5 and parts[4] == "file":
                return httpx.Response(200, content=self.files[cid])
            return httpx.Response(200, json=model_record(self.files[cid]))
        return httpx.Response(404, json={"detail": "Not Found"})

    def _upload(self, request: httpx.Request) -> httpx.Response:
        # Parse the multipart body with the stdlib's email parser: enough for a test double.
        from email.parser import BytesParser
        from email.policy import HTTP

        raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n"
        message = BytesParser(policy=HTTP).parsebytes(raw + request.read())
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = part.get_payload(decode=True)
        data = fields["file"]
        text = {k: v.decode() for k, v in fields.items() if k != "file"}
        upload = model_upload(
            HUB_ID,
            hashlib.sha256(data).digest(),
            text["name"],
            text.get("version", ""),
            text.get("description", ""),
        )
        signer = recover_upload_signer(upload, text["signature"])
        self.uploads.append({k: v if k == "file" else v.decode() for k, v in fields.items()})
        if signer != fields["owner"].decode():
            return httpx.Response(403, json={"detail": "signature is not by the owner"})
        self.files[model_cid(data)] = data
        return httpx.Response(201, json=model_record(data, name=fields["name"].decode()))


# --- ways a dishonest hub or a broken network may alter an answer ---


def tamper_output(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    value = answer["output"]["numbers"][0]["values"][0]
    value["value"] = str(int(value["value"]) + 1)
    return answer


def sign_with_other_key(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return answer_for(body, key=OTHER_KEY)


def answer_another_request(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    other = dict(body, input={"x": [[9.0, 9.0, 9.0, 9.0]]})
    forged = answer_for(other)
    forged["output"] = answer["output"]
    return forged


def forge_sprinter_field(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    answer["receipt"]["sprinter"] = Account.from_key(OTHER_KEY).address
    return answer


def expired(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return answer_for(body, expiry_in=-10)


def run_another_model(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return answer_for(dict(body, modelCID=model_cid(b"a cheaper model")))


def sign_another_model_hash(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return answer_for(body, model_hash=hashlib.sha256(b"a cheaper model").digest())


def xs(rows: int = 2) -> np.ndarray:
    return np.arange(rows * 4, dtype=np.float32).reshape(rows, 4) / 4
