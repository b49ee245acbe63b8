"""Actuators: what carries a decision out (shadow, Pulumi Automation API, Auto Scaling)."""
