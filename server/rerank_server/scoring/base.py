"""What the server needs from a scorer, whatever the model family."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ModelDescription:
    """Facts about a loaded model that clients may ask for."""

    name: str
    source: str
    kind: str
    dtype: str
    device: str
    default_max_length: int
    max_max_length: int
    min_max_length: int
    default_prompt: str


class Scorer(Protocol):
    """Turns pairs into raw relevance logits in two steps, so that tokenization
    (cheap, any thread) and the forward pass (one inference thread per device)
    can be scheduled apart and pairs of many requests share a forward pass."""

    description: ModelDescription

    def encode(
        self, query: str, documents: Sequence[str], max_length: int, prompt: str | None
    ) -> list[list[int]]:
        """Token ids of each (query, document) pair, ready for forward()."""
        ...

    def fits_position_limit(self, max_length: int, prompt: str | None) -> bool:
        """Whether a pair of max_length tokens plus the prompt fits the model's positions."""
        ...

    def forward(self, sequences: Sequence[Sequence[int]]) -> list[float]:
        """Raw logits of a batch of encoded pairs, in the order given. Each score
        depends on its own sequence only, never on the rest of the batch."""
        ...


def sigmoid(logit: float) -> float:
    """Numerically stable logistic function."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    z = math.exp(logit)
    return z / (1.0 + z)
