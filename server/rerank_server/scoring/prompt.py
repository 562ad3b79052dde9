"""Token layout of bge-reranker-v2-gemma's prompt, as pure functions (no torch).

The model card builds each pair as::

    [bos] + tok("A: " + query)[: max_length * 3 // 4]          (first)
    tok("\\n") + tok("B: " + passage)[: max_length]            (second)
    then drops tokens from the end of second until first + second <= max_length
    and appends tok("\\n") + tok(prompt).

Fast tokenizers truncate without special tokens by keeping the first N ids, so
slicing the full encoding gives the ids the card's `truncation=True` gives; the
parity tests check that against the tokenizer's own truncation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_PROMPT = (
    "Given a query A and a passage B, determine whether the passage contains an answer "
    "to the query by providing a prediction of either 'Yes' or 'No'."
)
QUERY_PREFIX = "A: "
PASSAGE_PREFIX = "B: "
SEPARATOR = "\n"

# Below this the query share (max_length * 3 // 4 plus bos) could exceed max_length.
MIN_MAX_LENGTH = 8


@dataclass(frozen=True)
class PromptSuffix:
    """The ids that close every pair: separator then instruction."""

    separator_ids: tuple[int, ...]
    instruction_ids: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.separator_ids) + len(self.instruction_ids)


def query_token_limit(max_length: int) -> int:
    return max_length * 3 // 4


def build_pair_ids(
    bos_id: int,
    query_ids: Sequence[int],
    passage_ids: Sequence[int],
    suffix: PromptSuffix,
    max_length: int,
) -> list[int]:
    """Lays out one pair; query_ids and passage_ids are the untruncated encodings
    of "A: query" and "B: passage" without special tokens."""
    first = [bos_id, *query_ids[: query_token_limit(max_length)]]
    second = [*suffix.separator_ids, *passage_ids[:max_length]]
    # "only_second" truncation: the query part is never cut here.
    overflow = len(first) + len(second) - max_length
    if overflow > 0:
        second = second[: len(second) - overflow]
    return first + second + list(suffix.separator_ids) + list(suffix.instruction_ids)
