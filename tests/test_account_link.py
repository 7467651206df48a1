"""One account-link setting: ``[spend] account_url`` reaches the usage answer; ``[conversation]`` has none."""

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from bot.spend_wiring import spend_policy


def test_the_account_link_is_set_once_under_spend(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[spend]\naccount_url = "https://example.test/balance"\n')
    assert spend_policy(load_settings(cfg, env={})).account_url == "https://example.test/balance"
    cfg.write_text('[conversation]\naccount_url = "https://example.test/other"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert "account_url" in str(caught.value)


def test_the_default_link_is_the_ima_page_with_the_real_balance(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("")
    assert spend_policy(load_settings(cfg, env={})).account_url == "https://www.imaclaw.ai/imaclaw/subscription"
