# syntax=docker/dockerfile:1.7
# One-shot loader for the compose demo: docker/opensearch/*.sh need bash, curl and python3.
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm
FROM ${PYTHON_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 rerank \
    && useradd --system --uid 10001 --gid rerank --no-create-home --shell /usr/sbin/nologin rerank
COPY docker/opensearch /app/docker/opensearch
COPY docker/sample /app/docker/sample
USER 10001:10001
WORKDIR /app
CMD ["bash", "-c", "docker/opensearch/load_sample.sh && docker/opensearch/apply.sh"]
