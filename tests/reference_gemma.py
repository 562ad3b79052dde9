"""The model card's algorithm, one pair at a time, written as plainly as possible.

Independent of rerank_server's code on purpose: it uses the tokenizer's own
truncation and the model's full logits, so that the served scores are checked
against the card, not against themselves.
"""

from __future__ import annotations

import math

import torch

PROMPT = (
    "Given a query A and a passage B, determine whether the passage contains an answer "
    "to the query by providing a prediction of either 'Yes' or 'No'."
)


def reference_logit(model, tokenizer, query: str, passage: str, max_length: int = 1024, prompt: str | None = None) -> float:
    prompt = PROMPT if prompt is None else prompt
    sep_inputs = tokenizer("\n", add_special_tokens=False)["input_ids"]
    prompt_inputs = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    query_inputs = tokenizer(
        f"A: {query}", add_special_tokens=False, max_length=max_length * 3 // 4, truncation=True
    )["input_ids"]
    passage_inputs = tokenizer(
        f"B: {passage}", add_special_tokens=False, max_length=max_length, truncation=True
    )["input_ids"]
    first = [tokenizer.bos_token_id] + query_inputs
    second = sep_inputs + passage_inputs
    # prepare_for_model(truncation="only_second", max_length=max_length)
    while len(first) + len(second) > max_length:
        second = second[:-1]
    input_ids = first + second + sep_inputs + prompt_inputs
    yes_loc = tokenizer("Yes", add_special_tokens=False)["input_ids"][0]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([input_ids]), return_dict=True).logits
    return float(logits[0, -1, yes_loc].float())


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))
