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


def test_every_section_refuses_unknown_keys_and_non_finite_numbers() -> None:
    from pydantic import BaseModel

    from bot.settings import Section, Settings
    sections = [f.annotation for name, f in Settings.model_fields.items() if name != "secrets"]
    assert sections
    for section in sections:
        assert isinstance(section, type) and issubclass(section, BaseModel)
        assert issubclass(section, Section), f"{section.__name__} must derive from bot.settings.Section"
        assert section.model_config.get("extra") == "forbid"


@pytest.mark.parametrize(("toml", "expected"), [
    ('[bot]\ndefualt_language = "en"\n',
     "unknown key [bot] defualt_language (did you mean 'default_language'?)"),
    ("[media]\nprobe_timeout_s = nan\n", "[media] probe_timeout_s"),
    ("[sim]\nport = 70000\n", "[sim] port = 70000"),
    ('[catalog]\nestimated_seconds = { "ima-pro" = [900, 300] }\n', "minimum"),
    ('[discord]\napi_base_url = "127.0.0.1:8081"\n', "[discord] api_base_url"),
    ("[secrets]\nx = 1\n", "unknown key 'secrets'"),
])
def test_file_mistakes_are_named(tmp_path: Path, toml: str, expected: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_env_override_mistakes_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMABOT_CONFIG", raising=False)
    monkeypatch.setenv("IMABOT_BOT__MAX_CONCURRENT_JOBS", "0")
    with pytest.raises(SettingsError, match=r"\[bot\] max_concurrent_jobs = '0'"):
        load_settings(env={})
    monkeypatch.delenv("IMABOT_BOT__MAX_CONCURRENT_JOBS")
    monkeypatch.setenv("IMABOT_BOT__DEFUALT_LANGUAGE", "en")
    with pytest.raises(SettingsError, match="did you mean 'default_language'"):
        load_settings(env={})
