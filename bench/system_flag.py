"""(b) FlagEmbedding, run from bench/.venv-flag (bench/setup.sh):
FlagLLMReranker for bge-reranker-v2-gemma's architecture (--kind
llm-yes-logit), FlagReranker for bge-reranker-v2-m3's (--kind cross-encoder).

All pairs go to one compute_score call, FlagEmbedding's best case: it sorts
them by length and pads each batch (the LLM reranker to a multiple of 8), and
before scoring runs one trial forward pass of its longest batch to find a batch
size that fits; that pass is part of the call and so of the time. The LLM
reranker builds the full logits of every position and keeps every layer's hidden
states (output_hidden_states); FlagReranker runs the sequence classifier as is,
after tokenizing each pair twice (transformers 5 has no prepare_for_model, so
its compatibility shim decodes the ids and tokenizes the text pair again).

The LLM reranker's pairs are up to len(separator + prompt) tokens longer than
the card's when a passage is truncated: it truncates the query and passage to
max_length plus the suffix where the card truncates to max_length; the token
counts reported are its own.
"""

from __future__ import annotations

import numpy as np

from . import workload
from .common import WARMUP_PAIRS, Clock, configure_threads, rss_bytes, system_parser, write_result

LLM_YES_LOGIT, CROSS_ENCODER = "llm-yes-logit", "cross-encoder"  # the server's kind names
RERANKERS = {LLM_YES_LOGIT: "FlagLLMReranker", CROSS_ENCODER: "FlagReranker"}
LLM_PAD_MULTIPLE = 8  # FlagLLMReranker's Collater; FlagReranker pads to the longest pair


def llm_lengths(tokenizer, pairs, max_length: int) -> list[int]:
    """The length FlagLLMReranker gives each pair (its compute_score_single_gpu)."""
    prompt = "Given a query A and a passage B, determine whether the passage contains an answer to the query by providing a prediction of either 'Yes' or 'No'."
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    sep_ids = tokenizer("\n", add_special_tokens=False)["input_ids"]
    suffix = len(sep_ids) + len(prompt_ids)
    encode_max_length = max_length + suffix
    queries = tokenizer([f"A: {q}" for q, _ in pairs], add_special_tokens=False, max_length=max_length * 3 // 4, truncation=True)["input_ids"]
    passages = tokenizer([f"B: {p}" for _, p in pairs], add_special_tokens=False, max_length=max_length, truncation=True)["input_ids"]
    lengths = []
    for query, passage in zip(queries, passages):
        first, second = 1 + len(query), len(sep_ids) + len(passage)
        overflow = first + second - encode_max_length
        if overflow > 0 and second > overflow:
            second -= overflow
        lengths.append(first + second + suffix)
    return lengths


def encoder_lengths(tokenizer, pairs, max_length: int) -> list[int]:
    """The length FlagReranker gives each pair: its own tokenization steps."""
    from FlagEmbedding.utils.tokenizer_compat import prepare_for_model_compat

    queries = tokenizer([q for q, _ in pairs], add_special_tokens=False, max_length=max_length * 3 // 4, truncation=True)["input_ids"]
    passages = tokenizer([p for _, p in pairs], add_special_tokens=False, max_length=max_length, truncation=True)["input_ids"]
    return [
        len(prepare_for_model_compat(tokenizer, query, passage, truncation="only_second", max_length=max_length)["input_ids"])
        for query, passage in zip(queries, passages)
    ]


def padded_tokens(lengths: list[int], batch_size: int, multiple: int) -> int:
    ordered = sorted(lengths, reverse=True)
    total = 0
    for start in range(0, len(ordered), batch_size):
        batch = ordered[start : start + batch_size]
        width = -(-max(batch) // multiple) * multiple
        total += width * len(batch)
    return total


def load_reranker(kind: str, model: str, batch_size: int, max_length: int):
    import FlagEmbedding

    reranker_class = getattr(FlagEmbedding, RERANKERS[kind])
    return reranker_class(model, use_fp16=False, devices=["cpu"], batch_size=batch_size, max_length=max_length)


def main() -> None:
    parser = system_parser(__doc__)
    parser.add_argument("--kind", choices=RERANKERS, default=LLM_YES_LOGIT)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--probe", default="", help="comma-separated batch sizes to time one after another; "
                        "reports pairs/s of each instead of a measurement")
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    pairs = [list(pair) for pair in workload.pairs_of(workload.load(args.workload))]

    import FlagEmbedding

    reranker = load_reranker(args.kind, args.model, args.batch_size, args.max_length)
    rss_loaded = rss_bytes()
    reranker.compute_score(pairs[:WARMUP_PAIRS])
    if args.probe:
        probe = {}
        for batch_size in [int(b) for b in args.probe.split(",")]:
            with Clock() as clock:
                reranker.compute_score(pairs, batch_size=batch_size)
            probe[batch_size] = len(pairs) / clock.seconds
        write_result(args.result, {"system": "flag-probe", "pairs": len(pairs), "pairs_per_s_by_batch_size": probe})
        return
    with Clock() as clock:
        scores = reranker.compute_score(pairs)
    if args.kind == CROSS_ENCODER:
        lengths, multiple = encoder_lengths(reranker.tokenizer, pairs, args.max_length), 1
    else:
        lengths, multiple = llm_lengths(reranker.tokenizer, pairs, args.max_length), LLM_PAD_MULTIPLE
    write_result(
        args.result,
        {
            "system": "flag",
            "kind": args.kind,
            "reranker": RERANKERS[args.kind],
            "pairs": len(pairs),
            "seconds": clock.seconds,
            "batch_size": args.batch_size,
            "lengths": lengths,
            "padded_tokens": padded_tokens(lengths, args.batch_size, multiple),
            "full_lm_head": args.kind == LLM_YES_LOGIT,
            "rss_after_load_bytes": rss_loaded,
            "threads": threads,
            "flagembedding_version": getattr(FlagEmbedding, "__version__", "1.4.2"),
        },
        [float(s) for s in np.asarray(scores, dtype=float).reshape(-1)],
    )


if __name__ == "__main__":
    main()
