"""The desk changes things one way: every POST that carries the session's CSRF token goes through
``static/post.js`` (``window.deskPost`` and the ``form[data-post]`` forms), which every page loads first."""

from __future__ import annotations

from pathlib import Path

from alerting.desk.accounts import Account
from alerting.desk.pages import POST_SCRIPT, desk_page, framed

DESK = Path(__file__).resolve().parents[2] / "alerting" / "desk"


def test_only_post_js_sends_the_csrf_header() -> None:
    senders = sorted(p.relative_to(DESK).as_posix() for p in DESK.rglob("*") if p.suffix in (".py", ".js")
                     and "X-CSRF-Token" in p.read_text(encoding="utf-8"))
    assert senders == ["static/post.js", "web.py"]      # web.py: the header the server checks


def test_every_page_loads_it_before_its_own_script() -> None:
    account = Account("wang", "王值班", "duty")
    for page, own in ((desk_page("zh", account, "token", 0), '<script src="/desk/static/desk.js">'),
                      (framed("屏蔽", "zh", account, "token", "<p></p>", "deskPost()"), "<script>deskPost()")):
        assert page.count(POST_SCRIPT) == 1 and page.index(POST_SCRIPT) < page.index(own)
