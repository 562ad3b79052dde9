import pytest
from rerank_server.cli import parse_settings


def test_defaults_are_the_documented_ones():
    settings = parse_settings([], environ={})
    assert settings.model == "BAAI/bge-reranker-v2-gemma"
    assert (settings.host, settings.port) == ("127.0.0.1", 50051)
    assert (settings.max_length, settings.max_documents) == (1024, 1000)
    assert (settings.device, settings.dtype, settings.cache_size) == ("auto", "auto", 0)


def test_environment_variables_set_defaults_and_flags_win():
    environ = {"RERANK_PORT": "6000", "RERANK_MODEL": "/models/x", "RERANK_BATCH_SIZE": "4"}
    settings = parse_settings(["--port", "7000"], environ=environ)
    assert settings.port == 7000
    assert settings.model == "/models/x"
    assert settings.batch_size == 4


def test_an_invalid_value_names_the_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_settings(["--max-documents", "0"], environ={})
    assert exit_info.value.code == 2
    assert "--max-documents" in capsys.readouterr().err


def test_the_queue_must_hold_a_full_request(capsys):
    with pytest.raises(SystemExit):
        parse_settings(["--max-documents", "500", "--max-queued-pairs", "100"], environ={})
    assert "max_queued_pairs (100) must be at least max_documents (500)" in capsys.readouterr().err
