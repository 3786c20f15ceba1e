"""Headless Chromium as the desk's tests and ``bench/desk.py`` drive it, from the Debian packages chromium
and chromium-driver, with a profile directory of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")


class ChromiumMissing(RuntimeError):
    """chromium or chromedriver is not installed."""


def chromium(profile: Path, page_load_strategy: str = "normal") -> WebDriver:
    """A headless Chromium session keeping its profile in ``profile``; ``ChromiumMissing`` names the packages."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        raise ChromiumMissing("Debian packages chromium and chromium-driver are needed: "
                              "apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    options.page_load_strategy = page_load_strategy
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)
