"""A small keyed registry of JSON objects (campaigns, collection points edited by staff).

With REDIS_URL it is a Redis hash, shared by every worker and the CLI. On the embedded store the
Redis of the process is not reachable from `minsheng campaigns ...` in another process, so the
registry is a JSON file in the data dir instead (like the staff accounts), re-read when it changes.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis


class Registry(Protocol):
    async def all(self) -> dict[str, dict[str, Any]]: ...

    async def put(self, key: str, value: dict[str, Any]) -> None: ...

    async def delete(self, key: str) -> bool: ...


class RedisRegistry:
    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key

    async def all(self) -> dict[str, dict[str, Any]]:
        raw: dict[Any, Any] = await self.redis.hgetall(self.key)
        return {_s(k): json.loads(v) for k, v in raw.items()}

    async def put(self, key: str, value: dict[str, Any]) -> None:
        await self.redis.hset(self.key, key, json.dumps(value, ensure_ascii=False))

    async def delete(self, key: str) -> bool:
        return bool(await self.redis.hdel(self.key, key))


class FileRegistry:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)  # atomic: a reader never sees half a file

    async def all(self) -> dict[str, dict[str, Any]]:
        return self._load()

    async def put(self, key: str, value: dict[str, Any]) -> None:
        async with self._lock:
            data = self._load()
            data[key] = value
            self._save(data)

    async def delete(self, key: str) -> bool:
        async with self._lock:
            data = self._load()
            if data.pop(key, None) is None:
                return False
            self._save(data)
            return True


def registry_for(redis_url: str | None, redis: Redis | None, data_dir: Path, name: str) -> Registry:
    """Redis hash `ms:<name>` with a Redis server, else `<data dir>/<name>.json`."""
    if redis_url and redis is not None:
        return RedisRegistry(redis, f"ms:{name}")
    return FileRegistry(data_dir / f"{name}.json")


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
