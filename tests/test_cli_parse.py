"""``imabot parse`` prints the intent (issue #11) and exactly the fields issue #3 lists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

FIELDS = {
    "intent",
    "media_type",
    "task_type",
    "model_id",
    "tier",
    "params",
    "prompt",
    "preference",
    "language",
    "notices",
}


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMABOT_CONFIG", raising=False)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["parse", "--json", *argv]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_json_fields_for_a_full_request(capsys: pytest.CaptureFixture[str]) -> None:
    data = _run(capsys, "用可灵生成10秒竖屏视频，一只猫在弹钢琴")
    assert set(data) == FIELDS
    assert data == {
        "intent": "generate",
        "media_type": "video",
        "task_type": "text_to_video",
        "model_id": "kling-video-o1",
        "tier": None,
        "params": {"duration": 10, "aspect_ratio": "9:16"},
        "prompt": "一只猫在弹钢琴",
        "preference": "save",
        "language": "zh",
        "notices": [],
    }


def test_attachments_pick_the_task_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "把这张图动起来", "--image", "https://x/a.png")["task_type"] == "image_to_video"
    two = _run(
        capsys, "首帧+尾帧，从白天过渡到夜晚", "--image", "https://x/1.png", "--image", "https://x/2.png"
    )
    assert two["task_type"] == "first_last_frame_to_video"
    assert two["prompt"] == "从白天过渡到夜晚"
    assert (
        _run(capsys, "make it dance", "--video", "https://x/v.mp4")["task_type"] == "reference_image_to_video"
    )
    mixed = _run(capsys, "用这段音频和图片做视频", "--audio", "https://x/a.mp3", "--image", "https://x/1.png")
    assert mixed["task_type"] == "reference_image_to_video"


def test_english_tier_and_resolution(capsys: pytest.CaptureFixture[str]) -> None:
    data = _run(capsys, "please", "make", "a", "fast", "model", "video", "of", "a", "fox,", "1080p,", "16:9")
    assert data["language"] == "en"
    assert data["tier"] == "fast"
    assert data["params"] == {"resolution": "1080P", "aspect_ratio": "16:9"}


def test_empty_text_is_a_missing_prompt_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    data = _run(capsys)
    assert data["prompt"] == ""
    assert data["task_type"] == "text_to_video"


def test_contradiction_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    data = _run(capsys, "横屏", "竖屏", "一只猫")
    assert data["params"] == {"aspect_ratio": "9:16"}
    notices = data["notices"]
    assert isinstance(notices, list) and len(notices) == 1 and "竖屏" in notices[0]


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "以后都用海螺"]) == 0
    out = capsys.readouterr().out
    assert "MiniMax-Hailuo-2.3" in out and "save" in out


def test_console_script_entry_point(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--json", "画一只猫，方形"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    data = json.loads(proc.stdout)
    assert (data["media_type"], data["task_type"], data["params"]) == (
        "image",
        "text_to_image",
        {"aspect_ratio": "1:1"},
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("你能做什么", "help"),
        ("帮我查一下余额", "usage"),
        ("有哪些模型", "models"),
        ("进度怎么样了", "status"),
        ("cancel", "cancel"),
        ("以后视频都用可灵", "prefs"),
        ("谢谢！", "smalltalk"),
        ("视频", "unclear"),
        ("一只猫在雪地里打滚", "generate"),
    ],
)
def test_every_message_reports_its_intent(capsys: pytest.CaptureFixture[str], text: str, intent: str) -> None:
    data = _run(capsys, text)
    assert set(data) == FIELDS
    assert data["intent"] == intent


def test_details_show_what_the_conversation_layer_gets(capsys: pytest.CaptureFixture[str]) -> None:
    cancel = _run(capsys, "--details", "取消第2个")["understanding"]
    assert isinstance(cancel, dict)
    assert cancel["cancel"] == {"index": 2, "all": False}
    compare = _run(capsys, "--details", "可灵和海螺哪个好")["understanding"]
    assert isinstance(compare, dict) and compare["models_query"]["model_ids"] == [
        "kling-video-o1",
        "MiniMax-Hailuo-2.3",
    ]


def test_settings_still_apply_when_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a config file or IMABOT_* variables parse skips the settings model; with them it reads it."""
    config = tmp_path / "imabot.toml"
    config.write_text('[bot]\ndefault_language = "en"\ndefault_media_type = "image"\n', encoding="utf-8")
    assert _run(capsys, "一只猫")["media_type"] == "video"
    data = _run(capsys, "--details", "123")
    assert (data["language"], data["media_type"]) == ("zh", "video")
    assert main(["--config", str(config), "parse", "--json", "123"]) == 0
    assert json.loads(capsys.readouterr().out)["media_type"] == "image"
    monkeypatch.setenv("imabot_bot__default_media_type", "music")  # any case, as pydantic-settings reads it
    assert _run(capsys, "123")["media_type"] == "music"


def test_a_bad_config_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "imabot.toml"
    config.write_text('[bot]\ndefault_language = "fr"\n', encoding="utf-8")
    assert main(["--config", str(config), "parse", "一只猫"]) == 2
    assert "default_language" in capsys.readouterr().err
    monkeypatch.setenv("IMABOT_BOT__DEFAULT_MEDIA_TYPE", "film")
    assert main(["parse", "一只猫"]) == 2
    assert "default_media_type" in capsys.readouterr().err
