"""Settings, read once from the environment (prefix QMS_)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The service's settings."""

    model_config = SettingsConfigDict(env_prefix="QMS_", extra="ignore")

    database_url: str = "sqlite:///./qms.db"
    # The organisation named on every document (the programme's organiser on a programme's own).
    organisation: str = "Mentor programme organisation"
    sqlite_busy_timeout_ms: int = 30_000
    log_sql: bool = False
    import_max_bytes: int = 200 * 1024 * 1024
    # An evidence file's largest size; a larger one is refused (413) naming this limit.
    evidence_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1, le=2**31 - 1)
    # What one import may hold, whatever its format: rows, cells in all, characters in one cell.
    import_max_rows: int = 2_000_000
    import_max_cells: int = 50_000_000
    import_max_cell_chars: int = 32_767
    # An XLSX workbook unpacked (the sum of its parts' sizes), and its table of shared strings,
    # are judged before the workbook is opened.
    import_max_unpacked_bytes: int = 500 * 1024 * 1024
    import_max_shared_strings: int = 1_000_000
    # A sheet ends at this many empty rows in a row (a sheet may be padded with millions).
    import_empty_rows_end: int = 1_000
    # The first problems are in the answer and kept on the batch; every one is kept apart.
    import_problems_shown: int = 1_000
    max_body_bytes: int = 1024 * 1024
    # Years each kind of record is kept before it is due for disposition (see qms.retention);
    # e.g. QMS_RETENTION_YEARS='{"meeting": 3}' changes one and keeps the others.
    retention_years: dict[str, int] = {}
    # The organisation's time zone (IANA name): the pages show moments, stored in UTC, in it.
    timezone: str = "Europe/Oslo"
    # The audit trail's signing key (Ed25519, PEM) and the file outside the database its signed
    # checkpoints are appended to; by default beside a SQLite database file (qms.db.signing-key,
    # qms.db.checkpoints). Keep the key where the database's users cannot read it.
    signing_key_file: str | None = None
    checkpoint_file: str | None = None
    # Where the pictures of charts are kept, drawn once for every process (qms.charts.kept):
    # by default beside a SQLite database file (qms.db.charts); empty, none are kept.
    chart_cache_dir: str | None = None
    # The service draws the charts of its documents ahead, after records change
    # (qms.charts.ahead), so a report finds its pictures drawn; off, each is drawn when asked.
    charts_ahead: bool = True
    # The access log (auditors' reads) is written in batches: at most this many milliseconds
    # after a read, or at once when this many entries wait (README: what a crash can lose).
    access_log_flush_ms: int = Field(default=1_000, ge=10, le=60_000)
    access_log_batch: int = Field(default=500, ge=1, le=10_000)

    # Reminders by e-mail (qms.notifications): the SMTP server as smtp://user:password@host:587
    # (STARTTLS) or smtps://user:password@host:465 (TLS); none means reminders are not sent.
    # The user and password never appear in a log or a message.
    smtp_url: str | None = None
    mail_from: str = "mentor-qms <qms@localhost>"
    # The service's address as people open it, for the links in e-mails.
    public_url: str = "http://localhost:8000"
    # An action, follow-up or procedure review due within this many days is reminded of.
    remind_days: int = Field(default=7, ge=0, le=366)
    # A user asked to acknowledge an approved procedure version does so within these many days.
    acknowledge_days: int = Field(default=14, ge=1, le=366)
    # A complaint is acknowledged and answered within these many days of being received.
    complaint_acknowledge_days: int = Field(default=3, ge=0, le=366)
    complaint_answer_days: int = Field(default=14, ge=1, le=366)
    # The context's issues and interested parties are reviewed again this many months after a
    # review (or after they are recorded), unless a date is given.
    context_review_months: int = Field(default=12, ge=1, le=60)
    # When `qms scheduler` runs the daily jobs (HH:MM in the organisation's time zone).
    schedule_at: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Outgoing webhooks (qms.webhooks): a URL to a private, loopback or link-local address is
    # refused unless allowed here (and http:// is taken only to such an address when allowed, or
    # anywhere with QMS_WEBHOOK_ALLOW_HTTP); each request waits this many seconds at most; a
    # delivery is tried this many times, waiting 1, 2, 4 … minutes (at most the longest wait).
    webhook_allow_private: bool = False
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_longest_wait_minutes: int = Field(default=60, ge=1, le=24 * 60)

    # Risks and opportunities (qms.risks): likelihood and consequence are rated 1..risk_scale;
    # a score (likelihood x consequence) from risk_medium_from is medium, from risk_high_from high.
    risk_scale: int = Field(default=5, ge=2, le=10)
    risk_medium_from: int = Field(default=5, ge=1, le=100)
    risk_high_from: int = Field(default=12, ge=1, le=100)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # Refused at start-up rather than on the first page that shows a time.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"not an IANA time zone name: {value!r}") from error
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings, read once."""
    return Settings()
