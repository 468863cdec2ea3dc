"""PostgreSQL: the driver, schema and SQL dialect of a team's store."""
