"""The PostgreSQL schema and its versioned upgrades, applied on open.

The tables live in their own schema (``claude_sessions`` unless the URL says
``?schema=``); ``store_meta`` holds the version. Opening a store applies the
missing upgrades in one transaction under an advisory lock, so machines
opening an old store at once upgrade it exactly once. The schema itself is
created only when missing, so a role without CREATE on the database can use
a schema an administrator made for it.

Version 1: sessions (a generated ``tsvector`` over description, title and
message text), entries (JSONB, or exact JSON text in ``raw`` for the values
JSONB would alter), tags.
Version 2: the trash (``trashed_at``; a session id is unique among live
sessions only), ``forked_at``, subagent figures and unpriced models (counted
for sessions written from then on), per-file import positions (``import_files``),
and ``entries.uuid`` becomes ``entry_key``.
Version 3: fork evidence is looked up by each session's root entry
(``root_key``, found for stored sessions), so entries need no index of their
keys across sessions (its pages took a random write for every new entry).
Version 4: a first prompt is what a person typed, without the wrappers and
notices Claude Code writes around it (no change of schema: stored sessions are
counted again).
Version 5: ``summaries``, kept by the uuid of the entry each names and matched
to the session holding it; stored sessions are counted again (with the fork
marks of copied entries), their fork links settled by content and their
summaries matched.
Version 6: ``budgets``, a spending limit per kind (daily, monthly, block), shared
by every machine on the store.
Version 7: each API request a session counts (``api_requests``: its time,
model, tokens with cache writes and reads apart, and cost) and their sums by
model (``session_models``), so figures by model charge each request to its own
model and usage blocks follow the requests' times; the sessions' cache writes
(5-minute, 1-hour) and reads, their count of requests and whether any was not of
their own model (``models_apart``: only those are read from ``session_models``),
which the usage index also covers (stored sessions are counted again).
Version 8: ``from_result`` (a session's main token figures are the CLI's result
totals), which the usage index also covers (stored sessions are counted again).
Version 9: each session's user and machine (``user_name``, ``machine``; ``unknown``
on sessions stored before), and ``users`` with a slow salted hash of each one's token.
Version 10: the secrets found in stored entries (``secret_findings``: where, which
rule, a masked preview, never the value) and how far each transcript was scanned
(``secret_scans``), so a scan looks only at entries added since.
Version 11: the record of a redaction (``redacted_at``, ``redacted_rules``: when the
secrets of a session were replaced, and the rules that found them).
Version 12: each tag row keeps a copy of its session's times, cost and trash mark
(kept by triggers), so one tag's newest page reads one index in order and stops
(``tags_feed``), and a tag with a date or cost range reads one covering index
(``tags_by_created``), whatever the store's size.
Version 13: ``sign_ins``, the web app's signed-in browsers (a hash of each cookie,
its user and when it expires), so a restart keeps them signed in.
Version 14: who sees what on a team store: each session's ``shared`` flag, each
user's ``share_by_default``, and the ``audit_log`` of changes, exports and shares.
Version 15: no schema change (the split of run totals it made is redone by the last
step).
Version 16: ``sync_marks``: per team server, session and transcript, the last entry the
server acknowledged, so a machine sends a server only what it lacks.
Version 17: usage sums per day, project, user and machine, and per model and per tag
(``usage_rollup_days`` and three more), kept by triggers in the same
transaction as every write, so usage reports read them instead of every session (see
:mod:`claude_sessions.store.rollups`); filled from the stored sessions.
Version 18: a member's listing reads their own sessions and the shared ones from
an index each (``sessions_of_user``, ``sessions_shared``: see
:mod:`claude_sessions.store.member_listing`).
Version 19: the full text of tool inputs, tool results and subagents
(``aside_text``: one row per batch of a transcript's entries, a tsvector with
tool text at weight C and subagent text at D, and one of the tools called),
written with the entries; stored sessions are indexed.
Version 20: no schema change (the split of run totals it made is redone by the last
step).
Version 21: sums by hour (``usage_rollup_hours``: what was spent then, by the requests'
own times, and the sessions created then), kept by triggers like version 17's, so
today's and this month's spend and the hour-of-week grid read them (see
:mod:`claude_sessions.store.hour_rollups`); filled from the stored sessions.
Version 22: ``sessions_by_branch``, so a list of one git branch reads only its rows,
and the row id in the date and cost indexes, so a range is read from its index alone
(see :mod:`claude_sessions.store.filter_indexes`).
Version 23: prompts and replies in ``aside_text.own`` too, apart (weights A and
B): a search kept to one of them is answered there (``sessions.search`` holds them
as one text); stored sessions' are listed in ``own_text_pending`` for the indexer
to fill in (:data:`FILL_OWN_TEXT`, :mod:`.own_fill`).
Version 24: ``sessions_by_model``, so a list of a model reads only its rows, and a
model no session has nothing (see :mod:`claude_sessions.store.lead_walk`).
Version 25: usage sums per day alone, per day and model and per day and project
(``usage_rollup_day_totals``, ``usage_rollup_day_models``, ``usage_rollup_day_projects``),
kept by version 17's triggers, so reports by day, model or project alone read a few
rows a day; filled from the stored sessions.
After the steps, on the finished schema, a store from before version 20 has each run's
totals split across its own requests (the sessions run through this library are folded
again with today's code; see :data:`RESULTS_SPLIT`).
"""

from __future__ import annotations

from claude_sessions.model.exceptions import StoreVersionError
from claude_sessions.store import (
    filter_indexes,
    hour_rollups,
    lead_walk,
    member_listing,
    rollups,
)
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.postgres.dialect import ROLLUPS, PostgresDialect, lock
from claude_sessions.store.postgres.tsqueries import TS_CONFIG

MAX_INDEXED_CHARS = 1_000_000  # a tsvector holds at most 1 MB
VERSION_KEY = "schema_version"

SCHEMA_V1: tuple[str, ...] = (
    """CREATE TABLE store_meta (
        key   text PRIMARY KEY,
        value text NOT NULL
    )""",
    f"""CREATE TABLE sessions (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id    text NOT NULL,
        project_key   text NOT NULL DEFAULT '',
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL,
        mtime_ms      bigint NOT NULL DEFAULT 0,
        message_count integer NOT NULL DEFAULT 0,
        turns         integer NOT NULL DEFAULT 0,
        total_cost    double precision NOT NULL DEFAULT 0,
        input_tokens  bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0,
        tags          text[] NOT NULL DEFAULT '{{}}',
        description   text,
        model         text,
        project       text,
        first_prompt  text,
        title         text,
        git_branch    text,
        forked_from   text,
        fold_state    text NOT NULL DEFAULT '{{}}',
        sdk_summary   text,
        body          text NOT NULL DEFAULT '',
        search        tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{TS_CONFIG}'::regconfig,
                coalesce(description, '') || ' ' || coalesce(title, '')), 'A')
            || to_tsvector('{TS_CONFIG}'::regconfig, left(body, {MAX_INDEXED_CHARS}))
        ) STORED,
        UNIQUE (session_id, project_key)
    )""",
    # Keep the tsvector inline: a search that matches most sessions then reads the
    # heap sequentially instead of fetching every vector from TOAST (3x faster).
    "ALTER TABLE sessions SET (toast_tuple_target = 8160)",
    "ALTER TABLE sessions ALTER COLUMN search SET STORAGE MAIN",
    "CREATE INDEX sessions_by_updated ON sessions (updated_at, id)",
    "CREATE INDEX sessions_by_created ON sessions (created_at, updated_at)",
    "CREATE INDEX sessions_by_cost ON sessions (total_cost, updated_at)",
    "CREATE INDEX sessions_by_project_key ON sessions (project_key)",
    "CREATE INDEX sessions_by_project ON sessions (project)",
    'CREATE INDEX sessions_by_id_prefix ON sessions ((session_id COLLATE "C") text_pattern_ops)',
    "CREATE INDEX sessions_by_tags ON sessions USING gin (tags)",
    "CREATE INDEX sessions_by_text ON sessions USING gin (search)",
    """CREATE TABLE entries (
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     text NOT NULL DEFAULT '',
        seq         integer NOT NULL,
        uuid        text,
        data        jsonb,
        raw         text,
        PRIMARY KEY (session_ref, subpath, seq),
        CHECK ((data IS NULL) <> (raw IS NULL))
    )""",
    """CREATE UNIQUE INDEX entries_by_uuid ON entries (session_ref, subpath, uuid)
        WHERE uuid IS NOT NULL""",
    "CREATE INDEX entries_by_main_uuid ON entries (uuid) WHERE uuid IS NOT NULL AND subpath = ''",
    """CREATE TABLE tags (
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        tag         text NOT NULL,
        source      text NOT NULL DEFAULT 'user',
        PRIMARY KEY (session_ref, tag)
    )""",
)

SCHEMA_V2: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN forked_at text",
    "ALTER TABLE sessions ADD COLUMN trashed_at timestamptz",
    "ALTER TABLE sessions ADD COLUMN trash_reason text",
    "ALTER TABLE sessions ADD COLUMN subagent_cost double precision NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN subagent_input_tokens bigint NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN subagent_output_tokens bigint NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN unpriced text",
    "ALTER TABLE sessions DROP CONSTRAINT sessions_session_id_project_key_key",
    "CREATE UNIQUE INDEX sessions_by_key ON sessions (session_id, project_key) "
    "WHERE trashed_at IS NULL",
    "DROP INDEX sessions_by_updated",
    "CREATE INDEX sessions_by_updated ON sessions (updated_at, id) WHERE trashed_at IS NULL",
    "DROP INDEX sessions_by_created",
    "CREATE INDEX sessions_by_created ON sessions (created_at, updated_at) "
    "WHERE trashed_at IS NULL",
    "DROP INDEX sessions_by_cost",
    "CREATE INDEX sessions_by_cost ON sessions (total_cost, updated_at) WHERE trashed_at IS NULL",
    "DROP INDEX sessions_by_project_key",
    "CREATE INDEX sessions_by_project_key ON sessions (project_key, mtime_ms)",
    "CREATE INDEX sessions_by_mtime ON sessions (mtime_ms)",
    # Covers usage aggregates (an index-only scan, not the wide session rows).
    "CREATE INDEX sessions_usage ON sessions (created_at) INCLUDE (total_cost, model, "
    "project, project_key, turns, message_count, input_tokens, output_tokens, tags, unpriced) "
    "WHERE trashed_at IS NULL",
    "CREATE INDEX sessions_by_origin ON sessions (forked_from) WHERE forked_from IS NOT NULL",
    "CREATE INDEX sessions_in_trash ON sessions (trashed_at) WHERE trashed_at IS NOT NULL",
    "ALTER TABLE entries RENAME COLUMN uuid TO entry_key",
    "ALTER INDEX entries_by_uuid RENAME TO entries_by_key",
    "ALTER INDEX entries_by_main_uuid RENAME TO entries_by_main_key",
    """CREATE TABLE import_files (
        source   text PRIMARY KEY,
        size     bigint NOT NULL,
        mtime_ns bigint NOT NULL,
        consumed bigint NOT NULL,
        head     text NOT NULL
    )""",
)

SCHEMA_V3: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN root_key text",
    "DROP INDEX entries_by_main_key",
    "CREATE INDEX sessions_by_root ON sessions (root_key) WHERE root_key IS NOT NULL",
)

SCHEMA_V5: tuple[str, ...] = (
    """CREATE TABLE summaries (
        leaf_key    text PRIMARY KEY,
        summary     text NOT NULL,
        session_ref bigint REFERENCES sessions (id) ON DELETE SET NULL,
        leaf_seq    integer
    )""",
    "CREATE INDEX summaries_by_session ON summaries (session_ref, leaf_seq) "
    "WHERE session_ref IS NOT NULL",
)

# IF NOT EXISTS: a store whose version was set back by hand keeps its budgets.
SCHEMA_V6: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS budgets (
        kind      text PRIMARY KEY,
        limit_usd double precision NOT NULL
    )""",
)
SCHEMA_V7: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN cache_write_5m_tokens bigint NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN cache_write_1h_tokens bigint NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN cache_read_tokens bigint NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN requests bigint NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN models_apart integer NOT NULL DEFAULT 0",
    """CREATE TABLE api_requests (
        session_ref           bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        request_key           text NOT NULL,
        at                    double precision,
        model                 text NOT NULL DEFAULT '',
        input_tokens          bigint NOT NULL DEFAULT 0,
        output_tokens         bigint NOT NULL DEFAULT 0,
        cache_write_5m_tokens bigint NOT NULL DEFAULT 0,
        cache_write_1h_tokens bigint NOT NULL DEFAULT 0,
        cache_read_tokens     bigint NOT NULL DEFAULT 0,
        cost                  double precision,
        subagent              integer NOT NULL DEFAULT 0,
        PRIMARY KEY (session_ref, subagent, request_key)
    )""",
    "CREATE INDEX api_requests_by_time ON api_requests (at, session_ref) WHERE at IS NOT NULL",
    """CREATE TABLE session_models (
        session_ref           bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        model                 text NOT NULL,
        requests              bigint NOT NULL,
        cost                  double precision NOT NULL,
        unpriced_requests     bigint NOT NULL,
        input_tokens          bigint NOT NULL,
        output_tokens         bigint NOT NULL,
        cache_write_5m_tokens bigint NOT NULL,
        cache_write_1h_tokens bigint NOT NULL,
        cache_read_tokens     bigint NOT NULL,
        PRIMARY KEY (session_ref, model)
    )""",
    "DROP INDEX sessions_usage",
    "CREATE INDEX sessions_usage ON sessions (created_at) INCLUDE (total_cost, model, "
    "project, project_key, turns, message_count, input_tokens, output_tokens, "
    "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, requests, models_apart, "
    "tags, unpriced) "
    "WHERE trashed_at IS NULL",
)

# from_result: 1 when a session's main token figures are the CLI's result totals
# (see derive): stored sessions are counted again to set it.
SCHEMA_V8: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN from_result integer NOT NULL DEFAULT 0",
    "DROP INDEX sessions_usage",
    "CREATE INDEX sessions_usage ON sessions (created_at) INCLUDE (total_cost, model, "
    "project, project_key, turns, message_count, input_tokens, output_tokens, "
    "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, requests, models_apart, "
    "tags, unpriced, from_result) "
    "WHERE trashed_at IS NULL",
)

# Nothing stored says who wrote a session before: those read "unknown".
SCHEMA_V9: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN user_name text NOT NULL DEFAULT 'unknown'",
    "ALTER TABLE sessions ADD COLUMN machine text NOT NULL DEFAULT 'unknown'",
    """CREATE TABLE users (
        name         text PRIMARY KEY,
        linked_user  text NOT NULL,
        admin        boolean NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL,
        token_id     text NOT NULL UNIQUE,
        token_hash   text NOT NULL,
        token_salt   text NOT NULL,
        token_kdf    text NOT NULL
    )""",
)

# IF NOT EXISTS: self-contained, whatever number this upgrade ends up with.
SCHEMA_V10: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS secret_findings (
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     text NOT NULL,
        seq         bigint NOT NULL,
        entry_uuid  text,
        place       text NOT NULL,
        json_path   text NOT NULL,
        rule        text NOT NULL,
        confidence  text NOT NULL,
        value_start integer NOT NULL,
        value_end   integer NOT NULL,
        preview     text NOT NULL,
        PRIMARY KEY (session_ref, subpath, seq, json_path, value_start)
    )""",
    """CREATE TABLE IF NOT EXISTS secret_scans (
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     text NOT NULL,
        scanned_seq bigint NOT NULL,
        PRIMARY KEY (session_ref, subpath)
    )""",
)

# IF NOT EXISTS: a store whose version was set back keeps its record.
SCHEMA_V11: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN IF NOT EXISTS redacted_at timestamptz",
    "ALTER TABLE sessions ADD COLUMN IF NOT EXISTS redacted_rules text",
)

# The session columns each tag row copies (see the SQLite schema's TAG_COPIES).
_TAG_COPIES = ("updated_at", "created_at", "total_cost", "trashed_at")
_COPY_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _TAG_COPIES)
# SET search_path FROM CURRENT: the functions find this store's tables whoever runs them.
SCHEMA_V12: tuple[str, ...] = (
    "ALTER TABLE tags ADD COLUMN updated_at timestamptz, ADD COLUMN created_at timestamptz, "
    "ADD COLUMN total_cost double precision, ADD COLUMN trashed_at timestamptz",
    f"UPDATE tags SET {', '.join(f'{c} = s.{c}' for c in _TAG_COPIES)} "
    "FROM sessions s WHERE s.id = tags.session_ref",
    f"""CREATE FUNCTION tags_copy_session() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$ BEGIN
        UPDATE tags SET {", ".join(f"{c} = NEW.{c}" for c in _TAG_COPIES)}
        WHERE session_ref = NEW.id;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER tags_copy_session AFTER UPDATE OF {", ".join(_TAG_COPIES)} ON sessions
        FOR EACH ROW WHEN ({_COPY_CHANGED}) EXECUTE FUNCTION tags_copy_session()""",
    f"""CREATE FUNCTION tags_copy_new() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$ BEGIN
        SELECT {", ".join(f"s.{c}" for c in _TAG_COPIES)}
        INTO {", ".join(f"NEW.{c}" for c in _TAG_COPIES)}
        FROM sessions s WHERE s.id = NEW.session_ref;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER tags_copy_new BEFORE INSERT ON tags
        FOR EACH ROW EXECUTE FUNCTION tags_copy_new()""",
    "CREATE INDEX tags_feed ON tags (tag, updated_at, session_ref) WHERE trashed_at IS NULL",
    "CREATE INDEX tags_by_created ON tags (tag, created_at, total_cost) "
    "INCLUDE (updated_at, session_ref) WHERE trashed_at IS NULL",
)

# IF NOT EXISTS: self-contained, whatever number this upgrade ends up with.
SCHEMA_V13: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS sign_ins (
        key_hash   text PRIMARY KEY,
        user_name  text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sign_ins_by_user ON sign_ins (user_name)",
)

# IF NOT EXISTS: self-contained, whatever number this upgrade ends up with.
SCHEMA_V14: tuple[str, ...] = (
    "ALTER TABLE sessions ADD COLUMN IF NOT EXISTS shared integer NOT NULL DEFAULT 0",
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS share_by_default integer NOT NULL DEFAULT 0",
    """CREATE TABLE IF NOT EXISTS audit_log (
        id         bigserial PRIMARY KEY,
        at         timestamptz NOT NULL,
        actor      text NOT NULL,
        action     text NOT NULL,
        session_id text,
        detail     text NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)",
)

# IF NOT EXISTS: self-contained, whatever number this upgrade ends up with.
SYNC_MARKS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS sync_marks (
        server      text NOT NULL,
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     text NOT NULL,
        acked_seq   bigint NOT NULL,
        PRIMARY KEY (server, session_ref, subpath)
    )""",
)


def _share_function(name: str, old: list[str], new: list[str]) -> str:
    """A trigger function: the old row's share out, the new one's in (a BEFORE DELETE
    trigger must return the row for the delete to go ahead)."""
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$ BEGIN
        IF TG_OP <> 'INSERT' THEN {"; ".join(old)}; END IF;
        IF TG_OP <> 'DELETE' THEN {"; ".join(new)}; END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
    END $$"""


def _usage_rollups(filled: tuple[rollups.Table, ...] = rollups.TABLES) -> tuple[str, ...]:
    """The usage sums' tables, their triggers and the filling of ``filled`` (see
    store.rollups); made anew whatever number this upgrade ends up with."""
    types = {"day": "bigint", "text": "text", "count": "bigint", "cost": "double precision"}
    inputs = ", ".join(rollups.SESSION_INPUTS)
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in rollups.SESSION_INPUTS)
    each = "FOR EACH ROW EXECUTE FUNCTION"
    return (
        "DROP TRIGGER IF EXISTS usage_session_new ON sessions",
        "DROP TRIGGER IF EXISTS usage_session_change ON sessions",
        "DROP TRIGGER IF EXISTS usage_session_gone ON sessions",
        "DROP TRIGGER IF EXISTS usage_models_change ON session_models",
        *(rollups.create_table(table, types) for table in rollups.TABLES),
        _share_function(
            "usage_session_share",
            rollups.session_share(ROLLUPS, "OLD", -1),
            rollups.session_share(ROLLUPS, "NEW", 1),
        ),
        _share_function(
            "usage_models_share",
            rollups.model_row_share(ROLLUPS, "OLD", -1),
            rollups.model_row_share(ROLLUPS, "NEW", 1),
        ),
        f"CREATE TRIGGER usage_session_new AFTER INSERT ON sessions {each} usage_session_share()",
        f"CREATE TRIGGER usage_session_change AFTER UPDATE OF {inputs} ON sessions "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION usage_session_share()",
        f"CREATE TRIGGER usage_session_gone BEFORE DELETE ON sessions {each} usage_session_share()",
        "CREATE TRIGGER usage_models_change AFTER INSERT OR UPDATE OR DELETE ON session_models "
        f"{each} usage_models_share()",
        *rollups.fill(ROLLUPS, filled),
    )


USAGE_ROLLUPS = _usage_rollups()
# The sums per day alone, by model and by project: the triggers made anew to keep them
# too, and only they filled.
COARSE_USAGE_SUMS = _usage_rollups(rollups.COARSE)


def _usage_hours() -> tuple[str, ...]:
    """The sums by hour (see store.hour_rollups): their table, triggers and filling,
    made anew whatever number this upgrade ends up with."""
    hours = hour_rollups.Hours(
        created=lambda row: f"floor(extract(epoch FROM {row}.created_at) / 3600)::bigint",
        at=lambda column: f"floor({column} / 3600)::bigint",
    )
    h = hour_rollups
    session_inputs = ", ".join(h.SESSION_INPUTS)
    session_changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in h.SESSION_INPUTS)
    request_changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in h.REQUEST_INPUTS)
    each = "FOR EACH ROW EXECUTE FUNCTION"
    return (
        "DROP TRIGGER IF EXISTS hours_session_new ON sessions",
        "DROP TRIGGER IF EXISTS hours_session_change ON sessions",
        "DROP TRIGGER IF EXISTS hours_session_gone ON sessions",
        "DROP TRIGGER IF EXISTS hours_request_new ON api_requests",
        "DROP TRIGGER IF EXISTS hours_request_change ON api_requests",
        "DROP TRIGGER IF EXISTS hours_request_gone ON api_requests",
        h.create_table({"count": "bigint", "cost": "double precision"}),
        _share_function(
            "hours_session_share",
            h.session_share(hours, "OLD", -1),
            h.session_share(hours, "NEW", 1),
        ),
        _share_function(
            "hours_request_share",
            h.request_share(hours, "OLD", -1),
            h.request_share(hours, "NEW", 1),
        ),
        f"CREATE TRIGGER hours_session_new AFTER INSERT ON sessions {each} hours_session_share()",
        f"CREATE TRIGGER hours_session_change AFTER UPDATE OF {session_inputs} ON sessions "
        f"FOR EACH ROW WHEN ({session_changed}) EXECUTE FUNCTION hours_session_share()",
        f"CREATE TRIGGER hours_session_gone BEFORE DELETE ON sessions {each} hours_session_share()",
        # A request without a time or a cost changes no sum: its function is not even called.
        "CREATE TRIGGER hours_request_new AFTER INSERT ON api_requests FOR EACH ROW "
        f"WHEN ({h.counted('NEW')}) EXECUTE FUNCTION hours_request_share()",
        "CREATE TRIGGER hours_request_gone AFTER DELETE ON api_requests FOR EACH ROW "
        f"WHEN ({h.counted('OLD')}) EXECUTE FUNCTION hours_request_share()",
        "CREATE TRIGGER hours_request_change AFTER UPDATE ON api_requests "
        f"FOR EACH ROW WHEN ({request_changed}) EXECUTE FUNCTION hours_request_share()",
        *h.fill(hours),
    )


USAGE_HOURS = _usage_hours()

ASIDE_TEXT: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS aside_text (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     text NOT NULL,
        search      tsvector NOT NULL,
        tools       tsvector NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS aside_text_by_session ON aside_text (session_ref, subpath)",
    "CREATE INDEX IF NOT EXISTS aside_text_by_words ON aside_text USING gin (search)",
    "CREATE INDEX IF NOT EXISTS aside_text_by_tool ON aside_text USING gin (tools)",
)

OWN_TEXT: tuple[str, ...] = (
    "ALTER TABLE aside_text ADD COLUMN IF NOT EXISTS own tsvector NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS aside_text_by_own_words ON aside_text USING gin (own)",
    # The sessions stored before whose prompts and replies are not in ``own`` yet: the
    # upgrade lists them, the indexer (store.postgres.own_fill) fills and removes them.
    """CREATE TABLE IF NOT EXISTS own_text_pending (
        session_ref bigint PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE
    )""",
)
# The prompts and replies of the main transcripts (sidechain lines are a subagent's)
# of the sessions given (an array of their ids), as AsideText gathers them, in one
# statement: each session's text
# in rows of up to 200,000 characters of each (a tsvector holds at most 1 MB), with
# ASCII punctuation made spaces as the dialect indexes it. An entry kept as exact JSON
# text (``raw``) is read from it, unless it holds a NUL or a lone surrogate (which
# JSONB refuses).
_OWN_PIECES = """
    SELECT CASE WHEN e.j->>'type' = 'user' THEN 'prompt' ELSE 'reply' END AS place,
        block.text
    FROM (SELECT e.j->'message'->'content' AS content) AS m,
    LATERAL (
        SELECT m.content #>> '{}' AS text WHERE jsonb_typeof(m.content) = 'string'
        UNION ALL
        SELECT b->>'text' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m.content)
            = 'array' THEN m.content ELSE '[]'::jsonb END) AS b
        WHERE b->>'type' = 'text' AND jsonb_typeof(b->'text') = 'string'
    ) AS block
    WHERE e.j->>'type' IN ('user', 'assistant')
        AND e.j->'isSidechain' IS DISTINCT FROM 'true'::jsonb
    UNION ALL
    SELECT 'reply', e.j->>'summary'
    WHERE e.j->>'type' = 'summary' AND jsonb_typeof(e.j->'summary') = 'string'
"""
_OWN_VECTOR = (
    "setweight(to_tsvector('{config}', translate(substr(t.{column}, k * 200000 + 1, 200000), "
    "%s, %s)), '{weight}')"
)
FILL_OWN_TEXT = (
    "INSERT INTO aside_text (session_ref, subpath, search, tools, own) "
    "SELECT t.session_ref, '', ''::tsvector, ''::tsvector, "
    + _OWN_VECTOR.format(config=TS_CONFIG, column="prompt", weight="A")
    + " || "
    + _OWN_VECTOR.format(config=TS_CONFIG, column="reply", weight="B")
    + " FROM (SELECT e.session_ref, "
    "coalesce(string_agg(x.text, E'\\n' ORDER BY e.seq) FILTER (WHERE x.place = 'prompt'), '') "
    "AS prompt, "
    "coalesce(string_agg(x.text, E'\\n' ORDER BY e.seq) FILTER (WHERE x.place = 'reply'), '') "
    "AS reply "
    # OFFSET 0: each entry's JSON is made once (an entry kept as text is parsed once).
    "FROM (SELECT session_ref, seq, coalesce(data, CASE WHEN raw "
    "!~ '\\\\u(0000|[dD][89a-fA-F])' THEN raw::jsonb END) AS j FROM entries "
    "WHERE subpath = '' AND session_ref = ANY(%s) OFFSET 0) AS e "
    f"CROSS JOIN LATERAL ({_OWN_PIECES}) AS x "
    "WHERE e.j IS NOT NULL GROUP BY e.session_ref) AS t, "
    "generate_series(0, greatest(length(t.prompt), length(t.reply)) / 200000) AS k "
    "WHERE t.prompt <> '' OR t.reply <> ''"
)

UPGRADES: tuple[tuple[str, ...], ...] = (
    SCHEMA_V1,
    SCHEMA_V2,
    SCHEMA_V3,
    (),
    SCHEMA_V5,
    SCHEMA_V6,
    SCHEMA_V7,
    SCHEMA_V8,
    SCHEMA_V9,
    SCHEMA_V10,
    SCHEMA_V11,
    SCHEMA_V12,
    SCHEMA_V13,
    SCHEMA_V14,
    (),  # 15: the split of run totals, redone after the steps (RESULTS_SPLIT)
    SYNC_MARKS,  # 16
    USAGE_ROLLUPS,  # 17
    member_listing.INDEXES,  # 18
    ASIDE_TEXT,  # 19
    (),  # 20: the split of run totals, made after the steps (RESULTS_SPLIT)
    USAGE_HOURS,  # 21
    (*filter_indexes.INDEXES, *filter_indexes.POSTGRES_RANGE_INDEXES),  # 22
    OWN_TEXT,  # 23
    lead_walk.MODEL_INDEXES,  # 24
    COARSE_USAGE_SUMS,  # 25
)
SCHEMA_VERSION = len(UPGRADES)
RECOUNTED = 8  # the version from which figures are counted as today
ASIDE_INDEXED = 19  # the version from which tool calls and subagents are searched
# The version from which each run's totals are split by request as today's code splits
# them: an older store is folded again after every step (it writes sessions, so the
# usage sums' triggers must exist). When that code changes, this becomes the new version.
RESULTS_SPLIT = 20


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def schema_version() -> Op[int | None]:
    """The schema version, or ``None`` when the store's tables do not exist yet."""
    found = yield Stmt("SELECT to_regclass('store_meta') IS NOT NULL AS present", fetch="one")
    if not found["present"]:
        return None
    row = yield Stmt("SELECT value FROM store_meta WHERE key = %s", (VERSION_KEY,), fetch="one")
    return int(row["value"]) if row else 0


def _holds_own_text() -> Op[bool]:
    row = yield Stmt(
        "SELECT 1 AS found FROM pg_attribute WHERE attrelid = to_regclass('aside_text') "
        "AND attname = 'own' AND NOT attisdropped",
        fetch="one",
    )
    return row is not None


def upgrade(schema: str) -> Op[int]:
    """Create the schema if needed and apply the missing upgrades; returns the version found."""
    # The lock's name predates "upgrade": stores opened by older versions take the same one.
    yield lock("claude-sessions-migrate", schema)
    exists = yield Stmt(
        "SELECT 1 AS found FROM pg_namespace WHERE nspname = %s", (schema,), fetch="one"
    )
    if exists is None:
        yield Stmt(f"CREATE SCHEMA {quote_ident(schema)}")
    version = (yield from schema_version()) or 0
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"store schema version {version} is newer than this claude-sessions "
            f"understands ({SCHEMA_VERSION}): upgrade claude-sessions"
        )
    # Read before the steps run (step 23 adds the column): a store with tool text indexed
    # but no prompts and replies apart has its sessions listed for the indexer.
    own_missing = version >= ASIDE_INDEXED and not (yield from _holds_own_text())
    for step in UPGRADES[version:]:
        for statement in step:
            yield Stmt(statement)
    if 0 < version < RECOUNTED:
        from claude_sessions.store.upgrades import fill_root_keys, recount  # an old store only

        if version < 3:  # version 3 finds the root entry of stored sessions
            yield from fill_root_keys(PostgresDialect(schema))
        yield from recount(PostgresDialect(schema))  # fold the stored sessions again
    elif 0 < version < RESULTS_SPLIT:
        from claude_sessions.store.upgrades import split_result_runs

        yield from split_result_runs(PostgresDialect(schema))
    if 0 < version < ASIDE_INDEXED:
        from claude_sessions.store.upgrades import index_aside  # an old store only

        yield from index_aside(PostgresDialect(schema))
    elif own_missing:  # their text is filled in by the indexer, not while the store opens
        for statement in OWN_TEXT:
            yield Stmt(statement)
        yield Stmt("INSERT INTO own_text_pending (session_ref) SELECT id FROM sessions")
    yield Stmt(
        "INSERT INTO store_meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (VERSION_KEY, str(SCHEMA_VERSION)),
    )
    return version
