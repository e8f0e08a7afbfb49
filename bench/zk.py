"""ZK benchmark: setup, proving and verification of the sample models with ezkl, next to
the VANILLA path on the same model and inputs in the same run.

    .venv/bin/python bench/zk.py [--proofs 5] [--verifies 20]

For each sample model, each phase runs in a fresh child process so its peak memory
(``ru_maxrss`` of that child, from ``os.wait4``) is its own:

- **setup** (``neurostack.zk`` ezkl backend, the hub's settings: scale 13, public
  inputs/outputs, fixed parameters): every step's time, the circuit's size, key sizes;
- **ZK sprinter**: witness + proof + the sprinter's own verification + signing the
  receipt, ``--proofs`` fresh inputs (median, max), proof bytes;
- **ZK verifier**: ``check_receipt`` + ``neurostack.zk.verify`` (public-input encoding and
  ezkl's native verifier), ``--verifies`` times (median);
- **VANILLA baseline**: onnxruntime (CPU, one thread) + signing, and ``check_receipt``;
- **STF**: the chain's ``verify_receipt`` (the state transition's per-receipt check,
  registry and registered circuit included) of VANILLA and ZK receipts of the same
  inputs, and the ZK gas that keeps VANILLA's gas per millisecond.

The table ends with the ratios ZK/VANILLA and the issue's targets for the 4-input sample
MLP (proof ready ≤ 5 s, verification ≤ 50 ms, proof < 16 kB). text_classifier has string
outputs, which no circuit can produce: its setup is expected to be refused, and the row
says why. Takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEY = "0x" + "42" * 32
VANILLA_VERIFY_GAS = 6_000  # sequencer.chain.inference.constants.VERIFY_GAS[VANILLA]
TARGETS = {"prove_s": 5.0, "verify_ms": 50.0, "proof_bytes": 16 * 1024}


def _inputs(n: int, seed: int) -> list[Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.normal(size=(1, 4)).astype(np.float32) for _ in range(n)]


def _cid(model: str) -> tuple[str, bytes]:
    from neurostack.hub.samples import sample_model_path
    from neurostack.protocol.cid import cid_digest, model_cid

    cid = model_cid(sample_model_path(model).read_bytes())
    return cid, cid_digest(cid)


def _abi(x: Any) -> bytes:
    from neurostack.protocol.tensors import encode_model_input, model_input_from_mapping

    return encode_model_input(model_input_from_mapping({"x": x}))


# -- the phases, each run in a child process -----------------------------------------------


def phase_setup(model: str, work: Path, _: int = 0) -> dict[str, Any]:
    from neurostack.hub.samples import sample_model_path
    from neurostack.zk import SetupOptions, SrsSource, ZkError, backend_for, parse_settings

    started = time.perf_counter()
    try:
        result = backend_for("ezkl").setup(
            sample_model_path(model), work / "circuit", srs=SrsSource(work / "srs"),
            options=SetupOptions(),
        )  # fmt: skip
    except ZkError as exc:
        return {"refused": str(exc)}
    total = time.perf_counter() - started
    (work / "settings.json").write_bytes(result.settings)
    settings = parse_settings(result.settings)
    return {
        "total_s": total,
        "steps": dict(result.steps),
        "logrows": settings.logrows,
        "pk_bytes": result.proving_key.stat().st_size,
        "vk_bytes": result.verifying_key.stat().st_size,
        "files": {
            "circuit": str(result.circuit),
            "pk": str(result.proving_key),
            "vk": str(result.verifying_key),
            "srs": str(result.srs),
        },
    }


def _circuit(work: Path) -> tuple[bytes, Any, dict[str, str]]:
    from neurostack.zk import parse_settings

    files = json.loads((work / "setup.json").read_text())["files"]
    settings_bytes = (work / "settings.json").read_bytes()
    return settings_bytes, parse_settings(settings_bytes), files


def phase_prove(model: str, work: Path, n: int) -> dict[str, Any]:
    from neurostack.protocol.receipts import make_receipt, receipt_to_json
    from neurostack.protocol.tensors import encode_model_output
    from neurostack.zk import ProverFiles, backend_for, verify

    settings_bytes, settings, files = _circuit(work)
    prover = ProverFiles(Path(files["circuit"]), Path(files["pk"]), Path(files["srs"]))
    vk, srs = Path(files["vk"]).read_bytes(), Path(files["srs"]).read_bytes()
    data = _cid(model)
    times, witness, proofs = [], [], []
    for x in _inputs(n, seed=1):
        input_abi = _abi(x)
        started = time.perf_counter()
        proof = backend_for("ezkl").prove(prover, settings, input_abi)
        output_abi = encode_model_output(proof.output)
        verify(proof.proof, vk, settings_bytes, input_abi, output_abi, srs=srs)  # sprinter's check
        receipt = make_receipt(
            chain_id=0, model_cid=data[0], model_hash=data[1], mode=1, input_abi=input_abi,
            output_abi=output_abi, expiry=2**40, private_key=KEY, proof=proof.proof,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        witness.append(proof.witness_seconds)
        proofs.append(receipt_to_json(receipt))
    (work / "receipts.json").write_text(json.dumps(proofs))
    return {
        "error": quantisation_error(model, Path(files["circuit"]), settings, 200),
        "median_s": statistics.median(times), "max_s": max(times),
        "witness_s": statistics.median(witness), "proof_bytes": len(proof.proof),
    }  # fmt: skip


def quantisation_error(model: str, circuit: Path, settings: Any, n: int) -> float:
    """Largest |circuit output - onnxruntime output| over ``n`` inputs drawn from N(0, 2^2)
    (witnesses only: the proof does not change the output)."""
    import ezkl
    import numpy as np
    import onnxruntime as ort

    from neurostack.hub.samples import sample_model_path
    from neurostack.zk.fixedpoint import felt_from_hex

    session = ort.InferenceSession(
        str(sample_model_path(model)), providers=["CPUExecutionProvider"]
    )
    scale = settings.outputs[0].scale
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for x in _inputs(n, seed=2):
            x = x * np.float32(2.0)
            (Path(tmp) / "in.json").write_text(json.dumps({"input_data": [x.ravel().tolist()]}))
            witness = ezkl.gen_witness(f"{tmp}/in.json", str(circuit), f"{tmp}/w.json")
            y = felt_from_hex(witness["outputs"][0][0]) / 2**scale
            worst = max(worst, abs(y - float(session.run(None, {"x": x})[0].ravel()[0])))
    return worst


def phase_verify(model: str, work: Path, n: int) -> dict[str, Any]:
    from neurostack.protocol.receipts import check_receipt, receipt_from_json
    from neurostack.zk import verify

    settings_bytes, _, files = _circuit(work)
    vk, srs = Path(files["vk"]).read_bytes(), Path(files["srs"]).read_bytes()
    receipts = [receipt_from_json(r) for r in json.loads((work / "receipts.json").read_text())]
    inputs = [_abi(x) for x in _inputs(len(receipts), seed=1)]
    times = []
    for i in range(n):
        r, input_abi = receipts[i % len(receipts)], inputs[i % len(receipts)]
        started = time.perf_counter()
        check_receipt(r)
        verify(r.proof, vk, settings_bytes, input_abi, r.output, srs=srs)
        times.append(time.perf_counter() - started)
    return {"median_ms": 1000 * statistics.median(times), "first_ms": 1000 * times[0]}


def phase_vanilla(model: str, work: Path, n: int) -> dict[str, Any]:
    import onnxruntime as ort

    from neurostack.hub.samples import sample_model_path
    from neurostack.protocol.receipts import check_receipt, make_receipt
    from neurostack.protocol.tensors import encode_model_output, outputs_to_model_output

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    path = sample_model_path(model)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    cid, digest = _cid(model)
    infer, check = [], []
    for x in _inputs(max(n, 20), seed=1):
        started = time.perf_counter()
        arrays = session.run(names, {"x": x})
        output_abi = encode_model_output(outputs_to_model_output(dict(zip(names, arrays))))
        receipt = make_receipt(
            chain_id=0, model_cid=cid, model_hash=digest, mode=0, input_abi=_abi(x),
            output_abi=output_abi, expiry=2**40, private_key=KEY,
        )  # fmt: skip
        infer.append(time.perf_counter() - started)
        started = time.perf_counter()
        check_receipt(receipt)
        check.append(time.perf_counter() - started)
    return {
        "infer_ms": 1000 * statistics.median(infer),
        "verify_ms": 1000 * statistics.median(check),
    }


def phase_stf(model: str, work: Path, n: int) -> dict[str, Any]:
    """The chain's own check (``sequencer.chain.inference.verify_receipt``, what the STF
    runs per receipt) of the same inputs' VANILLA and ZK receipts, against a registry
    holding the sprinter and the model's registered circuit; medians after a first call."""
    import hashlib

    from neurostack.protocol.receipts import make_receipt, receipt_from_json
    from neurostack.protocol.request import input_hash, request_id
    from neurostack.protocol.tensors import encode_model_output, outputs_to_model_output
    from sequencer.chain.inference import InferenceRequest, verify_receipt
    from sequencer.chain.inference.registry import (
        Status,
        ZkModelEntry,
        registry_from_storage,
        set_sprinter,
        set_zk_blob,
        set_zk_model,
    )
    from sequencer.chain.inference.verify import RECEIPT_VERIFIERS

    settings_bytes, settings, files = _circuit(work)
    vk, srs = Path(files["vk"]).read_bytes(), Path(files["srs"]).read_bytes()
    cid, digest = _cid(model)
    storage: dict[int, int] = {}
    settings_hash, vk_hash = hashlib.sha256(settings_bytes).digest(), hashlib.sha256(vk).digest()
    set_zk_blob(storage.__setitem__, settings_hash, settings_bytes)
    set_zk_blob(storage.__setitem__, vk_hash, vk)
    scales = (tuple(t.scale for t in settings.inputs), tuple(t.scale for t in settings.outputs))
    set_zk_model(storage.__setitem__, cid, ZkModelEntry(settings_hash, vk_hash, *scales))
    from eth_keys import keys

    sprinter = keys.PrivateKey(bytes.fromhex(KEY[2:])).public_key.to_canonical_address()
    set_sprinter(storage.__setitem__, sprinter, Status.ACTIVE)
    registry = registry_from_storage(storage)
    zk_receipts = [receipt_from_json(r) for r in json.loads((work / "receipts.json").read_text())]
    import onnxruntime as ort

    from neurostack.hub.samples import sample_model_path

    session = ort.InferenceSession(
        str(sample_model_path(model)), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    timings: dict[str, list[float]] = {"vanilla": [], "zk": []}
    first: dict[str, float] = {}
    pairs = []
    for x, zk in zip(_inputs(len(zk_receipts), seed=1), zk_receipts, strict=True):
        input_abi = _abi(x)
        output = encode_model_output(
            outputs_to_model_output(dict(zip(names, session.run(names, {"x": x}))))
        )
        for mode, receipt in (
            (0, make_receipt(chain_id=0, model_cid=cid, model_hash=digest, mode=0,
                             input_abi=input_abi, output_abi=output, expiry=2**40, private_key=KEY)),
            (1, zk),
        ):  # fmt: skip
            from neurostack.protocol.modes import InferenceMode

            m = InferenceMode(mode)
            request = InferenceRequest(
                request_id(0, cid, m, input_abi), 0, cid, m, input_abi, input_hash(input_abi)
            )
            pairs.append((m, receipt, request))
    zk_srs = {hashlib.sha256(srs).digest(): srs}
    for i in range(n):
        for m, receipt, request in pairs:
            started = time.perf_counter()
            verify_receipt(
                receipt, request, registry=registry, model=None, now=0,
                verifiers=RECEIPT_VERIFIERS, zk_srs=zk_srs,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            key = "zk" if m == 1 else "vanilla"
            first.setdefault(key, seconds)
            timings[key].append(seconds)
    vanilla_ms = 1000 * statistics.median(timings["vanilla"])
    zk_ms = 1000 * statistics.median(timings["zk"])
    return {"vanilla_ms": vanilla_ms, "zk_ms": zk_ms, "zk_first_ms": 1000 * first["zk"],
            "ratio": zk_ms / vanilla_ms}  # fmt: skip


PHASES: dict[str, Callable[[str, Path, int], dict[str, Any]]] = {
    "setup": phase_setup,
    "prove": phase_prove,
    "verify": phase_verify,
    "vanilla": phase_vanilla,
    "stf": phase_stf,
}


def run_child(phase: str, model: str, work: Path, n: int) -> tuple[dict[str, Any], float]:
    """Run one phase in a fresh interpreter; its JSON result and peak RSS in MiB."""
    args = [sys.executable, __file__, "--child", phase, model, str(work), str(n)]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"phase {phase} of {model} failed (exit {child.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return result, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--proofs", type=int, default=5)
    parser.add_argument("--verifies", type=int, default=20)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        phase, model, work, n = args.child
        result = PHASES[phase](model, Path(work), int(n))
        if phase == "setup":
            (Path(work) / "setup.json").write_text(json.dumps(result))
        print(json.dumps(result))
        return
    import ezkl

    print(
        f"ezkl {getattr(ezkl, '__version__', '?')}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    for model in ("mlp_regressor", "text_classifier"):
        with tempfile.TemporaryDirectory(prefix="bench-zk-") as tmp:
            work = Path(tmp)
            vanilla, vanilla_mem = run_child("vanilla", model, work, args.proofs)
            setup, setup_mem = run_child("setup", model, work, 0)
            print(f"\n{model}")
            print(
                f"  VANILLA  onnxruntime + sign {vanilla['infer_ms']:8.2f} ms   "
                f"check_receipt {vanilla['verify_ms']:6.2f} ms   peak {vanilla_mem:6.0f} MiB"
            )
            if "refused" in setup:
                print(f"  ZK       setup refused: {setup['refused']}")
                continue
            steps = ", ".join(f"{k} {v:.2f}" for k, v in setup["steps"].items())
            print(
                f"  setup    {setup['total_s']:8.2f} s  (2^{setup['logrows']} rows; {steps})  "
                f"pk {setup['pk_bytes'] / 2**20:.1f} MiB, vk {setup['vk_bytes']} B, "
                f"peak {setup_mem:.0f} MiB"
            )
            prove, prove_mem = run_child("prove", model, work, args.proofs)
            verify, verify_mem = run_child("verify", model, work, args.verifies)
            print(
                f"  ZK       witness+prove+check+sign {prove['median_s']:6.3f} s median "
                f"(max {prove['max_s']:.3f}; witness {1000 * prove['witness_s']:.1f} ms)  "
                f"proof {prove['proof_bytes']} B  peak {prove_mem:.0f} MiB"
            )
            print(f"  ZK       max |circuit - onnxruntime| over 200 inputs: {prove['error']:.2e}")
            print(
                f"  ZK       check_receipt + zk.verify {verify['median_ms']:6.2f} ms median "
                f"(first {verify['first_ms']:.2f})  peak {verify_mem:.0f} MiB"
            )
            stf, _ = run_child("stf", model, work, max(1, args.verifies // args.proofs))
            print(
                f"  STF      verify_receipt VANILLA {stf['vanilla_ms']:6.2f} ms, ZK "
                f"{stf['zk_ms']:6.2f} ms median (first {stf['zk_first_ms']:.1f} ms): "
                f"{stf['ratio']:.0f}x; VERIFY_GAS[ZK] at VANILLA's gas per ms: "
                f"{VANILLA_VERIFY_GAS * stf['ratio']:,.0f}"
            )
            print(
                f"  ratio    proving / VANILLA inference "
                f"{1000 * prove['median_s'] / vanilla['infer_ms']:8.0f}x   "
                f"verification / VANILLA check {verify['median_ms'] / vanilla['verify_ms']:6.0f}x"
            )
            if model == "mlp_regressor":
                for name, got, limit, unit in (
                    ("proof ready", prove["median_s"], TARGETS["prove_s"], "s"),
                    ("verification", verify["median_ms"], TARGETS["verify_ms"], "ms"),
                    ("STF verify", stf["zk_ms"], TARGETS["verify_ms"], "ms"),
                    ("proof size", prove["proof_bytes"], TARGETS["proof_bytes"], "B"),
                ):
                    verdict = "meets" if got <= limit else "MISSES"
                    print(
                        f"  target   {name:<13} {got:10.3f} {unit} (limit {limit} {unit}): {verdict}"
                    )


if __name__ == "__main__":
    main()
