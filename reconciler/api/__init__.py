"""The daemon's status API (FastAPI)."""
