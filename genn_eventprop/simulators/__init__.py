"""Benchmark simulators driven by a parameter dict ``p`` (one training loop in ``base``)."""
