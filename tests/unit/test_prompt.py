from rerank_server.scoring.prompt import PromptSuffix, build_pair_ids, query_token_limit

BOS = 2
SUFFIX = PromptSuffix(separator_ids=(10,), instruction_ids=(20, 21, 22))


def test_a_short_pair_is_bos_query_separator_passage_separator_prompt():
    ids = build_pair_ids(BOS, [100, 101], [200, 201, 202], SUFFIX, max_length=1024)
    assert ids == [BOS, 100, 101, 10, 200, 201, 202, 10, 20, 21, 22]


def test_the_query_keeps_three_quarters_of_max_length():
    assert query_token_limit(1024) == 768
    ids = build_pair_ids(BOS, list(range(100, 120)), [], SUFFIX, max_length=16)
    assert ids[: 1 + 12] == [BOS, *range(100, 112)]


def test_only_the_passage_is_cut_to_fit_max_length():
    query = list(range(100, 112))  # 12 tokens, capped at 12 for max_length 16
    passage = list(range(200, 240))
    ids = build_pair_ids(BOS, query, passage, SUFFIX, max_length=16)
    body = ids[: -len(SUFFIX)]
    assert len(body) == 16
    assert body == [BOS, *query, 10, 200, 201]
    assert ids[-len(SUFFIX) :] == [10, 20, 21, 22]


def test_an_empty_passage_keeps_its_separator():
    assert build_pair_ids(BOS, [100], [], SUFFIX, max_length=8) == [BOS, 100, 10, 10, 20, 21, 22]
