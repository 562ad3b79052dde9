"""Benchmarks of the reranking service: `python -m bench.run --help`."""
