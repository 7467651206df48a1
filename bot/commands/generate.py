"""``imabot generate TEXT``: one request end to end, printed exactly as users would see it.

``--json`` prints one JSON object per UX event (step, slot, text, percent, media_url, cover_url, credits,
model_id, error_kind...). Exit code 0 when the media was delivered, 1 otherwise, 2 for a setup problem.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.console.chat import attachment_for
from adapters.console.sink import ConsoleSink, JsonLinesSink
from bot.settings import Settings, SettingsError
from bot.sim_mode import TimeLapseClock, command_settings, local_simulator, positive_speed, with_data_dir
from bot.wiring import build_app
from core.clock import Clock, SystemClock
from core.intent.hygiene import clean_text
from core.jobs import JobState
from core.messages import Messages
from core.platform import EventSink
from core.types import Attachment, AttachmentKind, Conversation, Platform

DEFAULT_SIM_SPEED = 24.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="what to create, e.g. '一只猫在草地上奔跑，5秒'")
    for kind in ("image", "video", "audio"):
        parser.add_argument(f"--{kind}", action="append", default=[], metavar="PATH|URL",
                            help=f"attach a local {kind} file or an https link (repeatable)")
    parser.add_argument("--sim", action="store_true", help="use a local IMA simulator (no key, no credits)")
    parser.add_argument("--sim-fault", action="append", default=[], metavar="SPEC",
                        help="simulator fault to preview a failure, e.g. task:rs=2 (implies --sim)")
    parser.add_argument("--speed", type=positive_speed, default=DEFAULT_SIM_SPEED,
                        help="with --sim: how many times faster than real time (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per event")
    parser.add_argument("--language", choices=["zh", "en"], help="default reply language")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # The user reads the outcome in the printed messages; only real errors also go to stderr.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    setup = command_settings("generate", args)
    if setup is None:
        return 2
    settings, faults = setup
    attachments: list[Attachment] = []
    for kind in (AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.AUDIO):
        for ref in getattr(args, kind.value):
            attachment = attachment_for(kind, ref)
            if attachment is None:
                print(f"imabot generate: file not found: {ref}", file=sys.stderr)
                return 2
            attachments.append(attachment)
    use_sim = args.sim or bool(faults)
    sink: EventSink = (JsonLinesSink(sys.stdout) if args.json
                       else ConsoleSink(sys.stdout, Messages.from_package()))
    try:
        return asyncio.run(_generate(settings, args.text, attachments, sink, use_sim=use_sim,
                                     faults=faults, speed=args.speed))
    except SettingsError as exc:
        print(f"imabot generate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _generate(settings: Settings, text: str, attachments: Sequence[Attachment], sink: EventSink, *,
                    use_sim: bool, faults: Sequence[Any], speed: float) -> int:
    if not use_sim:
        return await _one_request(settings, SystemClock(), text, attachments, sink)
    clock = TimeLapseClock(speed)
    with tempfile.TemporaryDirectory(prefix="imabot-generate-") as tmp:
        local = with_data_dir(settings, Path(tmp))
        async with local_simulator(local, clock, faults) as sim_settings:
            return await _one_request(sim_settings, clock, text, attachments, sink,
                                      simulator_url=sim_settings.ima.base_url)


async def _one_request(settings: Settings, clock: Clock, text: str, attachments: Sequence[Attachment],
                       sink: EventSink, simulator_url: str | None = None) -> int:
    async with build_app(settings, clock=clock, simulator_url=simulator_url) as app:
        app.context.sinks[Platform.CLI] = sink
        conversation = Conversation(platform=Platform.CLI, chat_id="cli", user_id=_user(),
                                    message_id=uuid.uuid4().hex, is_direct=True)
        job_id = await app.conversation.handle_message(conversation, clean_text(text), attachments)
        if job_id is None:
            return 1
        job = await app.service.wait_for(job_id)
        return 0 if job is not None and job.state is JobState.DONE else 1


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
