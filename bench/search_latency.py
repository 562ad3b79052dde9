"""Search latency, p50/p95/p99 and mean, of four ways to search the same index on the
same OpenSearch node with the same queries and the same reranker (issue 12):

  bm25        a match query on body, size 10
  rescorer    the same query and our plugin's `grpc_rerank` rescorer, window_size 20
              (a rescore window is per shard: 20 hits on each of the index's 2 shards)
  pipeline    the same query through a search pipeline with our plugin's request step
              {"grpc_rerank": {"window_size": 20}} and response step
              {"grpc_rerank": {"document_fields": ["title", "body"]}}; the query text in
              "ext": {"grpc_rerank": {"query_text": ...}}
  ml_commons  ML Commons' HTTP connector (docker/opensearch/connector.json, registered by
              docker/opensearch/apply.sh) to the server's Cohere-shaped /v1/rerank. The
              `rerank` search response processor that would call it belongs to
              neural-search, which is not on Maven Central, so this system is what that
              processor does, done by the client: the BM25 search for the 20-hit window,
              then one `_predict/text_similarity/<model_id>` call with the window's
              passages (title + "\\n" + body, the passages our plugin builds), then the
              sort and the cut to 10. Its `took` is the search's alone.

Every reranking system reranks with the same server (`python -m rerank_server`, a tiny
random Gemma from rerank_server.testing.tiny_model, CPU, score cache off): our plugin
over gRPC, ML Commons over HTTP. One OpenSearch 2.19.1 node runs job-scheduler, ML
Commons (whose only Maven Central release is 2.19.1) and our plugin, built for 2.19.1
by scripts/build_opensearch_plugin.sh in a private copy of plugin_client/ (so the
tree's own target/ is left alone). If our plugin cannot be built for 2.19.1 or that
node refuses it, the run falls back to two nodes, 2.19.6 with ours and 2.19.1 with ML
Commons, and says so in the JSON's "layout".

Procedure: the corpus of tests/data/search_corpus.jsonl in an index of 2 shards, a
fixed list of QUERIES; every system is warmed with --warmup searches, then each runs
--searches sequential searches cycling over the queries. The systems are interleaved:
search i runs query i on all four systems back to back, in an order that rotates with
i, so a change of load on the machine touches every system alike. Each search is timed
on the client (wall time of the HTTP round trip(s) and the JSON decoding, over one
keep-alive connection to 127.0.0.1); OpenSearch's own `took` is recorded too. An answer
counts as failed unless it is 200 with no failed shard and, for the reranking systems,
reranked: no `Warning` header from the rescorer (it fails open with one), the
pipeline's `ext.grpc_rerank.status == "reranked"`, and one ML Commons score per hit.
Failed searches are counted and left out of the percentiles.

The one helper taken from tests/ besides the corpus loader is
tests/integration/opensearch/ml_commons.py's connect_ml_commons (apply.sh, SKIP_PIPELINE=1).

Writes OUT/search-latency.json and OUT/search-latency.png and prints a markdown table.
Needs Java 17 and Maven (scripts/install_system.sh) and matplotlib (bench/setup.sh).

    .venv/bin/python -m bench.search_latency                   # ~4 minutes on 2 cores
    .venv/bin/python -m bench.search_latency --searches 20     # a smoke run
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.data.search_corpus import load_corpus
from tests.integration.opensearch.ml_commons import ML_COMMONS_PLUGINS, ML_COMMONS_VERSION, connect_ml_commons

from .run import percentile

ROOT = Path(__file__).resolve().parent.parent
OPENSEARCH_SCRIPT = ROOT / "scripts" / "opensearch.sh"
BUILD_SCRIPT = ROOT / "scripts" / "build_opensearch_plugin.sh"
FALLBACK_VERSION = "2.19.6"  # our plugin's default OpenSearch, for the two-node fallback

SYSTEMS = ("bm25", "rescorer", "pipeline", "ml_commons")
LABELS = {
    "bm25": "BM25 alone",
    "rescorer": "BM25 + our rescorer (gRPC)",
    "pipeline": "BM25 + our search pipeline (gRPC)",
    "ml_commons": "BM25 + ML Commons connector (HTTP)",
}
SHORT_LABELS = {"bm25": "BM25", "rescorer": "+ our rescorer\n(gRPC)", "pipeline": "+ our pipeline\n(gRPC)",
                "ml_commons": "+ ML Commons\n(HTTP)"}
INDEX = "bench-articles"
SHARDS = 2
PIPELINE = "bench-grpc-rerank"
WINDOW = 20
SIZE = 10
FIELDS = ["title", "body"]
MODEL_NAME = "tiny-gemma"
QUERIES = [
    "giant panda bamboo diet",
    "bears hibernate in winter",
    "python list and dict",
    "how does BM25 ranking work",
    "rerank search results with a cross-encoder",
    "fermented food such as kimchi and sourdough",
    "brewing green tea and coffee",
    "Moon landing and Mars rovers",
    "goroutines, threads and the event loop",
    "pandas in zoos and conservation",
]


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[search_latency {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=100, help="measured searches per system (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured searches per system first (default 10)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for the JSON and PNG")
    parser.add_argument("--plugin-zip", type=Path, help="our plugin built for 2.19.1 already (skips the build)")
    parser.add_argument("--heap", default="1g", help="OpenSearch heap (ML Commons wants room; default 1g)")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- setup: the plugin, the node(s), the reranker ------------------------------------------------


def build_plugin(version: str, work: Path) -> Path:
    """scripts/build_opensearch_plugin.sh VERSION (unit tests skipped) in a copy of
    plugin_client/ and protos/ under work, so the tree's own target/ stays as it is;
    returns the zip, copied to work."""
    copy = work / f"plugin-src-{version}"
    copy.mkdir()
    for name in ("protos", "plugin_client"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("target", "go", "rerank_client", "*.egg-info"))
    (copy / "scripts").mkdir()
    shutil.copy2(BUILD_SCRIPT, copy / "scripts" / BUILD_SCRIPT.name)
    log(f"building our plugin for OpenSearch {version} (MAVEN_ARGS=-DskipTests)")
    env = {**os.environ, "MAVEN_ARGS": "-DskipTests"}
    try:
        built = subprocess.run(["bash", str(copy / "scripts" / BUILD_SCRIPT.name), version], env=env,
                               capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise BenchError(f"building the plugin for {version} took over 600 s") from None
    if built.returncode != 0:
        raise BenchError(f"building the plugin for {version} failed ({built.returncode}):\n{built.stderr[-3000:]}")
    zip_path = work / Path(built.stdout.strip().splitlines()[-1]).name
    shutil.copy2(built.stdout.strip().splitlines()[-1], zip_path)
    shutil.rmtree(copy, ignore_errors=True)
    return zip_path


class Node:
    """One scripts/opensearch.sh node in its own run dir under /tmp."""

    def __init__(self, version: str, plugins: list[str], heap: str):
        # Under /tmp: as root the node runs as the "opensearch" user, which must reach its run dir.
        self.run_dir = tempfile.mkdtemp(prefix="bench-os-")
        self.version = version
        self.plugins = plugins
        self.env = {**os.environ, "OPENSEARCH_VERSION": version, "OPENSEARCH_HEAP": heap,
                    "OPENSEARCH_RUN_DIR": self.run_dir, "OPENSEARCH_PLUGINS": " ".join(plugins),
                    "OPENSEARCH_START_TIMEOUT": "300"}
        self.url = ""

    def start(self) -> str:
        log(f"starting OpenSearch {self.version} with {', '.join(Path(p).name for p in self.plugins)}")
        try:
            started = subprocess.run([str(OPENSEARCH_SCRIPT), "start"], env=self.env, capture_output=True,
                                     text=True, timeout=420)
        except subprocess.TimeoutExpired:
            raise BenchError(f"OpenSearch {self.version} did not start within 420 s") from None
        if started.returncode != 0:
            raise BenchError(f"OpenSearch {self.version} did not start ({started.returncode}):\n{started.stderr[-3000:]}")
        self.url = started.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        subprocess.run([str(OPENSEARCH_SCRIPT), "stop"], env=self.env, capture_output=True, timeout=120)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def start_nodes(args, work: Path, nodes: list[Node]) -> dict:
    """One 2.19.1 node with ML Commons and ours; else (said in "layout") two nodes."""
    try:
        zip_path = args.plugin_zip or build_plugin(ML_COMMONS_VERSION, work)
        node = Node(ML_COMMONS_VERSION, [*ML_COMMONS_PLUGINS, str(zip_path)], args.heap)
        nodes.append(node)
        url = node.start()
        return {"layout": "one node", "ours_url": url, "ml_url": url,
                "versions": {"ours": ML_COMMONS_VERSION, "ml_commons": ML_COMMONS_VERSION}}
    except BenchError as error:
        reason = str(error)
        log(f"one node with both plugins failed, falling back to two nodes: {reason[:400]}")
    for node in nodes:
        node.stop()
    nodes.clear()
    ours = Node(FALLBACK_VERSION, [str(build_plugin(FALLBACK_VERSION, work))], args.heap)
    ml = Node(ML_COMMONS_VERSION, list(ML_COMMONS_PLUGINS), args.heap)
    nodes += [ours, ml]
    return {"layout": f"two nodes: ours on {FALLBACK_VERSION}, ML Commons on {ML_COMMONS_VERSION}",
            "fallback_reason": reason[-2000:], "ours_url": ours.start(), "ml_url": ml.start(),
            "versions": {"ours": FALLBACK_VERSION, "ml_commons": ML_COMMONS_VERSION}}


def start_server(work: Path) -> tuple[subprocess.Popen, dict]:
    from rerank_server.testing.tiny_model import build_tiny_gemma

    model_dir = build_tiny_gemma(work / "tiny-gemma")
    config = json.loads((model_dir / "config.json").read_text())
    http_port = free_port()
    # gRPC on port 0, read back from the log: grpcio binds with SO_REUSEPORT, so a port picked
    # here and taken meanwhile by another gRPC server would be shared with it, silently.
    command = [sys.executable, "-m", "rerank_server", "--model", f"{MODEL_NAME}={model_dir}", "--port", "0",
               "--http-port", str(http_port), "--device", "cpu", "--cache-size", "0"]
    log(f"starting the reranker: {' '.join(command)}")
    logfile = open(work / "server.log", "w")
    process = subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT, cwd=ROOT)
    info = {
        "command": " ".join(["python", *command[1:]]).replace(str(work), "$WORK"),
        "http": f"http://127.0.0.1:{http_port}",
        "model": {key: config.get(key) for key in ("model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
                                                    "num_attention_heads", "num_key_value_heads", "vocab_size")},
        "weights": "random (rerank_server.testing.tiny_model.build_tiny_gemma defaults)",
    }
    return process, info


def server_log(work: Path) -> str:
    return (work / "server.log").read_text(errors="replace")[-3000:]


def wait_for_server(process: subprocess.Popen, info: dict, work: Path) -> None:
    """Reads the gRPC port from the server's "listening on HOST:PORT (gRPC)" line, then waits
    for SERVING."""
    from rerank_server.testing.harness import wait_until_serving

    deadline = time.monotonic() + 120
    while "grpc" not in info:
        found = re.search(r"listening on ([0-9.]+:\d+) \(gRPC\)", server_log(work))
        if found:
            info["grpc"] = found.group(1)
        elif process.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"the reranker did not start:\n{server_log(work)}")
        else:
            time.sleep(0.2)
    try:
        wait_until_serving(info["grpc"], timeout=max(1.0, deadline - time.monotonic()))
    except TimeoutError:
        raise BenchError(f"the reranker did not serve:\n{server_log(work)}") from None
    if process.poll() is not None:
        raise BenchError(f"the reranker exited:\n{server_log(work)}")


# --- the searches ---------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection to a node; reconnects after an error."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method: str, path: str, body=None) -> tuple[int, dict, dict]:
        data = None if body is None else json.dumps(body).encode()
        try:
            self.conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise
        return response.status, dict(response.getheaders()), json.loads(raw) if raw else {}

    def ok(self, method: str, path: str, body=None) -> dict:
        status, _, answer = self.call(method, path, body)
        if status >= 300:
            raise BenchError(f"{method} {path}: HTTP {status}: {json.dumps(answer)[:1000]}")
        return answer


def match(query: str) -> dict:
    return {"match": {"body": query}}


class Systems:
    """search(system, query) -> (failure or None, took_ms, passages reranked)."""

    def __init__(self, ours: Connection, ml: Connection | None, model_id: str | None):
        self.ours, self.ml, self.model_id = ours, ml, model_id

    def search(self, system: str, query: str) -> tuple[str | None, float | None, int]:
        return getattr(self, system)(query)

    def _search(self, conn: Connection, body: dict, params: str = "") -> tuple[str | None, dict, dict]:
        status, headers, answer = conn.call("POST", f"/{INDEX}/_search{params}", body)
        if status != 200:
            return f"HTTP {status}: {json.dumps(answer)[:300]}", headers, answer
        if answer["_shards"]["failed"]:
            return f"failed shards: {answer['_shards']}", headers, answer
        return None, headers, answer

    def bm25(self, query: str):
        failure, _, answer = self._search(self.ours, {"query": match(query), "size": SIZE})
        return failure, answer.get("took"), 0

    def rescorer(self, query: str):
        body = {"query": match(query), "size": SIZE,
                "rescore": {"window_size": WINDOW, "grpc_rerank": {"query_text": query, "document_fields": FIELDS}}}
        failure, headers, answer = self._search(self.ours, body)
        warning = next((value for key, value in headers.items() if key.lower() == "warning"), None)
        if failure is None and warning:
            failure = f"not reranked: Warning {warning[:300]}"
        return failure, answer.get("took"), 0

    def pipeline(self, query: str):
        body = {"query": match(query), "size": SIZE, "ext": {"grpc_rerank": {"query_text": query}}}
        failure, _, answer = self._search(self.ours, body, f"?search_pipeline={PIPELINE}")
        status = answer.get("ext", {}).get("grpc_rerank", {})
        if failure is None and status.get("status") != "reranked":
            failure = f"not reranked: {status}"
        return failure, answer.get("took"), status.get("window_size", 0)

    def ml_commons(self, query: str):
        body = {"query": match(query), "size": WINDOW, "_source": FIELDS}
        failure, _, answer = self._search(self.ml, body)
        if failure:
            return failure, answer.get("took"), 0
        hits = answer["hits"]["hits"]
        passages = ["\n".join(hit["_source"][field] for field in FIELDS if hit["_source"].get(field)) for hit in hits]
        status, _, predicted = self.ml.call("POST", f"/_plugins/_ml/_predict/text_similarity/{self.model_id}",
                                            {"query_text": query, "text_docs": passages})
        if status != 200:
            return f"_predict HTTP {status}: {json.dumps(predicted)[:300]}", answer["took"], len(hits)
        scores = [output["data"][0] for output in predicted["inference_results"][0]["output"]]
        if len(scores) != len(hits):
            return f"_predict gave {len(scores)} scores for {len(hits)} hits", answer["took"], len(hits)
        answer["hits"]["hits"] = [hit for _, hit in sorted(zip(scores, hits), key=lambda pair: -pair[0])][:SIZE]
        return None, answer["took"], len(hits)


def measure(systems: Systems, names: list[str], searches: int, warmup: int) -> dict:
    """Interleaved: search i runs QUERIES[i % len] on every system, the order rotating with i."""
    samples = {name: {"wall_ms": [], "took_ms": [], "passages": [], "failures": []} for name in names}
    for phase, count in (("warmup", warmup), ("measured", searches)):
        log(f"{phase}: {count} searches per system on {', '.join(names)}")
        for i in range(count):
            query = QUERIES[i % len(QUERIES)]
            for k in range(len(names)):
                name = names[(i + k) % len(names)]
                start = time.perf_counter()
                try:
                    failure, took, passages = systems.search(name, query)
                except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
                    failure, took, passages = f"{type(error).__name__}: {error}", None, 0
                wall = (time.perf_counter() - start) * 1000
                if phase == "warmup":
                    continue
                record = samples[name]
                if failure:
                    record["failures"].append(f"{query!r}: {failure}")
                    continue
                record["wall_ms"].append(wall)
                if took is not None:
                    record["took_ms"].append(float(took))
                record["passages"].append(passages)
    return samples


def preflight(systems: Systems, names: list[str], work: Path) -> None:
    """One search per system, which must succeed (reranked), before anything is measured."""
    for name in names:
        failure, _, _ = systems.search(name, QUERIES[0])
        if failure:
            raise BenchError(f"{name} does not work, nothing measured: {failure}\nthe reranker's log:\n{server_log(work)}")


def rescorer_passages(conn: Connection) -> list[int]:
    """Passages the rescorer reranks per query: min(WINDOW, the shard's hits), summed over shards."""
    counts = []
    for query in QUERIES:
        total = 0
        for shard in range(SHARDS):
            answer = conn.ok("POST", f"/{INDEX}/_search?preference=_shards:{shard}",
                             {"query": match(query), "size": 0, "track_total_hits": True})
            total += min(WINDOW, answer["hits"]["total"]["value"])
        counts.append(total)
    return counts


# --- the report ------------------------------------------------------------------------------------


def summarize(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)
    return {"p50": percentile(ordered, 50), "p95": percentile(ordered, 95), "p99": percentile(ordered, 99),
            "mean": statistics.fmean(ordered), "min": ordered[0], "max": ordered[-1]}


def summary(samples: dict, passages_by_query: list[int]) -> dict:
    out = {}
    for name, record in samples.items():
        passages = record["passages"]
        if name == "rescorer":
            passages = [passages_by_query[i % len(QUERIES)] for i in range(len(record["wall_ms"]) + len(record["failures"]))]
        out[name] = {
            "label": LABELS[name],
            "searches": len(record["wall_ms"]) + len(record["failures"]),
            "failures": len(record["failures"]),
            "failure_examples": record["failures"][:5],
            "wall_ms": summarize(record["wall_ms"]),
            "took_ms": summarize(record["took_ms"]),
            "mean_passages_reranked": statistics.fmean(passages) if passages else 0,
            "wall_ms_samples": [round(value, 3) for value in record["wall_ms"]],
        }
    base = out.get("bm25", {}).get("wall_ms")
    for name, result in out.items():
        if base and result["wall_ms"]:
            result["added_over_bm25_ms"] = {key: result["wall_ms"][key] - base[key] for key in ("p50", "p95", "p99", "mean")}
    return out


def markdown(report: dict) -> str:
    rows = ["| system | ok / searches | p50 ms | p95 ms | p99 ms | mean ms | added p50 / mean ms | took p50 ms | passages |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in SYSTEMS:
        r = report["systems"].get(name)
        if r is None:
            error = report.get("errors", {}).get(name, "not run")
            rows.append(f"| {LABELS[name]} | not run: {error[:120]} | | | | | | | |")
            continue
        w, took = r["wall_ms"], r["took_ms"]
        if not w:
            rows.append(f"| {LABELS[name]} | 0 / {r['searches']} | | | | | | | |")
            continue
        added = r.get("added_over_bm25_ms", {})
        added_text = "" if name == "bm25" else f"+{added['p50']:.1f} / +{added['mean']:.1f}"
        rows.append(
            f"| {LABELS[name]} | {r['searches'] - r['failures']} / {r['searches']} | {w['p50']:.1f} | {w['p95']:.1f} | "
            f"{w['p99']:.1f} | {w['mean']:.1f} | {added_text} | {took.get('p50', float('nan')):.0f} | "
            f"{r['mean_passages_reranked']:.1f} |"
        )
    s = report["settings"]
    m = report["machine"]
    rows += ["", (
        f"Client wall time per search, {s['searches']} searches per system after {s['warmup']} warm-up, interleaved, "
        f"{len(s['queries'])} queries over {report['corpus']['documents']} documents in {SHARDS} shards; window "
        f"{WINDOW} (per shard for the rescorer), size {SIZE}; {report['opensearch']['layout']} (OpenSearch "
        f"{report['opensearch']['versions']['ours']}); reranker: tiny random Gemma "
        f"({report['server']['model']['num_hidden_layers']} layers, hidden {report['server']['model']['hidden_size']}) "
        f"on CPU; {m['cpus']} CPUs shared by the node, the reranker and the client. ML Commons: BM25 search + one "
        f"_predict call by the client (neural-search's rerank processor is not on Maven Central)."
    )]
    call = report.get("plugin_stats", {}).get("mean_grpc_call_ms")
    if call is not None:
        rows.append(f"Our plugin's own mean time per gRPC rerank call: {call:.1f} ms. Load average "
                    f"{m['load_average_at_start'][0]:.1f} at the start, {m['load_average_at_end'][0]:.1f} at the end.")
    return "\n".join(rows)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    palette = {"bm25": "#9e9e9e", "rescorer": "#0072b2", "pipeline": "#56b4e9", "ml_commons": "#e69f00"}
    names = [name for name in SYSTEMS if report["systems"].get(name, {}).get("wall_ms")]
    fig, (ax_bars, ax_cdf) = plt.subplots(1, 2, figsize=(14, 5.5))
    width = 0.8 / 3
    for j, stat in enumerate(("p50", "p95", "p99")):
        values = [report["systems"][name]["wall_ms"][stat] for name in names]
        bars = ax_bars.bar([i + (j - 1) * width for i in range(len(names))], values, width,
                           color=[palette[name] for name in names], alpha=(1.0, 0.7, 0.45)[j],
                           edgecolor="black", linewidth=0.4)
        ax_bars.bar_label(bars, labels=[f"{stat}\n{value:.0f}" for value in values], fontsize=7)
    ax_bars.set_xticks(range(len(names)), [SHORT_LABELS[name] for name in names], fontsize=9)
    ax_bars.set_ylabel("client wall time per search, ms")
    ax_bars.set_title("p50 / p95 / p99 per system")
    for name in names:
        values = sorted(report["systems"][name]["wall_ms_samples"])
        ax_cdf.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=LABELS[name], color=palette[name])
    ax_cdf.set_xscale("log")
    ax_cdf.set_xlabel("client wall time per search, ms (log)")
    ax_cdf.set_ylabel("share of searches")
    ax_cdf.set_title("latency CDF")
    ax_cdf.grid(alpha=0.3)
    ax_cdf.legend(fontsize=8, loc="lower right")
    s = report["settings"]
    fig.suptitle(f"Search latency, {report['opensearch']['layout']}, OpenSearch {report['opensearch']['versions']['ours']}; "
                 f"{s['searches']} searches per system, window {WINDOW}, size {SIZE}; tiny random Gemma on "
                 f"{report['machine']['cpus']} CPUs", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine_info() -> dict:
    import torch

    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "java": java[0] if java else None, "load_average_at_start": os.getloadavg()}


# --- main ------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    report = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "command": " ".join(["python -m bench.search_latency", *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine_info(),
              "settings": {"searches": args.searches, "warmup": args.warmup, "window_size": WINDOW, "size": SIZE,
                           "document_fields": FIELDS, "query": "match on body", "order": "interleaved, rotating",
                           "client": "http.client, one keep-alive connection per node, 127.0.0.1",
                           "queries": QUERIES},
              "notes": [
                  "wall_ms: client-side time per search; the percentiles leave failed searches out",
                  "took_ms: OpenSearch's took; for ml_commons the search's alone (the _predict call has none); "
                  "for pipeline it stays near bm25's: on 2.19.1 took does not count the search response processor",
                  "rescorer: window_size is per shard, so up to 20 passages on each of the 2 shards",
                  "ml_commons: neural-search's rerank processor is not on Maven Central; measured as the BM25 "
                  "search plus one _predict/text_similarity call (title + newline + body) by the client, then sort",
                  "plugin_stats.mean_grpc_call_ms: the plugin's own mean time per reranker call (rescorer: one per "
                  "shard per search; pipeline: one per search), warm-up included",
              ],
              "errors": {}}
    work = Path(tempfile.mkdtemp(prefix="bench-search-latency-"))
    nodes: list[Node] = []
    server = None
    try:
        server, report["server"] = start_server(work)  # loads while the plugin builds and the node starts
        opensearch = start_nodes(args, work, nodes)
        wait_for_server(server, report["server"], work)
        from opensearchpy import OpenSearch

        urls = sorted({opensearch["ours_url"], opensearch["ml_url"]})
        for url in urls:
            documents = load_corpus(OpenSearch(url), INDEX, shards=SHARDS)
        report["corpus"] = {"file": "tests/data/search_corpus.jsonl", "documents": documents, "shards": SHARDS}
        ours = Connection(opensearch["ours_url"])
        ml = ours if opensearch["ml_url"] == opensearch["ours_url"] else Connection(opensearch["ml_url"])
        ours.ok("PUT", "/_cluster/settings", {"persistent": {"rerank.grpc.target": report["server"]["grpc"],
                                                             "rerank.grpc.timeout": "5s"}})
        ours.ok("PUT", f"/_search/pipeline/{PIPELINE}", {
            "request_processors": [{"grpc_rerank": {"window_size": WINDOW}}],
            "response_processors": [{"grpc_rerank": {"document_fields": FIELDS}}]})
        opensearch["plugins"] = {url: [f"{p['component']} {p['version']}" for p in Connection(url).ok("GET", "/_cat/plugins?format=json")]
                                 for url in urls}
        names = ["bm25", "rescorer", "pipeline"]
        model_id = None
        log("connecting ML Commons to the reranker's HTTP API (docker/opensearch/apply.sh, SKIP_PIPELINE=1)")
        try:
            model_id = connect_ml_commons(opensearch["ml_url"], report["server"]["http"], MODEL_NAME, timeout=180)
            names.append("ml_commons")
            opensearch["ml_commons_model_id"] = model_id
        except Exception as error:  # noqa: BLE001 - "where it runs": the other systems still run
            report["errors"]["ml_commons"] = f"{type(error).__name__}: {error}"[-2000:]
            log(f"ML Commons is not measured: {report['errors']['ml_commons'][:400]}")
        report["opensearch"] = opensearch
        preflight(Systems(ours, ml, model_id), names, work)
        passages_by_query = rescorer_passages(ours)
        stats_before = ours.ok("GET", "/_plugins/grpc_rerank/stats")
        samples = measure(Systems(ours, ml, model_id), names, args.searches, args.warmup)
        stats_after = ours.ok("GET", "/_plugins/grpc_rerank/stats")
        calls = stats_after["stats"]["calls"] - stats_before["stats"]["calls"]
        report["plugin_stats"] = {
            "before": stats_before, "after": stats_after,
            "mean_grpc_call_ms": (stats_after["stats"]["call_time_in_millis"]
                                  - stats_before["stats"]["call_time_in_millis"]) / calls if calls else None}
        report["systems"] = summary(samples, passages_by_query)
    finally:
        for node in nodes:
            node.stop()
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["wall_seconds"] = time.monotonic() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search-latency.json").write_text(json.dumps(report, indent=2))
    plot(report, args.out / "search-latency.png")
    print(markdown(report))
    log(f"wrote {args.out / 'search-latency.json'} and .png in {report['wall_seconds']:.0f} s")
    failures = sum(r["failures"] for r in report["systems"].values())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
