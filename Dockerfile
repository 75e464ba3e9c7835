# One image for every tracker service; the command picks the service (see docker-compose.yml).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home tracker
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY services ./services
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning
USER 10001
EXPOSE 8001 8002 8003 8004 8005 8006
# Exec form: nameko is PID 1 and gets SIGTERM, so it stops gracefully.
CMD ["nameko", "run", "--config", "services/registry/config.yaml", "services.registry.service:RegistryService"]
