"""``imabot models`` against the in-process simulator."""

from __future__ import annotations

import json

import pytest

from bot.cli import main


def test_sim_text_to_video_lists_12_models_with_pixverse_as_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--sim", "--task-type", "text_to_video", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 12
    assert len({r["model_id"] for r in rows}) == 12
    pixverse = next(r for r in rows if r["model_id"] == "pixverse")
    assert pixverse["versions"] == [
        "Pixverse V5.5",
        "Pixverse V5",
        "Pixverse V4.5",
        "Pixverse V4",
        "Pixverse V3.5",
    ]
    assert (pixverse["points_min"], pixverse["points_max"]) == (12, 48)
    wan = next(r for r in rows if r["model_id"] == "wan2.6-t2v")
    assert (wan["name"], wan["eet"], wan["versions"]) == ("Wan 2.6", "300~420s", ["wan2.6-t2v"])


def test_sim_table_covers_every_task_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--sim"]) == 0
    out = capsys.readouterr().out
    assert "text_to_video: 12 models" in out
    assert "text_to_speech:" in out and "first_last_frame_to_video:" in out
    assert "Pixverse V5.5, Pixverse V5" in out


def test_chinese_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--sim", "--task-type", "text_to_music", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "text_to_music：3 个模型" in out
    assert "sonic" in out and "90~150s" in out


def test_without_a_key_it_explains_how_to_proceed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMA_API_KEY", raising=False)
    monkeypatch.delenv("IMABOT_CONFIG", raising=False)
    assert main(["models", "--task-type", "text_to_image"]) == 2
    assert "--sim" in capsys.readouterr().err


async def test_times_are_the_ones_the_chat_tells(capsys: pytest.CaptureFixture[str]) -> None:
    """Seedance 2.0's list entry has no EET tag: the table used to print "-" while the chat said
    "300 ~ 900 秒". Both now come from ModelCatalog.estimate."""
    import asyncio

    from core.catalog.models import ModelCatalog
    from core.clock import FakeClock
    from core.types import TaskType
    from tests.support.ima import simulator

    assert await asyncio.to_thread(main, ["models", "--sim", "--task-type", "text_to_video", "--json"]) == 0
    rows = {r["model_id"]: r["eet"] for r in json.loads(capsys.readouterr().out)}
    assert rows["ima-pro"] == "300~900s"
    catalog = ModelCatalog.load_default()
    async with simulator(FakeClock()) as sim, sim.client() as client:
        for leaf in await client.list_products(TaskType.TEXT_TO_VIDEO):
            lo, hi = catalog.estimate(leaf.model_id, leaf)
            assert rows[leaf.model_id] == f"{lo}~{hi}s"
