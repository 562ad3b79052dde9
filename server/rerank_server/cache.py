"""An optional LRU of raw scores, so repeated (query, document) pairs skip the model."""

from __future__ import annotations

import hashlib
from collections import OrderedDict


def cache_key(model: str, prompt: str, max_length: int, query: str, document: str) -> bytes:
    """A fixed-size digest, so the cache's memory does not grow with text length."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (model, prompt, str(max_length), query, document):
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.digest()


class ScoreCache:
    """Least-recently-used map of cache_key -> raw score. Used from the event loop only."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a score cache needs a capacity of at least 1")
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._scores: OrderedDict[bytes, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._scores)

    def get(self, key: bytes) -> float | None:
        score = self._scores.get(key)
        if score is None:
            self.misses += 1
            return None
        self._scores.move_to_end(key)
        self.hits += 1
        return score

    def put(self, key: bytes, score: float) -> None:
        self._scores[key] = score
        self._scores.move_to_end(key)
        while len(self._scores) > self.capacity:
            self._scores.popitem(last=False)
