"""The daemon's DuckDB history: the ledger (its single writer) and the named queries that
read it. No SQL lives elsewhere in the reconciler."""
