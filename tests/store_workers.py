"""Process entry points for the store reliability tests (importable under spawn)."""

from __future__ import annotations

from typing import Any


def messages(session_id: str, size: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "type": "system",
            "subtype": "init",
            "session_id": session_id,
            "model": "claude-sonnet-4-5",
            "cwd": "/work/app",
        }
    ]
    for i in range(size - 2):
        out.append(
            {
                "type": "assistant",
                "session_id": session_id,
                "uuid": f"{session_id}-{i}",
                "message": {"id": f"m{i}", "content": [{"type": "text", "text": f"word{i} " * 20}]},
            }
        )
    out.append(
        {"type": "result", "subtype": "success", "session_id": session_id, "total_cost_usd": 0.01}
    )
    return out


def save_many(location: str, worker: int, count: int, size: int) -> None:
    from claude_sessions import SessionStore

    with SessionStore(location, cleanup_after_days=None) as store:
        for i in range(count):
            sid = f"w{worker}-{i}"
            store.save_session(sid, messages(sid, size), tags=[f"w{worker}"])


def save_forever(location: str, size: int) -> None:
    from claude_sessions import SessionStore

    store = SessionStore(location, cleanup_after_days=None)
    i = 0
    while True:
        sid = f"k-{i}"
        store.save_session(sid, messages(sid, size))
        store.append_messages(
            sid, [{"type": "user", "uuid": f"{sid}-extra", "message": {"content": "more"}}]
        )
        i += 1


def record_same_session(location: str, session_id: str, worker: int, barrier: Any) -> None:
    """Record one run of ``session_id`` the moment every worker is ready."""
    from claude_sessions import SessionStore

    run = [
        {
            "type": "assistant",
            "session_id": session_id,
            "uuid": f"{session_id}-w{worker}",
            "message": {"id": f"m-{worker}", "content": [{"type": "text", "text": f"w{worker}"}]},
        }
    ]
    with SessionStore(location, cleanup_after_days=None) as store:
        barrier.wait()
        store.record_run(session_id, run, tags=[f"w{worker}"])


def open_fresh(location: str, barrier: Any) -> None:
    """Open (and so create) a store the moment every worker is ready."""
    from claude_sessions import SessionStore

    barrier.wait()
    with SessionStore(location, cleanup_after_days=None) as store:
        store.list_sessions(limit=1)


def _reading(reader: str) -> None:
    """``worker``: import as a large import does (a reading process, bulk writes)."""
    if reader == "worker":
        from claude_sessions.importer import importing, reading

        importing.LARGE_IMPORT_BYTES = 0
        reading.BATCH_ENTRIES = 50  # many transactions, while it still reads


def import_forever(location: str, root: str, reader: str) -> None:
    """Import ``root`` again and again (the test kills this process)."""
    from claude_sessions import SessionStore
    from claude_sessions.importer import import_transcripts

    _reading(reader)
    with SessionStore(location, cleanup_after_days=None) as store:
        while True:
            import_transcripts(store, [root])


def import_once(location: str, root: str, barrier: Any, reader: str) -> None:
    from claude_sessions import SessionStore
    from claude_sessions.importer import import_transcripts

    _reading(reader)
    with SessionStore(location, cleanup_after_days=None) as store:
        barrier.wait()
        import_transcripts(store, [root])
