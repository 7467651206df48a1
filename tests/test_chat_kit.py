"""The chat kit every platform shares: the status editor, the action encoding, the texts, the language
guess and result delivery under caps."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.chat.actions import decode_action, encode_action
from adapters.chat.delivery import DeliveryLimits, ResultFile, deliver_results, result_file_name
from adapters.chat.status import EditPolicy, StatusEditor
from adapters.chat.texts import button_label, chat_messages, internal_error, reply_language
from core.clock import FakeClock
from core.messages import Messages
from core.platform import ActionKind
from core.types import Language, MediaResult, MediaType


async def test_status_editor_applies_only_the_latest_render_per_interval() -> None:
    clock = FakeClock(auto=False)
    applied: list[str] = []

    async def apply(key: str, render: str) -> None:
        applied.append(render)

    editor: StatusEditor[str] = StatusEditor(clock, EditPolicy(interval_s=3), apply)
    editor.mark_edited("m", "a", created_at=clock.now())
    for render in ("b", "c", "d"):
        editor.submit("m", render, created_at=clock.now())
    await asyncio.sleep(0)
    assert applied == []
    clock.advance(2.9)
    await asyncio.sleep(0)
    assert applied == []
    clock.advance(0.1)
    await editor.flush("m")
    assert applied == ["d"]
    editor.submit("m", "d", created_at=clock.now())  # unchanged: no edit at all
    await editor.flush("m")
    assert applied == ["d"]
    await editor.aclose()


async def test_status_editor_survives_a_failed_edit_and_retires_finished_messages() -> None:
    clock = FakeClock(auto=False)
    calls: list[str] = []

    async def apply(key: str, render: str) -> None:
        calls.append(render)
        if render == "bad":
            raise RuntimeError("discord said no")

    editor: StatusEditor[str] = StatusEditor(clock, EditPolicy(interval_s=3), apply)
    editor.submit("m", "bad", created_at=clock.now())
    await editor.flush("m")
    editor.submit("m", "good", created_at=clock.now())
    editor.retire("m")
    clock.advance(3)
    await editor.flush("m")
    assert calls == ["bad", "good"]
    assert editor._messages == {}


def test_one_action_encoding_round_trips_and_fits_discords_limit() -> None:
    long_job = "j" + "1" * 40
    value = encode_action(ActionKind.FIRST_FRAME, long_job)
    assert value == f"imabot:first_frame:{long_job}" and len(value) <= 100
    assert decode_action(value) == (ActionKind.FIRST_FRAME, long_job)
    assert decode_action("imabot:delete:j1") is None
    assert decode_action("imabot:retry:") is None
    assert decode_action("imabot:retry:j1 extra") is None


def test_button_labels_and_the_internal_error_are_the_same_on_every_platform() -> None:
    discord = chat_messages(None, "adapters.discord")
    feishu = chat_messages(None, "adapters.feishu")
    for action in ActionKind:
        for language in Language:
            assert button_label(discord, action, language) == button_label(feishu, action, language)
    assert internal_error(discord, Language.ZH) == internal_error(feishu, Language.ZH)
    assert "稍后" in internal_error(feishu, Language.ZH)
    assert not any(key.startswith(("discord.button.", "feishu.button.")) for key in feishu.all_keys()
                   | discord.all_keys())


def test_platform_message_files_live_beside_their_adapter_and_keep_zh_en_parity() -> None:
    core_only = Messages.from_package()
    assert not any(key.startswith(("discord.", "feishu.", "chat.")) for key in core_only.all_keys())
    both = chat_messages(None, "adapters.discord", "adapters.feishu")
    assert both.has("discord.cmd.video.name") and both.has("feishu.card.title.ack")
    assert both.including("adapters.feishu").all_keys() == both.all_keys()  # adding twice is harmless


def test_reply_language_is_the_cores_guess() -> None:
    assert reply_language("生成一只猫", Language.EN) is Language.ZH
    assert reply_language("make a cat video", Language.ZH) is Language.EN
    assert reply_language("", Language.ZH) is Language.ZH
    assert reply_language("🙂", Language.EN) is Language.EN


class _Downloads:
    """Serves byte strings by URL; a URL of an unknown result fails like a broken link."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.caps: list[int] = []

    async def download(self, url: str, dest_dir: Path, max_bytes: int,
                       name: str | None = None) -> Path | None:
        self.caps.append(max_bytes)
        if url not in self.sizes:
            raise OSError("broken link")
        if self.sizes[url] > max_bytes:
            return None
        path = dest_dir / (name or "x")
        path.write_bytes(b"x" * self.sizes[url])
        return path


async def test_delivery_fetches_under_the_caps_and_offers_links_for_the_rest(tmp_path: Path) -> None:
    media = [MediaResult(f"https://cdn/{n}.png", MediaType.IMAGE) for n in ("a", "b", "c", "d", "e")]
    downloads = _Downloads({"https://cdn/a.png": 600, "https://cdn/b.png": 2000, "https://cdn/c.png": 300,
                            "https://cdn/e.png": 10})
    limits = DeliveryLimits(max_file_bytes=lambda _m: 1000, max_message_bytes=1000, max_files=3)
    seen: list[Path] = []

    async def post(files: list[ResultFile], workdir: Path) -> list[ResultFile]:
        seen.append(workdir)
        assert all(f.path is None or f.path.parent == workdir for f in files)
        return files

    files = await deliver_results(media, downloads, limits, post, tmp_path)
    assert [f.path.name if f.path else None for f in files] == ["result-1.png", None, "result-3.png", None,
                                                                "result-5.png"]
    assert [f.too_large for f in files] == [False, True, False, False, False]
    assert downloads.caps == [1000, 400, 400, 100, 100]  # the message's room shrinks as files are fetched
    assert not seen[0].exists()  # the one temp dir is gone afterwards
    assert result_file_name(MediaResult("https://cdn/v?sig=1", MediaType.VIDEO), 0) == "result-1.mp4"
