"""Compounding jobs: their rows (``compounding_jobs``, one per run, the API's ``job_run_id`` a
uuid), what consolidation adds to ``insights`` (a merged insight points at its survivor and leaves
the listings; the survivor keeps the artifacts that support it), the patterns pattern detection
finds, and the metrics snapshots.

``insights.peak_confidence`` is the confidence an insight had when it was last reinforced
(``reinforced_at``: created, or a duplicate merged into it); the decay sweep derives
``confidence`` from both, so a rerun of the sweep computes the same value.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE compounding_jobs (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    run_id uuid NOT NULL,
    job_type text NOT NULL,
    dry_run boolean NOT NULL DEFAULT false,
    trigger text NOT NULL DEFAULT 'api',
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    insights_scanned integer NOT NULL DEFAULT 0,
    insights_affected integer NOT NULL DEFAULT 0,
    candidates_created integer NOT NULL DEFAULT 0,
    errors integer NOT NULL DEFAULT 0,
    error text,
    error_details jsonb,
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_compounding_jobs PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_compounding_jobs_run UNIQUE (workspace_id, run_id),
    CONSTRAINT ck_compounding_jobs_status CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT ck_compounding_jobs_type CHECK (job_type IN ('consolidation', 'pattern_detection',
        'playbook_synthesis', 'decay_sweep', 'metrics')),
    CONSTRAINT ck_compounding_jobs_trigger CHECK (trigger IN ('api', 'schedule'))
);
CREATE INDEX ix_compounding_jobs_unfinished ON compounding_jobs (updated_at) WHERE status IN ('pending', 'processing');
CREATE INDEX ix_compounding_jobs_last ON compounding_jobs (workspace_id, job_type, created_at DESC) WHERE NOT dry_run;
ALTER TABLE insights
    ADD COLUMN merged_into bigint,
    ADD COLUMN source_artifact_ids bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN support_count integer NOT NULL DEFAULT 1,
    ADD COLUMN peak_confidence double precision,
    ADD COLUMN reinforced_at timestamptz;
CREATE INDEX ix_insights_active ON insights (workspace_id, id) WHERE merged_into IS NULL;
CREATE TABLE patterns (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    fingerprint text NOT NULL,
    kind text NOT NULL,
    insight_type text,
    key text NOT NULL,
    label text NOT NULL,
    support integer NOT NULL,
    entity_ids bigint[] NOT NULL DEFAULT '{}',
    insight_ids bigint[] NOT NULL DEFAULT '{}',
    examples jsonb NOT NULL DEFAULT '[]',
    confidence double precision NOT NULL,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_patterns PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_patterns_fingerprint UNIQUE (workspace_id, fingerprint),
    CONSTRAINT ck_patterns_kind CHECK (kind IN ('theme', 'co_occurrence', 'stage_transition')),
    CONSTRAINT ck_patterns_status CHECK (status IN ('active', 'retired')),
    CONSTRAINT ck_patterns_confidence CHECK (confidence >= 0 AND confidence <= 1)
);
CREATE TABLE compounding_metrics (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    job_id bigint NOT NULL,
    taken_at timestamptz NOT NULL,
    counts jsonb NOT NULL,
    CONSTRAINT pk_compounding_metrics PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_compounding_metrics_job UNIQUE (workspace_id, job_id)
);
CREATE INDEX ix_compounding_metrics_recent ON compounding_metrics (workspace_id, taken_at DESC)
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE compounding_metrics")
    op.execute("DROP TABLE patterns")
    op.execute("DROP INDEX ix_insights_active")
    for column in ("merged_into", "source_artifact_ids", "support_count", "peak_confidence", "reinforced_at"):
        op.execute(f"ALTER TABLE insights DROP COLUMN {column}")
    op.execute("DROP TABLE compounding_jobs")
