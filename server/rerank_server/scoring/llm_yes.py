"""bge-reranker-v2-gemma: a causal LM whose 'Yes' logit after a fixed prompt is the score.

The score is the last real token's final hidden state dotted with the LM head's
'Yes' row, so the [batch, seq, vocab] logits tensor (about 1 MB per token with
Gemma's 256k vocabulary in fp32) is never built. Pairs are right-padded: with a
causal mask no real token attends to padding and position ids stay 0..n-1, so a
pair scores the same alone or in any batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from transformers import AutoModelForCausalLM, PreTrainedModel

from .base import ModelDescription
from .device import dtype_name
from .hf import PretrainedScorer, right_pad
from .prompt import (
    DEFAULT_PROMPT,
    MIN_MAX_LENGTH,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    SEPARATOR,
    PromptSuffix,
    build_pair_ids,
)

KIND = "llm-yes-logit"
DEFAULT_MAX_LENGTH = 1024


class LlmYesScorer(PretrainedScorer):
    """Scores pairs with a causal LM's 'Yes' logit (bge-reranker-v2-gemma)."""

    model_class = AutoModelForCausalLM
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
        self._tokenizer = tokenizer
        self._backbone = model.base_model
        self._device = next(model.parameters()).device
        self._bos_id = self._required_token_id("bos_token_id")
        self._pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self._bos_id
        yes_id = tokenizer("Yes", add_special_tokens=False)["input_ids"][0]
        head = model.get_output_embeddings()
        # Kept in fp32 so the last dot product adds no rounding of its own.
        self._yes_row = head.weight[yes_id].detach().float().clone()
        self._yes_bias = float(head.bias[yes_id]) if getattr(head, "bias", None) is not None else 0.0
        self._softcap = getattr(model.config, "final_logit_softcapping", None)
        self._separator_ids = tuple(self._encode_plain(SEPARATOR))
        self._default_suffix = self._suffix(DEFAULT_PROMPT)
        self._position_limit = int(getattr(model.config, "max_position_embeddings", 8192))
        max_max_length = self._position_limit - len(self._default_suffix)
        if default_max_length > max_max_length:
            raise ValueError(
                f"max_length {default_max_length} exceeds this model's limit of {max_max_length}"
            )
        self.description = ModelDescription(
            name=name,
            source=source,
            kind=KIND,
            dtype=dtype_name(next(model.parameters()).dtype),
            device=str(self._device),
            default_max_length=default_max_length,
            max_max_length=max_max_length,
            min_max_length=MIN_MAX_LENGTH,
            default_prompt=DEFAULT_PROMPT,
        )

    def prompt_length(self, prompt: str | None) -> int:
        """Tokens the separator and instruction add after max_length."""
        return len(self._suffix(prompt or DEFAULT_PROMPT))

    def fits_position_limit(self, max_length: int, prompt: str | None) -> bool:
        return max_length + self.prompt_length(prompt) <= self._position_limit

    def encode(
        self, query: str, documents: Sequence[str], max_length: int, prompt: str | None
    ) -> list[list[int]]:
        suffix = self._suffix(prompt or DEFAULT_PROMPT)
        query_ids = self._encode_plain(QUERY_PREFIX + query)
        passages = self._tokenizer(
            [PASSAGE_PREFIX + document for document in documents], add_special_tokens=False
        )["input_ids"]
        return [build_pair_ids(self._bos_id, query_ids, ids, suffix, max_length) for ids in passages]

    def forward(self, sequences: Sequence[Sequence[int]]) -> list[float]:
        if not sequences:
            return []
        input_ids, attention_mask, lengths = right_pad(sequences, self._pad_id)
        ragged = bool((lengths != input_ids.shape[1]).any())
        with torch.inference_mode():
            hidden = self._backbone(
                input_ids=input_ids.to(self._device),
                attention_mask=attention_mask.to(self._device) if ragged else None,
                use_cache=False,
            ).last_hidden_state
            last = hidden[torch.arange(len(sequences), device=self._device), lengths.to(self._device) - 1]
            logits = last.float() @ self._yes_row.to(self._device) + self._yes_bias
            if self._softcap:
                logits = torch.tanh(logits / self._softcap) * self._softcap
        return logits.cpu().tolist()

    def _required_token_id(self, attribute: str) -> int:
        value = getattr(self._tokenizer, attribute)
        if value is None:
            raise ValueError(f"the tokenizer has no {attribute.removesuffix('_id')}; the prompt needs one")
        return int(value)

    def _encode_plain(self, text: str) -> list[int]:
        return self._tokenizer(text, add_special_tokens=False)["input_ids"]

    @functools.lru_cache(maxsize=64)
    def _suffix(self, prompt: str) -> PromptSuffix:
        return PromptSuffix(self._separator_ids, tuple(self._encode_plain(prompt)))
