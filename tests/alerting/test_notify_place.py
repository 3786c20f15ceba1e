"""§10 in notifications: the place a notification line names ("[报警] <message> (<place>, 一级报警)") is the
site and point by name, never an id: an unnamed point by its quantity, a group's or a device's alarm by its
site (its message names the group or device)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hazmon.registry import load_registry
from hazmon.settings import Settings

from alerting.model import Alarm
from alerting.service import AlertingService

CHEM = "91433127MA4CHEM001"


def _alarm(point: str, device: str = "RTU01", rule: str = "limit") -> Alarm:
    return Alarm(id="a1", enterprise=CHEM, site="TF01", device=device, point=point, rule=rule, level="high", severity=1,
                 value=30.0, limit=25.0, started_at=0, message="", message_en="")


async def test_a_notification_names_the_place_without_ids(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    registry_dir = tmp_path / "registry"
    shutil.copytree(settings.registry_dir, registry_dir)
    chem = registry_dir / f"{CHEM}.yaml"   # the gas detectors without the optional names (§7)
    chem.write_text(re.sub(r'(TK01_GAS\d), name: "[^"]*",', r"\1,", chem.read_text(encoding="utf-8")), encoding="utf-8")
    service = AlertingService(settings, load_registry(registry_dir))
    assert service.place_of(_alarm("TK01_LT")) == "1号储罐区 1号储罐液位"
    assert service.place_of(_alarm("TK01_GAS2")) == "1号储罐区 可燃气体浓度 2"
    assert service.place_of(_alarm("TF01-ZONE-A", rule="vote")) == "1号储罐区"
    assert service.place_of(_alarm("", rule="offline")) == "1号储罐区"
