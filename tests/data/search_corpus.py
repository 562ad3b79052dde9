"""The sample corpus (search_corpus.jsonl: short articles with title, body and
tags) and its loader, shared by the OpenSearch tests and scripts/demo.sh.

    python tests/data/search_corpus.py http://127.0.0.1:9200 articles
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CORPUS = Path(__file__).with_name("search_corpus.jsonl")
MAPPINGS = {
    "properties": {
        "title": {"type": "text"},
        "body": {"type": "text"},
        "tags": {"type": "keyword"},
    }
}


def documents() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_corpus(client, index: str, shards: int = 1, extra: list[dict] | None = None) -> int:
    """(Re)creates index with `shards` shards and no replica (so a single node is green),
    bulk-loads the corpus (and `extra` documents, each with an "id") and refreshes it;
    returns the number of documents."""
    client.indices.delete(index=index, ignore_unavailable=True)
    client.indices.create(
        index=index,
        body={"settings": {"number_of_shards": shards, "number_of_replicas": 0}, "mappings": MAPPINGS},
    )
    lines = []
    for document in documents() + (extra or []):
        source = {key: value for key, value in document.items() if key != "id"}
        lines += [json.dumps({"index": {"_index": index, "_id": document["id"]}}), json.dumps(source)]
    result = client.bulk(body="\n".join(lines) + "\n", refresh="true")
    if result["errors"]:
        raise RuntimeError(f"bulk load into {index} failed: {result['items']}")
    return len(lines) // 2


if __name__ == "__main__":
    from opensearchpy import OpenSearch

    url, index = sys.argv[1], sys.argv[2]
    print(f"loaded {load_corpus(OpenSearch(url), index)} documents into {index}")
