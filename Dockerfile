# One image for every tracker service; the command picks the service (see docker-compose.yml).
# The base is pinned by digest (python:3.11-slim, multi-platform index digest, as pinned by
# public Dockerfiles: no registry is reachable from the development machine to re-resolve it;
# refresh with `docker buildx imagetools inspect python:3.11-slim`). Dependencies come from
# requirements.lock, every file checked against its hash (`make lock` rewrites it).
ARG PYTHON=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

FROM ${PYTHON} AS build
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY tools ./tools
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM ${PYTHON}
RUN useradd --system --uid 10001 --no-create-home tracker
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY services ./services
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning
USER 10001
EXPOSE 8001 8002 8003 8004 8005 8006
# Liveness of whichever service runs (its port from its own config; shared/probe.py). Kubernetes
# ignores this and uses the Deployments' probes.
HEALTHCHECK --interval=20s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "shared.probe", "live"]
# Exec form: nameko is PID 1 and gets SIGTERM, so it stops gracefully.
CMD ["nameko", "run", "--config", "services/registry/config.yaml", "services.registry.service:RegistryService"]
