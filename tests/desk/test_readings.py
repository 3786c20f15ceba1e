"""The enterprise view's InfluxDB reads when InfluxDB cannot answer: one exception the pages turn into
"读数暂不可用", whether nothing listens or the real InfluxDB refuses the query."""

from __future__ import annotations

import pytest

from hazmon.settings import Settings

from alerting.desk.readings import InfluxUnavailable, Readings

CHEM = "91433127MA4CHEM001"


async def test_nothing_listening() -> None:
    with pytest.raises(InfluxUnavailable):
        await Readings("http://127.0.0.1:9", {}, "hazmon").last_readings(CHEM)


@pytest.mark.servers
async def test_the_real_influxdb_refuses_an_unknown_database(influxdb: Settings) -> None:
    readings = Readings(influxdb.influx_url, influxdb.influx_headers, "no_such_database_of_the_desk")
    with pytest.raises(InfluxUnavailable, match="database not found"):
        await readings.refusals(CHEM, 0, 1)
