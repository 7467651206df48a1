"""``imabot models``: list the live models per task type (name, model_id, versions, points, EET)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from adapters.ima.client import ImaClient, ImaClientConfig
from bot.settings import SettingsError, load_settings
from bot.wiring import ima_config
from core.catalog.models import ModelCatalog
from core.catalog.products import ProductLeaf
from core.clock import SystemClock
from core.errors import ImabotError
from core.messages import Messages
from core.types import Language, TaskType
from core.ux.error_text import reason_text

SIM_KEY = "ima_sim_local_models"


@dataclass(frozen=True, slots=True)
class ModelRow:
    task_type: str
    model_id: str
    name: str
    versions: tuple[str, ...]  # version ids, the default (first listed) first
    points_min: int
    points_max: int
    eet: str | None

    @property
    def points(self) -> str:
        lo, hi = self.points_min, self.points_max
        return str(lo) if lo == hi else f"{lo}~{hi}"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task-type", choices=[t.value for t in TaskType],
                        help="one task type (default: all)")
    parser.add_argument("--sim", action="store_true", help="use the in-process simulator (no API key needed)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--lang", choices=[lang.value for lang in Language], default=Language.EN.value)
    parser.set_defaults(handler=run)


def rows_for(task_type: TaskType, leaves: Sequence[ProductLeaf], catalog: ModelCatalog | None = None,
             overrides: Mapping[str, tuple[int, int]] | None = None) -> list[ModelRow]:
    """One row per model_id (Pixverse's versions are one model), in list order. The time is the one the
    chat tells users (``ModelCatalog.estimate``), also for models whose list entry has no EET tag."""
    catalog = catalog or ModelCatalog.load_default()
    groups: dict[str, list[ProductLeaf]] = {}
    for leaf in leaves:
        groups.setdefault(leaf.model_id, []).append(leaf)
    rows = []
    for model_id, versions in groups.items():
        first = versions[0]
        points = [r.points for leaf in versions for r in leaf.credit_rules] or [0]
        eet = catalog.estimate(model_id, first, overrides)
        rows.append(ModelRow(
            task_type=task_type.value, model_id=model_id,
            name=first.parent_id if len(versions) > 1 and first.parent_id else first.name,
            versions=tuple(v.version_id for v in versions), points_min=min(points), points_max=max(points),
            eet=f"{eet[0]}~{eet[1]}s" if eet else None,
        ))
    return rows


async def collect(client: ImaClient, task_types: Sequence[TaskType],
                  overrides: Mapping[str, tuple[int, int]] | None = None) -> list[ModelRow]:
    rows: list[ModelRow] = []
    catalog = ModelCatalog.load_default()
    for task_type in task_types:
        rows.extend(rows_for(task_type, await client.list_products(task_type), catalog, overrides))
    return rows


def render_table(rows: Sequence[ModelRow], messages: Messages, language: Language) -> str:
    header = messages.text("cli.models.columns", language).split("|")
    out: list[str] = []
    for task_type in dict.fromkeys(r.task_type for r in rows):
        group = [r for r in rows if r.task_type == task_type]
        table = [header, *([r.model_id, r.name, ", ".join(r.versions), r.points, r.eet or "-"]
                           for r in group)]
        widths = [max(_width(line[i]) for line in table) for i in range(len(header))]
        out.append(messages.text("cli.models.heading", language, task_type=task_type, count=len(group)))
        for line in table:
            cells = (cell + " " * (width - _width(cell)) for cell, width in zip(line, widths, strict=True))
            out.append(("  " + "  ".join(cells)).rstrip())
        out.append("")
    return "\n".join(out)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


async def _with_client(args: argparse.Namespace, task_types: Sequence[TaskType]) -> list[ModelRow]:
    clock = SystemClock()
    if args.sim:
        from sim.app import create_app
        from sim.config import SimConfig

        app = create_app(SimConfig(public_base_url="http://ima.sim", upload_base_url="http://upload.sim"),
                         clock=clock)
        config = ImaClientConfig(base_url="http://ima.sim", upload_base_url="http://upload.sim",
                                 api_key=SIM_KEY)
        async with ImaClient(config, transport=httpx.ASGITransport(app=app), clock=clock) as client:
            return await collect(client, task_types)
    settings = load_settings(Path(args.config) if getattr(args, "config", None) else None)
    if settings.secrets.ima_api_key is None:
        raise _NoKeyError
    async with ImaClient(ima_config(settings), clock=clock) as client:
        return await collect(client, task_types, settings.catalog.estimated_seconds)


class _NoKeyError(Exception):
    pass


def run(args: argparse.Namespace) -> int:
    messages = Messages.from_package()
    language = Language(args.lang)
    task_types = [TaskType(args.task_type)] if args.task_type else list(TaskType)
    try:
        rows = asyncio.run(_with_client(args, task_types))
    except _NoKeyError:
        print(messages.text("cli.models.no_key", language), file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ImabotError as exc:
        media = task_types[0].media_type
        reason = reason_text(messages, exc.kind, media, language)
        print(messages.text("cli.models.failed", language, reason=reason), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
    else:
        print(render_table(rows, messages, language))
    return 0
