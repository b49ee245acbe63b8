"""The declared fleet: Pulumi components for every fleet, and the config contract they read.

Importing this package is cheap and needs no Pulumi engine: ``stacks.spec``, ``stacks.naming``,
``stacks.layout``, ``stacks.policies`` and ``stacks.outputs`` are plain Python the daemon and
the embedded default use; only the component modules import ``pulumi``.
"""
