"""Segment a CSV file too large for HTTP: ``python -m api.score IN.csv -o OUT.csv``.

Streams the file in blocks (bounded memory whatever its size), validates and scores each block exactly as
``POST /api/segment/batch`` does, and writes one output row per input row: ``row``, the input columns (those not
used to segment, a customer number say, too), then
segment, persona, confidence (a Gaussian mixture adds ``probability_0`` …), atypical, imputed and error (empty when the row
was segmented). ``-o -`` writes to standard
output; a file output appears only when complete, and the input file is never written over.
"""

from __future__ import annotations

import argparse
import atexit
import os
import queue
import shutil
import secrets
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeVar

#: What Ctrl-C while the command starts (imports, artifacts) leaves: nothing written yet.
STOPPED_STARTING = "stopped by SIGINT while starting; nothing was written"

if __name__ == "__main__":
    # Ctrl-C while the libraries load (about half a second): a line that says so, not a traceback of an import.
    def _stopped_starting(signum: int, frame: object) -> None:
        print(STOPPED_STARTING, file=sys.stderr)
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, _stopped_starting)

    from api.lean import pyarrow_without_pandas  # before pyarrow is imported (see api.lean)

    pyarrow_without_pandas()

import pyarrow as pa  # noqa: E402

from api import artifacts as artifact_files  # noqa: E402
from api.batch import score  # noqa: E402
from api.csvio import BLOCK_SIZE, ENCODING_NAMES, NO_ROWS, Chunk, Header, Running, answer_table, check_chunk, iter_chunks, read_header, write_table  # noqa: E402
from api.errors import ApiError  # noqa: E402
from stages import config  # noqa: E402


#: Why a file was read in an encoding other than UTF-8, for the summary line.
ENCODING_NOTES = {
    "cp1252": "not UTF-8, as Excel saves CSV on Windows",
    "utf-16-le": "Unicode text, as Excel saves it",
    "utf-16-be": "Unicode text",
}

T = TypeVar("T")
#: Blocks being scored or waiting to be written at any time.
IN_FLIGHT = 4
_END = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Run an iterator in a background thread, ``depth`` items ahead (pyarrow parses without holding the GIL)."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)

    def produce() -> None:
        try:
            for item in items:
                buffer.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            buffer.put(exc)
        buffer.put(_END)

    threading.Thread(target=produce, daemon=True).start()
    while (item := buffer.get()) is not _END:
        if isinstance(item, BaseException):
            raise item
        yield item  # type: ignore[misc]


def _answer(chunk: Chunk, header: Header, art: artifact_files.Artifacts, running: Running) -> tuple[bytes, int, int]:
    """Validate, score and format one block: its CSV text, its row count and its count of rows with errors.
    ``running`` hands the sums of the rows above from block to block (for a totals row)."""
    checked, echo = check_chunk(chunk, header, running)
    scored = score(art.segmenter, checked)
    sink = pa.BufferOutputStream()
    write_table(answer_table(echo, scored, art.persona_names, header.carried), sink, include_header=chunk.index == 0)
    return sink.getvalue().to_pybytes(), len(checked.rows), len(checked.errors)


class Outcome(NamedTuple):
    """What scoring a file came to: its rows, the rows with errors, and the codec it was read in (a key of
    :data:`~api.csvio.ENCODING_NAMES`)."""

    rows: int
    errors: int
    encoding: str


def _score_into(source: Path, header: Header, out: BinaryIO, art: artifact_files.Artifacts, block_size: int) -> Outcome:
    """Score ``source`` block by block into the open stream ``out``."""
    n_rows = n_errors = 0
    encoding = "utf-8"
    running = Running()
    # Parsing (a background thread), then validating, scoring and formatting (a pool: pyarrow and numpy release the
    # GIL) overlap; this thread only writes finished text in input order. At most IN_FLIGHT blocks are held at
    # once, so memory stays bounded whatever the file's size.
    answers: deque[Future[tuple[bytes, int, int]]] = deque()
    with open(source, "rb") as raw, ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:

        def write_done(keep: int) -> None:
            nonlocal n_rows, n_errors
            while len(answers) > keep:
                text, rows, errors = answers.popleft().result()
                out.write(text)
                n_rows, n_errors = n_rows + rows, n_errors + errors

        for chunk in prefetch(iter_chunks(raw, header, block_size)):
            answers.append(pool.submit(_answer, chunk, header, art, running))
            encoding = chunk.encoding  # the last block's is the file's
            write_done(IN_FLIGHT)
        write_done(0)
    if n_rows == 0:
        raise ApiError(422, NO_ROWS)
    return Outcome(n_rows, n_errors, encoding)


def score_file(source: Path, target: Path, art: artifact_files.Artifacts, block_size: int = BLOCK_SIZE, header: Header | None = None) -> Outcome:
    """Score ``source`` into ``target``. ``header``: the file's, when already read.

    A file (new or existing, also behind a symlink, which is followed) appears only when complete: the answer goes
    to a temporary file beside it that then replaces it, keeping an existing file's permissions, so a failure leaves
    the old file or none. ``-``, ``/dev/stdout`` and ``/dev/fd/N`` are written through the descriptor the shell
    opened (a pipe, or a file opened for appending with ``>>``), and a device or named pipe is written as the answer
    is made: those cannot be replaced, only written to.
    """
    if header is None:
        with open(source, "rb") as fh:
            header = read_header(fh)
    fd = descriptor(target)
    if fd is not None:  # the open file the shell gave us (a pipe, or a file opened for >> that must not be replaced)
        with os.fdopen(fd, "wb", closefd=False) as out:
            return _score_into(source, header, out, art, block_size)
    real = target.resolve()
    if real.exists() and not real.is_file():
        with open(real, "wb") as out:
            return _score_into(source, header, out, art, block_size)
    # A name of its own (two runs writing the same file must not share one), created only if new (O_EXCL), in the
    # target's folder so that the replace below is a rename on one file system; mode 0666 less the umask, as open().
    tmp = real.with_name(f".{real.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd_tmp = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd_tmp, "wb") as out:
            counts = _score_into(source, header, out, art, block_size)
        if real.exists():
            shutil.copymode(real, tmp)
        tmp.replace(real)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


def descriptor(target: Path) -> int | None:
    """The already open file descriptor ``target`` names: ``-`` and ``/dev/stdout`` are 1, ``/dev/stderr`` 2,
    ``/dev/fd/N`` and ``/proc/self/fd/N`` (bash's process substitution) N; None for any other path."""
    text = str(target)
    named = {"-": 1, "/dev/stdout": 1, "/dev/stderr": 2}
    if text in named:
        return named[text]
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        if text.startswith(prefix) and text[len(prefix):].isdigit():
            return int(text[len(prefix):])
    return None


def _path_problem(source: Path, target: Path) -> str | None:
    """What is wrong with the input or output path, if anything."""
    if str(source) == "-" and not source.exists():
        return ("-: the input must be a file, not standard input (it is read twice: its header first, then its rows); "
                "save the stream to a file and give its path")
    if not source.exists():
        return f"{source}: no such file"
    if not source.is_file():
        kind = "a directory" if source.is_dir() else "not a regular file (a pipe or a device)"
        return f"{source}: is {kind}; give the path of the CSV file to read"
    fd = descriptor(target)
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError:
            return f"{target}: no such open file descriptor"
        return None
    real = target.resolve()
    if real.is_dir():
        return f"{target}: is a directory; give the path of the CSV file to write"
    if not real.parent.is_dir():
        return f"{target}: the folder {real.parent} does not exist"
    if real.exists() and os.path.samefile(source, real):
        return f"{target}: is the input file; give another path for the output (writing it would replace the customers' file)"
    return None


class Stopped(BaseException):
    """A termination signal arrived (SIGTERM, SIGHUP): raised in the main thread so the temporary file is removed."""


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    """Command line: exit 0 when the file was scored (row errors are in its error column), 2 when it could not be."""
    parser = argparse.ArgumentParser(prog="python -m api.score", description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="CSV with the six categories (and optionally Channel, Region)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="CSV to write; - for standard output")
    parser.add_argument("--root", type=Path, default=config.ROOT, help="project root holding ml/ and dvc.lock")
    parser.add_argument("--block-size", type=int, default=BLOCK_SIZE, help="bytes parsed per block (default %(default)s)")
    args = parser.parse_args(argv)
    if args.block_size < 1:
        parser.error("--block-size must be a positive number of bytes")
    problem = _path_problem(args.input, args.output)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        art = artifact_files.load(args.root, pages=False)
    except KeyboardInterrupt:
        print(STOPPED_STARTING, file=sys.stderr)
        return 128 + signal.SIGINT
    where = "standard output" if descriptor(args.output) == 1 else args.output
    started = time.perf_counter()
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with open(args.input, "rb") as fh:
            header = read_header(fh)
        n_rows, n_errors, encoding = score_file(args.input, args.output, art, args.block_size, header)
    except ApiError as exc:
        print(f"error: {args.input}: {exc.message}", file=sys.stderr)
        for e in exc.errors:  # "body" is the API's word for what was sent; here that is the file
            print(f"  {'file' if e.field == 'body' else e.field}: {e.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of standard output stopped early (`| head`): stop quietly, like other tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return 128 + signal.SIGPIPE
    except OSError as exc:  # e.g. unreadable input, disk full: a file output is left as it was
        print(f"error: {exc.strerror or exc} ({args.input} → {where})", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Stopped) as exc:
        signum = exc.args[0] if isinstance(exc, Stopped) else signal.SIGINT
        kept = "" if descriptor(args.output) is not None or not args.output.resolve().is_file() else f"; {args.output} is as it was"
        print(f"stopped by {signal.Signals(signum).name} before the end{kept}", file=sys.stderr)
        return 128 + signum
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    seconds = time.perf_counter() - started
    print(
        f"{where}: {n_rows:,} row{'' if n_rows == 1 else 's'}, {n_rows - n_errors:,} segmented, {n_errors:,} with errors (see its error column); "
        f"model {art.model_version}; {seconds:.2f} s",
        file=sys.stderr,
    )
    if encoding != "utf-8":
        print(f"  read as {ENCODING_NAMES[encoding]} ({ENCODING_NOTES[encoding]}), written as UTF-8", file=sys.stderr)
    if header.carried:
        print(f"  not used to segment, copied to the output unchanged: {', '.join(header.carried_names)}", file=sys.stderr)
    return 0


def _exit(code: int) -> None:
    """Leave the process with ``code`` once the output is flushed, without the interpreter's own shutdown: pyarrow's
    read-ahead thread can outlive a reader that stopped early (a file it cannot parse), and C++ then aborts the
    process as it exits ("terminate called without an active exception", exit 134), even after
    :meth:`api.csvio.Utf8Repaired.stop` (seen in 1 run of 15 on 2 cores under load). Every file is closed and every
    output is in place by now; the exit handlers (``atexit``) still run, only the interpreter's finalisation is
    skipped."""
    atexit._run_exitfuncs()  # noqa: SLF001 - what sys.exit would run; CPython's, no public equivalent
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away (`| head`), or the stream is closed
            pass
    os._exit(code)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # main() says what Ctrl-C stopped from here on
    _exit(main())
