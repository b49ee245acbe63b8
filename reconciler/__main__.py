"""``python -m reconciler``: the reconciler's command line."""

from reconciler.cli import app

if __name__ == "__main__":
    app()
