"""Fleet replay (REPLAY.md): the engine, the reference policies, and the report."""
