"""bge-reranker-v2-m3 and other cross-encoders: one logit from a sequence classifier.

A pair is tokenized as FlagEmbedding's FlagReranker does: the query cut to
max_length * 3 // 4 tokens, the passage to max_length, then both joined with
the tokenizer's own special tokens (<s> q </s></s> p </s> for XLM-RoBERTa) and
the passage cut from its end until the whole fits max_length ("only_second").
"""

from __future__ import annotations

from collections.abc import Sequence
import logging
from dataclasses import dataclass

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from .base import ModelDescription
from .device import dtype_name
from .hf import PretrainedScorer, right_pad
from .prompt import MIN_MAX_LENGTH, query_token_limit

log = logging.getLogger(__name__)

KIND = "cross-encoder"
DEFAULT_MAX_LENGTH = 512


@dataclass(frozen=True)
class PairTemplate:
    """Special tokens around and between the two sequences of a pair."""

    prefix: tuple[int, ...]
    middle: tuple[int, ...]
    suffix: tuple[int, ...]

    @classmethod
    def of(cls, tokenizer) -> PairTemplate:
        """Reads the template off the tokenizer by encoding a probe pair with
        and without special tokens, so any cross-encoder's layout is honoured."""
        first = tokenizer("a", add_special_tokens=False)["input_ids"]
        second = tokenizer("b", add_special_tokens=False)["input_ids"]
        pair = tokenizer("a", "b")["input_ids"]
        start = _find(pair, first, 0)
        middle_start = start + len(first)
        second_start = _find(pair, second, middle_start)
        return cls(
            prefix=tuple(pair[:start]),
            middle=tuple(pair[middle_start:second_start]),
            suffix=tuple(pair[second_start + len(second) :]),
        )

    def __len__(self) -> int:
        return len(self.prefix) + len(self.middle) + len(self.suffix)

    def join(self, query_ids: Sequence[int], passage_ids: Sequence[int], max_length: int) -> list[int]:
        first = list(query_ids[: query_token_limit(max_length)])
        second = list(passage_ids[:max_length])
        overflow = len(first) + len(second) + len(self) - max_length
        if overflow > 0:
            second = second[: max(0, len(second) - overflow)]
        return [*self.prefix, *first, *self.middle, *second, *self.suffix]


def _find(haystack: Sequence[int], needle: Sequence[int], start: int) -> int:
    for i in range(start, len(haystack) - len(needle) + 1):
        if list(haystack[i : i + len(needle)]) == list(needle):
            return i
    raise ValueError("the tokenizer's pair encoding does not contain its parts; cannot read its template")


class CrossEncoderScorer(PretrainedScorer):
    """Scores pairs with a sequence classifier's single logit (bge-reranker-v2-m3)."""

    model_class = AutoModelForSequenceClassification
    default_max_length = DEFAULT_MAX_LENGTH

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer,
        *,
        name: str,
        source: str,
        default_max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        if model.config.num_labels != 1:
            raise ValueError(f"{source}: a cross-encoder reranker has one label, this model has {model.config.num_labels}")
        self._model = model
        self._tokenizer = tokenizer
        self._device = next(model.parameters()).device
        self._template = PairTemplate.of(tokenizer)
        self._pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # Positions a model reserves beyond the usable ones (XLM-R offsets them by
        # its padding index + 1); the tokenizer's model_max_length already says 512.
        positions = int(getattr(model.config, "max_position_embeddings", DEFAULT_MAX_LENGTH))
        offset = (model.config.pad_token_id + 1) if model.config.model_type in ("xlm-roberta", "roberta") else 0
        max_max_length = positions - offset
        if default_max_length > max_max_length:
            # A server-wide --max-length may suit a gemma beside this model; say so rather than refuse.
            log.warning("%s: max_length %d is over this model's %d positions; using %d",
                        name, default_max_length, max_max_length, max_max_length)
            default_max_length = max_max_length
        self.description = ModelDescription(
            name=name,
            source=source,
            kind=KIND,
            dtype=dtype_name(next(model.parameters()).dtype),
            device=str(self._device),
            default_max_length=default_max_length,
            max_max_length=max_max_length,
            min_max_length=max(MIN_MAX_LENGTH, len(self._template) + 2),
            default_prompt="",
        )

    def fits_position_limit(self, max_length: int, prompt: str | None) -> bool:
        return max_length <= self.description.max_max_length

    def encode(
        self, query: str, documents: Sequence[str], max_length: int, prompt: str | None
    ) -> list[list[int]]:
        query_ids = self._tokenizer(query, add_special_tokens=False)["input_ids"]
        passages = self._tokenizer(list(documents), add_special_tokens=False)["input_ids"]
        return [self._template.join(query_ids, ids, max_length) for ids in passages]

    def forward(self, sequences: Sequence[Sequence[int]]) -> list[float]:
        if not sequences:
            return []
        input_ids, attention_mask, _ = right_pad(sequences, self._pad_id)
        with torch.inference_mode():
            logits = self._model(
                input_ids=input_ids.to(self._device), attention_mask=attention_mask.to(self._device)
            ).logits
        return logits.view(-1).float().cpu().tolist()
