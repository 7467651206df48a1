"""What the classifier hands the conversation layer: the intent and everything needed to act on it.
Frozen values only; ``core.intent.classify.understand`` makes them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.request import GenerationRequest
from core.types import Language, MediaType


class IntentKind(StrEnum):
    GENERATE = "generate"
    HELP = "help"
    MODELS = "models"
    STATUS = "status"
    CANCEL = "cancel"
    PREFS = "prefs"
    USAGE = "usage"
    SMALLTALK = "smalltalk"
    UNCLEAR = "unclear"


class Answer(StrEnum):
    """A whole-message yes / no ("好的", "不用了"): the answer to the bot's pending question, if any."""

    YES = "yes"
    NO = "no"


class FollowUp(StrEnum):
    AGAIN = "again"  # "再来一个": repeat the last request
    EDIT = "edit"  # "和上次一样，但是竖屏" / "换成可灵" / "10秒": the last request with these changes
    CONTINUE = "continue"  # "继续" / "接着拍": a new clip from the last result's last frame


class PrefsAction(StrEnum):
    SHOW = "show"
    SET = "set"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class CancelSelector:
    """Which job to cancel: ``index`` (1-based, as listed to the user), ``all``, or neither (the one
    running job, or ask which)."""

    index: int | None = None
    all: bool = False


@dataclass(frozen=True, slots=True)
class ModelsQuery:
    """ "有哪些模型" / "可灵和海螺哪个好" / "which is best for portraits"."""

    media_type: MediaType | None = None  # a medium the question names
    model_ids: tuple[str, ...] = ()  # models the question names (primary catalog ids), in text order
    topic: str = ""  # what is left of the question ("portraits", "人像"): the use the user has in mind


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: IntentKind
    language: Language
    parsed: GenerationRequest  # what the parser read, for every intent: never submit it unless generate
    request: GenerationRequest | None = None  # set when intent is generate (the only paid path)
    answer: Answer | None = None
    follow_up: FollowUp | None = None  # only with intent generate
    prefs: PrefsAction | None = None  # with intent prefs; SET also on a bare "换成可灵" edit
    cancel: CancelSelector | None = None  # with intent cancel
    models_query: ModelsQuery | None = None  # with intent models
    model_id: str | None = None  # a model the message names ("用海螺吧" answering a retry offer)

    @property
    def may_charge(self) -> bool:
        return self.intent is IntentKind.GENERATE
