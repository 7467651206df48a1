"""The slash commands: /video /image /music /speech /prefs (show, set, clear) /help.

Commands only collect typed options and hand them to a ``CommandHandler`` (the Discord client);
names, descriptions and choice labels come from the catalog through ``ls`` (see translator.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import discord
from discord import app_commands

from adapters.discord.inbound import ANY_MEDIA, IMAGE_ONLY
from adapters.discord.translator import ls
from core.messages import Messages
from core.types import AttachmentKind, MediaType, TaskType

Choice = app_commands.Choice
DURATIONS = (5, 10, 15)
RATIOS = (
    ("16:9", "landscape"),
    ("9:16", "portrait"),
    ("1:1", "square"),
    ("4:3", "landscape"),
    ("3:4", "portrait"),
    ("21:9", "landscape"),
)
RESOLUTIONS = ("480P", "720P", "1080P")
IMAGE_RATIOS = (
    ("1:1", "square"),
    ("16:9", "landscape"),
    ("9:16", "portrait"),
    ("4:3", "landscape"),
    ("3:4", "portrait"),
)


@dataclass(frozen=True, slots=True)
class GivenFile:
    attachment: discord.Attachment
    option: str  # the option's (English) name, shown in error messages
    role: str | None
    allowed: frozenset[AttachmentKind]


@dataclass(frozen=True, slots=True)
class CommandRequest:
    media_type: MediaType
    task_type: TaskType | None
    prompt: str
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    files: tuple[GivenFile, ...] = ()


class CommandHandler(Protocol):
    async def run_command(self, interaction: discord.Interaction[Any], request: CommandRequest) -> None: ...

    async def suggest_models(
        self, interaction: discord.Interaction[Any], task_type: TaskType, current: str
    ) -> list[Choice[str]]: ...

    async def show_help(self, interaction: discord.Interaction[Any]) -> None: ...

    async def show_prefs(self, interaction: discord.Interaction[Any]) -> None: ...

    async def clear_prefs(self, interaction: discord.Interaction[Any]) -> None: ...

    async def set_pref(self, interaction: discord.Interaction[Any], media: MediaType, model: str) -> None: ...


def _files(
    *given: tuple[discord.Attachment | None, str, str | None, frozenset[AttachmentKind]],
) -> tuple[GivenFile, ...]:
    return tuple(GivenFile(a, option, role, allowed) for a, option, role, allowed in given if a is not None)


def video_task(files: Sequence[GivenFile]) -> TaskType:
    roles = {f.role for f in files}
    if "first_frame" in roles and "last_frame" in roles:
        return TaskType.FIRST_LAST_FRAME_TO_VIDEO
    if "reference" in roles:
        return TaskType.REFERENCE_IMAGE_TO_VIDEO
    if roles & {"first_frame", None} and files:
        return TaskType.IMAGE_TO_VIDEO
    return TaskType.TEXT_TO_VIDEO


def _video_task_from_namespace(namespace: app_commands.Namespace) -> TaskType:
    if getattr(namespace, "first_frame", None) and getattr(namespace, "last_frame", None):
        return TaskType.FIRST_LAST_FRAME_TO_VIDEO
    if any(getattr(namespace, n, None) for n in ("reference", "reference_2", "reference_3")):
        return TaskType.REFERENCE_IMAGE_TO_VIDEO
    if getattr(namespace, "image", None) or getattr(namespace, "first_frame", None):
        return TaskType.IMAGE_TO_VIDEO
    return TaskType.TEXT_TO_VIDEO


def build_commands(
    m: Messages, handler: CommandHandler
) -> list[app_commands.Command[Any, Any, Any] | app_commands.Group]:
    def opt(name: str) -> app_commands.locale_str:
        return ls(m, f"discord.opt.{name}.name")

    def desc(name: str) -> app_commands.locale_str:
        return ls(m, f"discord.opt.{name}.desc")

    def ratio_choices(ratios: Sequence[tuple[str, str]]) -> list[Choice[str]]:
        return [Choice(name=ls(m, f"discord.choice.{shape}", ratio=r), value=r) for r, shape in ratios]

    seconds = [Choice(name=ls(m, "discord.choice.seconds", n=n), value=n) for n in DURATIONS]
    resolutions = [Choice(name=r, value=r) for r in RESOLUTIONS]

    @app_commands.command(name=ls(m, "discord.cmd.video.name"), description=ls(m, "discord.cmd.video.desc"))
    @app_commands.rename(
        prompt=opt("prompt"),
        model=opt("model"),
        duration=opt("duration"),
        aspect_ratio=opt("aspect_ratio"),
        resolution=opt("resolution"),
        image=opt("image"),
        first_frame=opt("first_frame"),
        last_frame=opt("last_frame"),
        reference=opt("reference"),
        reference_2=opt("reference_2"),
        reference_3=opt("reference_3"),
    )
    @app_commands.describe(
        prompt=desc("prompt"),
        model=desc("model"),
        duration=desc("duration"),
        aspect_ratio=desc("aspect_ratio"),
        resolution=desc("resolution"),
        image=desc("image"),
        first_frame=desc("first_frame"),
        last_frame=desc("last_frame"),
        reference=desc("reference"),
        reference_2=desc("reference_2"),
        reference_3=desc("reference_3"),
    )
    @app_commands.choices(duration=seconds)
    @app_commands.choices(aspect_ratio=ratio_choices(RATIOS), resolution=resolutions)
    async def video(
        interaction: discord.Interaction[Any],
        prompt: str,
        model: str | None = None,
        duration: Choice[int] | None = None,
        aspect_ratio: Choice[str] | None = None,
        resolution: Choice[str] | None = None,
        image: discord.Attachment | None = None,
        first_frame: discord.Attachment | None = None,
        last_frame: discord.Attachment | None = None,
        reference: discord.Attachment | None = None,
        reference_2: discord.Attachment | None = None,
        reference_3: discord.Attachment | None = None,
    ) -> None:
        files = _files(
            (image, "image", None, IMAGE_ONLY),
            (first_frame, "first_frame", "first_frame", IMAGE_ONLY),
            (last_frame, "last_frame", "last_frame", IMAGE_ONLY),
            (reference, "reference", "reference", ANY_MEDIA),
            (reference_2, "reference_2", "reference", ANY_MEDIA),
            (reference_3, "reference_3", "reference", ANY_MEDIA),
        )
        params: dict[str, Any] = {}
        if duration is not None:
            params["duration"] = int(duration.value)
        if aspect_ratio is not None:
            params["aspect_ratio"] = aspect_ratio.value
        if resolution is not None:
            params["resolution"] = resolution.value.upper()
        await handler.run_command(
            interaction, CommandRequest(MediaType.VIDEO, video_task(files), prompt, model, params, files)
        )

    @video.autocomplete("model")
    async def video_models(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        return await handler.suggest_models(
            interaction, _video_task_from_namespace(interaction.namespace), current
        )

    @app_commands.command(name=ls(m, "discord.cmd.image.name"), description=ls(m, "discord.cmd.image.desc"))
    @app_commands.rename(
        prompt=opt("prompt"), model=opt("model"), aspect_ratio=opt("aspect_ratio"), image=opt("image")
    )
    @app_commands.describe(
        prompt=desc("prompt"), model=desc("model"), aspect_ratio=desc("aspect_ratio"), image=desc("image")
    )
    @app_commands.choices(aspect_ratio=ratio_choices(IMAGE_RATIOS))
    async def image_cmd(
        interaction: discord.Interaction[Any],
        prompt: str,
        model: str | None = None,
        aspect_ratio: Choice[str] | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        files = _files((image, "image", None, IMAGE_ONLY))
        task = TaskType.IMAGE_TO_IMAGE if files else TaskType.TEXT_TO_IMAGE
        params = {"aspect_ratio": aspect_ratio.value} if aspect_ratio is not None else {}
        await handler.run_command(
            interaction, CommandRequest(MediaType.IMAGE, task, prompt, model, params, files)
        )

    @image_cmd.autocomplete("model")
    async def image_models(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        task = (
            TaskType.IMAGE_TO_IMAGE
            if getattr(interaction.namespace, "image", None)
            else TaskType.TEXT_TO_IMAGE
        )
        return await handler.suggest_models(interaction, task, current)

    @app_commands.command(name=ls(m, "discord.cmd.music.name"), description=ls(m, "discord.cmd.music.desc"))
    @app_commands.rename(prompt=opt("prompt"), model=opt("model"))
    @app_commands.describe(prompt=desc("prompt"), model=desc("model"))
    async def music(interaction: discord.Interaction[Any], prompt: str, model: str | None = None) -> None:
        await handler.run_command(
            interaction, CommandRequest(MediaType.MUSIC, TaskType.TEXT_TO_MUSIC, prompt, model)
        )

    @music.autocomplete("model")
    async def music_models(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        return await handler.suggest_models(interaction, TaskType.TEXT_TO_MUSIC, current)

    @app_commands.command(name=ls(m, "discord.cmd.speech.name"), description=ls(m, "discord.cmd.speech.desc"))
    @app_commands.rename(text=opt("text"), model=opt("model"))
    @app_commands.describe(text=desc("text"), model=desc("model"))
    async def speech(interaction: discord.Interaction[Any], text: str, model: str | None = None) -> None:
        await handler.run_command(
            interaction, CommandRequest(MediaType.SPEECH, TaskType.TEXT_TO_SPEECH, text, model)
        )

    @speech.autocomplete("model")
    async def speech_models(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        return await handler.suggest_models(interaction, TaskType.TEXT_TO_SPEECH, current)

    @app_commands.command(name=ls(m, "discord.cmd.help.name"), description=ls(m, "discord.cmd.help.desc"))
    async def help_cmd(interaction: discord.Interaction[Any]) -> None:
        await handler.show_help(interaction)

    prefs = app_commands.Group(
        name=ls(m, "discord.cmd.prefs.name"), description=ls(m, "discord.cmd.prefs.desc")
    )

    @prefs.command(
        name=ls(m, "discord.cmd.prefs_show.name"), description=ls(m, "discord.cmd.prefs_show.desc")
    )
    async def prefs_show(interaction: discord.Interaction[Any]) -> None:
        await handler.show_prefs(interaction)

    @prefs.command(
        name=ls(m, "discord.cmd.prefs_clear.name"), description=ls(m, "discord.cmd.prefs_clear.desc")
    )
    async def prefs_clear(interaction: discord.Interaction[Any]) -> None:
        await handler.clear_prefs(interaction)

    kinds = [Choice(name=ls(m, f"discord.media.{k.value}"), value=k.value) for k in MediaType]

    @prefs.command(name=ls(m, "discord.cmd.prefs_set.name"), description=ls(m, "discord.cmd.prefs_set.desc"))
    @app_commands.rename(kind=opt("media"), model=opt("model"))
    @app_commands.describe(kind=desc("media"), model=desc("model"))
    @app_commands.choices(kind=kinds)
    async def prefs_set(interaction: discord.Interaction[Any], kind: Choice[str], model: str) -> None:
        await handler.set_pref(interaction, MediaType(kind.value), model)

    @prefs_set.autocomplete("model")
    async def prefs_models(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        kind = getattr(interaction.namespace, "kind", None) or MediaType.VIDEO.value
        task = {
            MediaType.VIDEO.value: TaskType.TEXT_TO_VIDEO,
            MediaType.IMAGE.value: TaskType.TEXT_TO_IMAGE,
            MediaType.MUSIC.value: TaskType.TEXT_TO_MUSIC,
        }.get(str(kind), TaskType.TEXT_TO_SPEECH)
        return await handler.suggest_models(interaction, task, current)

    return [video, image_cmd, music, speech, prefs, help_cmd]
