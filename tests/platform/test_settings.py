"""Settings come from HEXAOPS_* variables (and DATABASE_URL); bad ones name the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hexaops.platform.errors import ConfigurationError
from hexaops.settings import load_settings

VARIABLES = ("HEXAOPS_HOME", "DATABASE_URL", "HEXAOPS_DATABASE_URL", "HEXAOPS_DRIVER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No hexaops variable set, and a home directory of our own."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def _named(message: str) -> set[str]:
    """The variables an error message blames ("VAR: problem; VAR: problem")."""
    return set(re.findall(r"(?:^|[\s;—])([A-Z][A-Z_]+):", message))


def test_defaults(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.home == clean_env / ".hexaops"
    assert settings.home.is_absolute()
    assert settings.database_url is None
    assert settings.driver == "sandbox"


def test_home_expands_the_user_directory(monkeypatch: pytest.MonkeyPatch, clean_env: Path) -> None:
    monkeypatch.setenv("HEXAOPS_HOME", "~/hexa-data")
    assert load_settings().home == clean_env / "hexa-data"


def test_absolute_home_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEXAOPS_HOME", str(tmp_path / "state"))
    assert load_settings().home == tmp_path / "state"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://hexa:secret@db:5432/hexaops",
        "postgresql+psycopg://hexa@db/hexaops",
        "postgres://hexa@db/hexaops",
    ],
)
@pytest.mark.parametrize("variable", ["DATABASE_URL", "HEXAOPS_DATABASE_URL"])
def test_postgres_urls_are_accepted(
    monkeypatch: pytest.MonkeyPatch, variable: str, url: str
) -> None:
    monkeypatch.setenv(variable, url)
    assert load_settings().database_url == url


def test_empty_database_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "")
    assert load_settings().database_url is None


def test_kubernetes_driver_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEXAOPS_DRIVER", "kubernetes")
    assert load_settings().driver == "kubernetes"


@pytest.mark.parametrize("url", ["mysql://root@db/hexaops", "sqlite:///hexa.db", "db:5432"])
def test_non_postgres_database_url_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("HEXAOPS_DATABASE_URL", url)
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    assert excinfo.value.code == "configuration"
    assert "DATABASE_URL" in excinfo.value.message
    assert "PostgreSQL" in excinfo.value.message


@pytest.mark.parametrize("variable", ["DATABASE_URL", "HEXAOPS_DATABASE_URL"])
def test_bad_database_url_names_the_variable_that_was_set(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """Told to fix HEXAOPS_DATABASE_URL, a user who set DATABASE_URL would look in vain."""
    monkeypatch.setenv(variable, "mysql://root@db/hexaops")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    assert _named(excinfo.value.message) == {variable}, excinfo.value.message


def test_bad_driver_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEXAOPS_DRIVER", "k8s")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    assert _named(excinfo.value.message) == {"HEXAOPS_DRIVER"}
    assert "sandbox" in excinfo.value.message
    assert "kubernetes" in excinfo.value.message


def test_every_bad_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEXAOPS_DATABASE_URL", "mysql://root@db/hexaops")
    monkeypatch.setenv("HEXAOPS_DRIVER", "k8s")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    assert _named(excinfo.value.message) == {"HEXAOPS_DATABASE_URL", "HEXAOPS_DRIVER"}
