"""Following the thread: which earlier generation a message builds on, and the request it becomes.

- "再来一个" / "again": the last request again; "和上次一样，但是竖屏" / "换成可灵" / "10秒": the last request
  with the changes; "继续" / "接着拍" / "continue": a new clip from the LAST frame of the last video.
- A reply to a result with new words: the result becomes the input (an image -> image_to_video or
  image_to_image as the words say; a video -> a new clip from its last frame).
- Seed 003's visual consistency: a request that names a subject an earlier result introduced
  ("叫旺财" ... "旺财在游泳"), or says 系列 / 同一个 / 角色 / 续 / 分镜, starts from that earlier result.
Every reuse is stated in the request's notices, so the pre-generation message says which result is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from core.catalog.models import ModelCatalog
from core.conversation.ports import LastFrameSource
from core.conversation.thread import ThreadStore
from core.errors import ImabotError
from core.intent import FollowUp, IntentKind, Understanding
from core.jobs import Job, JobState, JobStore
from core.messages import Messages
from core.request import GenerationRequest
from core.types import Attachment, AttachmentKind, Conversation, MediaType, TaskType
from core.ux.renderer import excerpt

THREAD_LOOKBACK = 20  # earlier generations searched for a follow-up or a reused subject
REPLY_LOOKBACK = 50  # messages of the chat searched for the one a reply points at
JOB_REF_PREFIX = "job:"  # a platform may name a job directly (the console's /reply)
_CONSISTENCY = re.compile(r"系列|同一[个只位张条]|角色|(?<![继持连手陆延])续|分镜|多个镜头|"
                          r"same (?:character|one|dog|cat|person|girl|boy)|\bseries\b|storyboard",
                          re.IGNORECASE)
_NAMED = re.compile(r"(?:名字叫|名叫|叫做|叫|名为|named|called)\s*[「“\"']?"
                    r"([\u4e00-\u9fff]{2,4}|[A-Za-z][A-Za-z0-9_-]{1,20})", re.IGNORECASE)
_NAME_TAIL = re.compile(r"[的在是和跟与去来吧呢啊]+$")
_FOLLOW_WORDS = re.compile(
    r"继续|接着拍|接着|续拍|再来一个|再来一次|再来|和上次一样|跟上次一样|上次的|一样|但是|不过|"
    r"\bcontinue\b|\bkeep going\b|\bgo on\b|\bagain\b|\bsame as (?:last time|before)\b|\bbut\b",
    re.IGNORECASE)
_REF_TOKENS = re.compile(r"[/@|:#\s]+")

Reread = Callable[[str, Sequence[Attachment]], Understanding]


@dataclass(frozen=True, slots=True)
class FollowPlan:
    """The request to submit (with its reuse notice), or the catalog key explaining why not."""

    request: GenerationRequest | None = None
    problem: str | None = None
    based_on: Job | None = None


def ref_matches(ref: str, message_id: str) -> bool:
    """A persisted platform ref names ``message_id`` (refs embed ids among separators, e.g. Discord's
    ``channel/message@created``; Feishu's and the console's are the id itself)."""
    return bool(message_id) and (ref == message_id or message_id in _REF_TOKENS.split(ref))


def visual_input(job: Job) -> tuple[str, MediaType] | None:
    """An earlier result usable as a picture: an image, or a video's cover (for identity only)."""
    for media in job.result:
        if media.kind is MediaType.IMAGE and media.url:
            return media.url, MediaType.IMAGE
        if media.kind is MediaType.VIDEO and media.cover_url:
            return media.cover_url, MediaType.VIDEO
    return None


def _video_url(job: Job) -> str | None:
    return next((m.url for m in job.result if m.kind is MediaType.VIDEO and m.url), None)


def _names(prompt: str) -> set[str]:
    names = set()
    for match in _NAMED.finditer(prompt):
        name = _NAME_TAIL.sub("", match.group(1))
        if len(name) >= 2:
            names.add(name.lower())
    return names


def extra_words(prompt: str) -> str:
    """What a follow-up says besides its follow-up words ("继续，他跳进水里" -> "他跳进水里")."""
    rest = _FOLLOW_WORDS.sub(" ", prompt)
    return " ".join(rest.replace("，", " ").replace(",", " ").split())


class Follower:
    def __init__(self, jobs: JobStore, thread: ThreadStore, catalog: ModelCatalog, messages: Messages,
                 reread: Reread, frames: LastFrameSource | None) -> None:
        self._jobs = jobs
        self._thread = thread
        self._catalog = catalog
        self._m = messages
        self._reread = reread
        self._frames = frames

    # ------------------------------------------------------------ finding earlier jobs
    async def recent(self, conversation: Conversation, limit: int = THREAD_LOOKBACK) -> list[Job]:
        """This user's generations in this chat, newest first."""
        entries = await self._thread.recent(conversation.platform, conversation.chat_id,
                                            conversation.user_id, limit)
        found = [await self._jobs.get(e.job_id) for e in entries]
        return [job for job in found if job is not None and not job.notice_only]

    async def replied_job(self, conversation: Conversation) -> Job | None:
        """The job whose message ``conversation`` replies to (anyone's, in this chat)."""
        target = conversation.reply_to
        if not target:
            return None
        if target.startswith(JOB_REF_PREFIX):
            job = await self._jobs.get(target[len(JOB_REF_PREFIX):])
            return job if job is not None and job.conversation.chat_id == conversation.chat_id else None
        entries = await self._thread.recent(conversation.platform, conversation.chat_id, None, REPLY_LOOKBACK)
        for entry in entries:
            job = await self._jobs.get(entry.job_id)
            if job is not None and any(ref_matches(ref, target) for ref in job.message_refs.values()):
                return job
        return None

    # ------------------------------------------------------------ follow-ups
    async def follow(self, conversation: Conversation, u: Understanding, based_on: Job | None = None
                     ) -> FollowPlan:
        kind = u.follow_up
        jobs = [based_on] if based_on is not None else await self.recent(conversation)
        if kind is FollowUp.CONTINUE:
            base = next((j for j in jobs if j.state is JobState.DONE and j.result), None)
            if base is None:
                problem = "conversation.follow.no_video" if jobs else "conversation.follow.nothing"
                return FollowPlan(problem=problem)
            if _video_url(base) is None:  # an image: "继续" animates it
                return self._from_picture(base, u, "")
            return await self.continue_video(base, u)
        if not jobs:
            return FollowPlan(problem="conversation.follow.nothing")
        base = jobs[0]
        if kind is FollowUp.AGAIN:
            return self._plan(base, base.request, "conversation.reuse.again")
        return self._plan(base, self._edited(base.request, u), "conversation.reuse.edit")

    def _edited(self, base: GenerationRequest, u: Understanding) -> GenerationRequest:
        new = u.parsed
        model_id = base.model_id
        if new.model_id:
            model_id = self._catalog.for_task(new.model_id, base.task_type) or new.model_id
        extra = extra_words(new.prompt)
        prompt = f"{base.prompt}，{extra}" if extra and len(extra) >= 2 else base.prompt
        return replace(base, prompt=prompt, params={**base.params, **new.params}, model_id=model_id,
                       tier=new.tier or (None if new.model_id else base.tier),
                       unknown_model=new.unknown_model)

    async def continue_video(self, base: Job, u: Understanding) -> FollowPlan:
        video = _video_url(base)
        if video is None:
            return FollowPlan(problem="conversation.follow.not_a_result")
        if self._frames is None:
            return FollowPlan(problem="conversation.follow.frame_failed")
        try:
            frame_url = await self._frames.last_frame_url(video)
        except ImabotError:
            return FollowPlan(problem="conversation.follow.frame_failed")
        frame = Attachment(kind=AttachmentKind.IMAGE, name="last_frame.jpg", ref=frame_url,
                           role="first_frame")
        extra = extra_words(u.parsed.prompt)
        request = replace(base.request, media_type=MediaType.VIDEO, task_type=TaskType.IMAGE_TO_VIDEO,
                          prompt=extra or base.request.prompt, model_id=u.parsed.model_id, tier=u.parsed.tier,
                          params={**base.request.params, **u.parsed.params}, attachments=(frame,),
                          language=u.language)
        return self._plan(base, request, "conversation.reuse.last_frame")

    # ------------------------------------------------------------ a reply to a result
    async def from_result(self, base: Job, text: str, attachments: Sequence[Attachment], u: Understanding
                          ) -> FollowPlan:
        bare_edit = u.follow_up is FollowUp.EDIT and not extra_words(u.parsed.prompt)
        if u.follow_up is FollowUp.AGAIN or bare_edit:  # "再来一个" / "竖屏": that request again, changed
            return await self.follow(base.conversation, u, based_on=base)
        if base.state is not JobState.DONE or not base.result:
            return FollowPlan(problem="conversation.follow.not_a_result")
        if _video_url(base) is not None:
            return await self.continue_video(base, u)
        if base.media_type is MediaType.IMAGE:
            return self._from_picture(base, u, text, attachments)
        return FollowPlan()  # music / speech: the words are a request of their own

    def _from_picture(self, base: Job, u: Understanding, text: str, attachments: Sequence[Attachment] = ()
                      ) -> FollowPlan:
        picture = visual_input(base)
        if picture is None:
            return FollowPlan(problem="conversation.follow.not_a_result")
        image = Attachment(kind=AttachmentKind.IMAGE, name="earlier.png", ref=picture[0])
        reread = self._reread(text or u.parsed.prompt, (*attachments, image))
        request = reread.request or reread.parsed
        if not request.prompt.strip():
            request = replace(request, prompt=base.request.prompt)
        if request.task_type not in (TaskType.IMAGE_TO_VIDEO, TaskType.IMAGE_TO_IMAGE,
                                     TaskType.REFERENCE_IMAGE_TO_VIDEO, TaskType.FIRST_LAST_FRAME_TO_VIDEO):
            request = replace(request, media_type=MediaType.VIDEO, task_type=TaskType.IMAGE_TO_VIDEO)
        return self._plan(base, request, "conversation.reuse.input")

    # ------------------------------------------------------------ visual consistency (seed 003)
    async def consistent(self, conversation: Conversation, text: str, u: Understanding) -> FollowPlan | None:
        """The request rebuilt on an earlier result when it is about the same subject, else None."""
        request = u.request
        if request is None or request.attachments or request.media_type not in (MediaType.VIDEO,
                                                                                 MediaType.IMAGE):
            return None
        earlier = [j for j in await self.recent(conversation) if j.state is JobState.DONE and visual_input(j)]
        if not earlier:
            return None
        prompt = request.prompt.lower()
        named = next((j for j in earlier if any(n in prompt for n in _names(j.request.prompt))), None)
        base = named or (earlier[0] if _CONSISTENCY.search(text) else None)
        if base is None:
            return None
        picture = visual_input(base)
        assert picture is not None
        image = Attachment(kind=AttachmentKind.IMAGE, name="earlier.png", ref=picture[0])
        reread = self._reread(text, (image,))
        rebuilt = reread.request or replace(request, attachments=(image,))
        key = "conversation.reuse.first_frame" if rebuilt.task_type is TaskType.IMAGE_TO_VIDEO \
            else "conversation.reuse.input"
        return self._plan(base, rebuilt, key)

    # ------------------------------------------------------------ plumbing
    def _plan(self, base: Job, request: GenerationRequest, notice_key: str) -> FollowPlan:
        note = self._m.text(notice_key, request.language, prompt=excerpt(base.request.prompt))
        clean = replace(request, preference=None, notices=(note, *_own_notices(request, base.request)))
        return FollowPlan(request=clean, based_on=base)


def _own_notices(request: GenerationRequest, base: GenerationRequest) -> tuple[str, ...]:
    """Notices the new words produced (not the ones the earlier request already showed)."""
    return tuple(n for n in request.notices if n not in base.notices)


def is_generation(u: Understanding) -> bool:
    return u.intent is IntentKind.GENERATE
