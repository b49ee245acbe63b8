"""The reconciler's shared floor: what every other part of the reconciler stands on.

- ``errors``: the one error hierarchy (drawn in its docstring);
- ``settings`` (and ``settings_problems``): the daemon's typed settings;
- ``history``: the DuckDB history, read and written through named queries only;
- ``market``, ``traces``, ``advisor``: market series and the public files they come from;
- ``reactions``: what interruption events do to pools (the pool marks);
- ``aws``: the one way an AWS call is made and its failure translated.

Nothing here imports another part of the reconciler; every other part may import this.
"""
