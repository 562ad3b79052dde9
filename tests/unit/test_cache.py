from rerank_server.cache import ScoreCache, cache_key


def test_the_least_recently_used_entry_goes_first():
    cache = ScoreCache(2)
    cache.put(b"a", 1.0)
    cache.put(b"b", 2.0)
    assert cache.get(b"a") == 1.0  # a is now newer than b
    cache.put(b"c", 3.0)
    assert cache.get(b"b") is None
    assert cache.get(b"a") == 1.0
    assert cache.get(b"c") == 3.0
    assert (cache.hits, cache.misses, len(cache)) == (3, 1, 2)


def test_keys_tell_every_field_apart():
    base = ("m", "p", 1024, "query", "doc")
    variants = [
        ("m2", "p", 1024, "query", "doc"),
        ("m", "p2", 1024, "query", "doc"),
        ("m", "p", 512, "query", "doc"),
        ("m", "p", 1024, "query2", "doc"),
        ("m", "p", 1024, "query", "doc2"),
        ("m", "p", 1024, "querydoc", ""),  # no ambiguity from concatenation
    ]
    keys = {cache_key(*base)} | {cache_key(*variant) for variant in variants}
    assert len(keys) == 1 + len(variants)
    assert cache_key(*base) == cache_key(*base)
