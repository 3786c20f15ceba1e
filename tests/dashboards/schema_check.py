"""Validating dashboard JSON against Grafana's published schema, ``@grafana/schema`` (npm), with tsc.

Grafana's server cannot run here; its dashboard schema is published as TypeScript types generated
from the CUE kinds (``Dashboard``, ``Panel``, ``AnnotationQuery`` …). Each dashboard is written as
an object literal of type ``Dashboard`` and type-checked, so a missing required field, a wrong type
or a misspelt key (excess property) is an error. The one datasource-specific part, the annotation
query's target, is typed the way Grafana's own code types it: ``AnnotationQuery<InfluxQuery>`` with
the InfluxDB plugin's query fields. JSON holds an enum's value, not the TypeScript enum, so the
types are checked through ``Json<T>``, which turns each string enum into the union of its values.

Panel ``options`` and ``fieldConfig.defaults.custom`` are ``Record<string, unknown>`` in the
dashboard schema; the panel plugins' own schemas (``raw/composable/<plugin>/panelcfg``, also part
of ``@grafana/schema``) define them, so each panel's options, custom field config and ``custom.*``
override values are checked against its plugin's ``Options`` and ``FieldConfig`` as well.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

SCHEMA_PACKAGE = "@grafana/schema@11.6.0"   # the Grafana version docker-compose.yml runs
TYPESCRIPT_PACKAGE = "typescript@5.6.3"

PRELUDE = """import type { AnnotationQuery, Dashboard, DataQuery } from '@grafana/schema';
interface InfluxQuery extends DataQuery {
  query?: string; rawQuery?: boolean; resultFormat?: 'time_series' | 'table' | 'logs'; alias?: string;
  fromAnnotations?: boolean; textColumn?: string; tagsColumn?: string; timeEndColumn?: string; titleColumn?: string;
}
type Json<T> = T extends string ? `${T}` : T extends number ? number : T extends Array<infer U> ? Array<Json<U>>
  : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
type InfluxDashboard = Json<Omit<Dashboard, 'annotations'> & { annotations?: { list?: Array<AnnotationQuery<InfluxQuery>> } }>;
"""


PANEL_SCHEMAS = {"timeseries": "timeseries/panelcfg/x/TimeSeriesPanelCfg", "table": "table/panelcfg/x/TablePanelCfg",
                 "stat": "stat/panelcfg/x/StatPanelCfg", "geomap": "geomap/panelcfg/x/GeomapPanelCfg",
                 "barchart": "barchart/panelcfg/x/BarChartPanelCfg"}
_COMPOSABLE = "node_modules/@grafana/schema/dist/esm/raw/composable"


def _literal(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def panel_checks(directory: Path, model: dict) -> str:
    """TypeScript declarations typing each panel's plugin-defined parts with its plugin's schema."""
    lines = [f"import type * as {name} from '@grafana/schema/dist/esm/raw/composable/{path}_types.gen.js';"
             for name, path in PANEL_SCHEMAS.items()]
    for index, panel in enumerate(model.get("panels", [])):
        plugin = panel["type"]
        assert plugin in PANEL_SCHEMAS, f"panel type {plugin} has no plugin schema to check against"
        lines.append(f"export const options_{index}: Json<{plugin}.Options> = {_literal(panel.get('options', {}))};")
        has_field_config = "export interface FieldConfig" in (
            directory / _COMPOSABLE / f"{PANEL_SCHEMAS[plugin]}_types.gen.d.ts").read_text()
        field_config = panel.get("fieldConfig", {})
        custom = field_config.get("defaults", {}).get("custom")
        if custom is not None:
            assert has_field_config, f"panel {index} ({plugin}) sets custom field config its plugin does not define"
            lines.append(f"export const custom_{index}: Json<{plugin}.FieldConfig> = {_literal(custom)};")
        for o, override in enumerate(field_config.get("overrides", [])):
            for p, prop in enumerate(override["properties"]):
                if prop["id"].startswith("custom."):
                    assert has_field_config, f"panel {index} ({plugin}) overrides {prop['id']} its plugin does not define"
                    key = prop["id"].removeprefix("custom.")
                    lines.append(f"export const override_{index}_{o}_{p}: Json<NonNullable<{plugin}.FieldConfig['{key}']>> "
                                 f"= {_literal(prop['value'])};")
    return "\n".join(lines)


def install_schema(directory: Path) -> Path:
    """Install the schema package and the TypeScript compiler into ``directory`` (once); returns tsc."""
    tsc = directory / "node_modules" / ".bin" / "tsc"
    if not tsc.exists() or not (directory / "node_modules" / "@grafana" / "schema").is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "package.json").write_text('{"name": "hazmon-dashboard-schema", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", SCHEMA_PACKAGE, TYPESCRIPT_PACKAGE],
                       cwd=directory, check=True, capture_output=True, timeout=300)
    return tsc


def check_dashboards(directory: Path, models: dict[str, dict]) -> str:
    """Type-check every model against ``Dashboard``; returns tsc's output ('' when all are valid)."""
    tsc = install_schema(directory)
    work = Path(tempfile.mkdtemp(prefix="check-", dir=directory))   # below node_modules' directory: imports resolve
    sources = []
    for name, model in sorted(models.items()):
        source = work / f"{name}.ts"
        source.write_text(f"{PRELUDE}\nexport const dashboard: InfluxDashboard = {_literal(model)};\n"
                          f"{panel_checks(directory, model)}\n", encoding="utf-8")
        sources.append(source.name)
    result = subprocess.run([str(tsc), "--noEmit", "--strict", "--skipLibCheck", "--target", "es2020",
                             "--module", "nodenext", "--moduleResolution", "nodenext", *sources],
                            cwd=work, capture_output=True, text=True, timeout=300)
    shutil.rmtree(work)
    return result.stdout + result.stderr if result.returncode else ""
