"""风险一张图 (issue 17) in headless Chromium on a real alerting service: the county's boundary, shipped with the
registry (``county.geojson`` of the sample registry), drawn around the enterprises with no internet, each
enterprise's spot on top where it can be clicked, even two neighbours 400 m apart on the county-wide map.

The screenshot of the map goes to ``docs/desk/desk-map.png``."""

from __future__ import annotations

import asyncio

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from hazmon.registry import Registry

from testbed.alerting import CHEM, FIRE, MINE
from tests.alerting.test_desk import _shot, _signed_in_with_two_alarms, _until, desk  # noqa: F401

pytestmark = pytest.mark.servers

# Where the page draws the boundary and each spot, and what the browser finds at each spot's centre.
LAYOUT = """
const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
const outline = document.getElementById('county-boundary');
const spots = {};
for (const a of document.querySelectorAll('a.enterprise')) {
  const circle = [...a.querySelectorAll('circle')].find(c => c.getAttribute('r') === '13');
  const r = circle.getBoundingClientRect();
  const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
  const hit = document.elementFromPoint(x, y);
  spots[a.dataset.enterprise] = {x, y, hit: hit && hit.closest('a.enterprise') ? hit.closest('a.enterprise').dataset.enterprise : null,
                                 inside: outline.isPointInFill(new DOMPoint(+circle.getAttribute('cx'), +circle.getAttribute('cy')))};
}
return {outline: outline && box(outline.getBoundingClientRect()), name: outline && outline.dataset.name,
        caption: document.getElementById('map-caption').textContent, spots};
"""


async def test_the_county_boundary_is_drawn_around_the_enterprises(start_service, produce, names, tokens, desk,  # noqa: F811
                                                                   browser: WebDriver, registry: Registry) -> None:
    assert registry.boundary is not None                # the sample registry ships county.geojson
    async with _signed_in_with_two_alarms(start_service, produce, names, tokens, desk, browser) as base:
        await asyncio.to_thread(browser.get, f"{base}/desk/map")
        await asyncio.to_thread(_until, browser, lambda b: b.find_elements(By.CSS_SELECTOR, "a.enterprise"))
        layout = await asyncio.to_thread(browser.execute_script, LAYOUT)
        assert layout["outline"] is not None, "no county boundary on the map"
        assert layout["name"] == "永顺县" and layout["caption"] == "浅色区域为永顺县行政区域（随企业登记资料提供）"
        outline = layout["outline"]
        assert outline["right"] - outline["left"] > 300 and outline["bottom"] - outline["top"] > 300
        assert set(layout["spots"]) == {CHEM, MINE, FIRE}
        for enterprise, spot in layout["spots"].items():
            assert spot["inside"], f"{enterprise} drawn outside the county"
            assert spot["hit"] == enterprise, f"{enterprise}'s spot is covered by {spot['hit']}"
        await asyncio.to_thread(_shot, browser, "desk-map.png")
        # the hospital, 400 m from the chemical plant, is reached by clicking its own spot
        await asyncio.to_thread(browser.execute_script, "document.elementFromPoint(arguments[0], arguments[1])"
                                ".closest('a.enterprise').dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                                layout["spots"][FIRE]["x"], layout["spots"][FIRE]["y"])
        await asyncio.to_thread(_until, browser, lambda b: b.current_url.endswith(f"/desk/enterprises/{FIRE}"))
        assert "永顺县人民医院" in await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "h1").text)
