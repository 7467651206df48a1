"""Preference save / clear / mismatch flows against the preference store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.catalog.models import ModelCatalog
from core.catalog.products import CreditRule, ProductLeaf
from core.intent import parse
from core.ports import Preference, PreferenceStore
from core.request import PreferenceIntent
from core.selection import ModelProfile, preference_action, select_model
from core.types import Language, Platform, TaskType
from tests.support.backends import Backend

CATALOG = ModelCatalog.load_default()


def _leaf(model_id: str, points: int, task: TaskType = TaskType.TEXT_TO_VIDEO) -> ProductLeaf:
    return ProductLeaf(
        version_id=model_id,
        model_id=model_id,
        name=CATALOG.display_name(model_id, "en"),
        category=task,
        credit_rules=(CreditRule(1, points, {}),),
    )


T2V = [
    _leaf("wan2.6-t2v", 25),
    _leaf("kling-video-o1", 48),
    _leaf("MiniMax-Hailuo-2.3", 12),
    _leaf("viduq2", 5),
]


async def _remember(store: PreferenceStore, text: str, user: str = "u1", now: float = 100.0) -> None:
    """What the pipeline does after a request: apply the preference change the core decided on."""
    request = parse(text, catalog=CATALOG)
    pref = await store.get(Platform.DISCORD, user, request.task_type)
    selection = select_model(request, T2V, catalog=CATALOG, preference=pref, profile=ModelProfile())
    change = preference_action(request, selection)
    if change is None:
        return
    if change.action is PreferenceIntent.CLEAR:
        await store.clear(Platform.DISCORD, user, change.task_type)
    elif (saved := change.to_preference(now)) is not None:
        await store.save(Platform.DISCORD, user, change.task_type, saved)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[PreferenceStore]:
    """On SQLite and on PostgreSQL (part of the store suite)."""
    async with backend.open() as stores:
        yield stores.preferences


async def test_explicit_model_is_saved_and_survives_a_reopen(backend: Backend) -> None:
    async with backend.open() as stores:
        await _remember(stores.preferences, "以后都用可灵，一只猫在弹钢琴")
    async with backend.open() as stores:
        saved = await stores.preferences.get(Platform.DISCORD, "u1", TaskType.TEXT_TO_VIDEO)
    assert saved is not None
    assert saved.model_id == "kling-video-o1"
    assert saved.model_name == "Kling O1"
    assert saved.credit == 48
    assert saved.last_used == 100.0


async def test_auto_selection_never_writes(store: PreferenceStore) -> None:
    await _remember(store, "生成一段视频，海边的日落")
    await _remember(store, "用最便宜的生成一只猫")
    assert await store.all_for(Platform.DISCORD, "u1") == {}


async def test_saved_preference_wins_and_gets_a_mismatch_hint(store: PreferenceStore) -> None:
    await _remember(store, "以后都用海螺")
    pref = await store.get(Platform.DISCORD, "u1", TaskType.TEXT_TO_VIDEO)
    request = parse("一只猫在月球上跳舞", catalog=CATALOG)
    selection = select_model(request, T2V, catalog=CATALOG, preference=pref, profile=ModelProfile())
    assert selection.model_id == "MiniMax-Hailuo-2.3"
    assert selection.source == "preference"
    assert selection.mismatch_hint is not None and "Wan 2.6" in selection.mismatch_hint
    assert preference_action(request, selection) is None


async def test_clear_phrase_removes_only_that_task_type(store: PreferenceStore) -> None:
    midjourney = Preference("midjourney", "Midjourney", 8, 1.0)
    await store.save(Platform.DISCORD, "u1", TaskType.TEXT_TO_IMAGE, midjourney)
    await _remember(store, "always use Kling for my videos")
    assert (await store.get(Platform.DISCORD, "u1", TaskType.TEXT_TO_VIDEO)) is not None
    await _remember(store, "用最好的模型生成一只猫")
    remaining = await store.all_for(Platform.DISCORD, "u1")
    assert set(remaining) == {TaskType.TEXT_TO_IMAGE}


async def test_clear_phrase_ignores_the_saved_model_for_that_request(store: PreferenceStore) -> None:
    await _remember(store, "以后都用海螺")
    pref = await store.get(Platform.DISCORD, "u1", TaskType.TEXT_TO_VIDEO)
    request = parse("你选一个合适的模型，生成一只猫", catalog=CATALOG)
    assert request.preference is PreferenceIntent.CLEAR
    selection = select_model(request, T2V, catalog=CATALOG, preference=pref, profile=ModelProfile())
    assert selection.model_id == "wan2.6-t2v"
    assert selection.source == "default"


async def test_users_and_platforms_are_separate(store: PreferenceStore) -> None:
    await _remember(store, "以后都用可灵", user="alice")
    vidu = Preference("viduq2", "Vidu Q2", 5, 2.0)
    await store.save(Platform.FEISHU, "alice", TaskType.TEXT_TO_VIDEO, vidu)
    assert (await store.get(Platform.DISCORD, "bob", TaskType.TEXT_TO_VIDEO)) is None
    discord = await store.get(Platform.DISCORD, "alice", TaskType.TEXT_TO_VIDEO)
    feishu = await store.get(Platform.FEISHU, "alice", TaskType.TEXT_TO_VIDEO)
    assert discord is not None and discord.model_id == "kling-video-o1"
    assert feishu is not None and feishu.model_id == "viduq2"
    await store.clear(Platform.DISCORD, "alice")
    assert await store.all_for(Platform.DISCORD, "alice") == {}
    assert (await store.get(Platform.FEISHU, "alice", TaskType.TEXT_TO_VIDEO)) is not None


async def test_saving_again_replaces_the_row(store: PreferenceStore) -> None:
    await _remember(store, "以后都用可灵", now=1.0)
    await _remember(store, "改用万2.6生成", now=2.0)
    pref = await store.get(Platform.DISCORD, "u1", TaskType.TEXT_TO_VIDEO)
    assert pref is not None and (pref.model_id, pref.last_used) == ("wan2.6-t2v", 2.0)


async def test_model_not_offered_is_not_saved(store: PreferenceStore) -> None:
    await _remember(store, "以后都用 Sora 2 Pro")
    assert await store.all_for(Platform.DISCORD, "u1") == {}


def test_preference_language_follows_the_message() -> None:
    assert parse("always use Kling", catalog=CATALOG).language is Language.EN
