"""The generation service on every spot node: pull jobs, generate, store, drain on interruption.

Importing this package is cheap: the model backends (torch, diffusers) load only when used.
"""
