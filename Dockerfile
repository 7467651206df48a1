# imabot: the chat bot, its ops server (/healthz, /readyz, /metrics) on 9464 and its SQLite data in /data.
# Build: docker build -t imabot .   Run: see compose.yaml and README "Deploy".

FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md LICENSE ./
COPY core core
COPY adapters adapters
COPY bot bot
COPY sim sim
RUN python -m venv /opt/imabot && /opt/imabot/bin/pip install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 imabot && mkdir -p /data && chown imabot:imabot /data
COPY --from=build /opt/imabot /opt/imabot
ENV PATH=/opt/imabot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    IMABOT_STORAGE__DATA_DIR=/data \
    IMABOT_OPS__HOST=0.0.0.0
USER imabot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["imabot", "health"]
CMD ["imabot", "run"]
