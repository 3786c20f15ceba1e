# hazmon services (ingest, rules worker, alerting/API) for docker-compose.yml deployments.
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
ENV HAZMON_HOME=/var/lib/hazmon
ENTRYPOINT ["hazmon"]
