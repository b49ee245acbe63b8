"""The spotfleet reconciliation daemon: collect, decide, actuate, backtest."""
