"""`minsheng staff add|list|remove`: staff accounts for the console (a file in the data dir)."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.settings import load_settings
from bot.staff.accounts import Accounts


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser("staff", help="staff accounts for the console at /staff")
    actions = top.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an account (the password is asked, or read from stdin)")
    add.add_argument("username")
    add.add_argument("--unit", required=True, help="the office or street, shown to residents (e.g. 静安寺街道)")
    add.add_argument("--name", default="", help="display name for colleagues")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--replace", action="store_true", help="replace an existing account (new password)")
    actions.add_parser("list", help="list accounts")
    remove = actions.add_parser("remove", help="delete an account")
    remove.add_argument("username")
    top.set_defaults(func=main)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValueError("the passwords differ")
    return first


def main(args: argparse.Namespace) -> int:
    accounts = Accounts(load_settings().data_dir / "staff-accounts.json")
    try:
        if args.action == "add":
            account = accounts.add(args.username, args.unit, _password(args), args.name, args.replace)
            print(f"staff account {account.username} ({account.unit}) saved")
        elif args.action == "list":
            for a in accounts.list():
                print(f"{a.username}\t{a.unit}\t{a.name}")
        elif not accounts.remove(args.username):
            print(f"minsheng staff: no account {args.username}", file=sys.stderr)
            return 1
    except ValueError as exc:
        print(f"minsheng staff {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0
