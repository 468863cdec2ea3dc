"""Running the real Claude Code CLI: query, continue, resume and fork, its processes and
options, and where to find it."""
