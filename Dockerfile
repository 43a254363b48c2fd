# syntax=docker/dockerfile:1
# Production image: PostgreSQL and Redis come from outside (compose.yaml or the deployment), never embedded.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/jianwu
COPY pyproject.toml README.md ./
COPY api ./api
COPY auth ./auth
COPY modules ./modules
COPY push ./push
RUN /opt/jianwu/bin/pip install .

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /home/jianwu --uid 10001 jianwu \
    && mkdir -p /var/lib/jianwu && chown jianwu /var/lib/jianwu
COPY --from=build /opt/jianwu /opt/jianwu
COPY openapi /opt/jianwu-openapi
ENV PATH=/opt/jianwu/bin:$PATH \
    JIANWU_ENV=production \
    JIANWU_HOST=0.0.0.0 \
    JIANWU_DATA_DIR=/var/lib/jianwu \
    JIANWU_OPENAPI_DIR=/opt/jianwu-openapi \
    PYTHONUNBUFFERED=1
USER jianwu
WORKDIR /home/jianwu
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2).status != 200)"
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "jianwu db migrate && exec jianwu serve"]
