"""`minsheng staff add` and the account file: hashed passwords, validation."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.staff.accounts import Accounts


def test_staff_add_from_stdin_stores_a_hash(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MINSHENG_DATA_DIR", str(data_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["staff", "add", "wang", "--unit", "静安寺街道", "--name", "王芳", "--password-stdin"]) == 0
    raw = (data_dir / "staff-accounts.json").read_text(encoding="utf-8")
    assert "a long enough password" not in raw and json.loads(raw)["wang"]["password"].startswith("scrypt$")
    accounts = Accounts(data_dir / "staff-accounts.json")
    assert accounts.verify("wang", "a long enough password") is not None
    assert accounts.verify("wang", "a wrong password") is None
    assert accounts.verify("nobody", "a long enough password") is None
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "add", "li", "--unit", "北站街道", "--password-stdin"]) == 1
    assert "at least" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert main(["staff", "add", "wang", "--unit", "x", "--password-stdin"]) == 1  # exists: needs --replace
    assert main(["staff", "list"]) == 0 and "wang\t静安寺街道\t王芳" in capsys.readouterr().out
    assert main(["staff", "remove", "wang"]) == 0 and accounts.get("wang") is None
