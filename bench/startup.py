"""Process start-up: what each ``neurostack`` process pays before it does its work.

The test suite and ``neurostack up`` start many processes (the node, the hub, sprinter
workers and the explorer are each a ``neurostack`` subcommand), so their start-up CPU adds
up on small machines. Reported, each next to the bare interpreter (``python -c pass``)
measured in the same run:

- the CPU of ``neurostack --help`` and of importing each service's start-up modules
  (what the command imports before it serves), and whether that pulls in ``eth_account``
  and ``py_ecc`` (whose BLS pairing tables cost most of a second to build);
- ``neurostack up`` on a fresh project: wall seconds until its "is ready" banner, and the
  CPU each service process had spent by then (from ``/proc``).

Run: ``python bench/startup.py [--rounds 5] [--up-rounds 3]``. Setting ``PYTHONPATH`` to
another checkout measures that code with the same script (before/after comparisons).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
NEUROSTACK = BIN / "neurostack"

# What each service's command imports before it serves (neurostack/cli/ and the modules
# its command function imports); tests/cli/test_startup.py checks the same sets.
SERVICES = {
    "node": "neurostack.cli.main sequencer.config sequencer.node sequencer.pipe "
    "sequencer.rpc.server bridge neurostack.devnet.services neurostack.devnet.devnet",
    "hub serve": "neurostack.cli.main uvicorn neurostack.hub.app neurostack.hub.broker",
    "hub worker": "neurostack.cli.main neurostack.hub.worker neurostack.hub.tasks",
    "explorer": "neurostack.cli.main neurostack.explorer",
}
HEAVY = ("eth_account", "py_ecc")


def child_cpu(argv: list[str], **kwargs: object) -> tuple[float, str]:
    """CPU seconds (user + system) a child process spent, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # from a neutral folder: `python -c` puts the working folder first on sys.path
    out = subprocess.run(
        argv, check=True, capture_output=True, text=True, cwd=tempfile.gettempdir(), **kwargs
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def import_probe(modules: str) -> list[str]:
    lines = [f"import {name}" for name in modules.split()]
    lines.append(f"import sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    return [sys.executable, "-c", "; ".join(lines)]


def cpu_table(rounds: int) -> None:
    probes = {"python -c pass": [sys.executable, "-c", "pass"]}
    probes["neurostack --help"] = [str(NEUROSTACK), "--help"]
    probes.update({f"{name} imports": import_probe(mods) for name, mods in SERVICES.items()})
    samples: dict[str, list[float]] = {name: [] for name in probes}
    heavy: dict[str, str] = {}
    for _ in range(rounds):  # interleaved, so a busy moment hits every row alike
        for name, argv in probes.items():
            cpu, out = child_cpu(argv)
            samples[name].append(cpu)
            heavy[name] = out.strip() if name.endswith("imports") else ""
    base = statistics.median(samples["python -c pass"])
    print(f"\nstart-up CPU, median of {rounds} (baseline: python -c pass = {base:.3f} s)")
    print(f"{'process':<22} {'CPU s':>7} {'x base':>7}  imports of {', '.join(HEAVY)}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<22} {median:7.3f} {median / base:7.1f}  {heavy[name] or '-'}")


def service_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> dict[int, str]:
    """Living processes below ``pid`` with their command lines."""
    parents, cmdlines = {}, {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            parents[int(entry)] = int(
                Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]
            )
            cmdlines[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return {p: cmdlines[p].replace(b"\0", b" ").decode() for p in found}


def service_name(cmdline: str) -> str | None:
    words = cmdline.split()
    if words and words[0].endswith("redis-server"):
        return "redis-server"
    for name in ("hub serve", "hub worker", "node", "explorer"):
        if all(word in words for word in name.split()):
            return name
    return None


def up_round(project: Path) -> tuple[float, dict[str, float]]:
    """One ``neurostack up --reset``: seconds to its banner, CPU per service by then."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    started = time.monotonic()
    process = subprocess.Popen(
        [str(NEUROSTACK), "up", "--reset", "--explorer-port", "0"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    output = []
    try:
        for line in process.stdout:
            output.append(line)
            if "is ready" in line:
                break
        else:
            raise RuntimeError("`neurostack up` exited before ready:\n" + "".join(output))
        ready = time.monotonic() - started
        cpu: dict[str, float] = {"up": service_cpu(process.pid)}
        for pid, cmdline in descendants(process.pid).items():
            name = service_name(cmdline)
            if name is not None:
                try:
                    cpu[name] = cpu.get(name, 0.0) + service_cpu(pid)
                except OSError:
                    continue
        return ready, cpu
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def up_table(rounds: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from neurostack.hub.broker import free_port

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        subprocess.run(
            [str(NEUROSTACK), "new", "chain", "--output-dir", tmp, "--no-input",
             "--rpc-port", str(free_port()), "--hub-port", str(free_port())],
            check=True, capture_output=True,
        )  # fmt: skip
        results = [up_round(Path(tmp) / "chain") for _ in range(rounds)]
    print(f"\n`neurostack up` (node, hub, 2 workers, explorer), median of {rounds}")
    print(f"{'wall s to ready':<22} {statistics.median(r[0] for r in results):7.2f}")
    for name in ("up", "node", "hub serve", "hub worker", "explorer", "redis-server"):
        values = [r[1].get(name, 0.0) for r in results]
        print(f"{'CPU s ' + name:<22} {statistics.median(values):7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--up-rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    cpu_table(args.rounds)
    if args.up_rounds:
        up_table(args.up_rounds)


if __name__ == "__main__":
    main()
