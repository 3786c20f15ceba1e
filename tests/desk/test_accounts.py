"""Officers' accounts and sessions of the duty desk (issue 17): hashed passwords, roles, sessions that end."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.desk.accounts import AccountError, Accounts


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    store = Accounts(tmp_path / "desk.sqlite3")
    yield store
    store.close()


def test_a_password_signs_in_and_is_never_stored(accounts: Accounts, tmp_path: Path) -> None:
    accounts.add("zhang.san", "duty", "值班密码-2026", display_name="张三")
    assert accounts.verify("zhang.san", "值班密码-2026").display_name == "张三"
    assert accounts.verify("zhang.san", "wrong-password") is None
    assert accounts.verify("nobody", "值班密码-2026") is None
    assert "值班密码-2026".encode() not in (tmp_path / "desk.sqlite3").read_bytes()


@pytest.mark.parametrize(("args", "words"), [
    (("a", "duty", "long-enough"), "account name"),
    (("li.si", "admin", "long-enough"), "role"),
    (("li.si", "enterprise", "long-enough"), "--enterprise"),
    (("li.si", "duty", "short"), "at least 8"),
])
def test_refusals_say_why(accounts: Accounts, args: tuple[str, str, str], words: str) -> None:
    with pytest.raises(AccountError, match=words):
        accounts.add(*args)


def test_enterprise_and_town_accounts_carry_their_scope(accounts: Accounts) -> None:
    assert accounts.add("chem", "enterprise", "long-enough", enterprise="91433127MA4CHEM001").enterprise == "91433127MA4CHEM001"
    assert accounts.add("lingxi", "town", "long-enough", town="灵溪镇").town == "灵溪镇"
    assert not accounts.add("zhou", "prefecture", "long-enough").acts
    with pytest.raises(AccountError, match="exists"):
        accounts.add("chem", "duty", "long-enough")


def test_a_session_ends_with_a_new_password_or_a_disabled_account(accounts: Accounts) -> None:
    officer = accounts.add("wang", "duty", "first-password")
    token, opened = accounts.open_session(officer)
    assert accounts.session(token) == opened and opened.csrf
    assert accounts.session(token + "x") is None
    accounts.set_password("wang", "second-password")
    assert accounts.session(token) is None
    assert accounts.verify("wang", "first-password") is None
    token, _ = accounts.open_session(accounts.verify("wang", "second-password"))
    accounts.disable("wang")
    assert accounts.session(token) is None
    assert accounts.verify("wang", "second-password") is None
    with pytest.raises(AccountError, match="no such account"):
        accounts.disable("nobody")


def test_a_session_expires(tmp_path: Path) -> None:
    store = Accounts(tmp_path / "a.sqlite3", session_h=1e-9)
    token, _ = store.open_session(store.add("zhao", "duty", "long-enough"))
    assert store.session(token) is None
    assert store.forget_expired() == 1
