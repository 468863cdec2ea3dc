"""SQLite: the default store's driver, schema and SQL dialect."""
