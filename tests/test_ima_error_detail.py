"""User-facing detail lines for IMA client errors (zh/en)."""

from __future__ import annotations

import pytest

from adapters.ima.catalog_tree import choose_leaf, parse_leaf
from adapters.ima.credit_rules import resolve
from core.catalog.products import ProductLeaf
from core.errors import ErrorKind, ImaApiError, ImabotError, InputError
from core.messages import Messages
from core.types import Language, TaskType
from core.ux.detail_text import ima_error_detail
from tests import ima_catalog_data as data

MESSAGES = Messages.from_package()


def kling() -> ProductLeaf:
    leaf = parse_leaf(data.kling_o1(), TaskType.TEXT_TO_VIDEO)
    assert leaf is not None
    return leaf


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (Language.EN, "This model doesn't support quality 4k; choose one of: 720p, 1080p"),
        (Language.ZH, "这个模型的 quality 不支持 4k，可选：720p, 1080p"),
    ],
)
def test_unmappable_ui_value_names_the_options(language: Language, expected: str) -> None:
    with pytest.raises(InputError) as info:
        resolve(kling(), {"quality": "4k"})
    assert ima_error_detail(MESSAGES, info.value, language) == expected


def test_unknown_model_lists_what_exists() -> None:
    with pytest.raises(ImaApiError) as info:
        choose_leaf([kling()], "sora-9")
    text = ima_error_detail(MESSAGES, info.value, Language.EN)
    assert text == 'There is no model "sora-9" here. Available: kling-video-o1'


def test_upload_limit_detail() -> None:
    exc = InputError(
        "x", code="upload_too_large", params={"name": "a.mp4", "size_mb": "250.0", "limit_mb": "200"}
    )
    assert ima_error_detail(MESSAGES, exc, Language.ZH) == "文件 a.mp4 有 250.0 MB，超过了 200 MB 的上传上限"


@pytest.mark.parametrize(
    "exc",
    [
        ImaApiError("x", kind=ErrorKind.SERVER_ERROR, code=500),
        InputError("x", code="not_an_ima_code"),
        InputError("x", code="upload_too_large"),  # placeholders missing
        ImaApiError("x", kind=ErrorKind.UNKNOWN_MODEL),
    ],
)
def test_nothing_specific_to_add(exc: ImabotError) -> None:
    assert ima_error_detail(MESSAGES, exc, Language.EN) is None
