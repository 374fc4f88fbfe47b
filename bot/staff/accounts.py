"""Staff accounts in a JSON file in the data dir (shared by the workers' volume, and written by
`minsheng staff add` even when the bot runs on the embedded store). Passwords are hashed with
scrypt from the standard library: memory-hard, no extra dependency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
# ~16 MiB and ~50 ms per hash: slow for a guesser, fine for a login.
N, R, P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    unit: str  # e.g. 区人民建议征集办 or a street office: shown to residents ("…的工作人员")
    name: str  # display name for colleagues (not shown to residents)
    password: str  # "scrypt$n$r$p$salt$hash"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, maxmem=64 * 1024 * 1024)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 1024 * 1024, dklen=len(want))
    except ValueError:
        return False
    return hmac.compare_digest(got, want)


# Spent on unknown usernames so that a login takes as long whether the account exists or not.
_DUMMY = hash_password(secrets.token_hex(8))


class Accounts:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, Account]:
        if not self.path.exists():
            return {}
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        return {u: Account(**a) for u, a in raw.items()}

    def _save(self, accounts: dict[str, Account]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({u: asdict(a) for u, a in accounts.items()}, ensure_ascii=False, indent=1))
        tmp.chmod(0o600)
        os.replace(tmp, self.path)  # atomic: a reader never sees half a file

    def add(self, username: str, unit: str, password: str, name: str = "", replace: bool = False) -> Account:
        if not USERNAME.match(username):
            raise ValueError("username: 2-32 characters of a-z, 0-9, '.', '_' and '-'")
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"password: at least {MIN_PASSWORD} characters")
        if not unit.strip():
            raise ValueError("unit: required (e.g. 区人民建议征集办)")
        accounts = self._load()
        if username in accounts and not replace:
            raise ValueError(f"{username} exists (use --replace to set a new password)")
        account = Account(username, unit.strip(), name.strip() or username, hash_password(password))
        accounts[username] = account
        self._save(accounts)
        return account

    def remove(self, username: str) -> bool:
        accounts = self._load()
        if accounts.pop(username, None) is None:
            return False
        self._save(accounts)
        return True

    def list(self) -> list[Account]:
        return sorted(self._load().values(), key=lambda a: a.username)

    def get(self, username: str) -> Account | None:
        return self._load().get(username)

    def verify(self, username: str, password: str) -> Account | None:
        account = self.get(username)
        if account is None:
            check_password(password, _DUMMY)
            return None
        return account if check_password(password, account.password) else None
