"""Malformed and hostile gRPC calls, made with hand-built bytes on a raw channel:
each gets a precise status (never INTERNAL or UNKNOWN for the caller's mistake)
and a message that says what to fix, and the server answers a normal call after it.

The requests are built byte by byte (tag, varint, length-delimited) because the
generated classes refuse to build most of them."""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import dataclass, field

import grpc
import pytest
from grpc_health.v1 import health_pb2
from rerank.v1 import rerank_pb2

from tests.reliability.support import QUERY, check_response, record, serving

RERANK = "/rerank.v1.Reranker/Rerank"
MODEL_INFO = "/rerank.v1.Reranker/GetModelInfo"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
MAX_MESSAGE_BYTES = 64 * 1024
KEY = "reliability-key"
OK, INVALID, UNAUTHENTICATED = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED
# The status a wrongly encoded message gets, and the words that say how to fix it.
MALFORMED = (INVALID, "rerank.proto")


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def length_delimited(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


def document(doc_id: bytes, text: bytes) -> bytes:
    return length_delimited(2, length_delimited(1, doc_id) + length_delimited(2, text))


QUERY_FIELD = length_delimited(1, QUERY.encode())
ONE_DOCUMENT = document(b"a", b"a bear")
GOOD = QUERY_FIELD + ONE_DOCUMENT
assert rerank_pb2.RerankRequest.FromString(GOOD).documents[0].id == "a"


@dataclass(frozen=True)
class Case:
    name: str
    payload: bytes
    expected: tuple[grpc.StatusCode, str]
    """The status, and words its message must hold ("" for OK)."""
    method: str = RERANK
    options: dict = field(default_factory=dict)
    keyed: bool = False
    """Sent to the server that wants an API key."""


CASES = [
    # --- wire format ---------------------------------------------------------------------------
    Case("truncated message", GOOD[:-3], MALFORMED),
    Case("length prefix past the end", QUERY_FIELD + tag(2, 2) + varint(500) + b"abc", MALFORMED),
    Case("invalid UTF-8 in query", length_delimited(1, b"\xff\xfe") + ONE_DOCUMENT, MALFORMED),
    Case("invalid UTF-8 in document text", QUERY_FIELD + document(b"a", b"\xc3\x28"), MALFORMED),
    Case("invalid UTF-8 in document id", QUERY_FIELD + document(b"\x80", b"text"), MALFORMED),
    Case("UTF-8-encoded surrogate in model", GOOD + length_delimited(8, b"\xed\xa0\x80"), MALFORMED),
    Case("varint longer than ten bytes", tag(3, 0) + b"\xff" * 10 + b"\x01" + GOOD, MALFORMED),
    Case("end-group tag with no group", GOOD + tag(1, 4), MALFORMED),
    Case("field number zero", b"\x00\x01" + GOOD, MALFORMED),
    Case("random bytes", bytes.fromhex("ffffffff0fdeadbeef00ff13"), MALFORMED),
    Case("nested document truncated", QUERY_FIELD + length_delimited(2, b"\x0a\x05ab"), MALFORMED),
    Case("unknown groups nested past the depth limit", tag(20, 3) * 200 + tag(20, 4) * 200 + GOOD, MALFORMED),
    Case("unknown fields are ignored", GOOD + tag(99, 0) + varint(7) + length_delimited(100, b"junk"), (OK, "")),
    Case("top_n varint past uint32 is cut to 32 bits", GOOD + tag(3, 0) + varint(2**40 + 1), (OK, "")),
    Case("wrong wire type for query leaves it empty", tag(1, 0) + varint(5) + ONE_DOCUMENT, (INVALID, "query is empty")),
    Case("wrong wire type for documents leaves none", QUERY_FIELD + tag(2, 5) + b"abcd", (INVALID, "documents is empty")),
    Case("empty message", b"", (INVALID, "query is empty")),
    Case("query of control characters", length_delimited(1, b"\t\n\r\x0b\x0c ") + ONE_DOCUMENT, (INVALID, "query is empty")),
    Case("NUL characters are text", length_delimited(1, b"q\x00") + document(b"\x00", b"\x00\x00"), (OK, "")),
    Case("max_length at uint32 max", GOOD + tag(6, 0) + varint(2**32 - 1), (INVALID, "pick a value in that range")),
    Case("model name of 20k characters", GOOD + length_delimited(8, b"m" * 20_000), (grpc.StatusCode.NOT_FOUND, "this server serves tiny-gemma")),
    Case("message over --max-message-bytes", length_delimited(1, b"q" * (MAX_MESSAGE_BYTES + 1)) + ONE_DOCUMENT,
         (grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than max")),
    # --- methods ------------------------------------------------------------------------------------
    Case("unknown method", GOOD, (grpc.StatusCode.UNIMPLEMENTED, "Method not found"), method="/rerank.v1.Reranker/Score"),
    Case("unknown service version", GOOD, (grpc.StatusCode.UNIMPLEMENTED, "Method not found"), method="/rerank.v2.Reranker/Rerank"),
    Case("method name in the wrong case", GOOD, (grpc.StatusCode.UNIMPLEMENTED, "Method not found"), method="/rerank.v1.Reranker/rerank"),
    Case("a RerankRequest sent to GetModelInfo", GOOD, (grpc.StatusCode.NOT_FOUND, "unknown model"), method=MODEL_INFO),
    Case("garbage sent to GetModelInfo", b"\xff\xff\xff", MALFORMED, method=MODEL_INFO),
    Case("health of an unknown service", length_delimited(1, b"no.such.Service"), (grpc.StatusCode.NOT_FOUND, ""), method=HEALTH_CHECK),
    # --- deadlines and metadata ---------------------------------------------------------------
    Case("deadline of zero", GOOD, (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline"), options={"timeout": 0}),
    Case("deadline of one microsecond", GOOD, (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline"), options={"timeout": 1e-6}),
    Case("request id of 5000 characters", GOOD, (OK, ""), options={"metadata": [("x-request-id", "r" * 5000)]}),
    Case("binary metadata", GOOD, (OK, ""), options={"metadata": [("x-request-id-bin", b"\x00\xff\x10")]}),
    Case("gzip-compressed request", GOOD, (OK, ""), options={"compression": grpc.Compression.Gzip}),
    Case("metadata over the server's header limit", GOOD, (grpc.StatusCode.RESOURCE_EXHAUSTED, ""),
         options={"metadata": [("x-padding", "p" * 40_000)]}),
    # --- API keys -------------------------------------------------------------------------------
    Case("no key", GOOD, (UNAUTHENTICATED, "send the header 'authorization: Bearer <key>'"), keyed=True),
    Case("garbage without a key is refused before parsing", b"\xff\xff", (UNAUTHENTICATED, "needs an API key"), keyed=True),
    Case("basic auth instead of a bearer key", GOOD, (UNAUTHENTICATED, "needs an API key"), keyed=True,
         options={"metadata": [("authorization", f"Basic {KEY}")]}),
    Case("bearer with no key", GOOD, (UNAUTHENTICATED, "needs an API key"), keyed=True,
         options={"metadata": [("authorization", "Bearer    ")]}),
    Case("wrong key", GOOD, (UNAUTHENTICATED, "not valid"), keyed=True,
         options={"metadata": [("authorization", "Bearer " + KEY[:-1])]}),
    Case("key in another header", GOOD, (UNAUTHENTICATED, "needs an API key"), keyed=True,
         options={"metadata": [("x-api-key", KEY)]}),
    Case("key prefixed by the right key", GOOD, (UNAUTHENTICATED, "not valid"), keyed=True,
         options={"metadata": [("authorization", f"Bearer {KEY}{KEY}")]}),
    Case("lower-case scheme is accepted", GOOD, (OK, ""), keyed=True, options={"metadata": [("authorization", f"bearer {KEY}")]}),
]


EXPECTED_STATUSES = Counter(case.expected[0] for case in CASES)


@pytest.fixture(scope="module")
def open_server(tiny_model_dir, tiny_scorer):
    with serving(tiny_model_dir, tiny_scorer, max_message_bytes=MAX_MESSAGE_BYTES, max_documents=50) as served:
        yield served


@pytest.fixture(scope="module")
def keyed_server(tiny_model_dir, tiny_scorer):
    with serving(tiny_model_dir, tiny_scorer, max_message_bytes=MAX_MESSAGE_BYTES, api_keys=(KEY,)) as served:
        yield served


def call(address: str, method: str, payload: bytes, **options) -> tuple[grpc.StatusCode, str, bytes | None, dict]:
    """A unary call with raw bytes in and out: (status, details, response bytes, trailing metadata)."""
    options.setdefault("timeout", 30)
    with grpc.insecure_channel(address) as channel:
        try:
            response, rpc = channel.unary_unary(method).with_call(payload, **options)
            return OK, "", response, dict(rpc.trailing_metadata() or ())
        except grpc.RpcError as error:
            return error.code(), error.details() or "", None, dict(error.trailing_metadata() or ())


def assert_serves_normally(address: str, metadata=()) -> None:
    status, details, response, _ = call(address, RERANK, GOOD, metadata=metadata)
    assert status == OK, details
    check_response(rerank_pb2.RerankRequest.FromString(GOOD), rerank_pb2.RerankResponse.FromString(response))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_grpc_call_gets_a_precise_status_and_the_server_keeps_serving(case, open_server, keyed_server):
    server = keyed_server if case.keyed else open_server
    status, details, response, trailing = call(server.address, case.method, case.payload, **case.options)
    expected_status, words = case.expected
    assert (status, words in details) == (expected_status, True), f"{status.name}: {details}"
    if status == OK and case.method == RERANK:
        check_response(rerank_pb2.RerankRequest.FromString(case.payload), rerank_pb2.RerankResponse.FromString(response))
        assert len(trailing.get("x-request-id", "")) <= 128  # a garbage id is replaced, never echoed
    assert_serves_normally(server.address, metadata=[("authorization", f"Bearer {KEY}")] if case.keyed else ())
    record("bad_input_grpc", kinds=len(CASES) + 5, **{f"expected_{code.name}": n for code, n in EXPECTED_STATUSES.items()})


def test_a_health_check_with_garbage_bytes_is_invalid_argument(open_server):
    status, details, _, _ = call(open_server.address, HEALTH_CHECK, b"\x0a\xff")
    assert status == INVALID, details
    status, _, response, _ = call(open_server.address, HEALTH_CHECK, b"")
    assert status == OK and health_pb2.HealthCheckResponse.FromString(response).status == health_pb2.HealthCheckResponse.SERVING


def test_a_unary_call_that_sends_no_message_ends_at_its_deadline(open_server):
    """grpc waits for the one request message a unary method takes; a client
    that half-closes without sending it gets its own deadline, not an error."""
    with grpc.insecure_channel(open_server.address) as channel:
        responses = channel.stream_stream(RERANK)(iter(()), timeout=1.0)
        with pytest.raises(grpc.RpcError) as error:
            list(responses)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert_serves_normally(open_server.address)


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x04\x99\x00\x00\x00\x00\x00" + bytes(range(256)) * 4,
        bytes(range(256)) * 16,
    ],
    ids=["HTTP/1.1 request", "HTTP/2 preface then a bogus frame", "random bytes"],
)
def test_garbage_on_the_grpc_port_closes_that_connection_only(raw, open_server):
    host, port = open_server.address.rsplit(":", 1)
    idle = socket.create_connection((host, int(port)), timeout=30)  # a connection that never speaks
    try:
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(raw)
            while sock.recv(65536):  # the server answers (a GOAWAY at most) and closes the connection
                pass
        assert_serves_normally(open_server.address)
    finally:
        idle.close()
