"""Settings of hexaops: one pydantic-settings model, read from `HEXAOPS_*` variables.

Invalid settings fail fast with a message that names the variable to fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    NonNegativeFloat,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

    embeddings: Literal["offline", "openai"] = Field(
        default="offline",
        description="Embedding model of the knowledge base: the shipped all-MiniLM-L6-v2 "
        "(offline) or an OpenAI-compatible /v1/embeddings endpoint (openai).",
    )
    embeddings_base_url: str | None = Field(
        default=None,
        description="Base URL of the OpenAI-compatible embeddings API, e.g. https://api.openai.com/v1.",
    )
    embeddings_model: str = Field(
        default="text-embedding-3-small",
        description="Embedding model of the provider; it must support 384 dimensions.",
    )
    embeddings_api_key: SecretStr | None = Field(
        default=None, description="API key of the embeddings provider."
    )

    # Chat model of the agents (hexaops.agents.providers); prices in hexaops.agents.pricing.
    model_provider: Literal["auto", "anthropic", "openai", "openai-compatible", "offline"] = Field(
        default="auto",
        description="Chat model provider of the agents. auto: anthropic when ANTHROPIC_API_KEY "
        "is set, else openai when OPENAI_API_KEY is set, else the offline planner.",
    )
    model: str | None = Field(
        default=None,
        description="Model name; unset: the provider's default (required for openai-compatible).",
    )
    model_base_url: str | None = Field(
        default=None,
        description="Base URL of the model API: required for openai-compatible (vLLM "
        "http://host:8000/v1, Ollama http://host:11434/v1, LM Studio http://host:1234/v1); "
        "optional override for anthropic (without /v1) and openai (with /v1).",
    )
    model_api_key: SecretStr | None = Field(
        default=None,
        description="API key of the model provider; unset: ANTHROPIC_API_KEY or OPENAI_API_KEY.",
    )
    model_timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Timeout of one request to the model provider."
    )
    model_max_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries of a model request after overload, rate limit, 5xx, timeout or "
        "connection errors (exponential backoff, Retry-After honoured up to 30 s).",
    )
    model_fallback: Literal["offline", "none"] = Field(
        default="offline",
        description="What answers when the provider stays unavailable after the retries: the "
        "offline planner (the answer says so) or none (the request fails).",
    )
    model_prices: Annotated[
        dict[str, dict[Literal["input", "output", "cache_read"], NonNegativeFloat]], NoDecode
    ] = Field(
        default_factory=dict,
        description='Price overrides in USD per 1M tokens, JSON: {"model-name": {"input": 0.2, '
        '"output": 0.6, "cache_read": 0.02}} (e.g. self-hosted models).',
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="ANTHROPIC_API_KEY",
        description="Anthropic's usual key variable (provider auto and anthropic).",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="OPENAI_API_KEY",
        description="OpenAI's usual key variable (provider auto and openai).",
    )

    # HTTP API (hexaops.ui.api, `hexaops serve`).
    oidc_issuer: str | None = Field(
        default=None, description="OIDC issuer URL; tokens must carry it as `iss`."
    )
    oidc_audience: str | None = Field(
        default=None, description="Expected `aud` of OIDC tokens (required with an issuer)."
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        description="JWKS URL; unset: discovered from the issuer's OpenID configuration.",
    )
    oidc_email_claim: str = Field(
        default="email", description="Claim naming the platform user (an email)."
    )
    dev_login: bool | None = Field(
        default=None,
        description="Accept the demo's dev-login tokens; unset: on only in the embedded demo "
        "(no OIDC issuer, no DATABASE_URL).",
    )
    api_max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body the API accepts."
    )
    api_turn_workers: int = Field(
        default=64,
        ge=1,
        le=1024,
        description="Agent turns the API runs at once; more wait for one to end.",
    )
    otel_exporter: Literal["none", "console", "otlp"] = Field(
        default="none",
        description="Where traces of agent turns go (otlp: configured by OTEL_EXPORTER_OTLP_*).",
    )

    # Browser chat and Slack bot (hexaops.ui.chat, hexaops.ui.slack).
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach the hexaops web app (Slack links to the browser chat).",
    )
    chat_dev_password: SecretStr | None = Field(
        default=None,
        description="Password of the browser chat's dev login (only while dev login is on); "
        "unset: dev.",
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, description="Bot User OAuth Token (xoxb-…) of the Slack app."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        description="Signing Secret of the Slack app: requests without a valid signature get 401.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL."
    )
    slack_user_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='Slack user id → hexaops email, JSON: {"U0123ABC": "dev@acme.example"}; '
        "others are matched by their Slack profile email.",
    )

    # Alerts (hexaops.ui.webhooks, hexaops.ui.worker).
    alertmanager_token: SecretStr | None = Field(
        default=None,
        description="Shared secret of POST /webhooks/alertmanager (bearer token or basic-auth "
        "password in Alertmanager's http_config); unset: no check.",
    )
    slack_alert_channel: str | None = Field(
        default=None,
        description="Slack channel (#name or id) the remediation workers post incident notices "
        "to; needs HEXAOPS_SLACK_BOT_TOKEN.",
    )

    # Event bus (hexaops.platform.bus): NATS JetStream when set, else an in-process queue.
    nats_url: str | None = Field(
        default=None,
        description="NATS server URL (nats://host:4222, JetStream enabled) of the event bus; "
        "unset: an in-process bus (API and workers in one process only).",
    )
    nats_stream: str = Field(
        default="HEXAOPS",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="JetStream stream of the platform's events (subjects hexaops.>).",
    )
    nats_connect_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="How long the first connection to NATS may take."
    )
    bus_ack_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long a delivered event may stay unacknowledged (a crashed worker) "
        "before it is redelivered; kept alive while its handler runs.",
    )
    bus_max_deliver: int = Field(
        default=5, ge=1, le=100, description="Most deliveries of one event before it is dropped."
    )
    bus_retry_delay_seconds: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="Wait before redelivering a failed event, doubled per failure (at most 60 s).",
    )
    bus_dedupe_window_seconds: float = Field(
        default=120.0,
        gt=0,
        le=86400,
        description="A message id published again within this window is stored once.",
    )

    @field_validator(
        "model",
        "model_base_url",
        "model_api_key",
        "anthropic_api_key",
        "openai_api_key",
        "nats_url",
        "alertmanager_token",
        "slack_alert_channel",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("nats://", "tls://", "ws://", "wss://")):
            raise ValueError("must be a NATS URL, e.g. nats://nats:4222")
        return value

    @field_validator("slack_user_map", mode="before")
    @classmethod
    def _slack_user_map_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(
                f'must be JSON like {{"U0123ABC": "dev@acme.example"}} ({exc})'
            ) from None

    @field_validator("model_base_url")
    @classmethod
    def _model_base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL, e.g. http://localhost:11434/v1")
        return value

    @field_validator("model_prices", mode="before")
    @classmethod
    def _prices_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(
                f'must be JSON like {{"model": {{"input": 1.0, "output": 2.0}}}} ({exc})'
            ) from None

    @field_validator("model_prices")
    @classmethod
    def _prices_complete(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        incomplete = sorted(m for m, p in value.items() if not {"input", "output"} <= set(p))
        if incomplete:
            raise ValueError(f"{', '.join(incomplete)}: give both input and output prices")
        return value

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

    # Guardrails of the agent runs (hexaops.agents.guardrails.budgets): a turn that reaches one
    # ends with a message naming the variable instead of calling the model or a tool again.
    agent_steps_per_turn: int = Field(
        default=12, ge=1, le=200, description="Most model calls of one turn (all agents together)."
    )
    agent_tokens_per_turn: int = Field(
        default=80_000, ge=1_000, description="Most model tokens (input + output) of one turn."
    )
    agent_tokens_per_session: int = Field(
        default=500_000, ge=1_000, description="Most model tokens of one session (all turns)."
    )
    agent_tokens_per_org_day: int = Field(
        default=5_000_000,
        ge=1_000,
        description="Most model tokens of one organization's agent runs per UTC day.",
    )
    agent_repeated_calls: int = Field(
        default=3,
        ge=2,
        le=20,
        description="A turn stops when the model asks for the same tool with the same "
        "arguments this many times (a loop).",
    )


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
