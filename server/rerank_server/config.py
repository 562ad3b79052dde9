"""The server's settings: one frozen, validated object built by cli.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_MODEL = "BAAI/bge-reranker-v2-gemma"


class ModelSpec(BaseModel):
    """One model to serve."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1, description="Hugging Face id or local directory")
    name: str = Field("", description="what requests put in `model`; empty = source")
    kind: str | None = Field(None, description="scoring kind; None = detected from the model's config")
    max_length: int | None = Field(None, ge=8, description="default token budget; None = the kind's default")

    @property
    def served_name(self) -> str:
        return self.name or self.source

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """'SOURCE' or 'NAME=SOURCE'."""
        name, separator, source = text.partition("=")
        return cls(name=name, source=source) if separator else cls(source=text)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[ModelSpec, ...] = (ModelSpec(source=DEFAULT_MODEL),)
    """The first is the default model."""
    host: str = "127.0.0.1"
    port: int = Field(50051, ge=0, le=65535)
    http_port: int = Field(0, ge=0, le=65535, description="Cohere-shaped HTTP API; 0 = off")
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="largest gRPC message or HTTP body")
    device: str = "auto"
    dtype: str = "auto"
    max_length: int | None = Field(None, ge=8, description="default token budget of a pair for every model")
    max_documents: int = Field(1000, ge=1)
    max_prompt_chars: int = Field(4096, ge=1)
    max_query_chars: int = Field(16384, ge=0, description="0 = no limit")
    max_document_chars: int = Field(200_000, ge=0, description="0 = no limit")
    max_request_tokens: int = Field(0, ge=0, description="tokens one request may feed the model; 0 = no limit")
    batch_size: int = Field(64, ge=1, description="most pairs in one forward pass")
    max_batch_tokens: int = Field(16384, ge=64, description="most padded tokens in one forward pass")
    max_wait_ms: float = Field(2.0, ge=0, le=1000)
    max_padding_ratio: float | None = Field(
        None, ge=0, description="padding a batch may hold, as a share of its real tokens; None = 0.1 on CPU, "
        "unbounded on GPU"
    )
    max_queued_pairs: int = Field(20000, ge=1)
    cache_size: int = Field(0, ge=0, description="score cache entries per model; 0 = off")
    shutdown_grace: float = Field(30.0, ge=0, description="seconds in-flight requests get on SIGTERM")
    log_level: str = "INFO"
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics; 0 = off")
    tls_cert: str | None = Field(None, description="PEM certificate chain; with tls_key turns on TLS")
    tls_key: str | None = Field(None, description="PEM private key of tls_cert")
    tls_client_ca: str | None = Field(None, description="PEM CA bundle; clients must present a certificate it signed")
    api_keys: tuple[str, ...] = Field((), description="accepted bearer keys; empty = no key needed")

    @model_validator(mode="before")
    @classmethod
    def _single_model_shorthand(cls, data: Any) -> Any:
        """Settings(model="dir", served_model_name="x") is models=[ModelSpec(...)]."""
        if isinstance(data, dict) and ("model" in data or "served_model_name" in data):
            data = dict(data)
            source = data.pop("model", DEFAULT_MODEL)
            name = data.pop("served_model_name", "") or ""
            data["models"] = (ModelSpec(source=source, name=name),)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if not self.models:
            raise ValueError("serve at least one model (--model)")
        names = [spec.served_name for spec in self.models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"model names must be distinct; repeated: {', '.join(duplicates)} (use NAME=SOURCE)")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("--tls-cert and --tls-key go together: give both, or neither")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("--tls-client-ca (mutual TLS) needs --tls-cert and --tls-key")
        if self.max_queued_pairs < self.max_documents:
            raise ValueError(
                f"max_queued_pairs ({self.max_queued_pairs}) must be at least max_documents "
                f"({self.max_documents}), or a full request could never be queued"
            )
        return self

    def default_max_length(self, spec: ModelSpec) -> int | None:
        return spec.max_length or self.max_length
