"""The embedded default: the whole system on one machine, AWS played by a local emulation."""
