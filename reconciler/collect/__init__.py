"""Collectors: AWS (prices, queues, the fleet's group) into the history."""
