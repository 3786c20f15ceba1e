"""What every page of the desk shares: the service's data as :class:`DeskSource`, the desk's own records
(:class:`DeskStores`), and who is signed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from hazmon.registry import Registry
from hazmon.secrets import Principal

from alerting.book import Suppression
from alerting.desk.accounts import Accounts, Session
from alerting.desk.county_map import EnterpriseRisk
from alerting.desk.handover import Handovers
from alerting.desk.readings import Readings
from alerting.desk.report_pdf import PdfFont
from alerting.model import Alarm
from alerting.text import Texts

DESK_SESSION = web.RequestKey("desk_session", Session)


@dataclass(frozen=True)
class DeskStores:
    """The desk's own records, in its one SQLite file (``desk_file``)."""

    accounts: Accounts
    handovers: Handovers

    def close(self) -> None:
        self.accounts.close()
        self.handovers.close()


@dataclass(frozen=True)
class DeskSource:
    """What the desk reads from the alerting service, as functions of the moment they are called."""

    language: Callable[[], str]
    registry: Callable[[], Registry]
    now_ms: Callable[[], int]
    moment: Callable[[int], str]                            # a time as officers read it (Beijing time)
    visible: Callable[[Principal], list[Alarm]]            # the open alarms a caller may see, newest first
    alarm_json: Callable[[Alarm], dict]                     # one alarm as the API gives it, ``view`` included
    alarms_started: Callable[[int, int], Awaitable[list[Alarm]]]   # open and closed, started in [start, end)
    find_alarm: Callable[[str], Awaitable[Alarm | None]]   # one alarm, open or closed, by id (unscoped)
    risk_of: Callable[[str], EnterpriseRisk]                # an enterprise's colour, open alarms, devices offline
    may_see: Callable[[Principal, str], bool]
    texts: Callable[[], Texts]
    suppressions: Callable[[], list[Suppression]]          # the suppressions (屏蔽) in force
    readings: Readings                                      # last readings and ingest's refusals, from InfluxDB
    pdf_font: PdfFont                                       # the CJK font of the daily report's PDF file


def signed_in(request: web.Request, acting: bool = False) -> Session:
    """The officer's session; a page without one goes to the sign-in, anything else is 401 (403 for an
    account that only watches, when ``acting``)."""
    session = request.get(DESK_SESSION)
    if session is None:
        if request.method == "GET":
            raise web.HTTPSeeOther(f"/desk/login?next={quote(request.path_qs)}")
        raise web.HTTPUnauthorized(text="sign in first")
    if acting and not session.account.acts:
        raise web.HTTPForbidden(text="this account only watches")
    return session
