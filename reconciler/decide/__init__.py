"""Deciding, pure: features, labels, the interruption model and its baselines, scores, the
model registry, and the planner. Market series and a fleet in, a plan out; the reads that
build the series live in ``reconciler.core.history``."""
