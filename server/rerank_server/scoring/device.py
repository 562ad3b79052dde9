"""Chooses where a model runs and in which precision."""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)

DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


def resolve_device(requested: str = "auto") -> torch.device:
    """'auto' takes the first GPU when there is one, else the CPU."""
    if requested == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {requested}: no CUDA device is available; use --device cpu or auto")
    return device


def resolve_dtype(requested: str, device: torch.device) -> torch.dtype:
    """'auto' is bfloat16 on a GPU that supports it (else float16), float32 on a CPU,
    where half precision is slower and less exact."""
    if requested == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    try:
        dtype = DTYPES[requested]
    except KeyError:
        raise ValueError(f"--dtype {requested}: choose one of auto, {', '.join(DTYPES)}") from None
    if device.type == "cpu" and dtype == torch.float16:
        log.warning("float16 on the CPU is slow and inexact; prefer float32 or bfloat16")
    return dtype


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
