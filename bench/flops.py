"""Model FLOPs counted from the config and the real token counts, and the
machine's fp32 matmul FLOP/s measured the same way the models run.

Per sequence of L real tokens (padding is waste, so it is not counted):
  matmuls    2 * L * layers * (layer weight parameters): q, k, v, o and a gated
             MLP's gate, up, down for a decoder (Gemma); q, k, v, o and the
             MLP's up, down for an encoder (XLM-RoBERTa); biases, norms and
             activations are left out
  attention  4 * L^2 * layers * heads * head_dim   (QK^T and AV over the full
             square, the PaLM convention; a causal kernel may skip half, an
             encoder's bidirectional attention needs all of it)
  head       decoder: 2 * L * hidden * vocab where every position's logits are
             built, 2 * hidden (one row, one position) where only 'Yes' is
             scored; encoder sequence classifier: 2 * (hidden^2 + hidden *
             labels), its dense + out_proj on the <s> token only.
The embedding is a lookup and costs no FLOPs, so the vocabulary size enters
only a decoder's full-logits head.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import torch

ENCODER_MODEL_TYPES = frozenset({"xlm-roberta", "roberta", "bert"})


def is_encoder(config) -> bool:
    return config.model_type in ENCODER_MODEL_TYPES


def head_dim(config) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def layer_parameters(config) -> int:
    hidden = config.hidden_size
    query_out = config.num_attention_heads * head_dim(config)
    if is_encoder(config):
        return 4 * hidden * query_out + 2 * hidden * config.intermediate_size
    kv_out = config.num_key_value_heads * head_dim(config)
    attention = hidden * query_out + 2 * hidden * kv_out + query_out * hidden
    mlp = 3 * hidden * config.intermediate_size
    return attention + mlp


def head_flops(config, length: int, full_lm_head: bool) -> float:
    hidden = config.hidden_size
    if is_encoder(config):
        return 2.0 * (hidden * hidden + hidden * config.num_labels)
    return 2.0 * length * hidden * config.vocab_size if full_lm_head else 2.0 * hidden


def sequence_flops(config, length: int, full_lm_head: bool) -> float:
    layers = config.num_hidden_layers
    matmuls = 2.0 * length * layers * layer_parameters(config)
    attention = 4.0 * length * length * layers * config.num_attention_heads * head_dim(config)
    return matmuls + attention + head_flops(config, length, full_lm_head)


def workload_flops(config, lengths: Iterable[int], full_lm_head: bool) -> float:
    return sum(sequence_flops(config, length, full_lm_head) for length in lengths)


def matmul_flops_per_second(size: int = 2048, seconds: float = 2.0) -> float:
    """Best FLOP/s of an fp32 size x size matrix product over about `seconds`."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2.0 * size**3 / (time.perf_counter() - start))
    return best
