"""(b) FlagEmbedding's FlagLLMReranker, run from bench/.venv-flag (bench/setup.sh).

All pairs go to one compute_score call, FlagEmbedding's best case: it sorts
them by length, pads each batch to a multiple of 8, builds the full logits of
every position and keeps every layer's hidden states (output_hidden_states),
and before scoring runs one trial forward pass of its longest batch to find a
batch size that fits; that pass is part of the call and so of the time.

Its pairs are up to len(separator + prompt) tokens longer than the card's when a
passage is truncated: it truncates the query and passage to max_length plus the
suffix where the card truncates to max_length; the token counts reported are its
own.
"""

from __future__ import annotations

import numpy as np

from . import workload
from .common import WARMUP_PAIRS, Clock, configure_threads, rss_bytes, system_parser, write_result

PAD_MULTIPLE = 8  # FlagEmbedding's Collater


def flag_lengths(tokenizer, pairs, max_length: int) -> list[int]:
    """The length FlagEmbedding gives each pair (its compute_score_single_gpu)."""
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


def padded_tokens(lengths: list[int], batch_size: int) -> int:
    ordered = sorted(lengths, reverse=True)
    total = 0
    for start in range(0, len(ordered), batch_size):
        batch = ordered[start : start + batch_size]
        width = -(-max(batch) // PAD_MULTIPLE) * PAD_MULTIPLE
        total += width * len(batch)
    return total


def main() -> None:
    parser = system_parser(__doc__)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--probe", default="", help="comma-separated batch sizes to time one after another; "
                        "reports pairs/s of each instead of a measurement")
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    pairs = [list(pair) for pair in workload.pairs_of(workload.load(args.workload))]

    from FlagEmbedding import FlagLLMReranker
    import FlagEmbedding

    reranker = FlagLLMReranker(
        args.model, use_fp16=False, devices=["cpu"], batch_size=args.batch_size, max_length=args.max_length
    )
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
    lengths = flag_lengths(reranker.tokenizer, pairs, args.max_length)
    write_result(
        args.result,
        {
            "system": "flag",
            "pairs": len(pairs),
            "seconds": clock.seconds,
            "batch_size": args.batch_size,
            "lengths": lengths,
            "padded_tokens": padded_tokens(lengths, args.batch_size),
            "full_lm_head": True,
            "rss_after_load_bytes": rss_loaded,
            "threads": threads,
            "flagembedding_version": getattr(FlagEmbedding, "__version__", "1.4.2"),
        },
        [float(s) for s in np.asarray(scores, dtype=float).reshape(-1)],
    )


if __name__ == "__main__":
    main()
