"""Served scores equal the model card's algorithm run one pair at a time."""

from __future__ import annotations

import random

import pytest
from rerank_client import RerankClient
from rerank_server.config import Settings
from rerank_server.testing.harness import running_server, wait_until_serving
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.reference_gemma import reference_logit, sigmoid

TOLERANCE = 1e-4
LONG_QUERY = " ".join(f"query word {i} about giant pandas and bamboo" for i in range(60))
LONG_DOCUMENT = " ".join(f"The giant panda {i} lives in the mountains of China." for i in range(400))

QUERY = "what is a panda?"
DOCUMENTS = [
    "hi",
    "The giant panda (Ailuropoda melanoleuca) is a bear species endemic to China.",
    "",
    "팬더는 중국 남서부 산악지대에 서식하는 포유류의 일종이다.",
    LONG_DOCUMENT,
    "Search engines rank documents; a reranker reorders the top hits.",
    "Yes",
    "   ",
]


@pytest.fixture(scope="module")
def reference_model(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="eager").eval()
    return model, tokenizer


@pytest.fixture(scope="module", params=[1, 3, 64], ids=lambda n: f"batch_size={n}")
def address(request, tiny_model_dir, tiny_scorer):
    settings = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, batch_size=request.param)
    with running_server(settings, lambda: tiny_scorer) as handle:
        wait_until_serving(handle.address)
        yield handle.address


def scores_by_index(client: RerankClient, query: str, documents: list[str], **options) -> dict[int, float]:
    response = client.rerank(query, documents, **options)
    return {result.index: result.score for result in response.results}


@pytest.mark.parametrize("order", ["as-given", "reversed", "shuffled"])
def test_raw_and_sigmoid_scores_match_the_card_for_every_batch_size_and_order(address, reference_model, order):
    model, tokenizer = reference_model
    documents = list(DOCUMENTS)
    if order == "reversed":
        documents.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(documents)
    expected = [reference_logit(model, tokenizer, QUERY, document) for document in documents]
    with RerankClient(address, timeout=120) as client:
        raw = scores_by_index(client, QUERY, documents, raw_scores=True)
        normalized = scores_by_index(client, QUERY, documents)
    for index, logit in enumerate(expected):
        assert raw[index] == pytest.approx(logit, abs=TOLERANCE), documents[index][:40]
        assert normalized[index] == pytest.approx(sigmoid(logit), abs=TOLERANCE)


@pytest.mark.parametrize("max_length", [16, 64, 300, 1024])
def test_truncation_of_both_query_and_document_matches_the_card(client, reference_model, max_length):
    model, tokenizer = reference_model
    documents = [LONG_DOCUMENT, "short passage", "팬더는 " * 200]
    raw = scores_by_index(client, LONG_QUERY, documents, raw_scores=True, max_length=max_length)
    for index, document in enumerate(documents):
        expected = reference_logit(model, tokenizer, LONG_QUERY, document, max_length=max_length)
        assert raw[index] == pytest.approx(expected, abs=TOLERANCE)


def test_a_custom_prompt_replaces_the_instruction(client, reference_model):
    model, tokenizer = reference_model
    prompt = "Does passage B answer query A? Say 'Yes' or 'No'."
    raw = scores_by_index(client, QUERY, DOCUMENTS[:3], raw_scores=True, prompt=prompt)
    default = scores_by_index(client, QUERY, DOCUMENTS[:3], raw_scores=True)
    for index, document in enumerate(DOCUMENTS[:3]):
        assert raw[index] == pytest.approx(reference_logit(model, tokenizer, QUERY, document, prompt=prompt), abs=TOLERANCE)
    assert raw != pytest.approx(default, abs=TOLERANCE)


def test_a_pair_scores_the_same_alone_and_in_a_padded_batch(tiny_scorer):
    """A pair scores the same alone and padded into a batch of longer pairs."""
    documents = ["a", LONG_DOCUMENT[:300], LONG_DOCUMENT, ""]
    sequences = tiny_scorer.encode(QUERY, documents, 128, None)
    together = tiny_scorer.forward(sequences)
    alone = [tiny_scorer.forward([sequence])[0] for sequence in sequences]
    assert together == pytest.approx(alone, abs=1e-5)
