"""Helpers of the dashboards tests."""

from __future__ import annotations


def all_panels(model: dict) -> list[dict]:
    """Every panel of a dashboard, rows' children included."""
    panels = []
    for panel in model.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels
