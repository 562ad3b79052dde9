"""gRPC reranking server for BAAI/bge-reranker-v2-gemma."""

__version__ = "0.1.0"
