"""Configuration, read once at start-up from the environment, then ``.env``, then the local
stack's ``.stack/env`` (written by ``platform/stack/stack.sh``); the environment wins."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PEPPER = "tessera-dev-pepper-change-me-in-production"
MIN_PEPPER_CHARS = 16
"""Outside development, a shorter KEY_PEPPER is refused at start-up (``openssl rand -hex 32`` gives 64)."""


class Settings(BaseSettings):
    """Every knob Tessera reads. Built once in ``create_app`` / the CLI and passed down."""

    model_config = SettingsConfigDict(env_file=(".stack/env", ".env"), extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/tessera"
    redis_url: str = "redis://127.0.0.1:6379/0"
    meili_url: str = "http://127.0.0.1:7700"
    meili_master_key: SecretStr = SecretStr("")
    meili_index_prefix: str = "tessera"

    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|console)$")

    key_pepper: SecretStr = SecretStr(DEV_PEPPER)
    """Server-side secret mixed into every API-key and idempotency-key hash."""
    tessera_env: str = Field(default="production", pattern="^(production|development)$")
    """``development`` (set by ``make run``/``make test``) lets the API and worker start with the
    published development pepper; anywhere else they refuse to (see ``check_secrets``)."""

    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_statement_timeout_ms: int = 30_000

    max_body_bytes: int = 10 * 1024 * 1024
    import_max_bytes: int = 1024 * 1024 * 1024
    """Uploads to the import endpoint may be this large (streamed to PostgreSQL, never held in memory)."""
    import_max_record_chars: int = Field(default=1_000_000, ge=1)
    """Longest logical record of an imported file (a CSV record, quoted fields spanning lines
    included, or a JSON line); a longer one is refused with 400 (preview, upload) or fails the import."""
    parse_time_budget_seconds: float = Field(default=10.0, gt=0)
    """An import preview or upload whose first MiB takes longer than this to parse answers 400."""
    parse_max_threads: int = Field(default=2, ge=1)
    """Uploads one API process parses at once (in worker threads, off the event loop)."""
    max_json_depth: int = 32
    rate_limit_default_per_minute: int = 6000
    max_api_keys_per_workspace: int = Field(default=100, ge=1)
    """Keys a workspace may hold (revoked ones do not count); 409 past it."""
    max_webhooks_per_workspace: int = Field(default=50, ge=1)
    max_notification_rules_per_workspace: int = Field(default=100, ge=1)
    """Custom notification rules one workspace may keep (each is evaluated against all its new context)."""
    notification_retention_days: float = Field(default=90, gt=0)
    """Feed items older than this are deleted by the worker."""
    max_objects_per_workspace: int = Field(default=200, ge=1)
    """Objects and lists of one workspace (each is in every schema load and validator)."""
    max_attributes_per_object: int = Field(default=500, ge=1)
    max_running_jobs_per_workspace: int = Field(default=5, ge=1)
    """Imports, exports and AI list jobs (each kind counted apart) queued or running at once; 429 past it."""
    max_stored_file_bytes_per_workspace: int = Field(default=10 * 1024 ** 3, ge=1)
    """Bytes of import and export files one workspace keeps at once (uploads not yet imported,
    failed imports not yet swept, exports not yet expired); 409 at a new import or export past
    it, 413 for an upload that would cross it."""
    export_retention_days: float = Field(default=7, gt=0)
    """A completed export's file is deleted this long after it completed (the export then reads
    ``expired``); failed imports' files go at the worker's next sweep."""
    context_max_entities_per_artifact: int = Field(default=100, ge=1)
    """People and companies one context artifact may create or update; the rest are reported in
    its result as ``entities_skipped``."""
    context_max_insights_per_artifact: int = Field(default=100, ge=1)
    model_cache_dir: str = ""
    """Where the embedding model, quantized once from its wheel, is kept (default
    ``$XDG_CACHE_HOME/tessera/models``, else ``~/.cache/tessera/models``)."""
    ask_concurrency_per_workspace: int = Field(default=2, ge=1)
    """Asks of one workspace at once per API process (each costs a few embeddings); the next waits
    ``QUERY_QUEUE_SECONDS``, then 429."""
    ask_session_ttl_hours: float = Field(default=24.0, gt=0)
    """An ask session (``session_id``) not used for this long expires: continuing it is a 404."""
    """Insights one context artifact may create; the rest are reported as ``insights_skipped``."""
    max_pending_artifacts_per_workspace: int = Field(default=1_000, ge=1)
    """Context artifacts waiting to be processed; 429 past it, so one tenant cannot bury the workers."""
    rate_limit_workspace_per_minute: int = Field(default=30_000, ge=1)
    """Requests per minute of one workspace over all its keys (beside each key's own limit)."""
    auth_failures_per_ip_per_minute: int = Field(default=600, ge=1)
    """Failed authentications one client address may make per minute; past it they answer 429."""
    query_max_offset: int = Field(default=10_000, ge=0)
    """Largest ``offset`` of a record or list-entry query (400 beyond: page with the cursor)."""
    query_max_substring_conditions: int = Field(default=10, ge=0)
    """``$contains``/``$ends_with`` conditions one filter may hold (each is a trigram scan)."""
    query_concurrency_per_workspace: int = Field(default=4, ge=1)
    """Record/list-entry queries of one workspace running at once in one API process."""
    query_queue_seconds: float = Field(default=2.0, ge=0)
    """How long a query over that limit waits for a slot before it is answered 429."""
    brief_refresh_threshold: int = Field(default=3, ge=1)
    """New memory items (notes, texts, insights) naming a record since its brief was last compiled
    that make the worker recompile it."""
    brief_refresh_quiet_seconds: float = Field(default=30.0, ge=0)
    """Debounce: a brief is recompiled once no new context about its record arrived for this long..."""
    brief_refresh_max_wait_seconds: float = Field(default=600.0, gt=0)
    """...or once its oldest unconsidered context is this old, even while more keeps arriving."""
    brief_refresh_batch: int = Field(default=200, ge=1, le=1_000)
    """Briefs one workspace's refresh looks at per sweep (the longest unchecked first)."""
    idempotency_ttl_hours: int = 25
    auth_cache_seconds: float = 30.0
    schema_cache_seconds: float = 30.0

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_timeout_seconds: float = 20.0

    sse_keepalive_seconds: float = 30.0
    sse_max_streams_per_key: int = 5
    sse_max_streams_per_workspace: int = 20
    """Concurrent insight streams per workspace, over all its keys and API processes."""
    sse_max_stream_seconds: float = 3600.0
    """An insight stream is closed after this long; clients resume with ``Last-Event-ID``."""
    events_retention_days: float = Field(default=7, ge=1)
    """How long the change stream (``GET /v1/events``) keeps an event: a cursor older than that
    answers 410. Change streams count against ``sse_max_streams_per_key`` / ``_per_workspace``
    apart from insight streams."""

    webhook_allow_hosts: str = ""
    """Comma-separated hosts webhooks may reach even if private (tests deliver to loopback)."""
    webhook_send_timeout_seconds: float = Field(default=10.0, gt=0)
    """Overall deadline of one webhook send (lookup, connect, request, answer); a send with no
    answer by then counts as a failed attempt and follows the retry schedule."""
    webhook_max_concurrent_sends: int = Field(default=64, ge=1)
    """Webhook sends one worker process has in flight at once."""
    webhook_max_sends_per_subscription: int = Field(default=8, ge=1)
    """Of those, how many may go to one subscription: a stuck receiver holds at most this many."""

    # Integrations (docs/integrations.md): a provider is available once its client id and secret
    # are set. The URLs default to the provider's own (``tessera.integrations.providers``); they are
    # settings so a deployment (or a test) can point them elsewhere.
    integrations_redirect_uri: str = ""
    """The OAuth callback URL registered with every provider (default: PUBLIC_BASE_URL, else
    http://HOST:PORT, + /api/developers/v1/integrations/oauth/callback)."""
    integrations_http_timeout_seconds: float = Field(default=15.0, gt=0)
    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_authorize_url: str = ""
    google_token_url: str = ""
    google_revoke_url: str = ""
    google_api_base_url: str = ""
    """Gmail API base (default https://gmail.googleapis.com)."""
    microsoft_client_id: str = ""
    microsoft_client_secret: SecretStr = SecretStr("")
    microsoft_authorize_url: str = ""
    microsoft_token_url: str = ""
    microsoft_revoke_url: str = ""
    slack_client_id: str = ""
    slack_client_secret: SecretStr = SecretStr("")
    slack_authorize_url: str = ""
    slack_token_url: str = ""
    slack_revoke_url: str = ""
    attio_client_id: str = ""
    attio_client_secret: SecretStr = SecretStr("")
    attio_authorize_url: str = ""
    attio_token_url: str = ""
    attio_revoke_url: str = ""
    hubspot_client_id: str = ""
    hubspot_client_secret: SecretStr = SecretStr("")
    hubspot_authorize_url: str = ""
    hubspot_token_url: str = ""
    hubspot_revoke_url: str = ""
    salesforce_client_id: str = ""
    salesforce_client_secret: SecretStr = SecretStr("")
    salesforce_authorize_url: str = ""
    salesforce_token_url: str = ""
    salesforce_revoke_url: str = ""
    gmail_sync_interval_minutes: int = Field(default=15, ge=1)
    """Every connected Gmail account is synced this often (and once right after it connects)."""
    gmail_sync_max_messages_per_run: int = Field(default=500, ge=1, le=10_000)
    """Messages one sync run imports at most; the next run continues where it stopped."""
    gmail_sync_page_size: int = Field(default=100, ge=1, le=500)
    gmail_sync_query: str = ""
    """A Gmail search query every sync adds (e.g. ``-category:promotions``)."""
    gmail_sync_initial_days: int = Field(default=30, ge=1)
    """The first sync of an account imports the messages of the last this many days."""
    compounding_schedule: str = (
        "consolidation=1h,pattern_detection=1h,playbook_synthesis=1h,decay_sweep=24h,metrics=24h")
    """Which compounding jobs the worker's cron runs and how often: ``job_type=interval`` pairs
    (interval ``<n>m``, ``<n>h`` or ``<n>d``), comma-separated; empty runs none. A job type runs
    for a workspace when its interval has passed since its last run there and new insights
    arrived since (``decay_sweep``: whenever the workspace has insights). See docs/compounding.md."""
    compounding_workspaces_per_cycle: int = Field(default=20, ge=1)
    """Workspaces the cron queues one job type for per cycle (least recently run first)."""
    compounding_max_insights: int = Field(default=200_000, ge=1)
    """Insights one compounding job reads at most (the newest); the rest wait for a later run."""
    compounding_duplicate_similarity: float = Field(default=0.9, gt=0, le=1)
    """Cosine similarity (MiniLM vectors) from which two insights of the same type about the same
    records are duplicates; from 0.05 below it they are when their words also overlap."""
    compounding_pattern_min_support: int = Field(default=3, ge=2)
    """Distinct records a theme, co-occurrence or stage transition needs to be a pattern."""
    compounding_rule_min_support: int = Field(default=5, ge=2)
    """Distinct records a pattern needs before playbook synthesis turns it into a rule."""
    compounding_decay_after_days: float = Field(default=30, gt=0)
    """An insight not reinforced for this long loses confidence, one step per period."""
    compounding_decay_rate: float = Field(default=0.2, gt=0, lt=1)
    """The share of its confidence an unreinforced insight loses per period."""
    compounding_decay_floor: float = Field(default=0.1, ge=0, le=1)
    """Decay never takes an insight's confidence below this."""

    @field_validator("compounding_schedule")
    @classmethod
    def _readable_schedule(cls, value: str) -> str:
        from tessera.compounding.schedule import parse_schedule

        parse_schedule(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _plain_postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value

    def check_secrets(self) -> None:
        """Refuse to serve with the published development pepper outside development: anyone who
        read this file could compute key hashes and idempotency fingerprints. An empty or short
        pepper (``KEY_PEPPER=`` left in a template) is refused the same way; the message never
        shows the value."""
        if self.tessera_env == "development":
            return
        pepper = self.key_pepper.get_secret_value()
        if pepper.strip() in ("", DEV_PEPPER):
            raise ValueError("KEY_PEPPER is not set: set it to a long random secret (e.g. `openssl rand -hex 32`), "
                             "or set TESSERA_ENV=development on a development machine")
        if len(pepper) < MIN_PEPPER_CHARS:
            raise ValueError(f"KEY_PEPPER is too short ({len(pepper)} characters; at least {MIN_PEPPER_CHARS}): set "
                             f"it to a long random secret (e.g. `openssl rand -hex 32`), or set "
                             f"TESSERA_ENV=development on a development machine")

    @property
    def asyncpg_dsn(self) -> str:
        """The URL in the form asyncpg itself accepts."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    @property
    def sqlalchemy_url(self) -> str:
        url = self.asyncpg_dsn
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        return url.replace("postgresql://", "postgresql+asyncpg://", 1)
