"""SingleView settings (``MAIS_SINGLEVIEW_*``), validated at start-up; secrets never printed."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SingleViewSettings"]


class SingleViewSettings(BaseSettings):
    """Where the store is, what to subscribe to, who may sign in, where the page listens."""

    model_config = SettingsConfigDict(env_prefix="MAIS_SINGLEVIEW_", extra="forbid", frozen=True)

    database_url: str = "sqlite:///.mais/singleview/singleview.db"
    host: str = "127.0.0.1"
    port: int = 8700
    topic_pattern: str = r"^mais\.[a-z][a-z0-9-]*[a-z0-9]\.(person|episode|event)\.v1$"
    """Which topics to follow (a regular expression; new matching topics are picked up live)."""
    metadata_refresh_ms: int = 3000
    """How often the topic list is read again to find new matching topics."""
    group_id: str = "mais-singleview"
    """Only where positions are committed for lag monitors (each replica reads every partition)."""
    dlq_topic: str = "mais.singleview.dlq.v1"
    audit_topic: str = "mais.audit.v1"
    organisation: str = "SINGLEVIEW"
    """The identifier value this SingleView writes audit entries as (its publisher)."""
    batch_size: int = 500
    users_file: Path | None = None
    """TOML of local users (development); ``None`` with ``dev_user`` set allows that one user."""
    dev_user: str | None = None
    dev_password: SecretStr | None = None
    trusted_user_header: str | None = None
    """Identity-provider hook: a header (e.g. ``X-Forwarded-User``) set by a trusted sign-in proxy."""
    session_secret: SecretStr | None = None
    directory: Path | None = None
    demo: bool = False
    """Show example people known to several agencies on the search page (generated data only)."""
