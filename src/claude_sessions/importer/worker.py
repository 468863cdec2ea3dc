"""Reading transcripts in a second process while this one stores them.

Half of a large import is work that needs no database: reading lines, parsing
them, merging each batch with itself and folding its metadata
(:class:`~claude_sessions.model.preparing.Preparing`). A worker process does that,
file after file, while the importing process stores the batches it sends, so
the two halves overlap where a core is free for each (on two cores, which
SQLite's checkpoint thread shares too, the gain is small: see
``bench/import.py``). Only this process writes the store, so transactions,
their order and what a crash leaves are the same as when one process does
everything.

- The worker runs ``python -c`` with this module's :func:`_serve`, not as a
  ``multiprocessing`` child: no start method runs the user's ``__main__`` again.
- Jobs go to its stdin and batches come back on its stdout, pickled (both
  ends are this package). A batch says where each line's text lies in its
  file, not the text: this process reads the bytes again (from the page cache)
  and checks them against the CRC-32 of what the worker parsed (:class:`_Texts`).
  Sending the text was half of the worker's work.
- It reads ahead of the store by up to :data:`AHEAD_BYTES`.
- It leads its own process group (Ctrl-C is this process's to handle) and,
  on Linux, dies with its parent (:mod:`claude_sessions.model.child_lifetime`).
- When it cannot start or stops half-way, or a file changed since it read it,
  the import reads the rest itself, from the last batch it received.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import IO, NamedTuple

from claude_sessions.importer import reading
from claude_sessions.importer.identify import is_packed
from claude_sessions.importer.reading import (
    Batch,
    Failed,
    ImportReport,
    Job,
    Read,
    read_job,
    read_jobs,
)
from claude_sessions.model.derive import BatchFacts
from claude_sessions.model.entries import Merge, NewEntry
from claude_sessions.model.preparing import Line, Prepared

log = logging.getLogger("claude_sessions.importer")


def read_in_worker(jobs: Sequence[Job]) -> Iterator[Read | Failed]:
    """:func:`read_jobs`, from a worker process; in this one for what it did not send."""
    resume = 0, -1  # the job the next batch is of, and its offset (-1: the job's start)
    try:
        with _Worker(jobs) as worker:
            for item in worker:
                yield item
                if isinstance(item, Failed) or item.batch.last:
                    resume = item.job + 1, -1
                else:
                    resume = item.job, item.batch.end
            return
    except _WorkerError as error:
        log.warning("the import reads on in this process: %s", error)
    index, offset = resume
    for position in range(index, len(jobs)):
        job = jobs[position]
        start = offset if position == index and offset >= 0 else job.start
        yield from read_job(position, job._replace(start=start))


_WORKER_MAIN = (
    "import sys; from claude_sessions.importer.worker import _serve; "
    "_serve(sys.stdin.buffer, sys.stdout.fileno())"
)


class _WorkerError(Exception):
    """The worker process could not start, or stopped before it finished."""


class _Worker:
    def __init__(self, jobs: Sequence[Job]) -> None:
        from claude_sessions.model.child_lifetime import spawn_options

        # What it says on stderr, for the warning if it fails (closed in close()).
        self._errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._texts = _Texts(jobs)
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                env=env,
                **spawn_options(),
            )
            assert self._process.stdin is not None
            settings = (reading.BATCH_ENTRIES, reading.BATCH_BYTES)
            pickle.dump((settings, list(jobs)), self._process.stdin, pickle.HIGHEST_PROTOCOL)
            self._process.stdin.close()
        except (OSError, pickle.PickleError) as error:
            self.close()
            raise _WorkerError(f"the reading process did not start: {error}") from None

    def __enter__(self) -> _Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Read | Failed]:
        assert self._process.stdout is not None
        while True:
            try:
                item = pickle.load(self._process.stdout)
            except Exception as error:  # EOF, a broken pipe or a garbled message
                raise _WorkerError(self._why(error)) from None
            if item is None:
                return
            yield _parsed_later(item, self._texts)

    def _why(self, error: BaseException) -> str:
        self._process.kill()
        code = self._process.wait()
        self._errors.seek(0)
        lines = self._errors.read().decode(errors="replace").strip().splitlines()
        said = f": {lines[-1]}" if lines else ""
        return f"the reading process stopped (exit code {code}, {type(error).__name__}){said}"

    def close(self) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if process is not None and process.stdout is not None:
            process.stdout.close()
        self._errors.close()
        self._texts.close()


def _serve(source: IO[bytes], sink: int) -> None:
    """The worker's side: jobs from ``source``, prepared batches to the pipe ``sink``.

    A thread sends: each batch is written whole, in one call that needs no lock,
    while the next ones are prepared, up to :data:`AHEAD_BYTES` of them (the store
    commits small files' batches together and reads none meanwhile).
    """
    gc.disable()  # parsed JSON holds no cycles (see importer._collector_paused)
    (entries, size), jobs = pickle.load(source)
    reading.BATCH_ENTRIES, reading.BATCH_BYTES = entries, size
    outbox = _Outbox()
    sender = threading.Thread(target=_send, args=(outbox, sink), daemon=True)
    sender.start()
    for item in read_jobs(jobs, locate=True):
        outbox.put(pickle.dumps(_unparsed(item), pickle.HIGHEST_PROTOCOL))
    outbox.put(pickle.dumps(None))
    outbox.put(b"")
    sender.join()


AHEAD_BYTES = 32 * 1024 * 1024


class _Outbox:
    """Payloads waiting to be sent, at most :data:`AHEAD_BYTES` of them (and one more)."""

    def __init__(self) -> None:
        self._waiting: deque[bytes] = deque()
        self._bytes = 0
        self._changed = threading.Condition()

    def put(self, payload: bytes) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._bytes <= AHEAD_BYTES)
            self._waiting.append(payload)
            self._bytes += len(payload)
            self._changed.notify_all()

    def get(self) -> bytes:
        with self._changed:
            self._changed.wait_for(lambda: bool(self._waiting))
            payload = self._waiting.popleft()
            self._bytes -= len(payload)
            self._changed.notify_all()
            return payload


def _send(outbox: _Outbox, sink: int) -> None:
    while payload := outbox.get():  # b"": all sent
        view = memoryview(payload)
        try:
            while view:
                view = view[os.write(sink, view) :]
        except OSError:  # the importing process went away: nobody to prepare for
            os._exit(0)


class _Sent(NamedTuple):
    """A :class:`Read` as it crosses the pipe: its lines as columns of plain values,
    without their text, which this process reads from the file (see :class:`_Texts`),
    nor their parsed entries (the store parses again only what it must compare)."""

    job: int
    start: int
    end: int
    last: bool
    crc: int
    offsets: list[int]
    sizes: list[int]
    exact: dict[int, str]  # the texts of lines whose text is not the file's bytes
    uuids: list[str | None]
    keys: list[str | None]  # the prepared merge's new entries: key, and their line
    picks: list[int]
    duplicates: int
    conflicts: int
    facts: BatchFacts
    counts: ImportReport


def _unparsed(item: Read | Failed) -> _Sent | Failed:
    if isinstance(item, Failed):
        return item
    batch, (merge, conflicts, facts) = item.batch, item.prepared
    lines = batch.lines
    where = {id(line.text): index for index, line in enumerate(lines)}
    return _Sent(
        item.job,
        batch.start,
        batch.end,
        batch.last,
        batch.crc,
        [line.offset for line in lines],
        batch.sizes,
        {index: lines[index].text for index, size in enumerate(batch.sizes) if size < 0},
        [line.uuid for line in lines],
        [entry.key for entry in merge.new],
        [where[id(entry.text)] for entry in merge.new],
        merge.duplicates,
        conflicts,
        facts,
        batch.counts,
    )


class _Texts:
    """The texts of the lines batches name, read from their files: the reading process
    sends where each text lies instead of the text (half of its work was sending it),
    and the CRC-32 of what it read, so a file that changed since is never mixed in."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self._jobs = jobs
        self._open: tuple[int, int] | None = None  # (job, file descriptor)

    def of(self, sent: _Sent) -> list[str]:
        if not sent.offsets:
            return []
        path = self._jobs[sent.job].path
        if is_packed(path):  # every text was sent: the file holds them compressed
            return [sent.exact[index] for index in range(len(sent.offsets))]
        try:
            region = os.pread(self._file(sent.job), sent.end - sent.start, sent.start)
        except OSError as error:
            raise _WorkerError(f"{path} could not be read again: {error}") from None
        if len(region) != sent.end - sent.start or zlib.crc32(region) != sent.crc:
            raise _WorkerError(f"{path} changed while it was read")
        base, exact = sent.start, sent.exact
        if region.isascii():  # byte positions are character positions: slice one string
            whole = region.decode("ascii")
            return [
                whole[offset - base : offset - base + size] if size >= 0 else exact[index]
                for index, (offset, size) in enumerate(zip(sent.offsets, sent.sizes, strict=True))
            ]
        view = memoryview(region)
        return [
            str(view[offset - base : offset - base + size], "utf-8") if size >= 0 else exact[index]
            for index, (offset, size) in enumerate(zip(sent.offsets, sent.sizes, strict=True))
        ]

    def _file(self, job: int) -> int:
        if self._open is not None and self._open[0] == job:
            return self._open[1]
        self.close()
        self._open = job, os.open(self._jobs[job].path, os.O_RDONLY)
        return self._open[1]

    def close(self) -> None:
        if self._open is not None:
            os.close(self._open[1])
            self._open = None


def _parsed_later(sent: _Sent | Failed, texts: _Texts) -> Read | Failed:
    """The :class:`Read` a :class:`_Sent` stands for."""
    if isinstance(sent, Failed):
        return sent
    text = texts.of(sent)
    lines = list(map(Line, sent.offsets, repeat(None), text, sent.uuids))
    keys = sent.keys
    new = list(
        map(NewEntry, range(len(keys)), keys, repeat(None), map(text.__getitem__, sent.picks))
    )
    merge = Merge(new, {}, sent.duplicates)
    batch = Batch(lines, sent.start, sent.end, sent.last, sent.counts, sent.sizes, sent.crc)
    return Read(sent.job, batch, Prepared(merge, sent.conflicts, sent.facts))
