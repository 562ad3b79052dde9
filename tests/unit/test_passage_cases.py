"""The shared passage fixture: rerank_client.merge.passage_text still gives each case's passage.

tests/data/passage_cases.json is read by this test and by the Java plugin core's
PassageTextParityTest, so the two libraries build the same passage from the same _source; a change
on either side fails one of them. Cases hold JSON values only (strings, ints, booleans, null,
objects, lists), no floats: Python and Java print floats differently (1e+20 / 1.0E20).

After a deliberate change of the rule, rewrite the expected passages with
`python tests/unit/test_passage_cases.py --rewrite` and let the Java test check the Java side.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from rerank_client.merge import RerankOptions, passage_text

CASES_PATH = Path(__file__).resolve().parents[1] / "data" / "passage_cases.json"
CASES = json.loads(CASES_PATH.read_text(encoding="utf-8"))


def python_passage(case: dict) -> str:
    options = RerankOptions(document_fields=tuple(case["fields"]), max_passage_chars=case["max_chars"])
    return passage_text(case["source"], options)


@pytest.mark.parametrize("case", CASES, ids=[f"{i}:{','.join(case['fields'])}" for i, case in enumerate(CASES)])
def test_python_passage_matches_the_shared_fixture(case):
    assert python_passage(case) == case["passage"]


def test_fixture_holds_no_floats():
    def floats(value):
        if isinstance(value, float):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from floats(item)
        elif isinstance(value, list):
            for item in value:
                yield from floats(item)

    assert [value for case in CASES for value in floats(case["source"])] == []


if __name__ == "__main__" and sys.argv[1:] == ["--rewrite"]:
    for case in CASES:
        case["passage"] = python_passage(case)
    CASES_PATH.write_text(json.dumps(CASES, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
