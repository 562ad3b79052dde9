"""The cross-encoder family (bge-reranker-v2-m3) and serving several models at once."""

from __future__ import annotations

import pytest
from rerank_client import InvalidArgumentError, ModelNotFoundError, RerankClient
from rerank_server.config import ModelSpec, Settings
from rerank_server.scoring import cross_encoder, llm_yes
from rerank_server.scoring.registry import detect_kind, load_scorer
from rerank_server.testing.harness import running_server, wait_until_serving
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tests.reference_cross_encoder import reference_cross_encoder_logit
from tests.reference_gemma import sigmoid

QUERY = "what is a panda?"
LONG = " ".join(f"The giant panda {i} lives in the mountains of China." for i in range(200))
DOCUMENTS = ["hi", "The giant panda is a bear species endemic to China.", "", "팬더는 포유류다.", LONG]


@pytest.fixture(scope="module")
def m3_reference(tiny_m3_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_m3_dir)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_m3_dir, attn_implementation="eager").eval()
    return model, tokenizer


@pytest.fixture(scope="module")
def two_models(tiny_model_dir, tiny_m3_dir, tiny_scorer, tiny_m3_scorer):
    """One server with the gemma (default) and the cross-encoder."""
    scorers = {"tiny-gemma": tiny_scorer, "tiny-m3": tiny_m3_scorer}
    settings = Settings(
        models=(ModelSpec(name="tiny-gemma", source=str(tiny_model_dir)), ModelSpec(name="tiny-m3", source=str(tiny_m3_dir))),
        port=0,
        batch_size=3,
    )
    with running_server(settings, load_model=lambda spec: scorers[spec.served_name]) as handle:
        wait_until_serving(handle.address)
        with RerankClient(handle.address, timeout=60) as client:
            yield client


@pytest.mark.parametrize("max_length", [512, 64, 16])
def test_cross_encoder_scores_match_flagembedding_one_pair_at_a_time(two_models, m3_reference, max_length):
    model, tokenizer = m3_reference
    response = two_models.rerank(QUERY, DOCUMENTS, model="tiny-m3", raw_scores=True, max_length=max_length)
    normalized = two_models.rerank(QUERY, DOCUMENTS, model="tiny-m3", max_length=max_length)
    raw = {r.index: r.score for r in response.results}
    sig = {r.index: r.score for r in normalized.results}
    for index, document in enumerate(DOCUMENTS):
        expected = reference_cross_encoder_logit(model, tokenizer, QUERY, document, max_length)
        assert raw[index] == pytest.approx(expected, abs=1e-4)
        assert sig[index] == pytest.approx(sigmoid(expected), abs=1e-4)
    assert response.model == "tiny-m3"


def test_the_request_model_picks_the_model_and_empty_picks_the_first(two_models):
    gemma = two_models.rerank(QUERY, DOCUMENTS[:3], raw_scores=True)
    m3 = two_models.rerank(QUERY, DOCUMENTS[:3], raw_scores=True, model="tiny-m3")
    assert gemma.model == "tiny-gemma" and m3.model == "tiny-m3"
    assert [r.score for r in gemma.results] != pytest.approx([r.score for r in m3.results], abs=1e-3)
    assert two_models.rerank(QUERY, DOCUMENTS[:3], raw_scores=True, model="tiny-gemma").results == gemma.results


def test_model_info_lists_every_model_with_its_kind_and_limits(two_models):
    info = two_models.model_info()
    assert info.default_model == "tiny-gemma"
    kinds = {m.name: (m.kind, m.default_max_length, m.max_max_length) for m in info.models}
    assert kinds["tiny-gemma"][0] == "llm-yes-logit" and kinds["tiny-gemma"][1] == 1024
    assert kinds["tiny-m3"] == ("cross-encoder", 512, 512)
    assert [m.name for m in two_models.model_info("tiny-m3").models] == ["tiny-m3"]


def test_an_unknown_model_lists_the_known_ones(two_models):
    with pytest.raises(ModelNotFoundError, match="this server serves tiny-gemma, tiny-m3"):
        two_models.rerank(QUERY, ["x"], model="bge-reranker-v2-minicpm")


def test_a_cross_encoder_takes_no_prompt_and_no_more_than_512_tokens(two_models):
    with pytest.raises(InvalidArgumentError, match="takes no prompt"):
        two_models.rerank(QUERY, ["x"], model="tiny-m3", prompt="Answer Yes or No")
    with pytest.raises(InvalidArgumentError, match="max_length 1024 is outside"):
        two_models.rerank(QUERY, ["x"], model="tiny-m3", max_length=1024)


def test_concurrent_requests_to_both_models_get_their_own_scores(two_models, tiny_scorer, tiny_m3_scorer):
    import concurrent.futures

    alone = {
        name: two_models.rerank(QUERY, DOCUMENTS, model=name, raw_scores=True).results for name in ("tiny-gemma", "tiny-m3")
    }
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [
            (name, pool.submit(two_models.rerank, QUERY, DOCUMENTS, model=name, raw_scores=True))
            for _ in range(6)
            for name in ("tiny-gemma", "tiny-m3")
        ]
        for name, future in futures:
            results = future.result().results
            assert [r.index for r in results] == [r.index for r in alone[name]]
            assert [r.score for r in results] == pytest.approx([r.score for r in alone[name]], abs=1e-5)


def test_the_kind_is_detected_from_the_config(tiny_model_dir, tiny_m3_dir):
    assert detect_kind(str(tiny_model_dir)) == llm_yes.KIND
    assert detect_kind(str(tiny_m3_dir)) == cross_encoder.KIND


def test_a_forced_kind_overrides_detection_and_a_wrong_one_is_explained(tiny_m3_dir):
    scorer = load_scorer(
        str(tiny_m3_dir), name="m3", kind="cross-encoder", device="cpu", dtype="float32", default_max_length=None
    )
    assert scorer.description.kind == "cross-encoder"
    with pytest.raises(ValueError, match="unknown model kind 'bogus'"):
        load_scorer(str(tiny_m3_dir), name="m3", kind="bogus", device="cpu", dtype="float32", default_max_length=None)


def test_the_cli_serves_two_models_loaded_from_their_directories(tiny_model_dir, tiny_m3_dir):
    from rerank_server.cli import parse_settings

    settings = parse_settings(
        ["--model", f"gemma={tiny_model_dir}", "--model", f"m3={tiny_m3_dir}", "--port", "0", "--max-length", "256"],
        environ={},
    )
    with running_server(settings) as handle:
        wait_until_serving(handle.address)
        with RerankClient(handle.address) as client:
            info = {m.name: m for m in client.model_info().models}
            assert (info["gemma"].kind, info["m3"].kind) == ("llm-yes-logit", "cross-encoder")
            assert info["gemma"].default_max_length == info["m3"].default_max_length == 256
            assert client.rerank(QUERY, ["a"], model="m3").model == "m3"
