"""Property-based fuzzing of every RerankRequest field, over gRPC and over the
HTTP API's JSON: the status is the one the input calls for, and an OK answer
keeps the contract (sorted best first, ties by index, the right count, ids
echoed, scores in [0, 1] unless raw)."""

from __future__ import annotations

import json

import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rerank.v1 import rerank_pb2, rerank_pb2_grpc

from tests.reliability.support import SERVED_NAME, check_cohere_response, check_response, record, serving

MAX_DOCUMENTS = 5
MAX_QUERY_CHARS = 400
MAX_DOCUMENT_CHARS = 300
MAX_PROMPT_CHARS = 120
MAX_MAX_LENGTH = 8159  # the tiny Gemma's position limit less the prompt, as GetModelInfo reports it
DEFAULT_MAX_LENGTH = 1024
FUZZ = settings(
    max_examples=80, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OK, INVALID, NOT_FOUND = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND


def texts(limit: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any Unicode but lone surrogates (protobuf strings are UTF-8): control
    characters, empty strings, long repeats and lengths right at the limit."""
    any_char = st.characters(blacklist_categories=("Cs",))
    short = st.text(any_char, min_size=min_size, max_size=12)
    control = st.text(st.characters(max_codepoint=0x9F, blacklist_categories=("Cs", "L", "N")), min_size=min_size, max_size=6)
    repeated = st.builds(lambda piece, times: (piece * times)[:limit], st.text(any_char, min_size=1, max_size=8), st.integers(1, limit))
    at_limit = st.sampled_from([limit, limit + 1]).map(lambda n: ("x y " * n)[:n])
    return st.one_of(short, short, short, control, repeated, at_limit)


def queries() -> st.SearchStrategy[str]:
    """Mostly a usable query, so most requests get as far as the model."""
    usable = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)
    return st.one_of(usable, usable, usable, texts(MAX_QUERY_CHARS))


def some_documents(document: st.SearchStrategy) -> st.SearchStrategy[list]:
    """Mostly 1..max_documents documents; now and then none, or one too many."""
    return st.one_of(st.lists(document, min_size=1, max_size=MAX_DOCUMENTS), st.lists(document, max_size=MAX_DOCUMENTS + 1))


max_lengths = st.one_of(
    st.just(0), st.just(0), st.integers(8, 300), st.sampled_from([1, 7, 8, 9, MAX_MAX_LENGTH, MAX_MAX_LENGTH + 1, 2**32 - 1])
)
model_names = st.one_of(st.just(""), st.just(""), st.just(SERVED_NAME), st.text(max_size=20))


@st.composite
def grpc_requests(draw) -> rerank_pb2.RerankRequest:
    documents = draw(some_documents(st.builds(rerank_pb2.Document, id=texts(20), text=texts(MAX_DOCUMENT_CHARS))))
    return rerank_pb2.RerankRequest(
        query=draw(queries()),
        documents=documents,
        top_n=draw(st.one_of(st.integers(0, MAX_DOCUMENTS + 2), st.sampled_from([2**32 - 1]))),
        raw_scores=draw(st.booleans()),
        return_text=draw(st.booleans()),
        max_length=draw(max_lengths),
        prompt=draw(st.one_of(st.just(""), st.just(""), texts(MAX_PROMPT_CHARS))),
        model=draw(model_names),
    )


def broken_rule(query: str, texts_: list[str], max_length: int, prompt: str = "") -> str | None:
    """The first of the engine's rules the request breaks (their order is the engine's): "too large",
    "invalid", or None."""
    if not query.strip() or not texts_:
        return "invalid"
    if len(texts_) > MAX_DOCUMENTS or len(query) > MAX_QUERY_CHARS or any(len(t) > MAX_DOCUMENT_CHARS for t in texts_):
        return "too large"
    if len(prompt) > MAX_PROMPT_CHARS:
        return "too large"
    if not 8 <= (max_length or DEFAULT_MAX_LENGTH) <= MAX_MAX_LENGTH:
        return "invalid"
    return None


def allowed_grpc(request: rerank_pb2.RerankRequest) -> set[grpc.StatusCode]:
    if request.model not in ("", SERVED_NAME):
        return {NOT_FOUND}
    if broken_rule(request.query, [d.text for d in request.documents], request.max_length, request.prompt):
        return {INVALID}
    if request.prompt and (request.max_length or DEFAULT_MAX_LENGTH) > MAX_MAX_LENGTH - 2 * len(request.prompt.encode()):
        return {OK, INVALID}  # a custom prompt's tokens may pass the position limit
    return {OK}


@pytest.fixture(scope="module")
def fuzzed_server(tiny_model_dir, tiny_scorer):
    with serving(
        tiny_model_dir, tiny_scorer, http=True, max_documents=MAX_DOCUMENTS, max_query_chars=MAX_QUERY_CHARS,
        max_document_chars=MAX_DOCUMENT_CHARS, max_prompt_chars=MAX_PROMPT_CHARS, max_queued_pairs=1000,
    ) as served:
        yield served


@pytest.fixture(scope="module")
def stub(fuzzed_server):
    with grpc.insecure_channel(fuzzed_server.address) as channel:
        yield rerank_pb2_grpc.RerankerStub(channel)


@pytest.fixture(scope="module")
def tally():
    counts: dict[str, int] = {}
    yield counts
    record("fuzz", **{k: v for k, v in sorted(counts.items())})


@FUZZ
@given(request=grpc_requests())
def test_every_rerank_request_field_fuzzed_over_grpc(stub, tally, request):
    try:
        response = stub.Rerank(request, timeout=120)
        status = OK
    except grpc.RpcError as error:
        status, response = error.code(), None
        assert error.details(), "every refusal says why"
    assert status in allowed_grpc(request), (status, request)
    tally[f"grpc_{status.name}"] = tally.get(f"grpc_{status.name}", 0) + 1
    if status == OK:
        check_response(request, response)


@settings(FUZZ, max_examples=60)
@given(payload=st.binary(max_size=200))
def test_arbitrary_bytes_as_a_rerank_request_are_never_an_internal_error(fuzzed_server, tally, payload):
    with grpc.insecure_channel(fuzzed_server.address) as channel:
        try:
            channel.unary_unary("/rerank.v1.Reranker/Rerank")(payload, timeout=120)
            status = OK
        except grpc.RpcError as error:
            status = error.code()
    assert status in {OK, INVALID, NOT_FOUND}, status
    tally[f"bytes_{status.name}"] = tally.get(f"bytes_{status.name}", 0) + 1


# --- HTTP ---------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
http_documents = some_documents(
    st.one_of(texts(MAX_DOCUMENT_CHARS), st.builds(lambda t, extra: {"text": t, **extra}, texts(MAX_DOCUMENT_CHARS),
                                                   st.dictionaries(st.sampled_from(["title", "id"]), json_values, max_size=1)))
)


@st.composite
def cohere_bodies(draw) -> tuple[dict, bool]:
    """(body, well_typed): each field is of its type, or, now and then, any JSON at all."""
    fields = {
        "query": queries(),
        "documents": http_documents,
        "top_n": st.one_of(st.none(), st.integers(-1, MAX_DOCUMENTS + 2), st.just(10**30)),
        "max_tokens_per_doc": st.one_of(st.none(), max_lengths),
        "return_documents": st.booleans(),
        "raw_scores": st.booleans(),
        "model": model_names,
    }
    body, well_typed = {}, True
    for name, strategy in fields.items():
        choice = draw(st.sampled_from(["typed"] * 12 + ["absent", "wild"]))
        if choice == "typed":
            body[name] = draw(strategy)
        elif choice == "wild":
            body[name] = draw(json_values)
            well_typed = False
        elif name in ("query", "documents"):
            well_typed = False  # required
    return body, well_typed


def expected_http(body: dict) -> int:
    for name in ("top_n", "max_tokens_per_doc"):
        if body.get(name) is not None and body[name] < 1:
            return 400
    if body.get("model", "") not in ("", SERVED_NAME):
        return 404
    texts_ = [d if isinstance(d, str) else d["text"] for d in body["documents"]]
    problem = broken_rule(body["query"], texts_, body.get("max_tokens_per_doc") or 0)
    return {"invalid": 400, "too large": 413, None: 200}[problem]


@FUZZ
@given(case=cohere_bodies())
def test_every_cohere_field_fuzzed_over_http(fuzzed_server, tally, case):
    body, well_typed = case
    response = httpx.post(fuzzed_server.http_url + "/v2/rerank", content=json.dumps(body), timeout=120,
                          headers={"content-type": "application/json"})
    tally[f"http_{response.status_code}"] = tally.get(f"http_{response.status_code}", 0) + 1
    if well_typed:
        assert response.status_code == expected_http(body), response.text
    else:
        assert response.status_code in {200, 400, 404, 413}, response.text
    if response.status_code == 200:
        check_cohere_response(response.json(), body["documents"], body.get("top_n"),
                              bool(body.get("return_documents")), bool(body.get("raw_scores")))
    else:
        assert response.json()["message"]
