# syntax=docker/dockerfile:1.7
# rerank-gateway image: the HTTP search gateway (OpenSearch search + gRPC rerank). No torch.
#   docker build -f docker/gateway.Dockerfile -t rerank-gateway:0.1.0 .
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
COPY docker/gateway.lock /tmp/gateway.lock
RUN /opt/venv/bin/pip install --requirement /tmp/gateway.lock
COPY protos/python /src/protos/python
COPY plugin_client /src/plugin_client
# The [gateway] extra's packages come from the lock; pip check proves it is complete.
RUN /opt/venv/bin/pip install --no-deps /src/protos/python /src/plugin_client \
    && /opt/venv/bin/pip check

FROM ${PYTHON_IMAGE} AS gateway
RUN groupadd --system --gid 10001 rerank \
    && useradd --system --uid 10001 --gid rerank --no-create-home --shell /usr/sbin/nologin rerank
COPY --from=build /opt/venv /opt/venv
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/rerank-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RERANK_GATEWAY_HOST=0.0.0.0 \
    RERANK_GATEWAY_PORT=8000
USER 10001:10001
EXPOSE 8000
# Through sh so the probe follows RERANK_GATEWAY_PORT when it is overridden.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "exec rerank-healthcheck http \"http://127.0.0.1:${RERANK_GATEWAY_PORT}/_rerank/health\""]
ENTRYPOINT ["rerank-gateway"]
CMD []
