"""The recorder: every InfluxDB write of the platform. Readings, ingest counters, pipeline metrics and the
lines alerting computes (alarms, risk colours: ``hazmon.series.v1``), from Kafka into InfluxDB, with the
retention policies and downsampling of docs/timeseries.md."""
