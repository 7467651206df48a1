"""The one place a user's model preference is read, saved, cleared and described.

Deciding *whether* a request changes the preference is ``core.selection.preference_action`` (only an
explicit statement does); this book applies that decision to the store and words the confirmation.
"""

from __future__ import annotations

from core.catalog.models import ModelCatalog
from core.clock import Clock
from core.messages import Messages
from core.ports import Preference, PreferenceStore
from core.request import GenerationRequest, PreferenceIntent
from core.selection import Selection, preference_action, preference_confirmation
from core.types import Conversation, Language, Platform, TaskType


class PreferenceBook:
    def __init__(self, store: PreferenceStore, catalog: ModelCatalog, messages: Messages,
                 clock: Clock) -> None:
        self._store = store
        self._catalog = catalog
        self._m = messages
        self._clock = clock

    async def current(self, conversation: Conversation, task_type: TaskType) -> Preference | None:
        return await self._store.get(conversation.platform, conversation.user_id, task_type)

    async def record(self, conversation: Conversation, request: GenerationRequest,
                     selection: Selection | None) -> str | None:
        """Apply what ``request`` says about the preference; the confirmation text, or None when
        nothing changed (no explicit statement, or a save without a usable model)."""
        change = preference_action(request, selection)
        if change is None:
            return None
        platform, user_id = conversation.platform, conversation.user_id
        if change.action is PreferenceIntent.CLEAR:
            await self._store.clear(platform, user_id, change.task_type)
        else:
            saved = change.to_preference(self._clock.now())
            if saved is None:
                return None
            await self._store.save(platform, user_id, change.task_type, saved)
        return preference_confirmation(change, self._catalog, request.language, self._m)

    async def describe(self, platform: Platform, user_id: str, language: Language) -> str:
        prefs = await self._store.all_for(platform, user_id)
        if not prefs:
            return self._m.text("service.pref.none", language)
        lines = [self._m.text("service.pref.header", language)]
        for task_type, pref in prefs.items():
            name = self._catalog.display_name(pref.model_id, language)
            task_name = self._m.text(f"service.task.{task_type.value}", language)
            lines.append(self._m.text("service.pref.line", language, media=task_name, model=name))
        return "\n".join(lines)

    async def clear_all(self, platform: Platform, user_id: str, language: Language) -> str:
        await self._store.clear(platform, user_id, None)
        return self._m.text("service.pref.cleared", language)
