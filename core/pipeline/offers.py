"""What the runner offers besides the chosen model: friendly names and time estimates, a cheaper model for
an expensive automatic choice, 1-2 fallback models after a failure, the follow-up buttons of a result and
the request each button starts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core.catalog.models import ModelCatalog
from core.catalog.products import ProductLeaf
from core.errors import ErrorKind, ImabotError
from core.jobs import Job
from core.pipeline.deps import RunnerDeps
from core.platform import ActionKind, Alternative
from core.request import GenerationRequest
from core.types import Attachment, AttachmentKind, MediaType, TaskType
from core.ux.error_text import offers_alternatives

EXPENSIVE_POINTS = 50  # seeds 003: above this, name a cheaper alternative for auto-selected models


class ModelOffers:
    def __init__(self, deps: RunnerDeps) -> None:
        self._d = deps

    def model_name(self, model_id: str, leaf: ProductLeaf, job: Job) -> str:
        """The catalog's friendly name in the user's language, else the live list's name (never a raw id)."""
        if self._d.catalog.info(model_id) is not None:
            return self._d.catalog.display_name(model_id, job.language)
        return leaf.name or model_id

    def estimate(self, model_id: str, leaf: ProductLeaf) -> tuple[int, int]:
        return self._d.catalog.estimate(model_id, leaf, self._d.eta_overrides)

    def cheaper(self, model_id: str, credit: int, leaves: Sequence[ProductLeaf],
                 job: Job) -> Alternative | None:
        if credit <= EXPENSIVE_POINTS:
            return None
        for alt in self.alternatives(model_id, job, leaves):
            if alt.points is not None and alt.points < credit:
                return alt
        return None

    def alternatives(self, model_id: str | None, job: Job, leaves: Sequence[ProductLeaf] | None = None
                     ) -> list[Alternative]:
        """1-2 fallback models (seeds' tables) with their cheapest live points when known."""
        task_type = job.request.task_type
        ids = self._d.catalog.alternatives_for(model_id or "", task_type)
        by_id = {leaf.model_id: leaf for leaf in leaves or ()}
        out = []
        for alt_id in ids:
            if not self._d.profile.allows(alt_id) or (leaves is not None and alt_id not in by_id):
                continue
            leaf = by_id.get(alt_id)
            points = leaf.points_range[0] if leaf is not None and leaf.credit_rules else None
            out.append(Alternative(alt_id, self._d.catalog.display_name(alt_id, job.language), points))
        return out


    def success_actions(self, job: Job) -> tuple[ActionKind, ...]:
        actions = [ActionKind.RETRY]
        if job.model_id and self._d.catalog.faster_than(job.model_id, job.request.task_type):
            actions.append(ActionKind.FASTER)
        if job.model_id and self._d.catalog.better_than(job.model_id, job.request.task_type):
            actions.append(ActionKind.BETTER)
        if job.media_type in (MediaType.VIDEO, MediaType.IMAGE) and first_frame_url(job):
            actions.append(ActionKind.FIRST_FRAME)
        return tuple(actions)


    async def failure_alternatives(self, job: Job, kind: ErrorKind) -> list[Alternative]:
        if not job.model_id or not offers_alternatives(kind):
            return []
        try:
            leaves: Sequence[ProductLeaf] | None = await self._d.gateway.list_products(job.request.task_type)
        except ImabotError:
            leaves = None
        return self.alternatives(job.model_id, job, leaves)


def first_frame_url(job: Job) -> str | None:
    """The image to start a new image-to-video from: a video's cover or the image itself."""
    for media in job.result:
        if media.kind is MediaType.VIDEO and media.cover_url:
            return media.cover_url
        if media.kind is MediaType.IMAGE and media.url:
            return media.url
    return None


def button_request(job: Job, action: ActionKind, catalog: ModelCatalog) -> GenerationRequest | str:
    """The request a button starts, or the message key explaining why it cannot."""
    request = job.request
    base = replace(request, preference=None, notices=())
    if action is ActionKind.RETRY:
        return base
    if not job.state.terminal:
        return "service.action.not_finished"
    if action is ActionKind.FASTER:
        faster = catalog.faster_than(job.model_id or "", request.task_type) if job.model_id else None
        return replace(base, model_id=faster, tier=None) if faster else "service.action.no_faster"
    if action is ActionKind.BETTER:
        better = catalog.better_than(job.model_id or "", request.task_type) if job.model_id else None
        return replace(base, model_id=better, tier=None) if better else "service.action.no_better"
    if action is ActionKind.FIRST_FRAME:
        url = first_frame_url(job)
        if url is None:
            return "service.action.no_first_frame"
        frame = Attachment(kind=AttachmentKind.IMAGE, name="first_frame.jpg", ref=url, role="first_frame")
        return replace(base, media_type=MediaType.VIDEO, task_type=TaskType.IMAGE_TO_VIDEO, model_id=None,
                       tier=None, params={}, attachments=(frame,))
    return "service.action.not_found"
