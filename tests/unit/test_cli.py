import json

import pytest
from rerank_server.cli import parse_settings
from rerank_server.config import ModelSpec


def test_defaults_are_the_documented_ones():
    settings = parse_settings([], environ={})
    assert settings.models == (ModelSpec(source="BAAI/bge-reranker-v2-gemma"),)
    assert (settings.host, settings.port) == ("127.0.0.1", 50051)
    assert (settings.max_length, settings.max_documents) == (None, 1000)
    assert (settings.device, settings.dtype, settings.cache_size) == ("auto", "auto", 0)


def test_environment_variables_set_defaults_and_flags_win():
    environ = {"RERANK_PORT": "6000", "RERANK_MODEL": "/models/x", "RERANK_BATCH_SIZE": "4"}
    settings = parse_settings(["--port", "7000"], environ=environ)
    assert settings.port == 7000
    assert settings.models == (ModelSpec(source="/models/x"),)
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


def test_several_models_with_names_kinds_and_a_models_file(tmp_path):
    models_file = tmp_path / "models.json"
    models_file.write_text(json.dumps([{"name": "m3", "source": "BAAI/bge-reranker-v2-m3", "max_length": 256}]))
    settings = parse_settings(
        ["--model", "gemma=/models/gemma", "--model", "/models/other", "--models-file", str(models_file),
         "--model-kind", "m3=cross-encoder"],
        environ={},
    )
    assert settings.models == (
        ModelSpec(name="gemma", source="/models/gemma"),
        ModelSpec(source="/models/other"),
        ModelSpec(name="m3", source="BAAI/bge-reranker-v2-m3", kind="cross-encoder", max_length=256),
    )


def test_models_from_the_environment_are_comma_separated():
    settings = parse_settings([], environ={"RERANK_MODEL": "a=/m/a,b=/m/b", "RERANK_MODEL_KIND": "b=cross-encoder"})
    assert [(s.served_name, s.kind) for s in settings.models] == [("a", None), ("b", "cross-encoder")]


def test_served_model_name_names_the_first_model():
    settings = parse_settings(["--model", "/m/a", "--served-model-name", "gemma"], environ={})
    assert settings.models[0].served_name == "gemma"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "x=/a", "--model", "x=/b"], "model names must be distinct; repeated: x"),
        (["--model", "/a", "--model-kind", "nope=cross-encoder"], "--model-kind names no served model: nope"),
        (["--models-file", "/does/not/exist.json"], "No such file"),
    ],
)
def test_model_mistakes_are_explained(capsys, argv, message):
    with pytest.raises(SystemExit):
        parse_settings(argv, environ={})
    assert message in capsys.readouterr().err
