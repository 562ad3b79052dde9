"""Helpers for tests, demos and benchmarks that cannot download real weights."""
