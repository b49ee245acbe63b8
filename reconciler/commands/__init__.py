"""The command line's subcommands that are more than a call: ``models``, ``train --history``,
``backtest --walk-forward``, ``plan``'s stack placement, and the operator's ``ctl``."""
