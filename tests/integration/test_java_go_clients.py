"""The Java and Go clients' own test suites, run against the session's real server.

Each suite gets the server's address in RERANK_ADDR; a suite that fails prints its
tool's output. The Java suite also gets a TLS server (with an API key) and a mutual-TLS
server, their PEM files and those of another CA (RERANK_TLS_*, see LiveServer.java).
The first Maven run downloads the build's plugins and libraries into ~/.m2 (a few
minutes on a fresh machine); later runs are offline-fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import grpc
import pytest
import trustme
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key
from rerank_server.config import Settings
from rerank_server.testing.harness import running_server, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
JAVA_DIR = ROOT / "plugin_client" / "java"
GO_DIR = ROOT / "plugin_client" / "go"


def run_tool(command: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    """Runs command, failing the test with its output when it fails or overruns."""
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is not installed: run scripts/install_system.sh")
    try:
        done = subprocess.run(
            command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{' '.join(command)} did not finish in {timeout:.0f}s:\n{error.stdout}\n{error.stderr}")
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def surefire_counts(reports: Path) -> dict[str, int]:
    """Sums tests, failures, errors and skipped over Surefire's XML reports."""
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for report in reports.glob("TEST-*.xml"):
        suite = ElementTree.parse(report).getroot()
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


TLS_API_KEY = "java-tls-key"


def pkcs8(key_pem: Path, folder: Path) -> Path:
    """The key as PKCS#8 PEM, the form grpc-java's Netty reads (trustme writes SEC1 "EC PRIVATE KEY")."""
    key = load_pem_private_key(key_pem.read_bytes(), password=None)
    path = folder / (key_pem.stem + ".pkcs8.pem")
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path


@pytest.fixture(scope="module")
def tls_environment(tiny_model_dir, tiny_scorer, pki, tmp_path_factory):
    """RERANK_TLS_*: a TLS server wanting an API key, a mutual-TLS server, and the PEM files."""
    folder = tmp_path_factory.mktemp("java-tls")
    wrong_ca = trustme.CA()
    wrong_client = wrong_ca.issue_cert("client@example.com")
    wrong_ca.cert_pem.write_to_path(folder / "wrong-ca.pem")
    wrong_client.private_key_pem.write_to_path(folder / "wrong-client.key")
    for blob in wrong_client.cert_chain_pems:
        blob.write_to_path(folder / "wrong-client.pem", append=True)
    tls = {"tls_cert": str(pki["cert"]), "tls_key": str(pki["key"])}

    def serve(**settings):
        config = Settings(model=str(tiny_model_dir), served_model_name="tiny-gemma", port=0, **tls, **settings)
        return running_server(config, lambda: tiny_scorer)

    ca, cert, key = (pki[name].read_bytes() for name in ("ca", "client_cert", "client_key"))
    with serve(api_keys=(TLS_API_KEY,)) as keyed, serve(tls_client_ca=str(pki["ca"])) as mutual:
        wait_until_serving(keyed.address, credentials=grpc.ssl_channel_credentials(ca))
        wait_until_serving(mutual.address, credentials=grpc.ssl_channel_credentials(ca, key, cert))
        yield {
            "RERANK_TLS_ADDR": keyed.address,
            "RERANK_MTLS_ADDR": mutual.address,
            "RERANK_TLS_API_KEY": TLS_API_KEY,
            "RERANK_TLS_CA": str(pki["ca"]),
            "RERANK_TLS_CLIENT_CERT": str(pki["client_cert"]),
            "RERANK_TLS_CLIENT_KEY": str(pkcs8(pki["client_key"], folder)),
            "RERANK_TLS_WRONG_CA": str(folder / "wrong-ca.pem"),
            "RERANK_TLS_WRONG_CLIENT_CERT": str(folder / "wrong-client.pem"),
            "RERANK_TLS_WRONG_CLIENT_KEY": str(pkcs8(folder / "wrong-client.key", folder)),
        }


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_java_client_suite_passes_against_the_server(rerank_address, tls_environment):
    reports = JAVA_DIR / "target" / "surefire-reports"
    shutil.rmtree(reports, ignore_errors=True)
    env = {"RERANK_ADDR": rerank_address, **tls_environment}
    output = run_tool(["mvn", "-B", "-q", "test"], JAVA_DIR, timeout=1400, env=env)

    counts = surefire_counts(reports)
    # A live test that skipped would pass without checking anything.
    assert counts["tests"] > 0 and counts["skipped"] == 0, f"{counts}\n{output}"
    assert counts["failures"] == counts["errors"] == 0, f"{counts}\n{output}"
    tls_suite = ElementTree.parse(reports / "TEST-io.github.rerankservice.client.RerankClientTlsLiveTest.xml").getroot()
    assert int(tls_suite.get("tests")) == 7, f"the TLS live tests did not all run:\n{output}"
    print(f"Java client: {counts['tests']} passed, 0 failed")


@pytest.mark.slow
def test_go_client_suite_passes_against_the_server(rerank_address):
    output = run_tool(["go", "test", "-count=1", "./..."], GO_DIR, timeout=540, env={"RERANK_ADDR": rerank_address})

    assert "ok  \tgithub.com/rerank-service/rerank/plugin_client/go/rerank" in output, output


@pytest.mark.slow
def test_generated_go_code_matches_the_protos():
    output = run_tool(["bash", str(ROOT / "scripts" / "gen_go.sh"), "--check"], ROOT, timeout=540)

    assert "generated Go code matches protos/" in output, output
