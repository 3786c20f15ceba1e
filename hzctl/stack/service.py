"""What every server of the local stack provides to the stack manager."""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from pathlib import Path

from hazmon.settings import Settings
from hzctl.stack.process import ManagedProcess


class Service(ABC):
    """One server: how to install, configure, start and health-check it."""

    name: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = ManagedProcess(self.name, settings.home / "run", settings.home / "logs")

    @property
    def data_dir(self) -> Path:
        return self.settings.home / "data" / self.name

    @property
    def conf_dir(self) -> Path:
        return self.settings.home / "conf" / self.name

    @property
    @abstractmethod
    def ports(self) -> tuple[int, ...]:
        """TCP ports on 127.0.0.1 the server listens on."""

    @abstractmethod
    def install(self) -> None:
        """Make the server's software available (first time: from the package registries)."""

    @abstractmethod
    def prepare(self) -> None:
        """Write configuration and initialise storage; idempotent."""

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line that runs the server in the foreground."""

    def env(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def health(self) -> str | None:
        """None when the server answers as it should, else what is wrong."""

    def after_start(self) -> None:
        """Work once the server is healthy (create a database, say)."""

    def refresh(self) -> None:
        """Apply changed configuration to the running server, where it can (registry → broker ACL)."""

    def url(self) -> str:
        return f"127.0.0.1:{self.ports[0]}"


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
