"""Run `minsheng` as a real child process on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.redis_server import free_port


class BotProcess:
    def __init__(
        self, env: dict[str, str], workdir: Path, args: tuple[str, ...] = ("run",), port: int | None = None
    ) -> None:
        self.port = port or free_port()
        ports = {"MINSHENG_PORT": str(self.port), "MINSHENG_HOST": "127.0.0.1", "BACKEND_PORT": str(self.port)}
        self.env = {**os.environ, **env, **ports}
        self.workdir = workdir
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{args[0]}-{self.port}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> BotProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", *self.args], env=self.env, cwd=Path(__file__).parents[2],
                stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"minsheng exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"minsheng did not become healthy:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """Die like a crashed worker: no cleanup."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
