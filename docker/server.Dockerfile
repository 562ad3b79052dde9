# syntax=docker/dockerfile:1.7
# rerank-server image. From the repository root:
#   docker build -f docker/server.Dockerfile -t rerank-server:0.1.0 .                       (GPU)
#   docker build -f docker/server.Dockerfile --build-arg VARIANT=cpu -t rerank-server:0.1.0-cpu .
# Both variants run Python 3.12 and install exactly docker/server.lock (PyPI only), so they
# serve the same code with the same library versions; only the base image differs.
ARG VARIANT=cuda
# The "base" flavour is enough: the PyPI torch wheel ships its own CUDA libraries (the lock pins
# them), so "runtime" would add a second copy. The host needs the NVIDIA driver for that CUDA
# (13.x: driver 580 or newer) and the NVIDIA container toolkit.
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-base-ubuntu24.04
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm

FROM ${CUDA_IMAGE} AS base-cuda
# Ubuntu 24.04's own Python is 3.12, the cpu variant's version.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

FROM ${PYTHON_IMAGE} AS base-cpu

# base-${VARIANT} names a stage above, not an image, so there is no tag to pin.
# hadolint ignore=DL3006
FROM base-${VARIANT} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
# Third-party packages first, in their own layer: source edits do not reinstall torch.
COPY docker/server.lock /tmp/server.lock
RUN /opt/venv/bin/pip install --requirement /tmp/server.lock
COPY protos/python /src/protos/python
COPY server /src/server
# --no-deps: everything they need is in the lock; pip check proves the lock is complete.
RUN /opt/venv/bin/pip install --no-deps /src/protos/python /src/server \
    && /opt/venv/bin/pip check

# hadolint ignore=DL3006
FROM base-${VARIANT} AS server
RUN groupadd --system --gid 10001 rerank \
    && useradd --system --uid 10001 --gid rerank --create-home --home-dir /home/rerank \
       --shell /usr/sbin/nologin rerank \
    && mkdir -p /models \
    && chown rerank:rerank /models
COPY --from=build /opt/venv /opt/venv
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/rerank-healthcheck
# Configuration by environment (cli.py reads RERANK_*), so `docker run IMAGE --model DIR` adds
# flags without repeating these, and the HEALTHCHECK reads the same RERANK_PORT.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HOME=/models \
    RERANK_HOST=0.0.0.0 \
    RERANK_PORT=50051 \
    RERANK_HTTP_PORT=8080
# The Hugging Face cache: mount a volume so the ~5 GB download survives the container.
VOLUME ["/models"]
# Numeric, so orchestrators can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/rerank
EXPOSE 50051 8080
# NOT_SERVING until the model is loaded and warmed up; the first start downloads it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=15m --start-interval=5s --retries=3 \
    CMD ["rerank-healthcheck", "grpc"]
ENTRYPOINT ["rerank-server"]
CMD []
