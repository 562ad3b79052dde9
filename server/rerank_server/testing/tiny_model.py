"""Builds tiny, randomly initialized models with the real models' architectures.

The tests, the demo and the benchmarks cannot download bge-reranker-v2-gemma or
bge-reranker-v2-m3, so they build a Gemma (and an XLM-RoBERTa sequence
classifier) of the same architecture with random weights and a small byte-level
BPE tokenizer that has the model's special tokens and 'Yes', save both with
save_pretrained, and load the folder through the very path a real model takes.

    python -m rerank_server.testing.tiny_model /tmp/tiny-gemma
    python -m rerank_server.testing.tiny_model --kind cross-encoder /tmp/tiny-m3
"""

from __future__ import annotations

import argparse
from pathlib import Path

GEMMA_SPECIAL_TOKENS = {"pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>", "unk_token": "<unk>"}
# XLM-RoBERTa's ids: <s>=0, <pad>=1, </s>=2, <unk>=3.
XLM_R_SPECIAL_TOKENS = {
    "bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>",
    "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>",
}

# Text the tokenizer is trained on: the prompt's words, English, and Korean, so
# that every test text tokenizes into several (byte-level) pieces.
TRAINING_TEXT = [
    "Given a query A and a passage B, determine whether the passage contains an answer "
    "to the query by providing a prediction of either 'Yes' or 'No'.",
    "Yes No Yes No A: B: what is panda? The giant panda is a bear species endemic to China.",
    "Search engines rank documents by relevance; a reranker reorders the top hits.",
    "팬더는 중국 남서부 산악지대에 서식하는 포유류의 일종이다. 팬더란 무엇인가?",
    "The quick brown fox jumps over the lazy dog. OpenSearch BM25 query match title body.",
]


def build_tokenizer(special_tokens: dict[str, str] = GEMMA_SPECIAL_TOKENS, vocab_size: int = 512, pair_template: bool = False):
    """A byte-level BPE tokenizer, as a transformers fast tokenizer; with
    pair_template it adds XLM-RoBERTa's <s> A </s></s> B </s> layout."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE(unk_token=special_tokens["unk_token"]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(dict.fromkeys(special_tokens.values())),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(TRAINING_TEXT * 4, trainer=trainer)
    if pair_template:
        cls, sep = special_tokens["cls_token"], special_tokens["sep_token"]
        backend.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}",
            pair=f"{cls} $A {sep} {sep} $B {sep}",
            special_tokens=[(cls, backend.token_to_id(cls)), (sep, backend.token_to_id(sep))],
        )
    return PreTrainedTokenizerFast(tokenizer_object=backend, **special_tokens)


def build_tiny_gemma(
    directory: str | Path,
    *,
    hidden_size: int = 64,
    intermediate_size: int = 128,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    num_key_value_heads: int = 1,
    vocab_size: int | None = None,
    initializer_range: float = 0.2,
    seed: int = 0,
) -> Path:
    """Saves a random GemmaForCausalLM and its tokenizer to directory.

    vocab_size larger than the tokenizer's pads the embedding (as Gemma's 256k
    vocabulary does); a large initializer_range spreads the scores apart.
    """
    from transformers import GemmaConfig, GemmaForCausalLM

    directory = Path(directory)
    tokenizer = build_tokenizer(GEMMA_SPECIAL_TOKENS)
    config = GemmaConfig(
        vocab_size=max(vocab_size or 0, len(tokenizer)),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        num_key_value_heads=num_key_value_heads,
        head_dim=hidden_size // num_attention_heads,
        max_position_embeddings=8192,
        initializer_range=initializer_range,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return _save_random(GemmaForCausalLM, config, tokenizer, directory, seed)


def build_tiny_xlm_roberta(
    directory: str | Path,
    *,
    hidden_size: int = 64,
    intermediate_size: int = 128,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    vocab_size: int | None = None,
    initializer_range: float = 0.2,
    seed: int = 0,
) -> Path:
    """Saves a random XLMRobertaForSequenceClassification with one label (the
    architecture of bge-reranker-v2-m3) and its tokenizer to directory;
    vocab_size larger than the tokenizer's pads the embedding (m3 has 250,002)."""
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    directory = Path(directory)
    tokenizer = build_tokenizer(XLM_R_SPECIAL_TOKENS, pair_template=True)
    config = XLMRobertaConfig(
        vocab_size=max(vocab_size or 0, len(tokenizer)),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        max_position_embeddings=514,
        initializer_range=initializer_range,
        num_labels=1,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return _save_random(XLMRobertaForSequenceClassification, config, tokenizer, directory, seed)


def _save_random(model_class, config, tokenizer, directory: Path, seed: int) -> Path:
    """Initializes model_class from config with a fixed seed and saves it with tokenizer."""
    import torch

    torch.manual_seed(seed)
    model_class(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


BUILDERS = {"llm-yes-logit": build_tiny_gemma, "cross-encoder": build_tiny_xlm_roberta}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="where to save the model and tokenizer")
    parser.add_argument("--kind", choices=BUILDERS, default="llm-yes-logit")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(BUILDERS[args.kind](args.directory, seed=args.seed))


if __name__ == "__main__":
    main()
