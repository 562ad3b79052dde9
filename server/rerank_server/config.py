"""The server's settings: one frozen, validated object built by cli.py."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_MODEL = "BAAI/bge-reranker-v2-gemma"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(DEFAULT_MODEL, min_length=1, description="Hugging Face id or local directory")
    served_model_name: str = Field("", description="name requests use; empty = the --model value")
    host: str = "127.0.0.1"
    port: int = Field(50051, ge=0, le=65535)
    device: str = "auto"
    dtype: str = "auto"
    max_length: int = Field(1024, ge=8, description="default token budget of a pair")
    max_documents: int = Field(1000, ge=1)
    max_prompt_chars: int = Field(4096, ge=1)
    batch_size: int = Field(64, ge=1, description="most pairs in one forward pass")
    max_batch_tokens: int = Field(16384, ge=64, description="most padded tokens in one forward pass")
    max_wait_ms: float = Field(2.0, ge=0, le=1000)
    max_queued_pairs: int = Field(20000, ge=1)
    cache_size: int = Field(0, ge=0, description="score cache entries; 0 = off")
    shutdown_grace: float = Field(30.0, ge=0, description="seconds in-flight requests get on SIGTERM")
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _queue_holds_a_request(self) -> Settings:
        if self.max_queued_pairs < self.max_documents:
            raise ValueError(
                f"max_queued_pairs ({self.max_queued_pairs}) must be at least max_documents "
                f"({self.max_documents}), or a full request could never be queued"
            )
        return self

    @property
    def model_name(self) -> str:
        return self.served_model_name or self.model
