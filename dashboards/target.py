"""The InfluxDB (InfluxQL) query of a panel, as a grafana-foundation-sdk data query.

The SDK ships no InfluxDB query type, so this supplies one: a raw InfluxQL query with its result
format and legend alias, against the provisioned data source :data:`DATASOURCE`.
"""

from __future__ import annotations

from typing import Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "hazmon-influxdb"
DATASOURCE = DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)
ResultFormat = Literal["time_series", "table"]


class InfluxQLQuery(cogvariants.Dataquery):
    """One raw InfluxQL target; ``to_json`` gives the shape Grafana's InfluxDB plugin saves."""

    def __init__(self, ref_id: str, query: str, result_format: ResultFormat, alias: str | None) -> None:
        self.ref_id = ref_id
        self.query = query
        self.result_format = result_format
        self.alias = alias

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "datasource": DATASOURCE.to_json(),
            "refId": self.ref_id,
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias:
            payload["alias"] = self.alias
        return payload


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """Builder of :class:`InfluxQLQuery`, so targets chain like the SDK's own queries."""

    def __init__(self, query: str, ref_id: str = "A") -> None:
        self._internal = InfluxQLQuery(ref_id, query, "time_series", None)

    def build(self) -> InfluxQLQuery:
        return self._internal

    def table(self) -> Self:
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> Self:
        self._internal.alias = alias
        return self
