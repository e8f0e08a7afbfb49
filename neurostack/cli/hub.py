"""``neurostack hub serve|worker``: run the reference hub API and its sprinter workers.

Settings come from the options here, then ``NEUROSTACK_HUB_*`` environment variables
(and ``REDIS_URL``), then the defaults of :class:`neurostack.hub.settings.HubSettings`.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from neurostack.hub.errors import HubError

if TYPE_CHECKING:  # pydantic and the protocol package: imported by the commands that run
    from neurostack.hub.settings import HubSettings

app = typer.Typer(help="Run the reference inference hub.", no_args_is_help=True)

StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="model store directory [default: hub]")
]
RedisOpt = Annotated[
    str | None,
    typer.Option(
        "--redis-url",
        help="Redis URL, redis://:PASSWORD@HOST:PORT/0 (prefer env REDIS_URL: a command "
        "line is visible to other users); none: embedded Redis with a generated password",
    ),
]


def _fail(exc: Exception) -> NoReturn:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _exit_cleanly(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


def _settings(**options: Any) -> HubSettings:
    from neurostack.hub.settings import HubSettings

    try:
        return HubSettings.from_environ(os.environ, **options)
    except HubError as exc:
        _fail(exc)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="listen port")] = 8600,
    store: StoreOpt = None,
    redis_url: RedisOpt = None,
    max_upload_bytes: Annotated[int | None, typer.Option(help="largest model upload")] = None,
    job_deadline: Annotated[float | None, typer.Option(help="seconds a job may take")] = None,
    speculative_after: Annotated[
        float | None, typer.Option(help="seconds before a slow job is duplicated")
    ] = None,
    receipt_ttl: Annotated[int | None, typer.Option(help="seconds receipts stay valid")] = None,
    zk_srs_dir: Annotated[
        Path | None,
        typer.Option(
            help="directory of ceremony SRS files kzg<rows>.srs for ZK setups; without it the "
            "hub generates development SRS files (never for production)"
        ),
    ] = None,
    zk_job_deadline: Annotated[
        float | None, typer.Option(help="seconds a ZK job (witness + proof) may take")
    ] = None,
    hub_id: Annotated[
        str | None,
        typer.Option(help="0x + 64 hex: the id uploads are signed for [kept in the store]"),
    ] = None,
) -> None:
    """Serve the hub API (model registry and inference) with uvicorn."""
    import uvicorn

    from neurostack.hub.app import create_app
    from neurostack.hub.broker import redacted, resolve_redis_url

    settings = _settings(
        store_dir=store,
        redis_url=redis_url,
        max_upload_bytes=max_upload_bytes,
        job_deadline=job_deadline,
        speculative_after=speculative_after,
        receipt_ttl=receipt_ttl,
        zk_srs_dir=zk_srs_dir,
        zk_job_deadline=zk_job_deadline,
        hub_id=hub_id,
    )
    embedded = None
    try:
        url, embedded = resolve_redis_url(settings.redis_url, Path(settings.store_dir) / "redis")
        if embedded is not None:
            settings = settings.model_copy(update={"redis_url": url})
            secret = embedded.data_dir / "password"
            typer.echo(f"embedded Redis at {redacted(url)} (password in {secret})")
            typer.echo(
                "  start workers with: REDIS_URL=redis://:$(cat "
                f"{secret})@{embedded.host}:{embedded.port}/0 neurostack hub worker ..."
            )
        api = create_app(settings)
        typer.echo(f"hub API at http://{host}:{port} (store {settings.store_dir})")
        # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal
        # to the handler installed before it: make that an ordinary exit, so the
        # embedded Redis below is stopped too.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _exit_cleanly)
        uvicorn.run(api, host=host, port=port, log_level="warning", access_log=False)
    except HubError as exc:
        _fail(exc)
    finally:
        if embedded is not None:
            embedded.stop()


@app.command()
def worker(
    redis_url: RedisOpt = None,
    store: StoreOpt = None,
    hub_url: Annotated[
        str | None, typer.Option(help="hub to download models from when not in --store")
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="hex private key signing receipts (or NEUROSTACK_HUB_WORKER_KEY)"),
    ] = None,
    name: Annotated[str | None, typer.Option(help="worker name shown in results")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="jobs run at once")] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: threads, prefork or solo")] = "threads",
    delay: Annotated[
        float | None, typer.Option(help="added seconds per job (tests, benchmarks)")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="onnxruntime intra-op threads per session (0: its default)")
    ] = None,
    providers: Annotated[str | None, typer.Option(help="auto, cpu or cuda")] = None,
    job_time_limit: Annotated[
        float | None, typer.Option(help="seconds a job's model may load and run [10]")
    ] = None,
    job_memory_bytes: Annotated[
        int | None, typer.Option(help="memory a job's sandbox may take [2 GiB]")
    ] = None,
    max_output_elements: Annotated[
        int | None, typer.Option(help="output values one job may return [1000000]")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
) -> None:
    """Run a sprinter: a Celery worker consuming inference jobs."""
    from neurostack.hub.worker import run_worker

    settings = _settings(
        redis_url=redis_url,
        store_dir=store,
        hub_url=hub_url,
        worker_key_file=key_file,
        worker_name=name,
        worker_delay=delay,
        intra_op_threads=threads,
        providers=providers,
        job_time_limit=job_time_limit,
        job_memory_bytes=job_memory_bytes,
        max_output_elements=max_output_elements,
    )
    if not settings.redis_url:
        _fail(
            HubError(
                "a worker needs the broker: pass --redis-url or set REDIS_URL "
                "(`neurostack hub serve` prints the URL of its embedded Redis)"
            )
        )
    try:
        settings.signing_key()
        run_worker(settings, concurrency=concurrency, pool=pool, loglevel=loglevel)
    except HubError as exc:
        _fail(exc)


@app.command("dev-srs")
def dev_srs(
    logrows: Annotated[
        int, typer.Argument(min=1, max=24, help="circuit size 2^LOGROWS (the sample MLP: 10)")
    ] = 10,
    directory: Annotated[
        Path, typer.Option("--dir", help="folder to write kzg<LOGROWS>.srs into")
    ] = Path("zk"),
) -> None:
    """Make a DEVELOPMENT structured reference string for ZK circuits (ezkl gen_srs): its
    secret is known to this machine, so proofs made with it prove nothing to others. Never
    for production: a production chain lists a ceremony file. Prints the chain.toml lines
    that make it the chain's SRS."""
    from neurostack.devnet.errors import ProjectError
    from neurostack.devnet.project import write_dev_srs
    from neurostack.zk.errors import ProofSystemUnavailable

    try:
        path, digest = write_dev_srs(directory, logrows)
    except (ProjectError, ProofSystemUnavailable) as exc:
        _fail(exc)
    typer.echo(f"wrote {path} (development SRS, 2^{logrows}; never for production)")
    typer.echo("add to chain.toml, on every node of the chain:\n")
    typer.echo(f'[[inference.zk_srs]]\nfile = "{path.as_posix()}"\nsha256 = "{digest}"')
