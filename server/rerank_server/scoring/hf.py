"""What every transformers-backed scorer does the same way: load, and pad a batch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar

import torch
from transformers import AutoTokenizer

from .device import dtype_name, resolve_device, resolve_dtype

log = logging.getLogger(__name__)


def load_pretrained(model_class, source: str, device: str, dtype: str):
    """(model, tokenizer) from a Hugging Face id or a local directory, in eval
    mode on the resolved device and dtype, with SDPA attention. The model is
    placed once here and never moved or cast per request."""
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, torch_device)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = model_class.from_pretrained(source, dtype=torch_dtype, attn_implementation="sdpa")
    model.to(torch_device)
    model.eval()
    model.requires_grad_(False)
    log.info("loaded %s on %s as %s", source, torch_device, dtype_name(torch_dtype))
    return model, tokenizer


def right_pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, lengths) of a batch padded on the right."""
    lengths = torch.tensor([len(ids) for ids in sequences])
    width = int(lengths.max())
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    for row, ids in enumerate(sequences):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    attention_mask = (torch.arange(width)[None, :] < lengths[:, None]).long()
    return input_ids, attention_mask, lengths


class PretrainedScorer:
    """Loading shared by the scorers built on a transformers model: a subclass
    names its model class and default max_length and takes (model, tokenizer)."""

    model_class: ClassVar[type]
    default_max_length: ClassVar[int]

    @classmethod
    def load(
        cls,
        source: str,
        *,
        name: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        default_max_length: int | None = None,
    ):
        """Loads a Hugging Face id or a local directory through from_pretrained."""
        model, tokenizer = load_pretrained(cls.model_class, source, device, dtype)
        return cls(
            model, tokenizer, name=name or source, source=source,
            default_max_length=default_max_length or cls.default_max_length,
        )
