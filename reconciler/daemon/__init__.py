"""The reconciliation daemon: settings, schedule, lease, safety, the reconcile cycle."""
