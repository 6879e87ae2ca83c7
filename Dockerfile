# One image per service (and the `complaints` command), each a target of this file:
#   docker build --target intake -t complaints/intake .        (intake, classifier, escalation,
#   notifier, cli; podman and buildah take the same arguments)
# Multi-stage: uv, pinned, resolves each target's packages from uv.lock in a build stage;
# the runtime stage gets only the virtual environment and config, and runs as uid 10001
# with nothing writable but its data directory and /tmp (docs/decisions/0007-images.md).
# The base is pinned to a Python patch release and Debian release; a release pipeline
# that reaches the registry adds the digest (PYTHON_BASE=python:...@sha256:...).
ARG PYTHON_BASE=docker.io/library/python:3.11.14-slim-bookworm

FROM ${PYTHON_BASE} AS uv
ARG UV_VERSION=0.13.9
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never UV_FROZEN=1
WORKDIR /src
COPY . /src

# One build stage per target: only that package and its dependencies, never the dev group.
FROM uv AS build-intake
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-editable --package complaints-intake
FROM uv AS build-classifier
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-editable --package complaints-classifier
FROM uv AS build-escalation
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-editable --package complaints-escalation
FROM uv AS build-notifier
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-editable --package complaints-notifier
FROM uv AS build-cli
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --no-dev --no-editable --package complaints-cli

# What every runtime image shares: an unprivileged user, a writable /data, no uv, no source.
FROM ${PYTHON_BASE} AS runtime
RUN groupadd --gid 10001 complaints \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin complaints \
    && mkdir -p /data && chown 10001:10001 /data
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY config /app/config
USER 10001:10001
STOPSIGNAL SIGTERM

FROM runtime AS intake
COPY --from=build-intake /app/.venv /app/.venv
ENV INTAKE_HTTP_HOST=0.0.0.0 INTAKE_HTTP_PORT=8080
EXPOSE 8080
CMD ["python", "-m", "complaints_intake"]

FROM runtime AS classifier
COPY --from=build-classifier /app/.venv /app/.venv
ENV CLASSIFIER_OPS_HOST=0.0.0.0 CLASSIFIER_OPS_PORT=9101 CLASSIFIER_DATA_DIR=/data \
    CLASSIFIER_RULES_FILE=/app/config/classifier/rules.yaml
EXPOSE 9101
VOLUME /data
CMD ["python", "-m", "complaints_classifier"]

FROM runtime AS escalation
COPY --from=build-escalation /app/.venv /app/.venv
ENV ESCALATION_OPS_HOST=0.0.0.0 ESCALATION_OPS_PORT=9102 ESCALATION_DATA_DIR=/data \
    ESCALATION_POLICY_FILE=/app/config/escalation/policy.yaml
EXPOSE 9102
VOLUME /data
CMD ["python", "-m", "complaints_escalation"]

FROM runtime AS notifier
COPY --from=build-notifier /app/.venv /app/.venv
ENV NOTIFIER_OPS_HOST=0.0.0.0 NOTIFIER_OPS_PORT=9103 \
    NOTIFIER_POLICY_FILE=/app/config/escalation/policy.yaml
EXPOSE 9103
CMD ["python", "-m", "complaints_notifier"]

FROM runtime AS cli
COPY --from=build-cli /app/.venv /app/.venv
ENTRYPOINT ["complaints"]
CMD ["--help"]
