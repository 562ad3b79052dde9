"""(a) The model card's scoring code, re-typed from the seed post.

Changes from the card, each because transformers 5 or a benchmark needs it:
- transformers 5 fast tokenizers have no prepare_for_model; prepare_for_model
  below does what the card's call did (no special tokens, 'only_second'
  truncation from the end, nothing else);
- the tiny tokenizer pads on the right by default, Gemma's pads on the left, and
  the card reads logits[:, -1] (the last position), so padding_side is set to
  'left' as bge-reranker-v2-gemma's tokenizer has it;
- the pairs are scored in batches of a fixed size in their given order (the card
  scores its two pairs in one call).
"""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from . import workload
from .common import WARMUP_PAIRS, Clock, configure_threads, rss_bytes, system_parser, write_result


def prepare_for_model(ids, pair_ids, max_length):
    """transformers 4's tokenizer.prepare_for_model(ids, pair_ids,
    truncation='only_second', max_length=max_length, padding=False,
    add_special_tokens=False, return_attention_mask=False,
    return_token_type_ids=False)."""
    overflow = len(ids) + len(pair_ids) - max_length
    if overflow > 0 and len(pair_ids) > overflow:
        pair_ids = pair_ids[:-overflow]
    # When the second sequence is too short to absorb the overflow, transformers 4
    # logged an error and returned both sequences whole; so does this.
    return {"input_ids": list(ids) + list(pair_ids)}


def get_inputs(pairs, tokenizer, prompt=None, max_length=1024):
    if prompt is None:
        prompt = "Given a query A and a passage B, determine whether the passage contains an answer to the query by providing a prediction of either 'Yes' or 'No'."
    sep = "\n"
    prompt_inputs = tokenizer(prompt, return_tensors=None, add_special_tokens=False)["input_ids"]
    sep_inputs = tokenizer(sep, return_tensors=None, add_special_tokens=False)["input_ids"]
    inputs = []
    for query, passage in pairs:
        query_inputs = tokenizer(
            f"A: {query}", return_tensors=None, add_special_tokens=False, max_length=max_length * 3 // 4, truncation=True
        )
        passage_inputs = tokenizer(
            f"B: {passage}", return_tensors=None, add_special_tokens=False, max_length=max_length, truncation=True
        )
        item = prepare_for_model(
            [tokenizer.bos_token_id] + query_inputs["input_ids"],
            sep_inputs + passage_inputs["input_ids"],
            max_length=max_length,
        )
        item["input_ids"] = item["input_ids"] + sep_inputs + prompt_inputs
        item["attention_mask"] = [1] * len(item["input_ids"])
        inputs.append(item)
    return tokenizer.pad(
        inputs,
        padding=True,
        max_length=max_length + len(sep_inputs) + len(prompt_inputs),
        pad_to_multiple_of=8,
        return_tensors="pt",
    )


def main() -> None:
    parser = system_parser(__doc__)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    pairs = workload.pairs_of(workload.load(args.workload))

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(args.model)
    yes_loc = tokenizer("Yes", add_special_tokens=False)["input_ids"][0]
    model.eval()
    rss_loaded = rss_bytes()

    def score(batch):
        with torch.no_grad():
            inputs = get_inputs(batch, tokenizer, max_length=args.max_length)
            scores = model(**inputs, return_dict=True).logits[:, -1, yes_loc].view(-1).float()
        return scores.tolist(), inputs["attention_mask"]

    score(pairs[:WARMUP_PAIRS])
    scores, lengths, padded = [], [], 0
    with Clock() as clock:
        for start in range(0, len(pairs), args.batch_size):
            batch_scores, mask = score(pairs[start : start + args.batch_size])
            scores.extend(batch_scores)
            lengths.extend(mask.sum(dim=1).tolist())
            padded += mask.numel()
    write_result(
        args.result,
        {
            "system": "seed",
            "pairs": len(pairs),
            "seconds": clock.seconds,
            "batch_size": args.batch_size,
            "lengths": lengths,
            "padded_tokens": padded,
            "full_lm_head": True,
            "rss_after_load_bytes": rss_loaded,
            "threads": threads,
        },
        scores,
    )


if __name__ == "__main__":
    main()
