"""The prefecture's officers and their one credential (``prefecture_officer_tokens``: name → token), for the
API's bearer tokens and the desk's sign-in alike. The name is who acted: the county's record shows it as
``prefecture/<name>``, so it is checked at start as the county takes it (uplink.messages)."""

from __future__ import annotations

import re
import secrets

from hazmon.errors import UserError
from hazmon.settings import Settings

OFFICER_NAME = re.compile(r"^[^\x00-\x1f/]{1,64}$")


class Officers:
    def __init__(self, settings: Settings) -> None:
        """UserError for a name the county would refuse, or an empty token."""
        for name, token in settings.prefecture_officer_tokens.items():
            if not OFFICER_NAME.match(name):
                raise UserError(f"prefecture officer name {name!r}: 1-64 characters, no '/' or control characters")
            if not token.strip():
                raise UserError(f"prefecture officer {name!r}: an empty token")
        self._by_token = {token: name for name, token in settings.prefecture_officer_tokens.items()}

    def named(self, token: str) -> str | None:
        """The officer whose token this is (every token compared in constant time), or None."""
        token = token.strip()
        found = None
        for known, name in self._by_token.items():
            if secrets.compare_digest(known.encode(), token.encode()):
                found = name
        return found
