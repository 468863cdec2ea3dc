"""Read models every face shares (terminal, web, MCP): conversations, renderings,
statistics and fork lineage."""
