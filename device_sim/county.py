"""County generator: N enterprises of 永顺县 (湘西州, 湖南) across the three domains, as registry files.

Reproducible from a seed: the same (N, seed) writes byte-identical files. Every file validates
with :func:`hazmon.registry.load_registry` and every point has room for a normal value between
its limits (so a generated county left alone raises no alarm). Every point is named in Chinese as
its enterprise would name it (1号储罐液位, 2号位移监测点, 3F 东走廊), once within its site: officers read
points by these names, never by id (data standard §7, §10).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import yaml

from hazmon.registry.boundary import BOUNDARY_FILE

# Towns of 永顺县 with approximate centres (lat, lon); enterprises are placed within ~3 km of them.
TOWNS: dict[str, tuple[float, float]] = {
    "灵溪镇": (28.99, 109.86), "首车镇": (29.17, 109.66), "芙蓉镇": (28.84, 109.97), "石堤镇": (28.93, 109.63),
    "青天坪镇": (29.11, 109.78), "万坪镇": (29.25, 109.75), "塔卧镇": (29.18, 109.95), "砂坝镇": (29.03, 109.93),
    "松柏镇": (29.12, 110.10), "泽家镇": (29.00, 110.05), "高坪乡": (28.90, 109.78), "颗砂乡": (29.30, 110.05),
    "对山乡": (29.08, 109.72), "西歧乡": (29.28, 109.85), "润雅乡": (28.95, 110.15), "小溪镇": (29.35, 110.20),
    "朗溪乡": (29.05, 110.22), "毛坝乡": (29.22, 109.58), "车坪乡": (29.30, 109.70), "吊井乡": (29.15, 110.25),
}
DOMAINS = ("tailings_pond", "major_hazard", "fire_unit")
MINE_TRADES = ("矿业", "锰业", "铅锌矿业", "选矿")
CHEM_TRADES = ("化工", "燃气", "石油储运", "精细化工")
FIRE_UNITS = ("人民医院", "中医医院", "第一中学", "民族中学", "商贸城", "大酒店", "汽车站", "游客服务中心", "敬老院")
ZONES = ("东走廊", "西走廊", "楼梯间", "配电室", "厨房", "库房")
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"   # GB 32100 code alphabet


class CountyGenerator:
    """Builds enterprise registry documents from one random stream."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids: set[str] = set()

    def enterprise_id(self, kind_code: str) -> str:
        while True:
            tail = "".join(self.rng.choice(CREDIT_CHARS) for _ in range(8))
            candidate = f"{kind_code}433127MA{tail}"
            if candidate not in self.ids:
                self.ids.add(candidate)
                return candidate

    def place(self) -> dict[str, Any]:
        town = self.rng.choice(list(TOWNS))
        lat, lon = TOWNS[town]
        return {"town": town, "lat": round(lat + self.rng.uniform(-0.03, 0.03), 4),
                "lon": round(lon + self.rng.uniform(-0.03, 0.03), 4)}

    def tailings_pond(self, place: dict[str, Any]) -> dict[str, Any]:
        crest = round(self.rng.uniform(320, 620), 1)
        design = {"crest_elevation": crest, "flood_level": round(crest - self.rng.uniform(2.0, 3.5), 1),
                  "min_dry_beach": self.rng.choice([50, 70, 100]), "min_freeboard": self.rng.choice([0.5, 0.7, 1.0])}
        name = f"永顺县{place['town'][:-1]}{self.rng.choice(MINE_TRADES)}有限公司"
        site = {"id": "WK01", "name": f"{place['town'][:-1]}尾矿库", "kind": "tailings_pond",
                "grade": self.rng.randint(3, 5), "design": design}
        gnss = {"site": "WK01", "device": "GNSS1", "period_s": 600}
        points = [{"id": "WK01_WL", "name": "库水位", **gnss, "type": "water_level",
                   "range": [round(crest - 40, 1), round(crest + 8, 1)], "rate_per_h": 0.3},
                  {"id": "WK01_BEACH", "name": "干滩长度", **gnss, "type": "dry_beach_length", "range": [0, 300]},
                  {"id": "WK01_RAIN", "name": "降雨量", **gnss, "type": "rainfall", "range": [0, 200], "period_s": 300}]
        points += [{"id": f"WK01_PZ{i}", "name": f"{i}号浸润线测点", **gnss, "type": "phreatic_depth", "range": [0, 30],
                    "colors": {"direction": "below", "blue": 8, "yellow": 6, "orange": 5, "red": 4}}
                   for i in range(1, self.rng.randint(2, 4))]
        points += [{"id": f"WK01_DS{i}", "name": f"{i}号位移监测点", **gnss, "type": "displacement", "range": [0, 500],
                    "colors": {"direction": "above", "red": 100}, "rate_per_h": 2}
                   for i in range(1, self.rng.randint(3, 5))]
        return {"name": name, "sites": [site], "points": points}

    def major_hazard(self, place: dict[str, Any]) -> dict[str, Any]:
        name = f"永顺县{place['town'][:-1]}{self.rng.choice(CHEM_TRADES)}有限公司"
        sites, points = [], []
        tanks = detectors = 0   # numbered through the enterprise, as its tanks and detectors are on site
        for s in range(1, self.rng.randint(2, 3)):
            site_id, device = f"TF{s:02d}", f"RTU{s:02d}"
            sites.append({"id": site_id, "name": f"{s}号储罐区", "kind": "major_hazard", "hazard_grade": self.rng.randint(1, 4)})
            rtu = {"site": site_id, "device": device}
            for t in range(1, self.rng.randint(2, 5)):
                height = self.rng.choice([8, 10, 12, 16])
                tank, tanks = f"{site_id}_TK{t:02d}", tanks + 1
                points += [{"id": f"{tank}_LT", "name": f"{tanks}号储罐液位", **rtu, "type": "tank_level",
                            "range": [0, height], "high": 0.75 * height, "high_high": 0.875 * height, "period_s": 10},
                           {"id": f"{tank}_TT", "name": f"{tanks}号储罐温度", **rtu, "type": "temperature",
                            "range": [-20, 80], "high": 45, "high_high": 55, "period_s": 10},
                           {"id": f"{tank}_PT", "name": f"{tanks}号储罐压力", **rtu, "type": "pressure",
                            "range": [0, 1.6], "high": 1.0, "high_high": 1.2, "period_s": 10}]
            for g in range(1, self.rng.randint(3, 5)):
                detectors += 1
                points.append({"id": f"{site_id}_GAS{g}", "name": f"{detectors}号可燃气体探测器", **rtu,
                               "type": "combustible_gas", "range": [0, 100], "period_s": 5, "group": f"{site_id}-ZONE-A"})
            points.append({"id": f"{site_id}_H2S", "name": "硫化氢探测器", **rtu, "type": "toxic_gas",
                           "range": [0, 100], "high": 10, "high_high": 20, "period_s": 5})
        return {"name": name, "sites": sites, "points": points}

    def fire_unit(self, place: dict[str, Any]) -> dict[str, Any]:
        name = f"永顺县{self.rng.choice(FIRE_UNITS)}"
        if self.rng.random() < 0.5:
            name = f"永顺县{place['town']}{self.rng.choice(FIRE_UNITS)}"
        sites, points = [], []
        for b in range(1, self.rng.randint(2, 3)):
            site_id, ftu = f"BLD{b}", {"site": f"BLD{b}", "device": f"FTU{b:02d}"}
            sites.append({"id": site_id, "name": f"{b}号楼", "kind": "fire_unit"})
            points += [{"id": f"{site_id}_HYD1", "name": "室内消火栓管网压力", **ftu, "type": "hydrant_pressure",
                        "range": [0, 1.6]},
                       {"id": f"{site_id}_SPR1", "name": "自动喷淋管网压力", **ftu, "type": "sprinkler_pressure",
                        "range": [0, 1.6]},
                       {"id": f"{site_id}_TANK", "name": "屋顶消防水箱液位", **ftu, "type": "water_tank_level",
                        "range": [0, 5], "low": 2.0, "low_low": 1.5}]
            for c in range(1, self.rng.randint(2, 4)):
                points += [{"id": f"{site_id}_RC{c}", "name": f"{c}号配电箱剩余电流", **ftu, "type": "residual_current",
                            "range": [0, 1000], "period_s": 30},
                           {"id": f"{site_id}_CT{c}", "name": f"{c}号配电箱线缆温度", **ftu, "type": "cable_temperature",
                            "range": [-10, 150], "period_s": 30}]
            zones: set[str] = set()
            for z in range(1, self.rng.randint(3, 7)):
                zone = f"{self.rng.randint(1, 12)}F {self.rng.choice(ZONES)}"
                if zone in zones:   # a second detector of one zone is told apart by its number
                    zone = f"{zone}{z}号探测器"
                zones.add(zone)
                points.append({"id": f"{site_id}_Z{z:02d}", "site": site_id, "device": f"FAC{b}", "type": "fire_detector",
                               "name": zone})
        return {"name": name, "sites": sites, "points": points}

    def enterprise(self, index: int) -> dict[str, Any]:
        domain = DOMAINS[index % len(DOMAINS)]
        place = self.place()
        body = getattr(self, domain)(place)
        enterprise_id = self.enterprise_id("12" if domain == "fire_unit" else "91")
        return {"enterprise": {"id": enterprise_id, "name": body["name"], **place},
                "sites": body["sites"], "points": body["points"]}


def county(enterprises: int, seed: int) -> list[dict[str, Any]]:
    """Registry documents of ``enterprises`` enterprises, the three domains in turn."""
    generator = CountyGenerator(seed)
    return [generator.enterprise(i) for i in range(enterprises)]


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10_000).strip()


def registry_text(document: dict[str, Any], header: str) -> str:
    """One registry file in the style of the sample registry: one line per enterprise, site and point."""
    lines = [header, f"enterprise: {_flow(document['enterprise'])}", "sites:"]
    lines += [f"  - {_flow(site)}" for site in document["sites"]]
    lines += ["points:"] + [f"  - {_flow(point)}" for point in document["points"]]
    return "\n".join(lines) + "\n"


def _write_changed(path: Path, data: bytes) -> None:
    """Write ``data`` unless ``path`` holds it already (an unchanged county keeps its files and fingerprint),
    whole at once: a stage loading the directory meanwhile reads the old file or the new one."""
    if not path.is_file() or path.read_bytes() != data:
        part = path.with_name(f".{path.name}.{os.getpid()}")
        part.write_bytes(data)
        os.replace(part, path)


def write_county(out: Path, enterprises: int, seed: int) -> list[Path]:
    """Write one registry file per enterprise into ``out``; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    header = f"# generated by `hazmon sim county --enterprises {enterprises} --seed {seed}` (data standard §7)"
    files = []
    for document in county(enterprises, seed):
        path = out / f"{document['enterprise']['id']}.yaml"
        _write_changed(path, registry_text(document, header).encode("utf-8"))
        files.append(path)
    return files


def county_with_sample(home: Path, enterprises: int, seed: int, sample_dir: Path) -> Path:
    """A county of ``enterprises`` generated enterprises plus the sample registry's (which the shipped
    scenarios name) and its county boundary, under ``home/sim``; brought up to date with the generator and
    the sample on every call (a county written by an earlier version gets its points' names), unchanged files
    left as they are."""
    out = home / "sim" / f"county-{enterprises}-seed{seed}"
    write_county(out, enterprises, seed)
    for path in [*sorted(sample_dir.glob("*.yaml")), *sorted(sample_dir.glob(BOUNDARY_FILE))]:
        _write_changed(out / path.name, path.read_bytes())
    return out
