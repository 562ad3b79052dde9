"""Which scorer serves a model: a table from model kind to loader, not an if-chain."""

from __future__ import annotations

from collections.abc import Callable

from transformers import AutoConfig

from ..config import Settings
from . import llm_yes
from .base import Scorer

# kind -> (loader, predicate on the model's config.architectures)
KINDS: dict[str, tuple[Callable[..., Scorer], Callable[[str], bool]]] = {
    llm_yes.KIND: (llm_yes.LlmYesScorer.load, lambda architecture: architecture.endswith("ForCausalLM")),
}


def detect_kind(source: str) -> str:
    """The scoring kind of a model, from the architectures in its config."""
    architectures = getattr(AutoConfig.from_pretrained(source), "architectures", None) or []
    for kind, (_, matches) in KINDS.items():
        if any(matches(architecture) for architecture in architectures):
            return kind
    raise ValueError(
        f"{source}: no scorer for architectures {architectures or '(none listed)'}; "
        f"supported kinds: {', '.join(KINDS)}"
    )


def load_scorer(settings: Settings) -> Scorer:
    loader, _ = KINDS[detect_kind(settings.model)]
    return loader(
        settings.model,
        name=settings.model_name,
        device=settings.device,
        dtype=settings.dtype,
        default_max_length=settings.max_length,
    )
