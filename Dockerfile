# syntax=docker/dockerfile:1
#
# One image for every openstatus service. There is no ENTRYPOINT: the orchestrator picks the service
# by its command (docker compose `command:`, Kubernetes `command:`):
#
#   openstatus-api  openstatus-status-page  openstatus-scheduler  openstatus-incident-engine
#   openstatus-notifier  openstatus-probe  openstatus-migrate
#
# Build:  docker build -t openstatus:local .
# Run:    docker run --rm -e OPENSTATUS_DATABASE_URL=... -e OPENSTATUS_NATS_URL=... openstatus:local

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: wheels for the workspace and every dependency, pinned by constraints.txt -------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# A compiler only for dependencies that ship no wheel for this platform; it stays in this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src

COPY constraints.txt ./constraints.txt
COPY libs/common/ ./libs/common/
COPY services/api/ ./services/api/
COPY services/status-page/ ./services/status-page/
COPY services/scheduler/ ./services/scheduler/
COPY services/incident-engine/ ./services/incident-engine/
COPY services/notifier/ ./services/notifier/
COPY services/probe/ ./services/probe/

# The workspace members are resolved from the paths given here, so every wheel (ours and third-party)
# comes out of one resolution under the same pins as `make setup`.
RUN pip wheel --wheel-dir /wheels -c constraints.txt \
      ./libs/common \
      ./services/api \
      ./services/status-page \
      ./services/scheduler \
      ./services/incident-engine \
      ./services/notifier \
      ./services/probe

# A self-contained virtual environment, installed offline from those wheels only.
RUN python -m venv /opt/openstatus \
 && /opt/openstatus/bin/pip install --no-index --find-links /wheels \
      openstatus-common \
      openstatus-api \
      openstatus-status-page \
      openstatus-scheduler \
      openstatus-incident-engine \
      openstatus-notifier \
      openstatus-probe \
 && /opt/openstatus/bin/pip check

# --- runtime: the interpreter, the virtual environment, a non-root user; no compiler, no sources ----
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="openstatus" \
      org.opencontainers.image.description="openstatus services: api, status-page, scheduler, probe, incident-engine, notifier"

# Fixed numeric ids so Kubernetes can verify runAsNonRoot and volumes can be chowned by fsGroup.
RUN groupadd --system --gid 10001 openstatus \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/openstatus --create-home \
      --shell /usr/sbin/nologin openstatus

COPY --from=build /opt/openstatus /opt/openstatus

ENV PATH=/opt/openstatus/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OPENSTATUS_HOST=0.0.0.0 \
    OPENSTATUS_LOG_FORMAT=json

# The only writable place the image owns; the relative default SQLite path (var/...) lands here.
WORKDIR /var/lib/openstatus
USER 10001:10001

# api, status-page, scheduler, incident-engine, notifier, probe (health endpoints for the workers).
EXPOSE 8000 8001 8002 8003 8004 8010

CMD ["openstatus-api"]
