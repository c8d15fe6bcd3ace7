"""Reading customers' CSV files in streamed chunks and writing the answers, with pyarrow's CSV reader and writer.

The file is read as UTF-8, or as UTF-16 (after its byte-order mark, or told by its first characters), or as Windows-1252 when it is not UTF-8 and
nothing but ASCII comes before its first byte that is not (:class:`Decoder`); answers are UTF-8.
The delimiter (``,``, ``;`` or tab) is taken from the header line, a UTF-8 byte-order mark is skipped, the header is
checked against the model's fields, and every cell is read as text so each bad cell can be reported, not guessed.
Blank lines before the header are skipped. Rows are numbered from 1 in file order (header and blank lines not counted).
Errors name the columns as the file's header writes them (``Delicatessen`` stays ``Delicatessen``).
Bytes that are no text in a data row fail that row only (see :class:`Transcoded`).
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import csv
import io
import itertools
import threading
import weakref
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from api.batch import Checked, Scored, as_list, check_cells, result_columns
from api.errors import ApiError
from api.fields import ALIAS_OF, ALIASES, FEATURES, LABELS, FieldError, meant_name, unknown_name
from stages.dataset import MISSING_CELLS, NUMBER, header_delimiter

#: Content types a batch's CSV body may be sent as (a multipart upload aside): application/csv is not registered but
#: some clients send it, and text/plain is what tools without a CSV type send.
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
#: Accept types that ask a batch for its answer as CSV (which is sent as text/csv); application/csv is not
#: registered, but some clients ask for it.
CSV_ANSWER_TYPES = ("text/csv", "application/csv")
#: A CSV answer is a file to save, named so.
CSV_ANSWER_DISPOSITION = 'attachment; filename="segments.csv"'

#: The columns read to segment and label a customer; a file's others are carried (:attr:`Header.carried`).
READ = frozenset((*FEATURES, *LABELS))

#: Bytes parsed per chunk: about 30,000 rows of the six categories, so memory stays bounded whatever the file size.
BLOCK_SIZE = 1 << 20


@dataclass(frozen=True)
class Header:
    """The header line of a customers' CSV: delimiter, column names as written, the field each one is, and where
    the data rows start (after blank lines before the header, and the header itself).

    A column that is none of the fields (a customer number, a name, a note; :func:`parse_header` says which are
    allowed) is *carried*: its field is its own name, it is not read to segment, and it is copied to a CSV answer
    unchanged, so the answer's rows can be matched with the customers they are about."""

    delimiter: str
    names: list[str]
    fields: list[str]
    #: False when the header is the file's last line (nothing, not even a line end, follows it): no rows to read.
    rows_follow: bool = True
    #: Offset of the first data line (after the blank lines and the header) in the file's text as UTF-8
    #: (:class:`Decoder`), where pyarrow starts reading: its own ``skip_rows`` needs the lines skipped to fit in one
    #: block, which a small ``--block-size`` or a long run of blank lines would break.
    data_start: int = 0

    @cached_property
    def carried(self) -> list[int]:
        """Positions of the carried columns (not used to segment, copied to a CSV answer)."""
        return [i for i, f in enumerate(self.fields) if f not in READ]

    @cached_property
    def carried_names(self) -> list[str]:
        """The carried columns' names as the header writes them (an unnamed one as ``(column N)``)."""
        return [self.names[i] or f"(column {i + 1})" for i in self.carried]

    @cached_property
    def written(self) -> dict[str, str]:
        """Column names as the header writes them, by field, where they differ (``Delicassen`` → ``Delicatessen``).
        Worked out once: every error of a file's rows is renamed through it."""
        return {f: n for n, f in zip(self.names, self.fields, strict=True) if n != f}

    def rename(self, error: FieldError) -> FieldError:
        """``error`` naming its column as the header writes it."""
        name = self.written.get(error.field)
        return error if name is None else replace(error, field=name)


@dataclass
class Chunk:
    """Rows of one parsed block: text cells of the well-formed rows, and the rows that could not be split.

    ``not_text`` maps the position (in ``rows``) of each row with bytes that are no text in the file's encoding
    (or U+FFFD, the mark of text already damaged) to those columns, as written in the header; their cells in
    ``table`` show U+FFFD. ``encoding`` is the file's as known when the block was read (a key of
    :data:`ENCODING_NAMES`; the last block's is the whole file's), ``index`` the block's place in the file.
    """

    table: pa.Table
    rows: NDArray[np.int64]
    malformed: list[tuple[int, str]]
    not_text: dict[int, list[str]] = field(default_factory=dict)
    encoding: str = "utf-8"
    index: int = 0

    def cells(self, header: Header) -> dict[str, pa.Array]:
        """Text cells by field name (null = a value not known: an empty cell or ``NA``, :data:`~stages.dataset.MISSING_CELLS`)."""
        columns = self.table.columns
        return {f: c.chunk(0) if c.num_chunks == 1 else c.combine_chunks() for f, c in zip(header.fields, columns, strict=True)
                if f in READ}


def _header_error(message: str, errors: list[FieldError]) -> ApiError:
    return ApiError(422, message, errors)


#: How spreadsheet files that are not text begin: a zip archive (Excel's .xlsx, LibreOffice's .ods) and the compound
#: file of Excel 97-2003 (.xls), each with the words for it.
WORKBOOKS = {b"PK\x03\x04": "an Excel (.xlsx) or LibreOffice (.ods) workbook", b"\xd0\xcf\x11\xe0": "an Excel 97-2003 (.xls) workbook"}


def _workbook_error(start: bytes) -> ApiError | None:
    """The error for a file that starts as a spreadsheet workbook does (:data:`WORKBOOKS`), None for any other."""
    kind = next((words for magic, words in WORKBOOKS.items() if start.startswith(magic)), None)
    if kind is None:
        return None
    return _header_error(f"The file is {kind}, not a CSV file: save it as CSV UTF-8 (in Excel: File > Save As > CSV UTF-8) and send that file.",
                         [FieldError(field="body", message="a workbook, not CSV text")])


def _not_text_error(encoding: str) -> ApiError:
    """The error for a header line with bytes that are no text in the ``encoding`` it was read in (see :class:`Decoder`)."""
    if encoding == "cp1252":
        return _header_error("The file is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8.", [FieldError(field="body", message="not UTF-8 or Windows-1252 text")])
    name = ENCODING_NAMES[encoding]
    return _header_error(f"The file is not {name} text: save it as CSV (UTF-8).", [FieldError(field="body", message=f"not {name} text")])


def parse_header(line: bytes) -> Header:
    """Detect the delimiter and check the columns (``line`` in UTF-8); raises a 422 :class:`ApiError` naming bad or
    missing columns."""
    if error := _workbook_error(line):
        raise error
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise _not_text_error("utf-8") from None
    if not text.strip():
        raise _header_error("The CSV file is empty: it needs a header line and data rows.", [FieldError(field="body", message="empty file")])
    delimiter = header_delimiter(text)
    try:
        names = [n.strip() for n in next(csv.reader([text], delimiter=delimiter))]
    except csv.Error as exc:
        raise _header_error(f"The CSV header cannot be read ({exc}).", [FieldError(field="body", message="unreadable header")]) from None
    fields = [ALIASES.get(n, n) for n in names]
    unknown = [(i, n) for i, (n, f) in enumerate(zip(names, fields, strict=True), start=1) if f not in READ]
    twice = sorted({f for f in fields if f in READ and fields.count(f) > 1})
    alias_too = {f for f in twice if {f, ALIAS_OF.get(f)} <= set(names)}
    missing = [f for f in FEATURES if f not in fields]
    # Other columns (a customer number, a note) are carried to the answer; one that is a slip for a field, or a column
    # the answer adds, is refused. Under a header that lacks a category, the others are named, as one may be it.
    # A spreadsheet's unnamed columns (its empty trailing cells, or the index pandas writes first) are carried too.
    others = [n for i, n in unknown if n and not _slip(n) and not _answer_column(n)]
    unknown = [(i, n) for i, n in unknown if n and (_slip(n) or _answer_column(n))]
    if not twice and not missing:
        if unknown and all(_answer_column(n) for _, n in unknown):
            named = ", ".join(n for _, n in unknown)
            raise _header_error(
                f"The CSV file has the answer's own column{'s' if len(unknown) > 1 else ''} {named}: it looks like the "
                "answer to an earlier upload. Send the customers' file, or rename or delete those columns.",
                [FieldError(field=n, message=ANSWER_COLUMN) for _, n in unknown],
            )
    errors = [FieldError(field=n, message=ANSWER_COLUMN if _answer_column(n) else unknown_name(n, "column")) for _, n in unknown]
    errors += [
        FieldError(field=f, message=f"give {f} or {ALIAS_OF[f]}, not both" if f in alias_too else "column given twice")
        for f in twice
    ]
    errors += [FieldError(field=f, message="missing column (leave cells empty to impute them)") for f in missing]
    if errors:
        if missing:
            errors += [FieldError(field=n, message=f"not one of the API's columns: copied to the answer unchanged, unless it is {_or(missing)} under another name (then rename it)")
                       for n in others]
        raise _header_error(header_summary(unknown, twice, missing, alias_too, others), errors)
    return Header(delimiter, names, fields)


#: The columns a CSV answer adds after the input's (``probability_0`` … for a Gaussian mixture): a carried column of
#: the same name would make two (a file sent back that is an earlier answer).
ANSWER_COLUMNS = ("row", "segment", "persona", "confidence", "atypical", "imputed", "error")


ANSWER_COLUMN = "a column the answer adds (segment, persona, …): rename or delete it"


def _slip(name: str) -> bool:
    """Whether column ``name`` is another case or a near spelling of a field ("Chanel", "MILK"): meant as that field
    (or the same column twice), so it is refused, not carried."""
    return meant_name(name) is not None


def _answer_column(name: str) -> bool:
    """Whether ``name`` (any case) is one of the columns a CSV answer adds."""
    folded = name.strip().casefold()
    return folded in ANSWER_COLUMNS or folded.startswith("probability_")


def _named(one: str, many: str, names: list[str]) -> str:
    return f"{one if len(names) == 1 else many} {', '.join(names)}"


def _or(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def header_summary(unknown: list[tuple[int, str]], twice: list[str], missing: list[str], alias_too: set[str], others: Sequence[str] = ()) -> str:
    """The message of a wrong header: its problems by kind ("unknown column Chanel; missing column Grocery"; ``unknown``
    by position and name, ``twice`` the fields given twice, those in ``alias_too`` once by their other name, ``others``
    the columns that would be carried, named when a category is missing), then what a header needs. The errors name
    each column and what to do about it."""
    named = [n for _, n in unknown]
    problems = [
        _named("unknown column", "unknown columns", named) if named else "",
        f"{', '.join(f'{f} (once as {ALIAS_OF[f]})' if f in alias_too else f for f in twice)} given twice" if twice else "",
        _named("missing column", "missing columns", missing) + (f" (is {_or(others)} {'that column' if len(missing) == 1 else 'one of them'}, under another name?)" if others else "") if missing else "",
    ]
    return (f"The CSV header is wrong: {'; '.join(p for p in problems if p)}. It needs the columns {', '.join(FEATURES)} "
            f"and may have {', '.join(LABELS)} (other columns, a customer number say, are copied to the answer unchanged).")


def _blank(line: bytes) -> bool:
    """A line with nothing but a byte-order mark and white space, that is not the end of the file."""
    return line != b"" and not line.removeprefix(b"\xef\xbb\xbf").strip()


#: Longest header line accepted (a real one is under 100 bytes): a file without line ends is not read whole.
MAX_HEADER_LINE = 1 << 16


def _lines(source: IO[bytes], decoder: Decoder) -> Iterator[bytes]:
    """Lines of ``source``'s text as UTF-8 (through ``decoder``) as pyarrow's reader splits them (at ``\n``, ``\r\n``
    or a lone ``\r``, as spreadsheets on old Macs write), line ends kept; a 422 :class:`ApiError` for a line longer
    than :data:`MAX_HEADER_LINE`."""
    pending = b""
    while data := source.read(1 << 14):
        lines = (pending + decoder.decode(data)).splitlines(keepends=True)
        # the last piece may be unfinished (no line end yet, or a \r whose \n is in the next block)
        pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        yield from lines
        if len(pending) > MAX_HEADER_LINE:
            raise _header_error(
                f"The CSV file's first line is longer than {MAX_HEADER_LINE:,} bytes: it is not a customers' CSV.",
                [FieldError(field="body", message="header line too long")],
            )
    # the end: what the decoder still held (the first bytes of a short file, whose encoding it could not tell before)
    yield from (pending + decoder.decode(b"", final=True)).splitlines(keepends=True)


#: Lines looked at below a wrong first line for the header, when a title stands above it.
HEADER_SEARCH_LINES = 10


def _header_further_down(lines: Iterator[bytes], above: int) -> ApiError | None:
    """The error for a file whose header is not its first line (a title above it, as a spreadsheet exports one):
    when one of the next :data:`HEADER_SEARCH_LINES` lines is a good header, says which, and what to delete."""
    try:
        for n, line in enumerate(itertools.islice(lines, HEADER_SEARCH_LINES), start=above + 1):
            with contextlib.suppress(ApiError):
                if not _blank(line) and parse_header(line):
                    above_it = "the line above it" if n == 2 else f"the {n - 1} lines above it"
                    return _header_error(
                        f"The CSV header is on line {n}, not the first line: delete {above_it} (a title, say) and send the file again.",
                        [FieldError(field="body", message=f"header on line {n}, under other text")],
                    )
    except ApiError:  # a line too long to be a header: there is none further down
        pass
    return None


def read_header(source: IO[bytes]) -> Header:
    """Read and check the header line (after any blank lines), then rewind ``source``."""
    if error := _workbook_error(source.read(4)):  # before decoding, which would read its bytes as Windows-1252
        raise error
    source.seek(0)
    line, start, number = b"", 0, 0
    decoder = Decoder()
    lines = _lines(source, decoder)
    for line in lines:
        start += len(line)
        number += 1
        if not _blank(line):
            break
    else:
        line = b""
    try:
        if "\ufffd".encode() in line and decoder.damaged:
            raise _not_text_error(decoder.encoding or "utf-8")
        header = parse_header(line)
    except ApiError as exc:
        raise _header_further_down(lines, number) or exc from None
    finally:
        source.seek(0)
    return replace(header, rows_follow=line.endswith((b"\n", b"\r")), data_start=start)


def _row_numbers(start: int, count: int, skipped: set[int]) -> NDArray[np.int64]:
    """The next ``count`` row numbers from ``start``, leaving out rows that were reported malformed."""
    skip = np.fromiter((r for r in skipped if r >= start), dtype=np.int64)
    extra = 0
    while True:
        candidates = np.arange(start, start + count + extra, dtype=np.int64)
        kept = candidates[~np.isin(candidates, skip)]
        if len(kept) >= count:
            return kept[:count]
        extra += count - len(kept)


#: How people and the batch answer's ``encoding`` name each codec a customers' file can be read in (IANA charset names).
ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}
#: The byte-order marks that say a file is UTF-16, and which byte order.
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
#: How many first bytes :func:`unmarked_utf16` looks at (16 characters of UTF-16).
UTF16_SNIFF = 32


def unmarked_utf16(head: bytes) -> str | None:
    """The byte order of a UTF-16 file without a byte-order mark, from its first bytes (``head``), or ``None``.

    A CSV file's first characters (its header's column names, the line breaks before it) are Latin letters, digits
    and punctuation, which UTF-16 writes as a zero byte beside a non-zero one: ``F\\0r\\0`` little-endian (what
    Python's ``utf-16-le`` and .NET's ``Encoding.Unicode`` write without a mark), ``\\0F\\0r`` big-endian. No UTF-8
    or Windows-1252 text has a zero byte at every other place, so among the first :data:`UTF16_SNIFF` bytes (at
    least 4) every byte at odd places is zero and none at even ones (little-endian), or the other way round."""
    n = min(len(head), UTF16_SNIFF) // 2 * 2
    if n < 4:
        return None
    even, odd = head[0:n:2], head[1:n:2]
    if not odd.strip(b"\0") and b"\0" not in even:
        return "utf-16-le"
    if not even.strip(b"\0") and b"\0" not in odd:
        return "utf-16-be"
    return None


def not_text(encoding: str) -> str:
    """A row's error for a cell with bytes that are not text in ``encoding`` (a codec name of :data:`ENCODING_NAMES`)."""
    return f"not valid {ENCODING_NAMES[encoding]} text (save the file as CSV UTF-8)"


NOT_UTF8 = not_text("utf-8")


class Decoder:
    """A customers' file's bytes, piece by piece, as UTF-8 (what pyarrow reads), its encoding found on the way.

    - A file that starts with a UTF-16 byte-order mark (``FF FE``, ``FE FF``: Excel's "Unicode Text") is UTF-16 in
      that byte order; the mark is dropped. One without a mark whose first characters are UTF-16 (a zero byte at
      every other place: :func:`unmarked_utf16`) is UTF-16 in the byte order they show.
    - Any other file is UTF-8 (a UTF-8 mark is kept, for the header check) until a byte sequence that is not UTF-8.
      If every byte before it was ASCII, the whole file is Windows-1252 (what Excel on Windows saves as "CSV"):
      ASCII reads the same in both, so the rows already passed on are unchanged, wherever in the file that byte is.
      If valid UTF-8 text that is not ASCII came before, the file mixes encodings: it stays UTF-8, and each sequence
      that is not UTF-8 becomes U+FFFD, its row's error (:data:`NOT_UTF8`).
    - Bytes that are no character (the five Windows-1252 leaves undefined, 0x81 0x8D 0x8F 0x90 0x9D; a UTF-16 half
      pair or odd last byte) become U+FFFD too: their rows are refused, naming the column (:func:`not_text`).

    ``damaged`` is True once a U+FFFD was passed on (also one written in the file: text damaged before)."""

    def __init__(self) -> None:
        #: The codec, once the first bytes told (``None`` before): a key of :data:`ENCODING_NAMES`.
        self.encoding: str | None = None
        self.damaged = False
        self._held = b""  # bytes not passed on yet: a possible byte-order mark, or a character cut short
        self._non_ascii = False  # valid UTF-8 text that is not ASCII was passed on
        self._mixed = False
        self._utf16: codecs.IncrementalDecoder | None = None

    def decode(self, data: bytes, final: bool = False) -> bytes:
        """``data``, the next bytes of the file, as UTF-8; ``final`` at the end of the file (nothing is held then)."""
        piece = self._held + data
        self._held = b""
        if self.encoding is None:
            if not final and len(piece) < UTF16_SNIFF:  # too short to tell
                self._held = piece
                return b""
            marked = UTF16_BOMS.get(piece[:2])
            self.encoding = marked or unmarked_utf16(piece) or "utf-8"
            if self.encoding != "utf-8":
                self._utf16 = codecs.getincrementaldecoder(self.encoding)("replace")
                piece = piece[2:] if marked else piece
        if self._utf16 is not None:
            return self._text(self._utf16.decode(piece, final))
        if piece.isascii():
            return piece
        if self.encoding == "cp1252":
            return self._text(piece.decode("cp1252", "replace"))
        if not self._mixed:
            try:
                text, used = codecs.utf_8_decode(piece, "strict", final)
            except UnicodeDecodeError as exc:
                if not self._non_ascii and piece[: exc.start].isascii():
                    self.encoding = "cp1252"
                    return self._text(piece.decode("cp1252", "replace"))
                self._mixed = True
            else:
                self._held = piece[used:]
                self._non_ascii = self._non_ascii or not text.isascii()
                self._seen(text)
                return piece[:used]  # valid UTF-8 as it came: no need to encode it again
        text, used = codecs.utf_8_decode(piece, "replace", final)
        self._held = piece[used:]
        return self._text(text)

    def _seen(self, text: str) -> None:
        """Note a U+FFFD in ``text``, about to be passed on (:attr:`damaged`)."""
        self.damaged = self.damaged or "\ufffd" in text

    def _text(self, text: str) -> bytes:
        self._seen(text)
        return text.encode("utf-8")


#: Longest wait, in seconds, in :meth:`Transcoded.stop` for pyarrow to let go of a source it stopped reading
#: (measured: within a millisecond).
STOP_WAIT = 1.0


class Transcoded(io.RawIOBase):
    """``raw`` read as UTF-8 through a :class:`Decoder` (UTF-16 and Windows-1252 transcoded, bytes that are no text
    replaced by U+FFFD), so pyarrow never meets a byte that is not UTF-8; the first ``skip`` bytes of that text
    are left out (the blank lines and header before the rows, :attr:`Header.data_start`).

    pyarrow cannot report a malformed row whose text is not UTF-8 (it fails the whole file before calling the
    invalid-row handler); with the bytes repaired here, every row reaches the parser and the cell shows U+FFFD.
    Transcoding goes a piece at a time, so memory stays bounded whatever the file's size.

    pyarrow's streaming reader reads ahead on a thread of its own: it calls :meth:`read` there and keeps the blocks
    (Python objects) in a queue. When reading ends early (a file it cannot parse, a consumer that stops), that thread
    can still be reading, or be the one to free the queued blocks, after the interpreter has begun to exit: it is
    then killed as it takes the GIL and the process aborts ("terminate called without an active exception"; seen
    in 1 run in 6 of ``python -m api.score`` on a file with an unclosed quote in its first row). :meth:`stop`
    ends the source and waits until pyarrow has let go of every block, so that cannot happen.
    """

    def __init__(self, raw: IO[bytes], skip: int = 0) -> None:
        self._raw = raw
        self.decoder = Decoder()
        self._skip = skip
        self._pending = memoryview(b"")
        self._ended = False  # the end of ``raw`` was read
        self._state = threading.Condition()
        self._stopped = False
        #: Reads under way (pyarrow's read-ahead thread makes them).
        self._reading = 0
        #: Blocks pyarrow has not released yet (its read-ahead queue, the block being parsed).
        self._held = 0
        _OPEN.add(self)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes | bytearray:
        """Up to ``size`` bytes (at least one unless at the end), as a :class:`_Block` whose release is counted;
        all that is left when ``size`` is negative or None."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 16), b""))
        if size == 0:
            return b""
        with self._state:
            if self._stopped:
                return b""
            self._reading += 1
        block: bytes | _Block = b""
        try:
            block = self._next(size)
        finally:
            with self._state:
                self._reading -= 1
                if block:
                    self._held += 1
                    weakref.finalize(block, self._released)
                self._state.notify_all()
        return block

    def _released(self) -> None:
        with self._state:
            self._held -= 1
            self._state.notify_all()

    def _next(self, size: int) -> bytes | _Block:
        """The next ``size`` bytes of text, fewer only at the end of the file. A block is never cut short: decoding
        changes lengths (a character held back for the next read, Windows-1252's accents twice as long in UTF-8), and
        pyarrow takes a short block for one that ends inside a row ("straddles two block boundaries": a block of one
        byte, left over when a held byte made the text one byte longer than a block, refused a valid UTF-8 file)."""
        parts: list[memoryview] = [self._pending] if self._pending else []
        have = len(self._pending)
        while have < size and not self._ended:
            data = self._raw.read(max(size - have, 1 << 16))
            text = memoryview(self.decoder.decode(data, final=not data))  # at the end, a sequence cut short becomes U+FFFD
            if self._skip:
                skipped = min(self._skip, len(text))
                text, self._skip = text[skipped:], self._skip - skipped
            parts.append(text)
            have += len(text)
            self._ended = not data
        pending = parts[0] if len(parts) == 1 else memoryview(b"".join(parts))  # one part, as a whole ASCII block is: no copy
        if not pending:
            return b""
        block = _Block(pending[:size])
        self._pending = pending[size:]
        return block

    def stop(self, wait: float = STOP_WAIT) -> bool:
        """End the source: every further read gets end of file at once. Then wait (at most ``wait`` seconds) until
        no read is under way and pyarrow holds no block; returns whether that came to pass.

        pyarrow frees the blocks of its read-ahead queue on its own thread, after the reader is gone, whether or not
        it was given the end of the file: only a count of zero says it is done (the read-ahead thread, handed the
        end of the file by a stopped source, may still hold 28 blocks). When the whole file was read, the count is
        zero at once (measured)."""
        with self._state:
            self._stopped = True
            return self._state.wait_for(lambda: self._reading == 0 and self._held == 0, wait)


class _Block(bytearray):
    """A block handed to pyarrow: a bytearray (bytes cannot be weakly referenced) whose release can be waited for."""

    __slots__ = ("__weakref__",)


#: Sources not yet garbage: those still open when the interpreter exits are stopped first (see :class:`Transcoded`).
_OPEN: weakref.WeakSet[Transcoded] = weakref.WeakSet()


@atexit.register
def _stop_open_sources() -> None:
    """Stop the sources of readers left running (e.g. ``api.score`` stopped by a signal) before the interpreter exits."""
    for source in list(_OPEN):
        source.stop()


def _not_text(table: pa.Table, names: list[str]) -> dict[int, list[str]]:
    """Positions of the rows with a cell that was no text (U+FFFD after repair), and those cells' columns as written."""
    bad: dict[int, list[str]] = {}
    for name, column in zip(names, table.columns, strict=True):
        hits = pc.match_substring(column, "\ufffd")
        if pc.any(hits).as_py():
            for i in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
                bad.setdefault(int(i), []).append(name)
    return bad


NO_ROWS = "The CSV file has a header but no data rows."
#: pyarrow's words when a quoted cell runs past the block it is parsed in (a quote never closed, a huge cell).
UNCLOSED_QUOTE = ("out of sync with chunker", "straddle")
#: pyarrow's words when nothing but blank lines follows the header: no rows, which the callers report.
NOTHING_AFTER_HEADER = "Empty CSV file"


def joined_lines(text: str) -> str:
    """The note for a row whose text holds line breaks: a quote ``"`` that is never closed made the lines after it
    part of this row (they are not rows of their own). Empty when ``text`` is one line."""
    n = len(text.splitlines()) - 1 if ("\n" in text or "\r" in text) else 0
    if n <= 0:
        return ""
    return f" (a quote \" that is not closed joins the {n:,} line{'s' if n > 1 else ''} after it into this row)"


def _line_breaks(table: pa.Table, names: list[str]) -> dict[int, dict[str, str]]:
    """Cells holding a line break (only a quote left open puts one in a cell), by row index and column as written:
    the :func:`joined_lines` note for each."""
    found: dict[int, dict[str, str]] = {}
    for name, column in zip(names, table.columns, strict=True):
        hit = pc.fill_null(pc.match_substring_regex(column, "[\r\n]"), False)
        for i in np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)):
            found.setdefault(int(i), {})[name] = joined_lines(column[int(i)].as_py())
    return found


REPEATED_HEADER = "repeats the header line, so it is not a customer (were files joined together?)"


def _repeated_headers(table: pa.Table, names: list[str]) -> NDArray[np.int64]:
    """Indexes of the rows whose cells are the header's column names again (white space around them aside)."""
    same = pa.scalar(True)
    for name, column in zip(names, table.columns, strict=True):
        if not name.strip():  # an unnamed column's cell reads as null, not as its empty name
            continue
        same = pc.and_(same, pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), name.strip()), False))
    return np.flatnonzero(np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool))


EMPTY_ROW = "is empty (no cell holds a value), so it is not a customer: delete it from the file"


def _empty_rows(table: pa.Table) -> NDArray[np.int64]:
    """Indexes of the rows with no value in any cell, carried columns included (each empty, white space, or a mark of
    a value not known in a column read): a spreadsheet saves a row it once formatted so (``;;;;;;``)."""
    empty = pa.scalar(True)
    for column in table.columns:
        empty = pc.and_(empty, pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True))
    return np.flatnonzero(np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool))


TOTALS_ROW = "is the sum of the rows above it (a totals row?), not a customer: delete it from the file"


@dataclass(frozen=True)
class Above:
    """What :func:`totals_rows` carries from one block of a file to the next: each category's sum over the rows
    read so far (empty and bad cells as 0) and how many of those rows had spending."""

    sums: NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(FEATURES)))
    spent: int = 0


def totals_rows(X: NDArray[np.float64], above: Above | None = None) -> tuple[NDArray[np.int64], Above]:
    """Indexes of the rows of spending ``X`` (NaN = empty) that are the sums of the rows above them in the file (the
    rows of the blocks before, summed in ``above``, and those of ``X`` before them), as a spreadsheet's SUM writes them
    under its rows (empty and bad cells count as 0; to a cent, for sums saved as shown): a row with spending in two
    categories or more under at least two rows with spending (a customer repeated under a row without any, such as a
    second header line, is no total), as a real customer never is. Also returns what to carry to the next block.

    Tolerance: a category matches when within 0.005 (a sum saved to the cent) plus 1e-9 of the sum above. The sums
    are float64, added in file order (a cumulative sum within the block, onto the blocks' sums before it); for n
    amounts of at least 0 their rounding error is at most about n·2⁻⁵³ of the sum (recursive summation), 1.1e-10
    of it for 1,000,000 rows, so a true totals row is found in files of up to about 9,000,000 rows, however the file
    is cut into blocks. A customer is no more than 10,000,000 a category, and the sums of the rows above soon far
    more: none has been taken for a totals row (the data set's 440 are tested)."""
    above = above or Above()
    # A row's total against the total of the rows above it first (one column, not six: a file of many rows costs
    # little), then each category of the few rows left.
    filled = X
    total = X.sum(axis=1)
    if not np.isfinite(total).all():  # rows with an empty or bad cell: counted as 0
        filled = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
        total = filled.sum(axis=1)
    spent = filled.any(axis=1)
    after = Above(above.sums + filled.sum(axis=0), above.spent + int(np.count_nonzero(spent)))
    total_above = above.sums.sum() + np.cumsum(total) - total
    candidates = np.flatnonzero(np.abs(total - total_above) <= 6 * 0.005 + 1e-9 * np.abs(total))
    if not len(candidates):
        return candidates, after
    sums_above = above.sums + np.cumsum(filled, axis=0)[candidates] - filled[candidates]
    spent_above = above.spent + (np.cumsum(spent) - spent)[candidates]
    row = filled[candidates]
    totals = np.isclose(row, sums_above, rtol=1e-9, atol=0.005).all(axis=1) & ((row > 0).sum(axis=1) >= 2) & (spent_above >= 2)
    return candidates[totals], after


class Running:
    """Hands :func:`totals_rows`' sums (:class:`Above`) from each block of a file to the next, in file order
    (:attr:`Chunk.index`), also when blocks are checked on several threads at once (``api.score``): a block waits
    until the one before it has added its rows. A block that fails says so, and the blocks after it fail too,
    rather than wait for ever."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._next = 0
        self._above = Above()
        self._failed = False

    def take(self, index: int) -> Above:
        """The sums of the rows of blocks 0 … ``index`` - 1, once they are all added."""
        with self._ready:
            self._ready.wait_for(lambda: self._next == index or self._failed)
            if self._failed:
                raise RuntimeError(f"block {index}: an earlier block of the file failed")
            return self._above

    def give(self, index: int, above: Above) -> None:
        """Block ``index`` is added: ``above`` holds its rows too."""
        with self._ready:
            self._above, self._next = above, index + 1
            self._ready.notify_all()

    def fail(self) -> None:
        """A block failed before it could add its rows: the blocks waiting for it fail too."""
        with self._ready:
            self._failed = True
            self._ready.notify_all()


_MARKS = pa.array([m for m in MISSING_CELLS if m], pa.string())


def _marks_as_null(table: pa.Table, carried: list[int]) -> pa.Table:
    """``table`` with each cell that marks a value not known (``NA``: :data:`~stages.dataset.MISSING_CELLS`) null, as
    pyarrow reads them, in every column but the ``carried`` ones."""
    columns = [column if i in carried else pc.if_else(pc.is_in(column, value_set=_MARKS), pa.scalar(None, pa.string()), column)
               for i, column in enumerate(table.columns)]
    return pa.Table.from_arrays(columns, names=table.column_names)


def iter_chunks(source: IO[bytes], header: Header, block_size: int = BLOCK_SIZE) -> Iterator[Chunk]:
    """Stream the data rows in blocks; malformed rows (wrong number of fields) come back with their row numbers."""
    if not header.rows_follow:
        return  # the header is the file's last line: no rows
    pending: dict[int, str] = {}
    next_row = 1

    def on_invalid(row: Any) -> str:
        # ``number`` counts the non-blank lines from the first data line (``data_start``), so it is the row number.
        # a quote that is never closed makes the rest of the file one cell of this row: say so, or rows just vanish
        quote = joined_lines(row.text)
        pending[int(row.number)] = f"has {row.actual_columns} fields, the header has {row.expected_columns}{quote}"
        return "skip"

    source.seek(0)
    repaired = Transcoded(source, skip=header.data_start)
    reader = None
    try:
        reader = pacsv.open_csv(
            repaired,
            read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(header.names))], block_size=block_size, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=header.delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                # a value not known (an empty cell, NA) is read as null in C: an R export of many NA is read as fast as
                # one of empty cells; the same marks with spaces around them are found by check_cells
                column_types={f"c{i}": pa.string() for i in range(len(header.names))}, strings_can_be_null=True,
                # a carried column's NA is kept as written (a customer number, a region code): then only empty cells
                # are null as read, and the NA of the other columns is made null after (_marks_as_null)
                null_values=[""] if header.carried else list(MISSING_CELLS),
            ),
        )
        index = 0
        for batch in reader:
            rows = _row_numbers(next_row, batch.num_rows, set(pending))
            end = int(rows[-1]) + 1 if len(rows) else next_row
            malformed = sorted((r, m) for r, m in pending.items() if r < end)
            for r, _ in malformed:
                del pending[r]
            next_row = end
            table = pa.Table.from_batches([batch])
            if header.carried:
                table = _marks_as_null(table, header.carried)
            # Everything read so far, this block included, was free of U+FFFD unless ``damaged``.
            encoding = repaired.decoder.encoding or "utf-8"
            yield Chunk(table, rows, malformed, _not_text(table, header.names) if repaired.decoder.damaged else {}, encoding, index)
            index += 1
        if pending:
            empty = pa.table({f"c{i}": pa.array([], pa.string()) for i in range(len(header.names))})
            yield Chunk(empty, np.zeros(0, np.int64), sorted(pending.items()), encoding=repaired.decoder.encoding or "utf-8", index=index)
    except pa.ArrowInvalid as exc:
        if NOTHING_AFTER_HEADER in str(exc) and next_row == 1:
            return
        if any(words in str(exc) for words in UNCLOSED_QUOTE):
            where = f"after row {next_row - 1:,}" if next_row > 1 else "in the first rows"
            message = (f"a quote \" that is not closed, or a row longer than {block_size:,} bytes, {where}: the rows "
                       "after it cannot be told apart. Close the quote (or remove it) and send the file again.")
            raise ApiError(422, f"The CSV file cannot be read: {message}", [FieldError(field="body", message="quote not closed, or a row too long")]) from None
        raise ApiError(422, f"The CSV file cannot be read: {exc}", [FieldError(field="body", message=str(exc))]) from None
    finally:
        reader = None  # releases the blocks it read ahead
        repaired.stop()  # at once when the whole file was read; else ends pyarrow's read-ahead


def write_options(include_header: bool = True) -> pacsv.WriteOptions:
    """CSV written back: header (unless told), quotes only where needed."""
    return pacsv.WriteOptions(include_header=include_header, quoting_style="needed")


def check_chunk(chunk: Chunk, header: Header, running: Running | None = None) -> tuple[Checked, pa.Table]:
    """Validate a chunk; malformed rows become error rows in their place. Returns the rows and their cells as written.
    ``running`` carries the sums of the rows above from block to block (one for the whole file), so a totals row is
    found under any number of rows; without it, only the rows of this chunk are summed."""
    try:
        checked = check_cells(chunk.cells(header), chunk.rows)
        totals, after = totals_rows(checked.X, None if running is None else running.take(chunk.index))
        if running is not None:
            running.give(chunk.index, after)
    except BaseException:
        if running is not None:
            running.fail()
        raise
    if header.written:
        checked.errors = {i: [header.rename(e) for e in errs] for i, errs in checked.errors.items()}
    checked.written = header.written
    for i, names in chunk.not_text.items():
        checked.errors[i] = [FieldError(field=name, row=int(chunk.rows[i]), message=not_text(chunk.encoding)) for name in names]
    # A quote left open in a row's last field keeps the count of fields right: its error says the lines were joined.
    # (A cell with a line break is never valid, so only a block with rejected rows is searched for one.)
    for i, notes in (_line_breaks(chunk.table, header.names) if checked.errors else {}).items():
        if i in checked.errors:
            checked.errors[i] = [replace(e, message=e.message + notes[e.field]) if e.field in notes else e for e in checked.errors[i]]
    # A header line again (files joined together): one error that says so, not one "not a number" per column.
    for i in _repeated_headers(chunk.table, header.names) if checked.errors else ():
        if i in checked.errors:
            checked.errors[i] = [FieldError(field="row", row=int(checked.rows[i]), message=REPEATED_HEADER)]
    # A row with nothing in it (a spreadsheet's formatted but empty row): one error that says so, not "no spending
    # given" for the six categories.
    for i in _empty_rows(chunk.table) if checked.errors else ():
        if i in checked.errors:
            checked.errors[i] = [FieldError(field="row", row=int(checked.rows[i]), message=EMPTY_ROW)]
    # A totals row under the customers: one error that says so, where it would be scored as one more (atypical) customer.
    for i in totals:
        checked.errors[int(i)] = [FieldError(field="row", row=int(checked.rows[i]), message=TOTALS_ROW)]
    echo = chunk.table.rename_columns(header.names)
    if not chunk.malformed:
        return checked, echo
    n, m = len(chunk.rows), len(chunk.malformed)
    rows = np.concatenate([checked.rows, np.array([r for r, _ in chunk.malformed], dtype=np.int64)])
    order = np.argsort(rows, kind="stable")
    position = np.empty(n + m, dtype=np.int64)
    position[order] = np.arange(n + m)
    errors = {int(position[i]): e for i, e in checked.errors.items()}
    for k, (row, message) in enumerate(chunk.malformed):
        errors[int(position[n + k])] = [FieldError(field="row", row=row, message=message)]
    labels = {
        name: np.concatenate([np.asarray(values, dtype=object), np.full(m, None, dtype=object)])[order]
        for name, values in (("channel", as_list(checked.channel)), ("region", as_list(checked.region)))
    }
    merged = Checked(
        rows=rows[order],
        X=np.vstack([checked.X, np.full((m, len(FEATURES)), np.nan)])[order],
        channel=labels["channel"],
        region=labels["region"],
        errors=errors,
        written=header.written,
    )
    blanks = pa.Table.from_arrays([pa.nulls(m, pa.string()) for _ in header.names], names=header.names)
    return merged, pa.concat_tables([echo, blanks]).take(pa.array(order))


#: A cell a spreadsheet would run as a formula (OWASP's CSV injection list): = @ tab CR first, or + - first unless
#: the whole cell is a plain number ("-5" stays a number; "-2+3+cmd|…" and "+1+1" are formulas).
FORMULA = r"^[=@\t\r]"
SIGNED = r"^[+-]"
#: The first characters of :data:`FORMULA` and :data:`SIGNED` together.
RISKY_FIRST = r"^[=@\t\r+-]"
PLAIN_NUMBER = f"^{NUMBER.pattern}$"


def defused(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """An echoed text column with a ' before each cell a spreadsheet would run as a formula (``=HYPERLINK(…)``)."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return column
    # One pass first: most columns (a customer number, names) have no cell that starts as a formula or a sign.
    if not pc.any(pc.match_substring_regex(column, RISKY_FIRST)).as_py():
        return column
    signed_formula = pc.and_(pc.match_substring_regex(column, SIGNED), pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER)))
    risky = pc.fill_null(pc.or_(pc.match_substring_regex(column, FORMULA), signed_formula), False)
    if not pc.any(risky).as_py():
        return column
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)


def answer_table(echo: pa.Table, scored: Scored, names: list[str], carried: Collection[int] = ()) -> pa.Table:
    """CSV answer rows: row number, the input columns (formula-like cells defused), then segment, persona,
    confidence, atypical, imputed and error (defused too: an unknown field's name, first in its message, is input).
    ``carried`` are the positions in ``echo`` of columns not read to segment (:attr:`Header.carried`)."""
    # A cell a spreadsheet would run is never a valid amount, code or name, so only a block with rejected rows can
    # hold one. (A valid cell with a tab or CR first, trimmed when read, is a plain number or name: harmless as it is.)
    # A carried column is not checked, so any of its cells can be one: it is always defused.
    check = defused if scored.checked.errors else (lambda column: column)
    inputs = [defused(column) if i in carried else check(column) for i, column in enumerate(echo.columns)]
    results = result_columns(scored, names)
    results["error"] = check(results["error"])
    # from lists, not a dict: carried columns may share a name (a spreadsheet's unnamed columns, say)
    return pa.Table.from_arrays([pa.array(scored.checked.rows), *inputs, *results.values()], names=["row", *echo.column_names, *results])


def write_table(table: pa.Table, sink: Any, include_header: bool = True) -> None:
    """Write ``table`` as CSV (with its header line unless told otherwise)."""
    pacsv.write_csv(table, sink, write_options(include_header))
