"""``hazmon dashboards build|push|locations``: regenerate, install into Grafana, feed the
county map and the variables' names from the registry."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


def _build(args: argparse.Namespace) -> int:
    from hazmon.registry import load_registry
    from hazmon.settings import get_settings

    from dashboards.generate import generated_files, write_files

    settings = get_settings()
    directory = args.out or settings.dashboards_dir
    language = args.language or settings.language
    changed = write_files(directory, generated_files(load_registry(settings.registry_dir), settings, language))
    for path in changed:
        print(f"written {path}")
    print(f"{directory}: {len(changed)} file(s) changed")
    return 0


def _push(args: argparse.Namespace) -> int:
    from grafana_client.client import GrafanaException

    from hazmon.registry import load_registry
    from hazmon.settings import get_settings

    from dashboards.generate import dashboard_models
    from dashboards.provisioning import datasource_model
    from dashboards.push import GrafanaPusher
    from dashboards.text import Texts

    settings = get_settings()
    url, token = args.grafana_url or settings.grafana_url, args.token or settings.grafana_token
    if not url or not token:
        print("need --grafana-url and --token (or HAZMON_GRAFANA_URL and HAZMON_GRAFANA_TOKEN)")
        return 2
    language = args.language or settings.language
    texts = Texts(language)
    account = (settings.influx_username, settings.influx_password) if settings.influx_password else None
    datasource = datasource_model(texts, args.influx_url or settings.dashboards_influx_url, settings.influx_db, account)
    models = dashboard_models(load_registry(settings.registry_dir), settings, language)
    try:
        report = asyncio.run(GrafanaPusher(url, token).push(datasource, texts("folder"), models))
    except GrafanaException as exc:
        print(f"Grafana at {url} refused the push: {exc}")
        return 1
    print(f"created {len(report.created)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}")
    return 0


def _locations(args: argparse.Namespace) -> int:
    from hazmon.registry import load_registry
    from hazmon.settings import get_settings

    from dashboards.locations import write_locations

    settings = get_settings()
    count = asyncio.run(write_locations(load_registry(settings.registry_dir), settings.influx_url, settings.influx_db,
                                          settings.influx_headers))
    print(f"{count} enterprise(s) with their points' names written to {settings.influx_db}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dashboards", help="Grafana dashboards (县级总览, 报警处置台, …) as code")
    sub = parser.add_subparsers(dest="dashboards_command", required=True, metavar="ACTION")
    build = sub.add_parser("build", help="regenerate dashboard JSON and provisioning YAML")
    build.add_argument("--language", choices=("zh", "en"), help="operator text language (default: settings.language)")
    build.add_argument("--out", type=Path, help="output directory (default: settings.dashboards_dir)")
    build.set_defaults(handler=_build)
    push = sub.add_parser("push", help="install data source, folder and dashboards into a running Grafana")
    push.add_argument("--grafana-url", help="Grafana base URL (default: settings.grafana_url)")
    push.add_argument("--token", help="Grafana service account token (default: settings.grafana_token)")
    push.add_argument("--language", choices=("zh", "en"), help="operator text language (default: settings.language)")
    push.add_argument("--influx-url", help="InfluxDB URL as Grafana reaches it (default: settings.dashboards_influx_url)")
    push.set_defaults(handler=_push)
    locations = sub.add_parser("locations", help="write registry coordinates and names to InfluxDB (county map, variables)")
    locations.set_defaults(handler=_locations)

