"""The gateway's settings, and the OpenSearch connection arguments they imply."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class GatewaySettings:
    opensearch_url: str = "http://127.0.0.1:9200"
    """Where OpenSearch listens; user:password@ in the URL is sent as basic auth."""
    reranker_address: str = "127.0.0.1:50051"
    """host:port of the rerank gRPC server."""
    reranker_api_key: str = ""
    """Sent as 'authorization: Bearer <key>' when the reranker wants API keys."""
    reranker_ca_file: str = ""
    """PEM CA bundle the reranker's certificate is checked against; turns TLS on."""
    reranker_cert_file: str = ""
    """PEM client certificate, for a reranker that wants mutual TLS (with reranker_key_file)."""
    reranker_key_file: str = ""
    rerank_timeout_ms: int = 2000
    """The reranker's deadline when ext.rerank has no timeout_ms; past it hits keep BM25 order."""
    opensearch_timeout_s: float = 60.0
    """OpenSearch's deadline for each request, searches and proxied requests alike."""
    health_timeout_s: float = 2.0
    """Each backend's deadline in GET /_rerank/health."""
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        opensearch_connection_args(self.opensearch_url)  # fails early on a bad URL
        for name in ("rerank_timeout_ms", "opensearch_timeout_s", "health_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if bool(self.reranker_cert_file) != bool(self.reranker_key_file):
            raise ValueError("reranker_cert_file and reranker_key_file go together: give both, or neither")
        if self.reranker_cert_file and not self.reranker_ca_file:
            raise ValueError("a client certificate (mutual TLS) needs reranker_ca_file to turn TLS on")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {self.port}")


def reranker_client_args(settings: GatewaySettings) -> dict:
    """Keyword arguments of the rerank client for the reranker's TLS and API key."""
    args: dict = {}
    if settings.reranker_ca_file:
        args["root_certificates"] = Path(settings.reranker_ca_file).read_bytes()
    if settings.reranker_cert_file:
        args["certificate_chain"] = Path(settings.reranker_cert_file).read_bytes()
        args["private_key"] = Path(settings.reranker_key_file).read_bytes()
    if settings.reranker_api_key:
        args["metadata"] = [("authorization", f"Bearer {settings.reranker_api_key}")]
    return args


def opensearch_connection_args(url: str) -> dict:
    """opensearch-py connection arguments (host, port, use_ssl, url_prefix, http_auth) for a URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the OpenSearch URL must look like http://host:9200, got {url!r}")
    args = {
        "host": parts.hostname,
        "port": parts.port or 9200,
        "use_ssl": parts.scheme == "https",
        "url_prefix": parts.path.rstrip("/"),
    }
    if parts.username is not None:
        args["http_auth"] = (unquote(parts.username), unquote(parts.password or ""))
    return args
