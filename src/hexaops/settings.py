"""Settings of hexaops: one pydantic-settings model, read from `HEXAOPS_*` variables.

Invalid settings fail fast with a message that names the variable to fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hexaops.platform.errors import ConfigurationError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEXAOPS_", extra="ignore")

    home: Path = Field(
        default=Path("~/.hexaops"),
        description="Directory for embedded data (PostgreSQL, sandbox state).",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "HEXAOPS_DATABASE_URL"),
        description="PostgreSQL URL; unset starts an embedded PostgreSQL under HEXAOPS_HOME.",
    )
    driver: Literal["sandbox", "kubernetes"] = Field(
        default="sandbox", description="Which cluster driver executes platform actions."
    )

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL (postgresql://user:pass@host:5432/db)")
        return value


_ALIASES = {"DATABASE_URL": ("DATABASE_URL", "HEXAOPS_DATABASE_URL")}


def _variable_set(field: str) -> str:
    """The environment variable behind a field, as the user spelled it (aliases included)."""
    if field in _ALIASES:  # pydantic names the first alias; say the one that was set
        return next((v for v in _ALIASES[field] if v in os.environ), field)
    return f"HEXAOPS_{field.upper()}"


def load_settings() -> Settings:
    """Read settings from the environment, or raise ConfigurationError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            variable = _variable_set(field)
            problems.append(f"{variable}: {error['msg']}")
        raise ConfigurationError("invalid settings — " + "; ".join(problems)) from None
