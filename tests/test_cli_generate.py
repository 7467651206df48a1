"""``imabot generate`` as an operator runs it (real loopback simulator, time-lapse clock)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests import media_factory as mf


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMABOT_CONFIG", raising=False)
    monkeypatch.delenv("IMA_API_KEY", raising=False)
    monkeypatch.setenv("IMABOT_STORAGE__DATA_DIR", str(tmp_path / "data"))


def json_events(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_json_mode_prints_one_object_per_event_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--sim", "--speed", "3000", "--json", "a cat playing piano, image"])
    events = json_events(capsys.readouterr().out)
    assert code == 0
    steps = [e["step"] for e in events]
    assert steps[:2] == ["ack", "pregen"] and steps[-3:] == ["success", "success", "done"]
    media = events[-3]
    assert str(media["media_url"]).startswith("http://127.0.0.1:")
    assert media["credits"] == 5 and media["model_id"] == "doubao-seedream-4.5"
    assert all({"step", "slot", "text"} <= set(e) for e in events)


def test_text_mode_shows_the_transcript_users_see(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--sim", "--speed", "3000", "一只柴犬在海边奔跑"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("好的！来帮你生成一段视频 🎬\n🎬 开始生成视频，请稍候…\n")
    assert "✅ 视频生成成功！" in out and "🔗 视频链接（方便复制分享）：" in out


def test_sim_fault_previews_a_failure_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--sim-fault", "task:rs=2", "--speed", "3000", "--json", "一只柴犬在海边奔跑"])
    events = json_events(capsys.readouterr().out)
    assert code == 1
    failure = next(e for e in events if e["step"] == "failure")
    assert failure["error_kind"] == "media_failed"
    assert "视频生成遇到问题，建议换个模型试试" in str(failure["text"])


def test_local_image_is_uploaded_through_the_real_flow(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    picture = mf.image(tmp_path / "dog.png", 800, 600)
    code = main(["generate", "--sim", "--speed", "3000", "--json", "--image", str(picture), "让这张图动起来"])
    events = json_events(capsys.readouterr().out)
    assert code == 0
    assert any("📤" in str(e["text"]) for e in events if e["step"] == "progress")


def test_without_a_key_it_explains_and_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["generate", "一只猫"]) == 2
    assert "IMA_API_KEY" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_ima_down_fails_cleanly_with_the_network_message(capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMA_API_KEY", "ima_test_key_for_refused_connection")
    monkeypatch.setenv("IMABOT_IMA__BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("IMABOT_IMA__REQUEST_TIMEOUT_S", "5")
    code = main(["generate", "--json", "一只柴犬在海边奔跑"])
    events = json_events(capsys.readouterr().out)
    assert code == 1
    failure = next(e for e in events if e["step"] == "failure")
    assert failure["error_kind"] == "network"
    assert "网络连接不稳定，请检查网络后重试" in str(failure["text"])
    assert "ima_test_key" not in json.dumps(events)


def test_missing_file_is_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--sim", "--image", "/no/such.png", "让这张图动起来"]) == 2
    assert "/no/such.png" in capsys.readouterr().err
