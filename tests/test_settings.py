from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_point_at_production_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMABOT_CONFIG", raising=False)
    settings = load_settings(env={})
    assert settings.ima.base_url == "https://api.imastudio.com"
    assert settings.ima.upload_base_url == "https://imapi.liveme.com"
    assert settings.secrets.ima_api_key is None


def test_file_values_and_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ima]\nbase_url = "http://127.0.0.1:9"\n[bot]\ndefault_language = "en"\n')
    monkeypatch.setenv("IMABOT_BOT__DEFAULT_LANGUAGE", "zh")
    settings = load_settings(cfg, env={"IMA_API_KEY": "ima_secret_value"})
    assert settings.ima.base_url == "http://127.0.0.1:9"
    assert settings.bot.default_language == "zh"
    assert settings.secrets.ima_api_key is not None
    assert "ima_secret_value" not in repr(settings) + str(settings.secrets)


def test_secret_in_config_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ima]\napi_key = "ima_x"\n')
    with pytest.raises(SettingsError, match="environment"):
        load_settings(cfg, env={})


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    load_settings(example, env={})
