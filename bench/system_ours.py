"""(c) This project's scorer in-process: the scorer's encode, then the server's own
Batcher (token budget, pair cap, padding bound, length-sorted batches) driving
the scorer's forward on one inference thread, with every request queued at once
as an offline batch would be. Tokenization is inside the timed span.

The scorer is the one the server would pick for the model (registry.detect_kind):
LlmYesScorer for bge-reranker-v2-gemma's architecture, CrossEncoderScorer for
bge-reranker-v2-m3's."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import torch
from transformers import AutoTokenizer

from rerank_server.app import CPU_MAX_PADDING_RATIO
from rerank_server.batching import Batcher, BatchingLimits
from rerank_server.config import Settings
from rerank_server.scoring import cross_encoder, llm_yes
from rerank_server.scoring.hf import PretrainedScorer
from rerank_server.scoring.registry import detect_kind

from . import workload
from .common import WARMUP_PAIRS, Clock, configure_threads, rss_bytes, system_parser, write_result


SCORERS: dict[str, type[PretrainedScorer]] = {
    llm_yes.KIND: llm_yes.LlmYesScorer,
    cross_encoder.KIND: cross_encoder.CrossEncoderScorer,
}


def load_scorer(model_dir: str, attention: str, max_length: int) -> PretrainedScorer:
    """The scorer's load steps (scoring.hf.load_pretrained on a CPU in fp32),
    with the attention implementation as a knob."""
    scorer_class = SCORERS[detect_kind(model_dir)]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = scorer_class.model_class.from_pretrained(model_dir, dtype=torch.float32, attn_implementation=attention)
    model.eval()
    model.requires_grad_(False)
    return scorer_class(model, tokenizer, name=model_dir, source=model_dir, default_max_length=max_length)


def split_by_padding(forward, max_padding: float):
    """A forward that runs a batch as length-sorted sub-batches, starting a new one
    where padding would pass max_padding of the real tokens (a study of a change
    to the scorer or batcher, not what the server does)."""

    def split_forward(sequences):
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        scores = [0.0] * len(sequences)
        group: list[int] = []

        def flush():
            for index, score in zip(group, forward([sequences[i] for i in group])):
                scores[index] = score
            group.clear()

        for index in order:
            width = len(sequences[index])
            real = sum(len(sequences[i]) for i in group) + width
            if group and (len(group) + 1) * width > (1 + max_padding) * real:
                flush()
            group.append(index)
        flush()
        return scores

    return split_forward


async def score_all(
    scorer: PretrainedScorer, requests: list[dict], limits: BatchingLimits, max_length: int, split_padding: float
):
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
    forward = split_by_padding(scorer.forward, split_padding) if split_padding else scorer.forward
    batcher = Batcher(forward, executor, limits)
    batcher.start()
    try:
        encoded = [scorer.encode(r["query"], r["documents"], max_length, None) for r in requests]
        results = await asyncio.gather(*(batcher.score(sequences) for sequences in encoded))
    finally:
        await batcher.close()
        executor.shutdown()
    lengths = [len(ids) for sequences in encoded for ids in sequences]
    return [score for scores in results for score in scores], lengths, batcher.stats


def main() -> None:
    defaults = Settings()
    parser = system_parser(__doc__)
    parser.add_argument("--attention", default="sdpa", help="sdpa or eager")
    parser.add_argument("--max-batch-tokens", type=int, default=defaults.max_batch_tokens)
    parser.add_argument("--max-batch-pairs", type=int, default=defaults.batch_size)
    parser.add_argument("--max-padding-ratio", type=float, default=CPU_MAX_PADDING_RATIO,
                        help="the batcher's padding bound (the server's CPU default; negative: none)")
    parser.add_argument("--split-padding", type=float, default=0.0,
                        help="study: run each batch as sub-batches with at most this padding share (0: off)")
    parser.add_argument("--label", default="ours")
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    requests = workload.load(args.workload)

    scorer = load_scorer(args.model, args.attention, args.max_length)
    rss_loaded = rss_bytes()
    first = requests[0]
    scorer.forward(scorer.encode(first["query"], first["documents"][:WARMUP_PAIRS], args.max_length, None))
    limits = BatchingLimits(
        max_batch_tokens=args.max_batch_tokens, max_batch_pairs=args.max_batch_pairs, max_wait_ms=defaults.max_wait_ms,
        max_padding_ratio=args.max_padding_ratio if args.max_padding_ratio >= 0 else None,
    )
    with Clock() as clock:
        scores, lengths, stats = asyncio.run(score_all(scorer, requests, limits, args.max_length, args.split_padding))
    write_result(
        args.result,
        {
            "system": args.label,
            "kind": scorer.description.kind,
            "pairs": len(scores),
            "seconds": clock.seconds,
            "lengths": lengths,
            # With --split-padding the sub-batches pad less than the batcher counts.
            "padded_tokens": stats.padded_tokens if not args.split_padding else None,
            "batches": stats.batches,
            "full_lm_head": False,
            "attention": args.attention,
            "max_batch_tokens": args.max_batch_tokens,
            "max_batch_pairs": args.max_batch_pairs,
            "rss_after_load_bytes": rss_loaded,
            "threads": threads,
        },
        scores,
    )


if __name__ == "__main__":
    main()
