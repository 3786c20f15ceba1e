"""Typed settings for every hazmon process, in one place.

Every value can be set by an environment variable ``HAZMON_<NAME>`` (for example
``HAZMON_REGISTRY_DIR``, ``HAZMON_KAFKA_BOOTSTRAP``) or a ``.env`` file in the working directory.
The same names are used by the local stack, the tests and ``docker-compose.yml``.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def _project_root() -> Path:
    """The checkout this package runs from, or the working directory for an installed package."""
    candidate = PACKAGE_DIR.parent
    return candidate if (candidate / "pyproject.toml").is_file() else Path.cwd()


class Settings(BaseSettings):
    """All configuration of hazmon; read once per process with :func:`get_settings`."""

    model_config = SettingsConfigDict(env_prefix="HAZMON_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=lambda: _project_root() / ".hazmon",
                       description="Project-local directory for server data, logs, PID files, caches and secrets.")
    registry_dir: Path = Field(default=PACKAGE_DIR / "sample_registry",
                               description="Directory of per-enterprise registry YAML files (data standard §7).")
    secrets_file: Path | None = Field(default=None, description="Secrets file; default HOME/secrets.json.")
    cache_dir: Path | None = Field(default=None, description="Downloaded and built servers; default HOME/cache.")
    language: Literal["zh", "en"] = "zh"

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_platform_user: str = "hazmon-platform"
    mqtt_tls_port: int = Field(default=8883, description="Mosquitto's TLS listener, with a server certificate from the installation's CA (hzctl.stack.certs, HOME/tls).")
    mqtt_tls_names: list[str] = Field(default_factory=list, description="DNS names and IP addresses devices reach the broker by, in its server certificate besides localhost, 127.0.0.1, mqtt_host and alerting_public_url's host.")
    mqtt_session_expiry_max_h: int = Field(default=24, ge=1, description="Longest any MQTT session (an enterprise's parked ones included) outlives its connection: Mosquitto's persistent_client_expiration; at least ingest_session_expiry_s.")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka's brokers, comma-separated; the local stack runs one node per address (a cluster when several, hzctl.stack.kafka).")
    kafka_controller_port: int = Field(default=9093, description="The local stack's KRaft controller port (node n of a cluster: this + 2(n-1)).")
    kafka_partitions: int = 6
    kafka_replication_factor: int = Field(default=1, ge=1, description="Replicas of every platform topic and of the broker's own (3 on a three-broker cluster).")
    kafka_min_insync_replicas: int = Field(default=1, ge=1, description="Replicas that must have a write before Kafka acknowledges it (acks=all), per platform topic: 2 on a three-broker cluster, at most kafka_replication_factor.")
    kafka_input_retention_days: float = Field(default=7.0, gt=0, description="How long readings, events and statuses stay in Kafka (replay, upward store and forward).")
    kafka_deadletter_retention_days: float = Field(default=30.0, gt=0, description="How long refused messages stay on the dead-letter topic.")
    kafka_topic_suffix: str = Field(default="", pattern=r"^[A-Za-z0-9._-]*$", description="Appended to every platform Kafka topic (hazmon.topics.PlatformTopics): empty in production; tests and side-by-side runs on one Kafka use their own.")
    kafka_heap_mb: int = 512

    influx_url: str = "http://127.0.0.1:8086"
    influx_db: str = "hazmon"
    influx_username: str = Field(default="hazmon", description="InfluxDB account of every hazmon client (an admin: it creates the database and its policies); used only with influx_password.")
    influx_password: str | None = Field(default=None, description="InfluxDB password; set, the stack runs InfluxDB with authentication and creates the account, and every client sends it; unset, no authentication (the local stack's default, docs/operations.md).")
    influx_raw_retention_days: int = Field(default=90, ge=1, description="How long raw readings stay in InfluxDB (retention policy `raw`); their aggregates and alarms stay longer (docs/timeseries.md).")
    influx_minute_retention_days: int = Field(default=1095, ge=0, description="How long each point's 1-minute mean/min/max/sum/count stay in InfluxDB (retention policy `minute`); 0: for good.")
    influx_hourly_retention_days: int = Field(default=0, ge=0, description="How long each point's 1-hour mean/min/max/sum/count stay in InfluxDB (retention policy `hour`); 0: for good.")

    api_host: str = "127.0.0.1"
    api_port: int = 8400
    grafana_url: str | None = None
    grafana_token: str | None = None

    stack_start_timeout_s: float = 90.0

    # --- ingest (issue 3) ---
    ingest_share_group: str | None = Field(default=None, description="MQTT v5 shared-subscription group: adapter processes of one group split the load; default the installation's secret group (secrets file), which no enterprise account can join unknowingly.")
    ingest_client_id: str | None = Field(default=None, description="MQTT client id of this adapter process (its persistent session); default the secret client-id prefix of the secrets file and ingest_instance.")
    ingest_instance: int = Field(default=1, ge=1, description="Number of this adapter process among those sharing the load: one persistent session each.")
    ingest_enterprises: list[str] = Field(default_factory=list, description="Subscribe only to these enterprises' topics; empty: all enterprises.")
    ingest_receive_maximum: int = Field(default=2000, ge=1, le=65535, description="Unacknowledged MQTT messages the broker may send at once: the bounded in-flight buffer.")
    ingest_max_unacked_bytes: int = Field(default=32 * 1024 * 1024, ge=1, description="Payload bytes received and not yet acknowledged; past them the adapter reads no further (2000 messages of 256 KiB would be 500 MiB).")
    ingest_session_shards: int = Field(default=0, ge=0, description="Broker sessions per adapter process: 0 one per enterprise (each enterprise's messages wait in a broker queue of its own, read fairly, and a session over its enterprise's rate is not read for a while); N spreads the enterprises over N sessions by a stable hash (thousands of enterprises), where an enterprise over its rate is refused (rate_limited) instead, not to pause its neighbours.")
    ingest_session_max_unacked: int = Field(default=200, ge=1, le=65535, description="Unacknowledged MQTT messages one broker session may hold (its Receive Maximum); ingest_receive_maximum bounds them all together.")
    ingest_session_max_unacked_bytes: int = Field(default=4 * 1024 * 1024, ge=1, description="Payload bytes one broker session may hold unacknowledged; ingest_max_unacked_bytes bounds them all together.")
    ingest_batch_messages: int = Field(default=1000, ge=1, description="Most MQTT messages behind one Kafka flush.")
    ingest_flush_interval_s: float = Field(default=0.025, ge=0, description="Shortest time from one Kafka flush's start to the next, the pace of a quiet platform: a device's readings of that time go in one record, not one per flush (issue #18: records of a few readings cost the rules, the recorder and Kafka more per reading than ingest saves); adds at most this much to the MQTT → Kafka latency.")
    ingest_flush_interval_max_s: float = Field(default=0.1, ge=0, description="Longest time from one flush's start to the next, the pace at ingest_flush_busy_rate messages/s and above; between, the interval grows with the message rate of about the last second (ingest.adapter.flush_interval_s). A batch that cannot grow (one of its sessions at its Receive Maximum, or ingest_batch_messages reached) goes at once.")
    ingest_flush_busy_rate: float = Field(default=1000.0, gt=0, description="Messages/s from which flushes are ingest_flush_interval_max_s apart (10 000 readings/s at 10 a message).")
    ingest_session_expiry_s: int = Field(default=86400, ge=0, description="How long the broker keeps the adapter's session (and queues its messages) while it is away.")
    ingest_stats_interval_s: float = Field(default=10.0, gt=0, description="Period of the counters published to the ingest-stats topic.")
    ingest_registry_poll_s: float = Field(default=5.0, gt=0, description="How often the registry directory is checked for changes.")
    ingest_retry_s: float = Field(default=1.0, gt=0, description="Pause before a Kafka flush that failed is tried again.")
    ingest_drain_timeout_s: float = Field(default=30.0, gt=0, description="On SIGTERM, longest wait for in-flight messages to reach Kafka; the rest stay unacknowledged and come again.")
    ingest_max_error_replies: int = Field(default=1000, ge=0, description="Most answers on errors topics waiting for their PUBACK; more are dropped (and logged).")
    ingest_max_age_s: int = Field(default=7 * 86400, gt=0, description="Readings (and events, statuses) older than this are refused as bad_ts (data standard §6 rev. 1.1).")
    ingest_event_text_max: int = Field(default=1000, ge=0, description="An event's text is cut to this many characters (the event itself is kept).")
    ingest_enterprise_max_msgs_s: float = Field(default=2000.0, ge=0, description="Messages per second one enterprise may publish; more are refused as rate_limited. 0: no limit.")
    ingest_enterprise_max_bytes_s: int = Field(default=1024 * 1024, ge=0, description="Payload bytes per second one enterprise may publish (~15 times a 1 000-reading/s enterprise's need; 250 KB messages of 1 000 bad readings cost ~4 ms of CPU each, so 1 MiB/s of them is ~2 % of a core, 16 MiB/s was ~30 %); more are refused as rate_limited. 0: no limit.")
    ingest_device_max_msgs_s: float = Field(default=200.0, ge=0, description="Messages per second one registered device may publish; more are refused as rate_limited. 0: no limit.")
    ingest_rate_burst_s: float = Field(default=60.0, gt=0, description="The rate limits (messages, bytes, answers) let this many seconds' worth through at once: what the broker queued while the adapter was away arrives in a burst.")
    ingest_enterprise_max_answers_s: float = Field(default=5.0, gt=0, description="Answers per second on one enterprise's errors topics, and log lines about its refusals; more are neither sent nor logged (the refusals are still kept and counted).")

    # --- stream_rules (issue 5) ---
    rules_app_id: str = Field(default="hazmon-rules", description="Faust app id: consumer group, changelog and transactional id prefix.")
    rules_batch: int = Field(default=5000, gt=0, description="Most records the worker takes from a stream at once.")
    rules_batch_s: float = Field(default=0.05, gt=0, description="Longest wait for a batch of readings (statuses, deadman ticks) to fill; an alarm-completing reading waits up to this before the rules see it.")
    rules_event_batch_s: float = Field(default=0.02, gt=0, description="Longest wait for a batch of controller events (fire goes out at once).")
    rules_tick_s: float = Field(default=5.0, gt=0, description="Interval of the processing-time deadman that notices silent devices.")
    rules_lateness_s: float = Field(default=60.0, ge=0, description="How far one partition's records may lag another's: silence is judged this much behind the receiving clock.")
    rules_platform_outage_s: float = Field(default=120.0, gt=0, description="Nothing received from anyone for this long (at least 3 × the shortest period) is one platform alarm, not every device offline (§8).")
    rules_registry_poll_s: float = Field(default=5.0, gt=0, description="How often the worker checks the registry directory for changes.")
    rules_exactly_once: bool = Field(default=True, description="Kafka transactions: outputs, table changelog and offsets commit together.")
    rules_commit_s: float = Field(default=3.0, gt=0, description="Faust commit interval (a transaction per interval with exactly-once). Alarm transitions commit at once, not on it; it sets how often each changed enterprise's whole state goes to the changelog, how much input a crash replays and how long a dead letter waits to be visible (docs/stream_rules.md).")
    rules_commit_timeout_s: float = Field(default=30.0, gt=0, description="A commit (with the batch before it) taking longer is stuck: the worker ends and a fresh one resumes from the last commit.")
    rules_stall_s: float = Field(default=60.0, gt=0, description="An input partition with records waiting that the worker has not read for this long ends the worker, and a fresh one resumes (stream_rules.stall_watch).")
    rules_metrics_s: float = Field(default=10.0, gt=0, description="Period of the worker's pipeline metrics (input lag per partition, batch latency) on hazmon.pipeline-metrics.v1 (stream_rules.metrics).")
    rules_session_timeout_s: float = Field(default=6.0, gt=0, description="A dead worker's partitions move to the others after this.")
    rules_heartbeat_s: float = Field(default=1.5, gt=0, description="Consumer heartbeat interval.")
    rules_fetch_wait_ms: int = Field(default=100, gt=0, le=1500, description="Longest the broker holds the worker's fetch for data (stream_rules.fetch_wait).")
    rules_datadir: Path | None = Field(default=None, description="Faust data directory; default HOME/rules/APP_ID.")

    # --- alerting (issue 6) ---
    alerting_group: str = Field(default="hazmon-alerting", description="Kafka consumer groups of the recorder's InfluxDB writers (this name plus -readings, -stats, -metrics, -series; the alerting_ name kept so that an upgrade resumes their offsets, docs/recorder.md).")
    alerting_webhooks: list[str] = Field(default_factory=list, description="Generic JSON webhook URLs for alarm notifications.")
    alerting_dingtalk_urls: list[str] = Field(default_factory=list, description="DingTalk robot webhook URLs.")
    alerting_wecom_urls: list[str] = Field(default_factory=list, description="WeCom (企业微信) robot webhook URLs.")
    alerting_robot_msgtype: Literal["markdown", "text"] = Field(default="markdown", description="DingTalk/WeCom robot message type.")
    alerting_channels: list[dict[str, str | int]] = Field(default_factory=list, description=(
        "Further notification channels as JSON objects {format, url, min_tier, secret}: format webhook, dingtalk_markdown, "
        "dingtalk_text, wecom_markdown or wecom_text; min_tier 0 every alarm, 1 escalations to the county and above, "
        "2 escalations to the prefecture (州) only; secret (optional, DingTalk only) the robot's signing secret (加签)."))
    alerting_duty_mobiles: dict[int, list[str]] = Field(default_factory=dict, description=(
        'Mobiles of the people on duty per escalation tier, @mentioned on DingTalk and WeCom robots by that tier\'s escalation steps: '
        '{"1": [county duty desk], "2": [prefecture]}.'))
    alerting_group_window_s: float = Field(default=10.0, ge=0, description="Storm control: one enterprise's alarms within this window go out as one message.")
    alerting_retry_s: tuple[float, ...] = Field(default=(1.0, 5.0, 30.0), description="Back-off before each notification retry, then the last step again until the receiver takes it (a refusal for good is dead-lettered).")
    alerting_notify_queue_max: int = Field(default=10_000, gt=0, description=(
        "Notifications waiting in memory per channel lane (a channel down for long); beyond it a new one waits in the ledger's outbox on disk until the lane has room."))
    alerting_deadletter_file: Path | None = Field(default=None, description="Undeliverable notifications (JSON lines); default HOME/alerting/deadletter.jsonl.")
    alerting_escalate_county_s: float = Field(default=300.0, gt=0, description="Unacknowledged second-level/red alarm → county duty desk.")
    alerting_escalate_prefecture_s: float = Field(default=900.0, gt=0, description="Unacknowledged → prefecture (州).")
    alerting_influx_batch: int = Field(default=5000, gt=0, description="Points per InfluxDB write (the recorder).")
    alerting_influx_flush_s: float = Field(default=0.5, gt=0, description="Longest wait before the recorder writes a partial batch of its own metrics.")
    alerting_influx_queue_max: int = Field(default=100_000, gt=0, description=(
        "The recorder's own metrics lines kept in memory while InfluxDB is down (docs/recorder.md); beyond it the oldest are dropped, logged."))
    alerting_registry_poll_s: float = Field(default=5.0, gt=0, description=(
        "How often alerting and the recorder check the registry directory for changes (names in texts, API tokens of removed enterprises; the recorder: new points' readings)."))
    desk_file: Path | None = Field(default=None, description="The duty desk's own records (SQLite): officer accounts, sessions, handovers; default HOME/alerting/desk.sqlite3.")
    desk_session_h: float = Field(default=12.0, gt=0, le=24 * 7, description="How long a desk sign-in lasts (a shift and its handover); the cookie and the server's record end together.")
    desk_pdf_font: Path = Field(default=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), description=(
        "The CJK font embedded in the 值班日报 PDF file (TrueType/OpenType, or a .ttc collection); default Debian's fonts-noto-cjk."))
    desk_assessment_s: float = Field(default=300.0, gt=0, le=3600, description="Period of the 考核指标 written to InfluxDB (measurement assessment, for Grafana): the Beijing day so far, and the day before once it has ended.")
    desk_pdf_font_index: int = Field(default=2, ge=0, description="The face of desk_pdf_font when it is a collection (.ttc): Noto Sans CJK's 2 is Simplified Chinese (SC).")
    alerting_ledger_file: Path | None = Field(default=None, description="The alarm ledger (SQLite); default HOME/alerting/ledger.sqlite3.")
    alerting_risk_snapshot_s: float = Field(default=300.0, gt=0, le=600, description=(
        "Every enterprise's and pond's colour and every open or 待反馈 alarm written again this often, so dashboards find them however old (at most 600: the dashboards read the last 20 minutes)."))
    alerting_public_url: str | None = Field(default=None, description=(
        "Base URL of the API for links in notifications; default http://api_host:api_port; required when api_host is 0.0.0.0 or ::."))
    alerting_metrics_s: float = Field(default=10.0, gt=0, description="Period of alerting's and the recorder's own pipeline metrics (input lag per partition; the recorder's InfluxDB queue, points per second, lines set aside), written to InfluxDB by the recorder.")

    # --- uplink (issue 19): the county's reports to the upper platform (data standard §11, docs/uplink.md) ---
    uplink_county_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="This county's id on the upper platform (§11 county_id): its topics hazmon/v1/up|down/{county_id}/…; required by `hazmon uplink run`.")
    uplink_host: str = Field(default="127.0.0.1", description="The upper platform's MQTT broker.")
    uplink_port: int = Field(default=1883, description="The upper platform's MQTT port.")
    uplink_username: str | None = Field(default=None, description="The county's account on the upper broker; default uplink_county_id.")
    uplink_password: str | None = Field(default=None, description="The county's password on the upper broker (given by the upper platform).")
    uplink_tls_ca: Path | None = Field(default=None, description="CA certificate of the upper broker (PEM); set, the uplink connects over TLS and checks the broker's certificate against it and uplink_host.")
    uplink_client_id: str | None = Field(default=None, description="MQTT client id of the uplink (its persistent session, where down actions wait); default hazmon-uplink-{county_id}.")
    uplink_session_expiry_s: int = Field(default=7 * 86400, ge=0, description="How long the upper broker keeps the uplink's session (and the down actions for it) while the link is down.")
    uplink_group: str = Field(default="hazmon-uplink", description="Kafka consumer group of the uplink: its committed offsets are what the upper broker acknowledged.")
    uplink_max_inflight: int = Field(default=500, ge=1, le=65535, description="Messages published to the upper broker and not yet acknowledged (PUBACK), at most: one batch of records.")
    uplink_publish_timeout_s: float = Field(default=10.0, gt=0, description="A PUBACK not received within this ends the connection; the batch is sent again on the next.")
    uplink_retry_s: float = Field(default=2.0, gt=0, description="Pause before the uplink connects again after the upper link failed.")
    uplink_heartbeat_s: float = Field(default=60.0, gt=0, description="Period of the heartbeat to the upper platform (§11: 60 s).")
    uplink_readings_types: list[str] = Field(default_factory=list, description="Point types (§7) whose readings go up (§11 readings); empty: none.")
    uplink_readings_interval_s: float = Field(default=0.0, ge=0, description="At most one reading per point per this many seconds goes up (device time); 0: every reading.")

    # --- prefecture (issue 19): the upper side, a hazmon serving the prefecture's view of its counties (docs/uplink.md) ---
    prefecture_counties: dict[str, str] = Field(default_factory=dict, description="The counties reporting to this prefecture: county id (§11 county_id) → its name, as officers see it; each gets an account on the prefecture's broker.")
    prefecture_broker_host: str = Field(default="127.0.0.1", description="The prefecture's broker the counties publish to (hzctl.stack.upper_broker), as `hazmon prefecture run` reaches it.")
    prefecture_broker_port: int = Field(default=1884, description="Its port.")
    prefecture_broker_tls_ca: Path | None = Field(default=None, description="CA certificate of the prefecture's broker (PEM) when it listens with TLS only.")
    prefecture_platform_user: str = Field(default="prefecture-platform", description="The prefecture platform's own account on its broker (reads every up topic, writes the down topics).")
    prefecture_platform_password: str | None = Field(default=None, description="Its password.")
    prefecture_client_id: str = Field(default="hazmon-prefecture", description="MQTT client id of the prefecture's ingest (its persistent session, where the counties' messages wait); the down sender uses it with -down.")
    prefecture_session_expiry_s: int = Field(default=7 * 86400, ge=0, description="How long the broker keeps the ingest's session (and the counties' messages for it) while it is away.")
    prefecture_batch: int = Field(default=500, ge=1, le=65535, description="Most up messages recorded in one transaction (and unacknowledged at once: the session's Receive Maximum).")
    prefecture_retry_s: float = Field(default=1.0, gt=0, description="Pause before the prefecture connects to its broker again after a failure (of the broker, InfluxDB or the record).")
    prefecture_record_file: Path | None = Field(default=None, description="The prefecture's record of the counties' alarms, versions, heartbeats and its officers' actions (SQLite); default HOME/prefecture/record.sqlite3.")
    prefecture_api_host: str = Field(default="127.0.0.1", description="The prefecture API's address.")
    prefecture_api_port: int = Field(default=8410, description="The prefecture API's port.")
    prefecture_officer_tokens: dict[str, str] = Field(default_factory=dict, description="The prefecture's officers: name (as the county's record will show it, prefecture/<name>) → bearer token of the prefecture API.")
    prefecture_public_url: str | None = Field(default=None, description="The prefecture desk's address as its officers reach it (behind a TLS proxy: https://…, which makes the desk's session cookie Secure); default http://prefecture_api_host:prefecture_api_port.")

    # --- device_sim (issue 4) ---
    sim_backoff_s: float = Field(default=0.5, gt=0, description="First pause before a simulated device reconnects; doubles per failure.")
    sim_backoff_max_s: float = Field(default=30.0, gt=0, description="Longest pause between a simulated device's reconnect attempts.")
    sim_max_inflight: int = Field(default=100, ge=1, description="QoS 1 messages a simulated device may have unacknowledged at once.")
    sim_progress_s: float = Field(default=1.0, gt=0, description="Interval of the live progress line of `hazmon sim run` and `sim load`.")

    # --- dashboards (issue 7) ---
    dashboards_dir: Path = Field(default=PACKAGE_DIR.parent / "dashboards" / "generated",
                                 description="Where `hazmon dashboards build` writes dashboard JSON and provisioning YAML.")
    dashboards_influx_url: str = Field(default="http://influxdb:8086",
                                       description="InfluxDB URL as Grafana reaches it (the provisioned data source).")
    dashboards_influx_password_file: str | None = Field(default=None, description="Where Grafana finds influx_password (a docker secret in its container): the provisioned data source reads it with $__file{…}, so no provisioning file holds the password.")
    dashboards_api_url: str | None = Field(default=None, description="Base URL of the alarm pages linked from the alarm desk; default alerting_public_url, else http://api_host:api_port.")

    @property
    def secrets_path(self) -> Path:
        return self.secrets_file or self.home / "secrets.json"

    @property
    def prefecture_record_path(self) -> Path:
        return self.prefecture_record_file or self.home / "prefecture" / "record.sqlite3"

    @property
    def desk_path(self) -> Path:
        """The duty desk's SQLite file: officer accounts, sessions, handovers (local state, in a backup)."""
        return self.desk_file or self.home / "alerting" / "desk.sqlite3"

    @property
    def ledger_path(self) -> Path:
        """The alarm ledger (SQLite): derived from the alarm topics, rebuilt from them when absent."""
        return self.alerting_ledger_file or self.home / "alerting" / "ledger.sqlite3"

    @property
    def cache_path(self) -> Path:
        return self.cache_dir or self.home / "cache"

    @property
    def kafka_port(self) -> int:
        """The first broker's port."""
        return int(self.kafka_bootstrap.split(",", 1)[0].rsplit(":", 1)[1])

    @property
    def influx_headers(self) -> dict[str, str]:
        """HTTP headers of every request to InfluxDB: basic authentication when influx_password is set."""
        if self.influx_password is None:
            return {}
        credentials = base64.b64encode(f"{self.influx_username}:{self.influx_password}".encode()).decode()
        return {"Authorization": f"Basic {credentials}"}

    @property
    def influx_port(self) -> int:
        return int(self.influx_url.rsplit(":", 1)[1].split("/", 1)[0])


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
