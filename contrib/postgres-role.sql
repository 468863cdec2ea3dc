-- The role a team server (and each import) uses: it reads and writes the store's
-- rows, and nothing else. Run as the role that owns the store's schema (the one
-- that created it and runs its upgrades), in the store's database:
--   psql "postgresql://owner@db/sessions" -f contrib/postgres-role.sql
-- then give the role a password: \password claude_sessions_app
CREATE ROLE claude_sessions_app LOGIN;
GRANT USAGE ON SCHEMA claude_sessions TO claude_sessions_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA claude_sessions
    TO claude_sessions_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA claude_sessions TO claude_sessions_app;
-- Tables and sequences a later upgrade (run by the owner) adds get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA claude_sessions
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO claude_sessions_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA claude_sessions
    GRANT USAGE, SELECT ON SEQUENCES TO claude_sessions_app;
