"""The ops server of a running ``imabot run`` (a subprocess) against ``imabot sim`` and the fake Discord:
/healthz answers, /readyz is ready once Discord is connected and turns 503 (naming Discord) when the
platform goes away, /metrics counted the job through every state with its points and deliveries."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.discord_fake.server import FakeDiscord
from tests.test_run_subprocess import (
    RESULT_S,
    START_S,
    Bot,
    _config,
    _imabot_run,
    discord_section,
    running_simulator,
)

# Slow enough that the first status poll (5 s for images) finds the task still running.
SIM_SPEED = 2


@pytest.fixture(scope="module")
def sim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_simulator(tmp_path_factory.mktemp("sim"), speed=SIM_SPEED) as url:
        yield url

JOB_PATH = ("received", "acknowledged", "submitting", "submitted", "running", "delivering", "done")


async def ops_url(bot: Bot) -> str:
    """The address the bot logged for its ops server (port 0 = a free one)."""
    while True:
        found = re.search(r'ops server listening on (http://[^\s"]+)', bot.output())
        if found:
            return found.group(1)
        await asyncio.sleep(0.05)


async def until_ready(http: httpx.AsyncClient, base: str, ready: bool) -> dict[str, object]:
    while True:
        reply = await http.get(f"{base}/readyz")
        body: dict[str, object] = reply.json()
        assert reply.status_code == (200 if body["ready"] else 503)
        if body["ready"] is ready:
            return body
        await asyncio.sleep(0.1)


async def until_done(http: httpx.AsyncClient, base: str) -> str:
    while True:
        scrape = await http.get(f"{base}/metrics")
        assert scrape.headers["content-type"].startswith("text/plain")
        if metric(scrape.text, "imabot_job_transitions_total", state="done") == 1:
            return scrape.text
        await asyncio.sleep(0.1)


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0



async def test_health_readiness_and_metrics_of_a_running_bot(tmp_path: Path, sim_url: str) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        async with _imabot_run(tmp_path, _config(sim_url, tmp_path, discord_section(fake)),
                               {"DISCORD_BOT_TOKEN": "fake-bot-token"}) as bot, \
                httpx.AsyncClient(trust_env=False, timeout=START_S) as http:
            base = await bot.until(ops_url(bot), START_S)
            assert (await http.get(f"{base}/healthz")).json() == {"status": "ok"}
            await bot.until(fake.identified.wait(), START_S)
            ready = await bot.until(until_ready(http, base, True), START_S)
            assert {c["name"] for c in ready["checks"]} == {  # type: ignore[union-attr]
                "store", "platform:discord", "ima_products"}

            await fake.slash("image", {"prompt": "an orange cat asleep on a sofa"})
            await bot.until(fake.wait_for(lambda rs: any(r.files for r in rs), within=RESULT_S), RESULT_S)
            text = await bot.until(until_done(http, base), RESULT_S)  # DONE is saved after the upload
            for state in JOB_PATH:
                counted = metric(text, "imabot_job_transitions_total", state=state, media_type="image")
                assert counted == 1, state
            assert metric(text, "imabot_jobs", state="running", media_type="image") == 0
            assert metric(text, "imabot_points_spent_total", media_type="image") > 0
            assert metric(text, "imabot_ima_requests_total", endpoint="create", outcome="ok") == 1
            assert metric(text, "imabot_job_duration_seconds_count", outcome="done") == 1
            assert metric(text, "imabot_job_first_progress_seconds_count") == 1
            assert metric(text, "imabot_deliveries_total", platform="discord", outcome="ok") >= 1
            assert metric(text, "imabot_platform_calls_total", platform="discord", outcome="ok") >= 3
            assert metric(text, "imabot_platform_connected", platform="discord") == 1

            before_disconnect = bot.output()
            await fake.aclose()  # Discord goes away (discord.py then logs its failed reconnects)
            gone = await bot.until(until_ready(http, base, False), START_S)
            failing = [c for c in gone["checks"] if not c["ok"]]  # type: ignore[union-attr]
            assert [c["name"] for c in failing] == ["platform:discord"]
            assert (await http.get(f"{base}/healthz")).status_code == 200  # alive, just not ready
            text = (await http.get(f"{base}/metrics")).text
            assert metric(text, "imabot_platform_connected", platform="discord") == 0
            assert await bot.stop() == 0, bot.output()[-4000:]
    finally:
        await fake.aclose()
    assert "Traceback" not in before_disconnect
    # Not a terminal: JSON lines. Every line parses; lines about the job carry its id, place and user hash.
    lines = [json.loads(line) for line in bot.output().splitlines() if line.strip()]
    about_job = [line for line in lines if "job_id" in line]
    assert {line["logger"] for line in about_job} >= {"imabot.jobs", "imabot.ima"}  # transitions, IMA create
    assert all(line["platform"] == "discord" and line["chat"] and len(line["user"]) == 12
               for line in about_job)
    assert "ima_subprocess_test_key" not in bot.output()
