"""The live progress line: totals over devices, Chinese by default, English as an option."""

from __future__ import annotations

from device_sim.device import DeviceStats
from device_sim.progress import progress_line


def test_progress_line_sums_devices_in_both_languages() -> None:
    stats = [DeviceStats(published=10, readings=100, connected=True, drops=1),
             DeviceStats(published=5, readings=7, connected=False, errors=2)]
    zh = progress_line("zh", "tank_overfill", 900.0, 3600.0, stats)
    en = progress_line("en", "tank_overfill", 900.0, 3600.0, stats)
    assert "25.0%" in zh and "消息 15" in zh and "读数 107" in zh and "在线设备 1/2" in zh and "断线 1" in zh
    assert "messages 15" in en and "readings 107" in en and "devices online 1/2" in en and "failed connects 2" in en
    assert "100.0%" in progress_line("zh", "x", 4000.0, 3600.0, stats)
