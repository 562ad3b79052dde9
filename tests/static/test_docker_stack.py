"""Static checks of docker/: compose files, Dockerfiles, the OpenSearch and Elasticsearch JSON,
the loader scripts and the health probe. No Docker engine needed: the compose files are checked
against the compose-spec JSON schema (vendored by check-jsonschema), Dockerfiles with hadolint
and dockerfile-parse, shell scripts with shellcheck, and the scripts run against fakes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from concurrent import futures
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import grpc
import jsonschema
import pytest
import yaml
from dockerfile_parse import DockerfileParser
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
BIN = Path(sys.executable).parent
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
SCRIPTS = sorted(DOCKER.rglob("*.sh"))
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


# ---------------------------------------------------------------- compose


class ComposeLoader(yaml.SafeLoader):
    """PyYAML plus compose's merge tags: `!reset` drops a value, `!override` replaces it."""


class Reset:
    pass


ComposeLoader.add_constructor("!reset", lambda loader, node: Reset())
ComposeLoader.add_constructor(
    "!override",
    lambda loader, node: loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.MappingNode)
    else loader.construct_sequence(node, deep=True),
)


def load_compose(name: str) -> dict:
    return yaml.load((DOCKER / name).read_text(), Loader=ComposeLoader)  # noqa: S506 (safe loader subclass)


def without_tags(value):
    """The file as the schema sees it once compose has applied its tags."""
    if isinstance(value, dict):
        return {k: without_tags(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [without_tags(v) for v in value]
    return value


def merge(base, override):
    """Compose's merge of an override file, for mappings (all these files override)."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return override
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Reset):
            merged.pop(key, None)
        else:
            merged[key] = merge(base.get(key), value)
    return merged


@pytest.fixture(scope="module")
def compose():
    return load_compose("compose.yaml")


@pytest.fixture(scope="module")
def compose_cpu(compose):
    return merge(compose, load_compose("compose.cpu.yaml"))


def compose_schema() -> dict:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(vendored.read_text(encoding="utf-8"))


def test_compose_file_passes_check_jsonschema():
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", DOCKER / "compose.yaml"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["compose.yaml", "compose.cpu.yaml"])
def test_compose_files_match_the_compose_spec(name):
    jsonschema.validate(without_tags(load_compose(name)), compose_schema())


def test_stack_has_the_four_services(compose):
    assert set(compose["services"]) == {"opensearch", "reranker", "gateway", "loader"}


@pytest.mark.parametrize("service", ["opensearch", "reranker", "gateway"])
def test_long_running_services_have_a_healthcheck(compose, service):
    check = compose["services"][service]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert check.get("start_period"), "a slow start must not count as failures"


def test_every_service_healthy_condition_has_a_healthcheck(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits on {dependency}'s health"


def test_start_order(compose):
    services = compose["services"]
    conditions = {
        name: {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for name, service in services.items()
    }
    assert conditions["loader"] == {"opensearch": "service_healthy", "reranker": "service_healthy"}
    assert conditions["gateway"]["loader"] == "service_completed_successfully"
    assert services["loader"].get("restart") == "no"


def test_only_the_gateway_is_published_and_on_loopback_only(compose, compose_cpu):
    for config in (compose, compose_cpu):
        published = {
            name: service.get("ports", []) for name, service in config["services"].items() if service.get("ports")
        }
        assert published == {"gateway": ["127.0.0.1:8000:8000"]}, "OpenSearch and the reranker stay inside the stack"


def test_the_gateway_wants_an_api_key_and_forwards_searches_only(compose):
    env = compose["services"]["gateway"]["environment"]
    # ${VAR:?message}: compose refuses to start without the key instead of serving without one.
    assert re.fullmatch(r"\$\{RERANK_GATEWAY_API_KEY:\?[^}]+\}", env["RERANK_GATEWAY_API_KEY"])
    assert env["RERANK_GATEWAY_PASSTHROUGH"] == "search"
    assert "RERANK_GATEWAY_FORWARD_AUTHORIZATION" not in env
    assert env["RERANK_GATEWAY_RERANKER_API_KEY"] == compose["services"]["reranker"]["environment"]["RERANK_API_KEY"]


def test_reranker_keeps_the_model_cache_in_a_named_volume(compose):
    reranker = compose["services"]["reranker"]
    assert "models:/models" in reranker["volumes"]
    assert reranker["environment"]["HF_HOME"] == "/models"
    assert reranker["environment"]["HF_TOKEN"] == "${HF_TOKEN:-}"
    assert set(compose["volumes"]) == {"models", "opensearch-data"}


def test_opensearch_is_a_single_node_demo(compose):
    opensearch = compose["services"]["opensearch"]
    env = opensearch["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["DISABLE_SECURITY_PLUGIN"] == "true"
    assert "-Xmx" in env["OPENSEARCH_JAVA_OPTS"]
    assert opensearch["ulimits"]["memlock"] == {"soft": -1, "hard": -1}
    assert re.fullmatch(r"opensearchproject/opensearch:2\.19\.\d+", opensearch["image"])


def gpu_devices(config) -> list:
    return config["services"]["reranker"].get("deploy", {}).get("resources", {}).get("reservations", {}).get(
        "devices", []
    )


def test_gpu_is_reserved_in_the_base_file(compose):
    assert gpu_devices(compose) == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert compose["services"]["reranker"]["build"]["args"]["VARIANT"] == "cuda"


def test_cpu_override_drops_the_gpu_and_builds_the_cpu_variant(compose_cpu):
    reranker = compose_cpu["services"]["reranker"]
    assert gpu_devices(compose_cpu) == []
    assert reranker["build"]["args"]["VARIANT"] == "cpu"
    assert reranker["build"]["dockerfile"] == "docker/server.Dockerfile"  # kept from the base
    assert reranker["environment"]["RERANK_DEVICE"] == "cpu"
    assert reranker["image"].endswith("-cpu")


def test_compose_images_are_pinned(compose, compose_cpu):
    for config in (compose, compose_cpu):
        for name, service in config["services"].items():
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"


def test_compose_builds_name_existing_dockerfiles_and_targets(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            dockerfile = (DOCKER / build["context"] / build["dockerfile"]).resolve()
            assert dockerfile.is_file(), f"{name}: {dockerfile}"
            if "target" in build:
                assert build["target"] in stage_names(dockerfile)


# ---------------------------------------------------------------- Dockerfiles


def parse(dockerfile: Path) -> DockerfileParser:
    parser = DockerfileParser(fileobj=dockerfile.open("rb"))
    return parser


def stage_names(dockerfile: Path) -> list[str]:
    return [
        match.group(1)
        for match in (
            re.search(r"\bAS\s+(\S+)", item["value"], re.IGNORECASE)
            for item in parse(dockerfile).structure
            if item["instruction"] == "FROM"
        )
        if match
    ]


def final_stage(dockerfile: Path) -> list[dict]:
    structure = parse(dockerfile).structure
    last_from = max(i for i, item in enumerate(structure) if item["instruction"] == "FROM")
    return structure[last_from:]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(dockerfile):
    result = subprocess.run(
        [BIN / "hadolint", "--no-color", "--config", DOCKER / ".hadolint.yaml", dockerfile],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_runs_as_a_numeric_non_root_user(dockerfile):
    users = [item["value"] for item in final_stage(dockerfile) if item["instruction"] == "USER"]
    assert users, "the final stage sets no USER, so it runs as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users[-1]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_base_images_are_pinned(dockerfile):
    parser = parse(dockerfile)
    defaults = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", parser.content, re.MULTILINE))
    stages = set(stage_names(dockerfile))
    for item in parser.structure:
        if item["instruction"] != "FROM":
            continue
        image = item["value"].split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)
        if image in stages:
            continue
        assert re.search(r":[\w.-]*\d[\w.-]*$", image) and not image.endswith(":latest"), image


@pytest.mark.parametrize("name", ["server.Dockerfile", "gateway.Dockerfile"])
def test_service_images_have_a_healthcheck(name):
    checks = [item["value"] for item in final_stage(DOCKER / name) if item["instruction"] == "HEALTHCHECK"]
    assert len(checks) == 1 and "rerank-healthcheck" in checks[0]


def test_server_image_shape():
    dockerfile = DOCKER / "server.Dockerfile"
    stage = final_stage(dockerfile)
    exposed = " ".join(item["value"] for item in stage if item["instruction"] == "EXPOSE").split()
    assert exposed == ["50051", "8080"]
    env = " ".join(item["value"] for item in stage if item["instruction"] == "ENV")
    for setting in ("HF_HOME=/models", "RERANK_HOST=0.0.0.0", "RERANK_HTTP_PORT=8080"):
        assert setting in env
    assert {"base-cuda", "base-cpu", "build", "server"} <= set(stage_names(dockerfile))
    assert "grpc" in next(item["value"] for item in stage if item["instruction"] == "HEALTHCHECK")


def test_dockerignore_admits_every_copied_path():
    allowed = [
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    assert ".venv" not in allowed and ".git" not in allowed
    for dockerfile in DOCKERFILES:
        for item in parse(dockerfile).structure:
            if item["instruction"] == "COPY" and "--from=" not in item["value"]:
                sources = [word for word in item["value"].split()[:-1] if not word.startswith("--")]
                for source in sources:
                    assert any(source == a or source.startswith(a + "/") for a in allowed), (dockerfile, source)
                    assert (ROOT / source).exists(), (dockerfile, source)


# ---------------------------------------------------------------- locks


def lock_pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (DOCKER / name).read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name.lower()] = spec.version
    return pins


def project_requirements(pyproject: Path, extra: str | None = None) -> list[Requirement]:
    import tomllib

    project = tomllib.loads(pyproject.read_text())["project"]
    listed = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize(
    "lock, pyprojects",
    [
        ("server.lock", [("server/pyproject.toml", None), ("protos/python/pyproject.toml", None)]),
        ("gateway.lock", [("plugin_client/pyproject.toml", "gateway"), ("protos/python/pyproject.toml", None)]),
    ],
)
def test_locks_satisfy_the_projects_ranges(lock, pyprojects):
    """Fails when a pyproject.toml range moved past the lock: run docker/lock.sh."""
    pins = lock_pins(lock)
    for pyproject, extra in pyprojects:
        for requirement in project_requirements(ROOT / pyproject, extra):
            if requirement.name.startswith("rerank-"):
                continue  # the project's own packages come from the build context
            assert requirement.name.lower() in pins, f"{lock} lacks {requirement.name}: run docker/lock.sh"
            assert requirement.specifier.contains(pins[requirement.name.lower()], prereleases=True), (
                f"{lock} pins {requirement.name}=={pins[requirement.name.lower()]} outside {requirement}: "
                "run docker/lock.sh"
            )


# ---------------------------------------------------------------- OpenSearch / Elasticsearch JSON


def json_files():
    return sorted((DOCKER / "opensearch").glob("*.json")) + sorted((DOCKER / "elasticsearch").glob("*.json"))


@pytest.mark.parametrize("path", json_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_json_parses(path):
    json.loads(path.read_text())


def opensearch_json(name: str) -> dict:
    return json.loads((DOCKER / "opensearch" / name).read_text())


def test_cluster_settings_let_ml_commons_reach_the_reranker():
    settings = opensearch_json("cluster-settings.json")["persistent"]
    assert settings["plugins.ml_commons.only_run_on_ml_node"] is False
    assert settings["plugins.ml_commons.connector.private_ip_enabled"] is True
    assert settings["plugins.ml_commons.trusted_connector_endpoints_regex"] == ["{{RERANKER_URL_REGEX}}"]


def test_connector_uses_the_cohere_rerank_functions_on_v1_rerank():
    connector = opensearch_json("connector.json")
    assert connector["protocol"] == "http" and connector["credential"]
    (action,) = connector["actions"]
    assert action["action_type"] == "predict" and action["method"] == "POST"
    assert action["url"] == "{{RERANKER_URL}}/v1/rerank"
    assert action["pre_process_function"] == "connector.pre_process.cohere.rerank"
    assert action["post_process_function"] == "connector.post_process.cohere.rerank"
    # The parameters the pre-process function fills must reach the body.
    for parameter in ("${parameters.query}", "${parameters.documents}", "${parameters.top_n}"):
        assert parameter in action["request_body"]


def test_model_is_a_remote_model_of_the_connector():
    model = opensearch_json("model.json")
    assert model["function_name"] == "remote"
    assert model["connector_id"] == "{{CONNECTOR_ID}}" and model["model_group_id"] == "{{MODEL_GROUP_ID}}"


def test_pipeline_is_an_ml_opensearch_rerank_response_processor():
    (processor,) = opensearch_json("pipeline.json")["response_processors"]
    assert processor["rerank"]["ml_opensearch"]["model_id"] == "{{MODEL_ID}}"
    assert processor["rerank"]["context"]["document_fields"]


def test_index_mapping_covers_the_sample_corpus():
    properties = opensearch_json("index.json")["mappings"]["properties"]
    lines = (DOCKER / "sample" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 20
    for line in lines:
        assert set(json.loads(line)) <= set(properties)


def test_every_placeholder_is_filled_by_the_scripts():
    """A {{NAME}} in a JSON file that no script passes to render would stop the loader."""
    scripts = "".join(path.read_text() for path in SCRIPTS)
    for path in json_files():
        for name in PLACEHOLDER.findall(path.read_text()):
            assert f"{name}=" in scripts, f"{path.name}: nothing fills {{{{{name}}}}}"


def test_elasticsearch_endpoint_parses_the_cohere_shaped_answer():
    endpoint = json.loads((DOCKER / "elasticsearch" / "rerank-endpoint.json").read_text())
    assert endpoint["service"] == "custom"
    settings = endpoint["service_settings"]
    assert settings["url"].endswith("/v1/rerank")
    assert "${query}" in settings["request"] and "${input}" in settings["request"]
    parser = settings["response"]["json_parser"]
    assert parser == {"relevance_score": "$.results[*].relevance_score", "reranked_index": "$.results[*].index"}
    search = json.loads((DOCKER / "elasticsearch" / "search.json").read_text())
    reranker = search["retriever"]["text_similarity_reranker"]
    assert reranker["inference_id"] and reranker["field"] and reranker["inference_text"]


# ---------------------------------------------------------------- scripts


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(DOCKER)))
def test_script_passes_shellcheck(script):
    result = subprocess.run(
        [BIN / "shellcheck", "--external-sources", script.relative_to(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def render(path: Path, *pairs: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", 'source docker/opensearch/lib.sh && render "$@"', "render", path, *pairs],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_render_escapes_values_for_json(tmp_path):
    template = tmp_path / "t.json"
    template.write_text('{"a": "{{NAME}}", "b": "${parameters.kept}"}')
    result = render(template, 'NAME=say "hi"\\')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"a": 'say "hi"\\', "b": "${parameters.kept}"}


def test_render_refuses_an_unfilled_placeholder(tmp_path):
    template = tmp_path / "t.json"
    template.write_text('{"a": "{{NAME}}", "b": "{{OTHER}}"}')
    result = render(template, "NAME=x")
    assert result.returncode != 0 and "OTHER" in result.stderr


class FakeOpenSearch(BaseHTTPRequestHandler):
    """Just enough of OpenSearch + ML Commons for apply.sh; records each call."""

    calls: list[tuple[str, str, object]] = []
    answers = {
        ("POST", "/_plugins/_ml/model_groups/_register"): {"model_group_id": "group-1"},
        ("POST", "/_plugins/_ml/connectors/_create"): {"connector_id": "connector-1"},
        ("POST", "/_plugins/_ml/models/_register"): {"task_id": "task-1", "model_id": "model-1"},
        ("GET", "/_plugins/_ml/models/model-1"): {"model_state": "DEPLOYED"},
        ("POST", "/_plugins/_ml/_predict/text_similarity/model-1"): {
            "inference_results": [{"output": [{"data": [0.01]}, {"data": [0.98]}]}]
        },
    }

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        path = self.path.split("?")[0]
        self.calls.append((self.command, path, body))
        if path.endswith("/_search"):  # nothing registered yet
            answer = {"hits": {"hits": []}}
        else:
            answer = self.answers.get((self.command, path), {"acknowledged": True})
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = handle_any

    def log_message(self, *args):
        pass


@contextmanager
def serving(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="apply.sh needs curl")
def test_apply_registers_in_order_and_fills_the_ids():
    FakeOpenSearch.calls = []
    with serving(FakeOpenSearch) as url:
        result = subprocess.run(
            [DOCKER / "opensearch" / "apply.sh"],
            env={"PATH": "/usr/bin:/bin", "OPENSEARCH_URL": url, "RERANKER_URL": "http://reranker.local:8080/"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "model-1"
    writes = [(method, path) for method, path, _ in FakeOpenSearch.calls if not path.endswith("/_search")]
    assert writes == [
        ("GET", "/_cluster/health"),
        ("PUT", "/_cluster/settings"),
        ("POST", "/_plugins/_ml/model_groups/_register"),
        ("POST", "/_plugins/_ml/connectors/_create"),
        ("POST", "/_plugins/_ml/models/_register"),
        ("POST", "/_plugins/_ml/models/model-1/_deploy"),
        ("GET", "/_plugins/_ml/models/model-1"),
        ("POST", "/_plugins/_ml/_predict/text_similarity/model-1"),
        ("PUT", "/_search/pipeline/rerank-pipeline"),
    ]
    bodies = {(method, path): body for method, path, body in FakeOpenSearch.calls}
    (regex,) = bodies["PUT", "/_cluster/settings"]["persistent"]["plugins.ml_commons.trusted_connector_endpoints_regex"]
    assert re.fullmatch(regex, "http://reranker.local:8080/v1/rerank")
    assert not re.fullmatch(regex, "http://reranker-local:8080/v1/rerank")
    connector = bodies["POST", "/_plugins/_ml/connectors/_create"]
    assert connector["actions"][0]["url"] == "http://reranker.local:8080/v1/rerank"
    assert bodies["POST", "/_plugins/_ml/models/_register"]["connector_id"] == "connector-1"
    assert bodies["POST", "/_plugins/_ml/models/_register"]["model_group_id"] == "group-1"
    pipeline = bodies["PUT", "/_search/pipeline/rerank-pipeline"]
    assert pipeline["response_processors"][0]["rerank"]["ml_opensearch"]["model_id"] == "model-1"


# ---------------------------------------------------------------- health probe


def probe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, DOCKER / "healthcheck.py", "--timeout", "5", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def health_server():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(grace=None)


def test_grpc_probe_follows_the_serving_status(health_server):
    servicer, address = health_server
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    result = probe("grpc", address)
    assert result.returncode == 1 and "NOT_SERVING" in result.stderr
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert probe("grpc", address).returncode == 0


def test_grpc_probe_fails_when_nothing_listens():
    result = probe("--timeout", "1", "grpc", "127.0.0.1:1")
    assert result.returncode == 1 and "UNAVAILABLE" in result.stderr


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/_rerank/health" else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_http_probe_is_healthy_on_2xx_only():
    with serving(Health) as url:
        assert probe("http", url + "/_rerank/health").returncode == 0
        result = probe("http", url + "/health")
        assert result.returncode == 1 and "503" in result.stderr
