"""``python -m reconciler ctl ...``: an operator's actions on a running daemon, over its API.

The daemon's address and token come from the environment: ``SPOTFLEET_DAEMON_URL`` (default
``http://127.0.0.1:8700``) and ``SPOTFLEET_DAEMON_API_TOKEN`` (the daemon's ``api_token``).
Every command needs a ``--reason``, recorded in the history beside the action. Exit 0 when
the daemon did it, 1 when it refused (its answer printed), 2 when the command cannot be sent.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

import httpx
import typer

__all__ = ["DEFAULT_URL", "ctl_app", "parse_duration"]

DEFAULT_URL = "http://127.0.0.1:8700"

ctl_app = typer.Typer(
    help="Act on a running daemon: pause, cordon, drain, floor, retrain (needs "
    "SPOTFLEET_DAEMON_API_TOKEN; SPOTFLEET_DAEMON_URL names the daemon).",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option("--reason", help="why: recorded with the action")]
For = Annotated[str, typer.Option("--for", help="how long: seconds, or 90s, 30m, 2h, 1d")]

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds in ``text``: ``600``, ``90s``, ``30m``, ``2h``, ``1.5d``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration (say 600, 90s, 30m, 2h or 1d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _send(path: str, body: dict[str, Any]) -> None:
    url = os.environ.get("SPOTFLEET_DAEMON_URL", DEFAULT_URL).rstrip("/")
    token = os.environ.get("SPOTFLEET_DAEMON_API_TOKEN")
    if not token:
        raise _fail("SPOTFLEET_DAEMON_API_TOKEN is not set: export the daemon's api_token first", 2)
    try:
        r = httpx.post(
            f"{url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach the daemon at {url} ({type(exc).__name__}): is it running, "
                    "and is SPOTFLEET_DAEMON_URL right?", 2) from exc  # fmt: skip
    if r.status_code < 300:
        typer.echo(r.json().get("detail", "done"))
        return
    raise _fail(f"the daemon answered {r.status_code}: {_problem(r)}", 1)


def _problem(r: httpx.Response) -> str:
    try:
        detail = r.json().get("detail")
    except ValueError:
        return r.text[:500]
    if isinstance(detail, list):  # a validation error: one line per field
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', ())[1:])}: {d.get('msg')}" for d in detail
        )
    return str(detail)


@ctl_app.command()
def pause(fleet: str, reason: Reason) -> None:
    """Observe and decide, act on nothing, until resumed."""
    _send(f"/fleets/{fleet}/pause", {"reason": reason})


@ctl_app.command()
def resume(fleet: str, reason: Reason) -> None:
    """Act again on what the fleet's reconciles decide."""
    _send(f"/fleets/{fleet}/resume", {"reason": reason})


@ctl_app.command()
def cordon(fleet: str, pool: str, reason: Reason, for_: For = "1h") -> None:
    """No new node in POOL (region/zone/instance_type) for a while; its nodes stay."""
    body = {"pool": pool, "reason": reason, "for_s": parse_duration(for_)}
    _send(f"/fleets/{fleet}/cordon", body)


@ctl_app.command()
def uncordon(fleet: str, pool: str, reason: Reason) -> None:
    """Lift POOL's cordon before it ends."""
    _send(f"/fleets/{fleet}/uncordon", {"pool": pool, "reason": reason})


@ctl_app.command()
def drain(fleet: str, instance_id: str, reason: Reason) -> None:
    """Drain one node through its group and replace it, now."""
    _send(f"/fleets/{fleet}/nodes/{instance_id}/drain", {"reason": reason})


@ctl_app.command()
def floor(fleet: str, min_nodes: int, reason: Reason, for_: For = "1h") -> None:
    """Keep at least MIN_NODES serving for a while, whatever the backlog."""
    body = {"min_nodes": min_nodes, "reason": reason, "for_s": parse_duration(for_)}
    _send(f"/fleets/{fleet}/floor", body)


@ctl_app.command("floor-clear")
def floor_clear(fleet: str, reason: Reason) -> None:
    """End the fleet's floor before it expires."""
    _send(f"/fleets/{fleet}/floor/clear", {"reason": reason})


@ctl_app.command()
def retrain(reason: Reason) -> None:
    """Run the retrain job now."""
    _send("/retrain", {"reason": reason})
