"""The gateway's settings, and the client and listener arguments they imply."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .engines import ENGINE_CHOICES
from .passthrough import PASSTHROUGH_CLASSES


@dataclass(frozen=True)
class GatewaySettings:
    opensearch_url: str = "http://127.0.0.1:9200"
    """Where the engine (OpenSearch or Elasticsearch: every opensearch_* setting names whichever
    the gateway fronts) listens; user:password@ in the URL is sent as basic auth."""
    engine: str = "opensearch"
    """opensearch, elasticsearch, or auto: asks GET / once, when first needed (see engines.py)."""
    opensearch_user: str = ""
    """The gateway's own OpenSearch user (basic auth), instead of user:password@ in the URL."""
    opensearch_password: str = field(default="", repr=False)
    opensearch_ca_file: str = ""
    """PEM CA bundle OpenSearch's certificate is checked against (https URLs); empty = the system's."""
    forward_authorization: bool = False
    """Send the caller's Authorization header to OpenSearch (it then wins over the gateway's own
    credentials); off, OpenSearch only ever sees the gateway's credentials."""
    reranker_address: str = "127.0.0.1:50051"
    """host:port of the rerank gRPC server."""
    reranker_api_key: str = field(default="", repr=False)
    """Sent as 'authorization: Bearer <key>' when the reranker wants API keys."""
    reranker_ca_file: str = ""
    """PEM CA bundle the reranker's certificate is checked against; turns TLS on."""
    reranker_cert_file: str = ""
    """PEM client certificate, for a reranker that wants mutual TLS (with reranker_key_file)."""
    reranker_key_file: str = ""
    passthrough: str = "search"
    """Which requests go to OpenSearch: search, read or all (see passthrough.py)."""
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    """Keys callers must send as 'Authorization: Bearer <key>'; empty = no key needed."""
    tls_cert: str = ""
    """PEM certificate chain; with tls_key the gateway listens over HTTPS."""
    tls_key: str = ""
    tls_client_ca: str = ""
    """PEM CA bundle; callers must then present a certificate it signed (mutual TLS)."""
    max_body_bytes: int = 1024 * 1024
    """Largest request body, after gzip is undone."""
    max_window_size: int = 1000
    """Most hits one search may send to the reranker (ext.rerank.window_size, or from + size)."""
    max_rerank_timeout_ms: int = 30_000
    """Longest ext.rerank.timeout_ms a caller may ask for."""
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
        object.__setattr__(self, "api_keys", tuple(key for key in self.api_keys if key))
        parts = _opensearch_url_parts(self.opensearch_url)  # fails early on a bad URL
        for name in (
            "rerank_timeout_ms", "opensearch_timeout_s", "health_timeout_s",
            "max_body_bytes", "max_window_size", "max_rerank_timeout_ms",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.rerank_timeout_ms > self.max_rerank_timeout_ms:
            raise ValueError(
                f"rerank_timeout_ms ({self.rerank_timeout_ms}) must not exceed max_rerank_timeout_ms "
                f"({self.max_rerank_timeout_ms})"
            )
        if self.engine not in ENGINE_CHOICES:
            raise ValueError(f"engine must be one of {', '.join(ENGINE_CHOICES)}, got {self.engine!r}")
        if self.passthrough not in PASSTHROUGH_CLASSES:
            raise ValueError(f"passthrough must be one of {', '.join(PASSTHROUGH_CLASSES)}, got {self.passthrough!r}")
        if self.opensearch_password and not self.opensearch_user:
            raise ValueError("opensearch_password needs opensearch_user")
        if self.opensearch_user and parts.username is not None:
            raise ValueError("give OpenSearch's user once: in opensearch_user or in the URL, not both")
        if self.opensearch_ca_file and parts.scheme != "https":
            raise ValueError("opensearch_ca_file checks an https OpenSearch: the URL must start with https://")
        if self.forward_authorization and self.api_keys:
            raise ValueError(
                "forward_authorization sends the caller's Authorization header to OpenSearch, and the gateway's "
                "API keys arrive in that same header: use one or the other"
            )
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: give both, or neither")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("tls_client_ca (mutual TLS) needs tls_cert and tls_key")
        if bool(self.reranker_cert_file) != bool(self.reranker_key_file):
            raise ValueError("reranker_cert_file and reranker_key_file go together: give both, or neither")
        if self.reranker_cert_file and not self.reranker_ca_file:
            raise ValueError("a client certificate (mutual TLS) needs reranker_ca_file to turn TLS on")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {self.port}")

    @property
    def url_scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def listens_beyond_this_host(self) -> bool:
        if self.host == "localhost":
            return False
        try:
            return not ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name
            return True


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


def opensearch_client_args(settings: GatewaySettings) -> dict:
    """opensearch-py connection arguments for the gateway's OpenSearch: its URL, its own
    credentials and the CA its certificate is checked against."""
    args = opensearch_connection_args(settings.opensearch_url)
    if settings.opensearch_user:
        args["http_auth"] = (settings.opensearch_user, settings.opensearch_password)
    if settings.opensearch_ca_file:
        args["ca_certs"] = settings.opensearch_ca_file
    return args


def elasticsearch_client_args(settings: GatewaySettings) -> dict:
    """elasticsearch-py's arguments for the same node, credentials and CA as opensearch_client_args."""
    args = opensearch_client_args(settings)
    node = {
        "scheme": "https" if args["use_ssl"] else "http",
        "host": args["host"],
        "port": args["port"],
        "path_prefix": args["url_prefix"],
    }
    client_args: dict = {"hosts": [node]}
    if "http_auth" in args:
        client_args["basic_auth"] = args["http_auth"]
    if "ca_certs" in args:
        client_args["ca_certs"] = args["ca_certs"]
    return client_args


def opensearch_connection_args(url: str) -> dict:
    """opensearch-py connection arguments (host, port, use_ssl, url_prefix, http_auth) for a URL."""
    parts = _opensearch_url_parts(url)
    args = {
        "host": parts.hostname,
        "port": parts.port or 9200,
        "use_ssl": parts.scheme == "https",
        "url_prefix": parts.path.rstrip("/"),
    }
    if parts.username is not None:
        args["http_auth"] = (unquote(parts.username), unquote(parts.password or ""))
    return args


def _opensearch_url_parts(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the OpenSearch or Elasticsearch URL must look like http://host:9200, got {url!r}")
    return parts


def url_without_credentials(url: str) -> str:
    """The URL as it may be logged: user:password@ removed."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl()


def listener_tls_args(settings: GatewaySettings) -> dict:
    """uvicorn.Config's TLS arguments for the gateway's own listener."""
    if not settings.tls_cert:
        return {}
    return {
        "ssl_certfile": settings.tls_cert,
        "ssl_keyfile": settings.tls_key,
        "ssl_ca_certs": settings.tls_client_ca or None,
        "ssl_cert_reqs": ssl.CERT_REQUIRED if settings.tls_client_ca else ssl.CERT_NONE,
    }
