"""Model FLOPs counted from the config and the real token counts, and the
machine's fp32 matmul FLOP/s measured the same way the models run.

Per sequence of L real tokens (padding is waste, so it is not counted):
  matmuls    2 * L * layers * (q + k + v + o + gate + up + down parameters)
  attention  4 * L^2 * layers * heads * head_dim   (QK^T and AV over the full
             square, the PaLM convention; a causal kernel may skip half)
  LM head    2 * L * hidden * vocab  where every position's logits are built,
             2 * hidden (one row, one position) where only 'Yes' is scored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import torch


def layer_parameters(config) -> int:
    hidden = config.hidden_size
    head_dim = getattr(config, "head_dim", None) or hidden // config.num_attention_heads
    query_out = config.num_attention_heads * head_dim
    kv_out = config.num_key_value_heads * head_dim
    attention = hidden * query_out + 2 * hidden * kv_out + query_out * hidden
    mlp = 3 * hidden * config.intermediate_size
    return attention + mlp


def sequence_flops(config, length: int, full_lm_head: bool) -> float:
    hidden = config.hidden_size
    head_dim = getattr(config, "head_dim", None) or hidden // config.num_attention_heads
    layers = config.num_hidden_layers
    matmuls = 2.0 * length * layers * layer_parameters(config)
    attention = 4.0 * length * length * layers * config.num_attention_heads * head_dim
    head = 2.0 * length * hidden * config.vocab_size if full_lm_head else 2.0 * hidden
    return matmuls + attention + head


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
