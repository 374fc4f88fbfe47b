"""Collection points: the data file's real places, the printable QR sheet (one decodable code per
point, rendered to PNG pages with poppler's pdftoppm and read back with zbarimg), staff edits."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.points import Point, PointError, Points, load_defaults
from bot.registry import FileRegistry

MINSHENG = Path(sys.executable).with_name("minsheng")


def test_the_data_file_has_real_jingan_places() -> None:
    points = load_defaults()
    assert points["zhangyuan"].name == "张园" and points["zhangyuan"].street == "南京西路街道"
    assert {p.type for p in points.values()} >= {"community_centre", "park", "landmark", "party_service"}


async def test_staff_edits_override_the_defaults(tmp_path: Path) -> None:
    points = Points(FileRegistry(tmp_path / "points.json"))
    await points.put(Point("zhangyuan", "张园(东区)", "landmark", "南京西路街道", "威海路590弄", "toilets"))
    await points.put(Point("jingan-sculpture", "静安雕塑公园", "park", "石门二路街道", "北京西路500号"))
    again = Points(FileRegistry(tmp_path / "points.json"))
    assert (await again.get("zhangyuan")) == Point("zhangyuan", "张园(东区)", "landmark", "南京西路街道",
                                                   "威海路590弄", "toilets")
    assert len(await again.all()) == len(load_defaults()) + 1
    with pytest.raises(PointError):
        await points.put(Point("bad_id", "x", "park", "静安寺街道"))


def test_the_qr_sheet_renders_one_code_per_point(tmp_path: Path) -> None:
    for tool in ("pdftoppm", "zbarimg"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: apt-get install poppler-utils zbar-tools")
    env = {"MINSHENG_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "points.pdf"
    done = subprocess.run([str(MINSHENG), "points", "sheet", "--out", str(out)], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    count = len(load_defaults())
    assert f"{count} QR codes" in done.stdout
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(out), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == -(-count // 6)  # six to a page
    decoded = subprocess.run(["zbarimg", "-q", "--raw", *map(str, pages)], capture_output=True, text=True,
                             timeout=60, check=False).stdout.split()
    assert sorted(decoded) == sorted(f"https://t.me/minsheng_bot?start=point_{p}" for p in load_defaults())
