"""Validating dashboard JSON against Grafana's published schema, ``@grafana/schema`` (npm), with tsc.

Grafana's server cannot run here; its dashboard schema is published as TypeScript types generated
from the CUE kinds (``Dashboard``, ``Panel``, ``AnnotationQuery`` …). Each dashboard is written as
an object literal of type ``Dashboard`` and type-checked, so a missing required field, a wrong type
or a misspelt key (excess property) is an error. The one datasource-specific part, the annotation
query's target, is typed the way Grafana's own code types it: ``AnnotationQuery<InfluxQuery>`` with
the InfluxDB plugin's query fields. JSON holds an enum's value, not the TypeScript enum, so the
types are checked through ``Json<T>``, which turns each string enum into the union of its values.
"""

from __future__ import annotations

import json
import subprocess
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
    sources = []
    for name, model in sorted(models.items()):
        source = directory / f"{name}.ts"
        source.write_text(f"{PRELUDE}\nexport const dashboard: InfluxDashboard = {json.dumps(model, ensure_ascii=False, indent=1)};\n",
                          encoding="utf-8")
        sources.append(source.name)
    result = subprocess.run([str(tsc), "--noEmit", "--strict", "--skipLibCheck", "--target", "es2020",
                             "--module", "nodenext", "--moduleResolution", "nodenext", *sources],
                            cwd=directory, capture_output=True, text=True, timeout=300)
    return result.stdout + result.stderr if result.returncode else ""
