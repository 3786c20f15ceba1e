"""A point as officers read it (§10): its registry name, else its quantity, numbered when its site has several."""

from __future__ import annotations

from hazmon.registry import load_registry
from hazmon.registry.names import point_name
from hazmon.settings import Settings


CHEM = "91433127MA4CHEM001"


def test_unnamed_points_by_quantity_never_by_id() -> None:
    registry = load_registry(Settings().registry_dir)
    names = {p: point_name(registry, registry.point(CHEM, p), "zh") for p in ("TK01_TT", "TK01_GAS1", "TK01_GAS2")}
    assert names == {"TK01_TT": "温度", "TK01_GAS1": "可燃气体浓度 1", "TK01_GAS2": "可燃气体浓度 2"}
    assert point_name(registry, registry.point(CHEM, "TK01_GAS2"), "en") == "combustible gas 2"
