"""The simulator's ASGI app: the Open API host and the upload host in one Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette

from core.clock import Clock, SystemClock
from sim import admin, media, open_api, upload
from sim.catalog import Catalog
from sim.config import SimConfig
from sim.lifecycle import Timings
from sim.media import MediaStore
from sim.state import SimState


def create_app(config: SimConfig, *, clock: Clock | None = None) -> Starlette:
    app = Starlette(routes=[*open_api.ROUTES, *upload.ROUTES, *media.ROUTES, *admin.ROUTES])
    app.state.sim = SimState(config=config, clock=clock or SystemClock(), catalog=Catalog.load())
    app.state.timings = Timings.load()
    app.state.media = MediaStore()
    return app
