"""Benchmarks: run all with ``make bench`` (``python -m benchmarks``), or one module with
``python -m benchmarks.<name>``. They are not tests: they report figures, never assert them."""
