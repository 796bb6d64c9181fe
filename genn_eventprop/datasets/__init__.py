"""Benchmark datasets (Yin-Yang, ...) and their spike encodings for EventProp training."""
