"""Idempotent ingest of every source the product meets into the history.

Each source has a parser that turns its input into Arrow tables (refusing malformed input with an
``IngestError`` that names the file, the line or key, and the problem) and one call that writes
them in a single transaction: a batch is written whole or not at all.
"""
