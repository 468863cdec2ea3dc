"""Keeping every session: hooks that capture each turn, a watcher, and writing back to Claude Code.

- :mod:`.hooks`: Claude Code hooks (``claude-sessions hooks install``) that import a
  session's transcript whenever a turn ends;
- :mod:`.watch`: the same without hooks, by watching the transcript folders;
- :mod:`.handover`: hooks, watch and imports of one transcript hand over to each
  other instead of queueing;
- :mod:`.write_back`: a stored session written back as a transcript Claude Code resumes.
"""
