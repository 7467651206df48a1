"""Scale-out settings: the PostgreSQL URL never carries a password, leases and pools are bounded, and
Discord shards are consistent."""

from __future__ import annotations

import pytest

from bot.settings import DiscordSettings, SettingsError, StorageSettings, load_settings
from bot.storage import replica_id


def test_a_password_in_the_url_is_refused_and_other_schemes_too() -> None:
    with pytest.raises(ValueError, match="PGPASSWORD"):
        StorageSettings(url="postgresql://imabot:hunter2@db/imabot")
    with pytest.raises(ValueError, match="postgresql://"):
        StorageSettings(url="mysql://db/imabot")
    assert StorageSettings(url="postgresql://imabot@db:5432/imabot").backend == "postgresql"
    assert StorageSettings().backend == "sqlite"


@pytest.mark.parametrize("field", [{"lease_s": 0.5}, {"lease_s": 601}, {"pool_size": 0},
                                   {"replica_id": "has space"}])
def test_lease_pool_and_replica_id_are_bounded(field: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        StorageSettings(**field)  # type: ignore[arg-type]


def test_replica_ids_local_for_sqlite_unique_for_postgresql(tmp_path: object) -> None:
    sqlite = load_settings(None, env={})
    assert replica_id(sqlite) == "local"
    pg = sqlite.model_copy(update={"storage": StorageSettings(url="postgresql://imabot@db/imabot")})
    assert replica_id(pg) != replica_id(pg)  # two processes never share a generated id
    named = pg.model_copy(update={"storage": StorageSettings(url="postgresql://db/x", replica_id="bot-0")})
    assert replica_id(named) == "bot-0"


def test_discord_shards_must_fit_the_count() -> None:
    assert DiscordSettings(shard_count=4, shard_ids=[3]).shard_ids == [3]
    for bad in ({"shard_count": 2, "shard_ids": [2]}, {"shard_ids": [0]}, {"shard_count": 0}):
        with pytest.raises(ValueError):
            DiscordSettings(**bad)  # type: ignore[arg-type]
    assert SettingsError is not None
