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
    kubeconfig: Path | None = Field(
        default=None,
        description="Kubeconfig of the host cluster (kubernetes driver); unset: in-cluster "
        "service account, else ~/.kube/config.",
    )
    kube_context: str | None = Field(
        default=None, description="Context of the kubeconfig to use; unset: its current context."
    )
    vcluster_chart_version: str = Field(
        default="0.26.0", description="Version of the loft-sh `vcluster` chart workspaces run."
    )
    kube_wait_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a kubernetes-driver write waits for controllers to converge.",
    )
    clickhouse_url: str | None = Field(
        default=None,
        description="ClickHouse server URL (http[s]://user:pass@host:8123); unset uses an "
        "embedded chDB under HEXAOPS_HOME/clickhouse.",
    )
    clickhouse_database: str = Field(
        default="hexaops",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="ClickHouse database of the telemetry tables.",
    )

    prometheus_url: str | None = Field(
        default=None,
        description="Prometheus base URL for the metrics tools; unset reads the ClickHouse "
        "telemetry instead.",
    )
    loki_url: str | None = Field(
        default=None,
        description="Loki base URL for the log tools; unset reads the ClickHouse telemetry.",
    )
    loki_tenant_header: str = Field(
        default="X-Scope-OrgID",
        description="Header carrying the Loki tenant (the organization slug).",
    )
    trivy_reports_dir: Path | None = Field(
        default=None,
        description="Directory of Trivy JSON reports (`trivy image -f json`) the security "
        "tools read besides the cluster's VulnerabilityReports.",
    )
    tool_budget_tokens: int = Field(
        default=2000, ge=200, le=100_000, description="Most tokens one tool result may take."
    )
    tool_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Timeout of one backend request of a tool."
    )

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _expand_kubeconfig(cls, value: object) -> object:
        if value is None or value == "":
            return None  # HEXAOPS_KUBECONFIG= means "not set", not the current directory
        return Path(str(value)).expanduser()

    @field_validator("prometheus_url", "loki_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL, e.g. http://prometheus:9090")
        return value.rstrip("/")

    @field_validator("trivy_reports_dir", mode="before")
    @classmethod
    def _expand_reports_dir(cls, value: object) -> object:
        if value is None or value == "":
            return None
        return Path(str(value)).expanduser()

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://", "clickhouse://", "chdb:")):
            raise ValueError(
                "must be a ClickHouse URL (http://user:pass@host:8123) or chdb:///path"
            )
        return value

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
