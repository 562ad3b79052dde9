"""Deterministic pseudo-text requests: one query with 20 to 200 documents each,
documents of 20 to 400 words, both log-uniform (so small reranking windows and
short passages are common and large ones present, as in search traffic).

Most words are whole tokens of the tiny test tokenizer and some are split into
several pieces, so a word costs about 1.4 tokens, close to Gemma's tokenizer on
English prose; the JSON reports the real token counts.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

# Whole tokens of rerank_server.testing.tiny_model's tokenizer.
COMMON_WORDS = (
    "China No OpenSearch The Yes an and answer bear body brown by contains determine dog either endemic "
    "giant hits is lazy match of or over panda passage prediction providing query quick rank reranker "
    "species the title to top what whether fox jumps hit do"
).split()
# Words the tiny tokenizer splits into several pieces.
RARE_WORDS = (
    "bamboo mountain southwestern mammal retrieval relevance forest habitat climate river valley "
    "population research history museum village language engineering protein"
).split()
RARE_SHARE = 0.15

MIN_DOCUMENTS, MAX_DOCUMENTS = 20, 200
MIN_WORDS, MAX_WORDS = 20, 400
MIN_QUERY_WORDS, MAX_QUERY_WORDS = 3, 12


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(RARE_WORDS if rng.random() < RARE_SHARE else COMMON_WORDS) for _ in range(count))


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def make_requests(total_pairs: int, seed: int = 0) -> list[dict]:
    """Requests {"query", "documents"} holding exactly total_pairs documents
    (the last request may hold fewer than 20)."""
    rng = random.Random(seed)
    requests = []
    remaining = total_pairs
    while remaining > 0:
        count = min(remaining, _log_uniform(rng, MIN_DOCUMENTS, MAX_DOCUMENTS))
        query = _words(rng, rng.randint(MIN_QUERY_WORDS, MAX_QUERY_WORDS)).capitalize() + "?"
        documents = [_words(rng, _log_uniform(rng, MIN_WORDS, MAX_WORDS)) + "." for _ in range(count)]
        requests.append({"query": query, "documents": documents})
        remaining -= count
    return requests


def pairs_of(requests: list[dict]) -> list[tuple[str, str]]:
    """The flat (query, document) list every in-process system scores, in request order."""
    return [(request["query"], document) for request in requests for document in request["documents"]]


def save(requests: list[dict], path: Path) -> None:
    path.write_text(json.dumps(requests))


def load(path: str | Path) -> list[dict]:
    return json.loads(Path(path).read_text())
