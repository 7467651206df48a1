"""The parser is total and deterministic: any text and attachment mix gives a valid request."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.catalog.models import ModelCatalog
from core.intent import apply_overrides, parse
from core.request import RequestOverrides
from core.types import Attachment, AttachmentKind, Language, MediaType, TaskType

CATALOG = ModelCatalog.load_default()

_WORDS = [
    "用可灵",
    "以后都用海螺",
    "横屏",
    "竖屏",
    "10秒",
    "1分半",
    "4K",
    "画",
    "视频",
    "首帧",
    "尾帧",
    "参考",
    "朗读：",
    "背景音乐",
    "best",
    "use Kling",
    "16:9",
    "9比16",
    "nano-banana-pro",
    "@_user_1",
    "<@123>",
    "万",
    "一万",
    "“",
    "”",
    ":",
    "，",
    "🐱",
    "ｖｉｄｅｏ",
    "\u3000",
    "\n",
    "從",
    "𝔘𝔫𝔦",
    "ß",
    "İ",
    "ﬁ",
]

texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(_WORDS) | st.text(max_size=8), max_size=30).map("".join),
)
attachments = st.lists(
    st.builds(
        Attachment,
        kind=st.sampled_from(list(AttachmentKind)),
        name=st.text(max_size=10),
        ref=st.text(max_size=10),
        role=st.sampled_from([None, "first_frame", "last_frame", "reference"]),
    ),
    max_size=5,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=texts,
    files=attachments,
    media=st.sampled_from(list(MediaType)),
    lang=st.sampled_from(list(Language)),
)
def test_any_input_gives_a_valid_request(
    text: str, files: list[Attachment], media: MediaType, lang: Language
) -> None:
    request = parse(
        text, files, catalog=CATALOG, default_media=media, default_language=lang, bot_names=("imabot",)
    )
    assert request.task_type in TaskType
    assert request.task_type.media_type is request.media_type
    assert request.language in Language
    assert request.attachments == tuple(files)
    assert request.model_id is None or CATALOG.info(request.model_id) is not None
    assert all(isinstance(n, str) and n for n in request.notices)
    if "duration" in request.params:
        assert isinstance(request.params["duration"], int) and request.params["duration"] > 0
    if "aspect_ratio" in request.params:
        w, _, h = str(request.params["aspect_ratio"]).partition(":")
        assert w.isdigit() and h.isdigit()
    again = parse(
        text, files, catalog=CATALOG, default_media=media, default_language=lang, bot_names=("imabot",)
    )
    assert again == request


def test_task_type_always_matches_the_media_of_the_attachments() -> None:
    image = Attachment(AttachmentKind.IMAGE, "a.png", "https://x/a.png")
    assert parse("画一只猫", [image], catalog=CATALOG).task_type is TaskType.IMAGE_TO_IMAGE
    assert parse("画一只猫", [], catalog=CATALOG).task_type is TaskType.TEXT_TO_IMAGE
    assert parse("", [image], catalog=CATALOG).task_type is TaskType.IMAGE_TO_VIDEO


def test_default_media_and_language_are_used_only_when_the_text_is_silent() -> None:
    silent = parse("一只猫", catalog=CATALOG, default_media=MediaType.IMAGE)
    assert silent.task_type is TaskType.TEXT_TO_IMAGE
    assert (
        parse("生成视频，一只猫", catalog=CATALOG, default_media=MediaType.IMAGE).media_type
        is MediaType.VIDEO
    )
    assert parse("🐱", catalog=CATALOG, default_language=Language.EN).language is Language.EN
    assert parse("一只猫", catalog=CATALOG, default_language=Language.EN).language is Language.ZH


def test_very_long_mixed_text_is_parsed_quickly() -> None:
    chunk = "用可灵生成10秒竖屏视频，一只猫在弹钢琴 🐱 then a dog surfs at sunset, 16:9, 4K。"
    text = chunk * 250  # ~15k characters
    start = time.perf_counter()
    request = parse(text, catalog=CATALOG)
    elapsed = time.perf_counter() - start
    assert request.model_id == "kling-video-o1"
    assert request.params["duration"] == 10
    assert request.prompt
    assert elapsed < 2.0, f"parse took {elapsed:.2f}s"


def test_overrides_from_a_structured_command_win() -> None:
    request = parse("用可灵生成10秒竖屏视频，一只猫", catalog=CATALOG)
    image = Attachment(AttachmentKind.IMAGE, "a.png", "https://x/a.png")
    with_image = parse("用万生成，一只猫", [image], catalog=CATALOG)
    overridden = apply_overrides(request, RequestOverrides(model_id="Veo", params={"duration": 8}), CATALOG)
    assert overridden.model_id == "veo-3.1-generate-preview"
    assert overridden.params == {"duration": 8, "aspect_ratio": "9:16"}
    as_image = apply_overrides(request, RequestOverrides(media_type=MediaType.IMAGE), CATALOG)
    assert as_image.task_type is TaskType.TEXT_TO_IMAGE
    retyped = apply_overrides(
        with_image, RequestOverrides(task_type=TaskType.REFERENCE_IMAGE_TO_VIDEO), CATALOG
    )
    assert retyped.model_id == "wan2.6-i2v"
    assert apply_overrides(request, None, CATALOG) is request


def test_explicit_attachment_roles_decide_the_task() -> None:
    first = Attachment(AttachmentKind.IMAGE, "a.png", "https://x/a.png", role="first_frame")
    last = Attachment(AttachmentKind.IMAGE, "b.png", "https://x/b.png", role="last_frame")
    ref = Attachment(AttachmentKind.IMAGE, "c.png", "https://x/c.png", role="reference")
    assert parse("一只猫", [first, last], catalog=CATALOG).task_type is TaskType.FIRST_LAST_FRAME_TO_VIDEO
    assert parse("一只猫", [ref], catalog=CATALOG).task_type is TaskType.REFERENCE_IMAGE_TO_VIDEO
    assert parse("一只猫", [first], catalog=CATALOG).task_type is TaskType.IMAGE_TO_VIDEO


def test_bot_names_and_platform_mentions_are_not_part_of_the_prompt() -> None:
    for text in (
        "@imabot 一只猫在弹钢琴",
        "imabot，一只猫在弹钢琴",
        "<@!1234> 一只猫在弹钢琴",
        "@_user_1 一只猫在弹钢琴",
    ):
        request = parse(text, catalog=CATALOG, bot_names=("imabot",))
        assert request.prompt == "一只猫在弹钢琴", text


def test_text_beyond_the_search_window_is_kept_in_the_prompt() -> None:
    text = "用可灵生成10秒视频：" + "猫" * 25_000 + "结尾"
    request = parse(text, catalog=CATALOG)
    assert request.model_id == "kling-video-o1"
    assert request.prompt.endswith("猫结尾")
    assert request.prompt.count("猫") == 25_000
