"""Scoring: models that turn (query, document) pairs into relevance logits.

Nothing here knows about gRPC or the generated code; the server adapts it.
"""
