"""Grafana provisioning (file-based): the InfluxDB data source and the dashboard folder provider.

``docker-compose.yml`` mounts ``generated/provisioning`` at ``/etc/grafana/provisioning`` and
``generated/dashboards`` at :data:`DASHBOARDS_MOUNT`.
"""

from __future__ import annotations

import yaml

from dashboards.target import DATASOURCE_UID
from dashboards.text import Texts

DASHBOARDS_MOUNT = "/var/lib/grafana/dashboards"
FOLDER_UID = "hazmon"


def datasource_model(texts: Texts, influx_url: str, database: str) -> dict[str, object]:
    """The data source as both provisioning and Grafana's HTTP API describe it."""
    return {"name": texts("datasource"), "uid": DATASOURCE_UID, "type": "influxdb", "access": "proxy",
            "url": influx_url, "isDefault": True,
            "jsonData": {"dbName": database, "httpMode": "POST", "version": "InfluxQL", "timeInterval": "10s"}}


def datasources_yaml(texts: Texts, influx_url: str, database: str) -> str:
    model = datasource_model(texts, influx_url, database)
    return _dump({"apiVersion": 1, "datasources": [{**model, "editable": False}]})


def dashboards_yaml(texts: Texts) -> str:
    provider = {"name": "hazmon", "orgId": 1, "folder": texts("folder"), "folderUid": FOLDER_UID, "type": "file",
                "disableDeletion": True, "allowUiUpdates": False, "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARDS_MOUNT}}
    return _dump({"apiVersion": 1, "providers": [provider]})


def _dump(document: dict[str, object]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=False)
