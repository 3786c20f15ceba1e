# hazmon services (ingest, rules worker, alerting/API, recorder, one-shot set-up) for docker-compose.yml deployments.
# They run as user hazmon (uid 10001), never root. The directories compose mounts named volumes on are
# made here and owned by hazmon, so that a fresh volume starts writable for it (docs/operations.md).
FROM python:3.11-slim
# the daily report's PDF embeds a CJK font (setting desk_pdf_font: Noto Sans CJK, Debian's fonts-noto-cjk)
RUN apt-get update && apt-get install --no-install-recommends -y fonts-noto-cjk && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY hazmon ./hazmon
COPY hzctl ./hzctl
COPY ingest ./ingest
COPY stream_rules ./stream_rules
COPY alerting ./alerting
COPY recorder ./recorder
COPY device_sim ./device_sim
COPY dashboards ./dashboards
COPY uplink ./uplink
COPY prefecture ./prefecture
# the lock's exact versions (the ones the tests pass on) for whatever hazmon needs; its test tools stay out
RUN pip install --no-cache-dir --constraint requirements.lock .
COPY deploy/entrypoint.sh /usr/local/bin/hazmon-entrypoint
COPY deploy/ingest-instance.sh /usr/local/bin/hazmon-ingest-instance
COPY deploy/connected.py /usr/local/lib/hazmon/connected.py
ENV HAZMON_HOME=/var/lib/hazmon
# group 1883 is the broker's user's in eclipse-mosquitto: `stack broker-auth --group 1883` hands it the accounts
RUN groupadd --system --gid 1883 broker \
 && useradd --system --uid 10001 --user-group --groups broker --home-dir /var/lib/hazmon --no-create-home --shell /usr/sbin/nologin hazmon \
 && mkdir -p /var/lib/hazmon /broker-auth /out/provisioning /out/dashboards \
 && chown hazmon:hazmon /var/lib/hazmon /broker-auth /out/provisioning /out/dashboards
USER 10001:10001
ENTRYPOINT ["hazmon-entrypoint"]
