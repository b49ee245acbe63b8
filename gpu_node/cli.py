"""The spotfleet node: run the service, build the tiny model, publish a model to the cache."""

from __future__ import annotations

import contextlib
import logging
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


class LogFormatChoice(StrEnum):
    text = "text"
    json = "json"


def _logging(log_format: LogFormatChoice | None = None) -> None:
    from gpu_node.logsafety import configure_logging

    try:
        configure_logging(log_format=log_format.value if log_format is not None else None)
    except ValueError as exc:  # a bad SPOTFLEET_LOG_FORMAT
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def run(
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(help="text, or json: one object per line (default: SPOTFLEET_LOG_FORMAT)"),
    ] = None,
) -> None:
    """Start the generation service; settings come from SPOTFLEET_* environment variables."""
    from gpu_node.errors import NodeError
    from gpu_node.node import run_node
    from gpu_node.settings import load_settings

    _logging(log_format)
    try:
        standby = os.environ.get("SPOTFLEET_STANDBY_FILE")
        code = _run_after_standby(Path(standby)) if standby else run_node(load_settings())
    except NodeError as exc:
        logging.getLogger("gpu_node").error("%s", exc)
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


def _run_after_standby(path: Path) -> int:
    """Load the model now, become the instance named in ``path`` when it appears."""
    from gpu_node.aws import make_clients
    from gpu_node.backends import load_backend
    from gpu_node.node import run_node
    from gpu_node.settings import load_settings
    from gpu_node.standby import wait_for_identity, waiting_marker

    ahead = load_settings()
    backend = load_backend(
        model_dir=ahead.model_dir, model_name=ahead.served_model, cpu_threads=ahead.cpu_threads
    )
    # Clients too, where the region is known ahead: making them is most of a start-up's rest.
    region = ahead.region or os.environ.get("AWS_DEFAULT_REGION")
    clients = make_clients(region=region) if region else None
    logging.getLogger("gpu_node").info("standby: model loaded, waiting for %s", path)
    waiting_marker(path).touch()
    os.environ.update(wait_for_identity(path))
    return run_node(load_settings(), backend=backend, clients=clients)


@app.command("make-tiny-model")
def make_tiny_model_command(directory: Path) -> None:
    """Write a tiny random Stable Diffusion pipeline to DIRECTORY (offline, no download)."""
    from gpu_node.tinymodel import make_tiny_model

    _logging()
    make_tiny_model(directory)
    typer.echo(f"tiny model written to {directory}")


@app.command("publish-model")
def publish_model_command(directory: Path, uri: str) -> None:
    """Upload DIRECTORY to URI (s3://bucket/prefix) with its manifest of sizes and SHA-256s."""
    from gpu_node.aws import make_clients
    from gpu_node.cache import publish_model

    _logging()
    entries = publish_model(s3=make_clients(region=None).s3, model_dir=directory, uri=uri)
    typer.echo(f"published {len(entries)} files to {uri}")


@app.command("local-imds")
def local_imds_command(
    port: int = 8111,
    instance_id: str = "i-local",
    instance_type: str = "g5.xlarge",
    zone: str = "us-east-1a",
) -> None:
    """Serve a local IMDSv2 stand-in for one local node (admin: POST <url>/_local/<action>)."""
    from gpu_node.localimds import LocalImds

    imds = LocalImds(port=port)
    url = imds.add(instance_id, instance_type=instance_type, zone=zone)
    typer.echo(f"local IMDS for {instance_id} at {url} (set SPOTFLEET_IMDS_URL={url})")
    with contextlib.suppress(KeyboardInterrupt):
        imds.serve_forever()


def main() -> None:
    app()
