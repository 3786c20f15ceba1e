"""``hazmon users add|passwd|disable|list``: the duty desk's officer accounts (alerting/desk/accounts.py).

Passwords are typed twice at a terminal, or read as one line from stdin with ``--password-stdin``
(scripts, tests); never from the command line, where ``ps`` and shell history would keep them.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from hazmon.errors import UserError
from hazmon.settings import Settings, get_settings

from alerting.desk.accounts import ROLES, AccountError, Accounts


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码 (password): ")
    if getpass.getpass("再输一次 (again): ") != first:
        raise UserError("两次输入的密码不同 (the passwords differ)")
    return first


def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    accounts = Accounts(settings.desk_path, settings.desk_session_h)
    try:
        if args.users_command == "add":
            if args.enterprise is not None and args.enterprise not in _registered(settings):
                raise UserError(f"企业不在登记册中 (not in the registry): {args.enterprise}")
            account = accounts.add(args.name, args.role, _password(args), args.display_name, args.enterprise, args.town)
            print(f"账号已建 (account added): {account.name} {account.role}")
        elif args.users_command == "passwd":
            accounts.set_password(args.name, _password(args))
            print(f"密码已改，旧的登录已失效 (password changed, sessions ended): {args.name}")
        elif args.users_command == "disable":
            accounts.disable(args.name)
            print(f"账号已停用 (account disabled): {args.name}")
        else:
            for a in accounts.all():
                scope = a.enterprise or a.town or ""
                print(f"{a.name}\t{a.display_name}\t{a.role}\t{scope}\t{'停用 disabled' if a.disabled else ''}".rstrip())
    except AccountError as refused:
        raise UserError(str(refused)) from None
    finally:
        accounts.close()
    return 0


def _registered(settings: Settings) -> set[str]:
    from hazmon.registry import load_registry

    return set(load_registry(settings.registry_dir).enterprises)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="duty desk accounts: add, passwd, disable, list")
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="a new officer account")
    add.add_argument("name", help="sign-in name: 2–32 of A–Z a–z 0–9 _ . -")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--display-name", help="the name shown on the desk and in the alarm record, e.g. 张三")
    add.add_argument("--enterprise", help="role enterprise: its enterprise id")
    add.add_argument("--town", help="role town: its town, as the registry spells it (e.g. 灵溪镇)")
    for name, text in (("passwd", "a new password (the account's sessions end)"), ("disable", "the account can no longer sign in")):
        sub.add_parser(name, help=text).add_argument("name")
    sub.add_parser("list", help="every account")
    for action in sub.choices.values():
        if action.prog.split()[-1] in ("add", "passwd"):
            action.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
        action.set_defaults(handler=_run)
