"""FlagEmbedding's FlagReranker tokenization and scoring, one pair at a time.

Independent of rerank_server: the tokenizer's own truncation, XLM-RoBERTa's
layout written out (<s> q </s></s> p </s>), prepare_for_model's "only_second"
rule, and the model's logits.
"""

from __future__ import annotations

import torch


def reference_cross_encoder_logit(model, tokenizer, query: str, passage: str, max_length: int = 512) -> float:
    query_ids = tokenizer(query, add_special_tokens=False, max_length=max_length * 3 // 4, truncation=True)["input_ids"]
    passage_ids = tokenizer(passage, add_special_tokens=False, max_length=max_length, truncation=True)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    special = 4  # <s>, </s></s>, </s>
    while len(query_ids) + len(passage_ids) + special > max_length and passage_ids:
        passage_ids = passage_ids[:-1]
    input_ids = [cls, *query_ids, sep, sep, *passage_ids, sep]
    with torch.no_grad():
        return float(model(input_ids=torch.tensor([input_ids])).logits[0, 0])
