"""``python -m reconciler.daemon run``: the daemon alone, until the shared CLI wires ``run``."""

import typer

from reconciler.daemon.command import register

app = typer.Typer(no_args_is_help=True)
register(app)


@app.callback()
def main() -> None:
    """spotfleet reconciliation daemon."""


if __name__ == "__main__":
    app()
