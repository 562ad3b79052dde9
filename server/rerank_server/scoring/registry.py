"""Which scorer serves a model: a table from kind to loader, not an if-chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from transformers import AutoConfig

from . import cross_encoder, llm_yes
from .base import Scorer


@dataclass(frozen=True)
class Kind:
    load: Callable[..., Scorer]
    architecture_suffix: str
    """How the model's config.architectures names a model of this kind."""


KINDS: dict[str, Kind] = {
    llm_yes.KIND: Kind(llm_yes.LlmYesScorer.load, "ForCausalLM"),
    cross_encoder.KIND: Kind(cross_encoder.CrossEncoderScorer.load, "ForSequenceClassification"),
}


def detect_kind(source: str) -> str:
    """The scoring kind of a model, from the architectures in its config."""
    architectures = getattr(AutoConfig.from_pretrained(source), "architectures", None) or []
    for name, kind in KINDS.items():
        if any(architecture.endswith(kind.architecture_suffix) for architecture in architectures):
            return name
    raise ValueError(
        f"{source}: no scorer for architectures {architectures or '(none listed)'}; "
        f"force one of {', '.join(KINDS)} with --model-kind NAME=KIND"
    )


def load_scorer(
    source: str, *, name: str, kind: str | None, device: str, dtype: str, default_max_length: int | None
) -> Scorer:
    kind = kind or detect_kind(source)
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r} for {name}: choose one of {', '.join(KINDS)}")
    return KINDS[kind].load(source, name=name, device=device, dtype=dtype, default_max_length=default_max_length)
