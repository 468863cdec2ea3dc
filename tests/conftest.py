"""Fixtures for the whole suite: stores on both databases (``store_fixtures``) and the
PostgreSQL test server (the opt-in plugin ``claude_sessions.testing.postgres_plugin``)."""

pytest_plugins = [
    "tests.store_fixtures",
    "tests.fake_home",
    "claude_sessions.testing.postgres_plugin",
]
