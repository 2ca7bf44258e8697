"""How the store is configured: the embedded default, settings validation, the benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from hexaops.platform.errors import ConfigurationError
from hexaops.platform.telemetry import bench
from hexaops.platform.telemetry.clickhouse import ClickHouseStore, Tenant
from hexaops.settings import Settings, load_settings


def test_default_is_embedded_chdb_under_home(
    chdb_client: Client,
    chdb_home: Path,
    database_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HEXAOPS_CLICKHOUSE_URL", raising=False)
    settings = Settings(home=chdb_home, clickhouse_database=database_name)
    assert settings.clickhouse_url is None
    store = ClickHouseStore.from_settings(settings)  # the same engine path as chdb_client
    try:
        assert (chdb_home / "clickhouse").is_dir()
        assert store.database == settings.clickhouse_database
        result = bench.run(store, 5_000, tmp_path)
        assert (result.samples, result.export_samples) == (5_000, 5_000)
        assert result.query_points == 5_000 // 4 // 5
        assert store.metric_names(Tenant("acme"), bench.T0, bench.T0.replace(year=2027))
    finally:
        store.drop()
        store.close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HEXAOPS_CLICKHOUSE_URL", "mysql://db:3306"),
        ("HEXAOPS_CLICKHOUSE_DATABASE", "bad-name; DROP"),
    ],
)
def test_invalid_clickhouse_settings_name_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        load_settings()


def test_server_urls_are_accepted() -> None:
    assert Settings(clickhouse_url="http://u:p@ch:8123").clickhouse_url == "http://u:p@ch:8123"
    assert Settings(clickhouse_url="").clickhouse_url is None
