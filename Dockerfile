# ExtraMile's image: one process serving Slack over HTTP on $PORT.
# Build: docker build -t extramile .    Run several replicas on PostgreSQL: see docker-compose.yml.

# Build stage: install the project and its dependencies into a virtualenv, which is all the runtime needs.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
# A regular (not editable) install: pip builds a wheel, so the venv holds the code and its migrations.
RUN pip install ".[postgres]"

# Runtime stage: the same base image (so the venv's interpreter path holds), no build files, no root.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
# Numeric, so an orchestrator's "run as non-root" check can verify it.
RUN groupadd --system --gid 10001 extramile \
    && useradd --system --uid 10001 --gid extramile --create-home --home-dir /home/extramile extramile \
    && mkdir /data && chown extramile:extramile /data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /home/extramile

# A lone container keeps SQLite in /data (mount a volume there); replicas set DATABASE_URL to PostgreSQL.
ENV PORT=3000 DATABASE_URL=sqlite:////data/extramile.db
EXPOSE 3000
# Slim images have no curl: ask /healthz (which checks the database) with Python's own urllib.
# A refused connection or any non-2xx answer raises, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"
# Every replica migrates at start (one at a time, under PostgreSQL's advisory lock; the others find
# nothing to do), then `exec` makes the server the process that receives SIGTERM.
CMD ["sh", "-c", "extramile db upgrade && exec extramile run"]
