# hazmon services (ingest, rules worker, alerting/API, one-shot set-up) for docker-compose.yml deployments.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hazmon ./hazmon
COPY ingest ./ingest
COPY stream_rules ./stream_rules
COPY alerting ./alerting
COPY device_sim ./device_sim
COPY dashboards ./dashboards
RUN pip install --no-cache-dir .
COPY deploy/entrypoint.sh /usr/local/bin/hazmon-entrypoint
COPY deploy/ingest-instance.sh /usr/local/bin/hazmon-ingest-instance
COPY deploy/connected.py /usr/local/lib/hazmon/connected.py
ENV HAZMON_HOME=/var/lib/hazmon
ENTRYPOINT ["hazmon-entrypoint"]
