"""A point as officers read it (§10): its registry name, else its quantity, numbered when its site has several."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hazmon.registry import load_registry
from hazmon.registry.names import point_name
from hazmon.settings import Settings


CHEM = "91433127MA4CHEM001"


def test_unnamed_points_by_quantity_never_by_id(tmp_path: Path) -> None:
    """The sample registry names its points; an enterprise that names none of them (§7 allows it)."""
    shutil.copytree(Settings().registry_dir, tmp_path, dirs_exist_ok=True)
    chem = tmp_path / f"{CHEM}.yaml"
    chem.write_text(re.sub(r'name: "[^"]*", (site:)', r"\1", chem.read_text(encoding="utf-8")), encoding="utf-8")
    registry = load_registry(tmp_path)
    names = {p: point_name(registry, registry.point(CHEM, p), "zh") for p in ("TK01_TT", "TK01_GAS1", "TK01_GAS2")}
    assert names == {"TK01_TT": "温度", "TK01_GAS1": "可燃气体浓度 1", "TK01_GAS2": "可燃气体浓度 2"}
    assert point_name(registry, registry.point(CHEM, "TK01_GAS2"), "en") == "combustible gas 2"


def test_a_named_point_by_its_name() -> None:
    registry = load_registry(Settings().registry_dir)
    assert point_name(registry, registry.point(CHEM, "TK01_GAS2"), "zh") == "2号可燃气体探测器"
    assert point_name(registry, registry.point(CHEM, "TK01_GAS2"), "en") == "2号可燃气体探测器"
