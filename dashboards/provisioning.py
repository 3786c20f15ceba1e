"""Grafana provisioning (file-based): the InfluxDB data source and the dashboard folder provider.

``docker-compose.yml`` mounts ``generated/provisioning`` at ``/etc/grafana/provisioning`` and
``generated/dashboards`` at :data:`DASHBOARDS_MOUNT`. With InfluxDB authentication the provisioned
data source logs in as ``influx_username`` and reads the password from the file Grafana finds it in
(``dashboards_influx_password_file``, a docker secret) through Grafana's ``$__file{…}`` expansion, so
no generated file holds the password.
"""

from __future__ import annotations

import yaml

from hazmon.settings import Settings

from dashboards.target import DATASOURCE_UID
from dashboards.text import Texts

DASHBOARDS_MOUNT = "/var/lib/grafana/dashboards"
FOLDER_UID = "hazmon"


def datasource_model(texts: Texts, influx_url: str, database: str,
                     account: tuple[str, str] | None = None) -> dict[str, object]:
    """The data source as both provisioning and Grafana's HTTP API describe it; ``account`` is the
    (user, password) it logs in to InfluxDB with, None without authentication."""
    model: dict[str, object] = {
        "name": texts("datasource"), "uid": DATASOURCE_UID, "type": "influxdb", "access": "proxy",
        "url": influx_url, "isDefault": True,
        "jsonData": {"dbName": database, "httpMode": "POST", "version": "InfluxQL", "timeInterval": "10s"}}
    if account is not None:
        model.update({"user": account[0], "secureJsonData": {"password": account[1]}})
    return model


def provisioned_account(settings: Settings) -> tuple[str, str] | None:
    """The provisioned data source's InfluxDB account: the password as a reference to Grafana's secret file."""
    if settings.dashboards_influx_password_file is None:
        return None
    return settings.influx_username, f"$__file{{{settings.dashboards_influx_password_file}}}"


def datasources_yaml(texts: Texts, settings: Settings) -> str:
    model = datasource_model(texts, settings.dashboards_influx_url, settings.influx_db, provisioned_account(settings))
    return _dump({"apiVersion": 1, "datasources": [{**model, "editable": False}]})


def dashboards_yaml(texts: Texts) -> str:
    provider = {"name": "hazmon", "orgId": 1, "folder": texts("folder"), "folderUid": FOLDER_UID, "type": "file",
                "disableDeletion": True, "allowUiUpdates": False, "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARDS_MOUNT}}
    return _dump({"apiVersion": 1, "providers": [provider]})


def _dump(document: dict[str, object]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=False)
