"""Reading customers' CSV files: delimiter, byte-order mark, header check, row numbers of malformed rows and of bytes not UTF-8."""

from __future__ import annotations

import csv
import dataclasses
import io
import threading
import time
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pytest
from flask.testing import FlaskClient

from api import create_app
from api.csvio import BLOCK_SIZE, NOT_UTF8, TOTALS_ROW, Running, Transcoded, check_chunk, iter_chunks, parse_header, read_header, totals_rows
from api.errors import ApiError
from api.fields import FEATURES, FieldError
from stages import config
from tests.api.conftest import GOOD, HEADER, MARKED, MARKED_RESULTS


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_header_delimiter_and_alias(sep: str) -> None:
    line = ("\ufeff" + HEADER.replace("Delicassen", " Delicatessen").replace(",", sep) + "\r\n").encode()
    h = parse_header(line)
    assert h.delimiter == sep and h.fields[5] == "Delicassen" and h.names[5] == "Delicatessen"


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        (b"Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,Chanel", ["Chanel"]),
        (b"Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,MILK", ["MILK"]),
        (b"row,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,segment", ["row", "segment"]),
        (b"Customer,Fresh,Milk,Grocery,Frozen,Detergents_Paper", ["Delicassen", "Customer"]),
        (b"Fresh,Milk,Grocery,Frozen,Detergents_Paper", ["Delicassen"]),
        (b"Fresh,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen", ["Fresh"]),
        (b"", ["body"]),
    ],
)
def test_wrong_header_names_the_columns(line: bytes, fields: list[str]) -> None:
    with pytest.raises(ApiError) as info:
        parse_header(line)
    assert info.value.status == 422 and [e.field for e in info.value.errors] == fields


NEEDS = ("It needs the columns Fresh, Milk, Grocery, Frozen, Detergents_Paper, Delicassen and may have Channel, Region "
         "(other columns, a customer number say, are copied to the answer unchanged).")


@pytest.mark.parametrize(
    ("line", "summary"),
    [
        (b"a,b,Fresh,Milk", "missing columns Grocery, Frozen, Detergents_Paper, Delicassen (is a or b one of them, under another name?)"),
        (b"id,Fresh,Milk,Grocery,Frozen,Detergents_Paper,,", "missing column Delicassen (is id that column, under another name?)"),
        (HEADER.encode() + b",Chanel", "unknown column Chanel"),
        (b"Fresh,Fresh,Milk,Grocery,Frozen,Detergents_Paper", "Fresh given twice; missing column Delicassen"),
        (HEADER.encode() + b",Delicatessen,,", "Delicassen (once as Delicatessen) given twice"),
        (b"Frozn,Fresh,Milk,Grocery,Detergents_Paper,Delicassen", "unknown column Frozn; missing column Frozen"),
    ],
)
def test_a_wrong_headers_message_says_what_is_wrong_by_kind(line: bytes, summary: str) -> None:
    """The message listed every problem column in one parenthesis, so a missing Grocery read as if it were wrong."""
    with pytest.raises(ApiError) as info:
        parse_header(line)
    assert info.value.message == f"The CSV header is wrong: {summary}. {NEEDS}"


def test_malformed_rows_keep_their_place_across_chunks() -> None:
    lines = [HEADER] + [f"{i},1,1,1,1,1,1,1" for i in range(1, 3001)]
    for bad in (2, 1500, 3000):
        lines[bad] = "1,2"
    lines.insert(10, "")  # a blank line is not a data row
    data = ("\n".join(lines) + "\n").encode()
    source = io.BytesIO(data)
    header = read_header(source)
    rows, errors = [], []
    for chunk in iter_chunks(source, header, block_size=4096):
        checked, echo = check_chunk(chunk, header)
        assert echo.num_rows == len(checked.rows)
        rows += checked.rows.tolist()
        errors += [int(checked.rows[i]) for i in checked.errors]
    assert rows == list(range(1, 3001))
    assert sorted(errors) == [2, 1500, 3000]


def test_bytes_not_utf8_fail_only_their_row_across_chunks() -> None:
    """In a file that says it is UTF-8 (its byte-order mark), bytes that are not are errors of their rows."""
    lines = [b"\xef\xbb\xbf" + HEADER.encode()] + [f"{i},1,1,1,1,1,1,1".encode() for i in range(1, 1001)]
    lines[3] = b"1,2,3,4,5,\xe96,Retail,Lisbon"  # row 3: a Latin-1 byte in Delicassen
    lines[700] = b"\xff\xfe,2,3,4,5,6,Caf\xe9,Lisbon"  # row 700: two columns with bytes that are not UTF-8
    data = b"\n".join(lines) + b"\n"
    source = io.BytesIO(data)
    header = read_header(source)
    errors: dict[int, list[tuple[str, int | None, str]]]
    rows, errors = [], {}
    for chunk in iter_chunks(source, header, block_size=4096):
        checked, echo = check_chunk(chunk, header)
        assert echo.num_rows == len(checked.rows)
        rows += checked.rows.tolist()
        errors |= {int(checked.rows[i]): [(e.field, e.row, e.message) for e in errs] for i, errs in checked.errors.items()}
    assert rows == list(range(1, 1001))
    assert errors == {3: [("Delicassen", 3, NOT_UTF8)], 700: [("Fresh", 700, NOT_UTF8), ("Channel", 700, NOT_UTF8)]}


# A UTF-8 byte-order mark says the file is UTF-8: its bytes that are not are errors of their rows (see Decoder).
NOT_UTF8_BODY = b"\xef\xbb\xbf" + HEADER.encode() + b"\n1,2,3,4,5,6,,\n1,2,3,4,5,\xe96,,\n7,8,9,1,2,3,Retail,Lisbon\n"


def test_batch_with_a_row_not_utf8_scores_the_other_rows_json(client: FlaskClient) -> None:
    r = client.post("/api/segment/batch", data=NOT_UTF8_BODY, content_type="text/csv")
    assert r.status_code == 200
    body = r.get_json()
    assert [x["ok"] for x in body["results"]] == [True, False, True] and body["n_ok"] == 2
    assert body["results"][1]["errors"] == [{"field": "Delicassen", "row": 2, "message": NOT_UTF8}]


def test_batch_with_a_row_not_utf8_scores_the_other_rows_csv(client: FlaskClient) -> None:
    r = client.post("/api/segment/batch?format=csv", data={"file": (io.BytesIO(NOT_UTF8_BODY), "a.csv")}, content_type="multipart/form-data")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    out = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [(x["row"], x["segment"] != "", x["error"]) for x in out] == [("1", True, ""), ("2", False, f"Delicassen: {NOT_UTF8}"), ("3", True, "")]


def chunk_errors(data: bytes, block_size: int = 4096) -> tuple[list[int], dict[int, list[tuple[str, str]]]]:
    """Row numbers and each bad row's (field, message) pairs, read as the API reads an upload."""
    source = io.BytesIO(data)
    header = read_header(source)
    errors: dict[int, list[tuple[str, str]]]
    rows, errors = [], {}
    for chunk in iter_chunks(source, header, block_size=block_size):
        checked, _ = check_chunk(chunk, header)
        rows += checked.rows.tolist()
        errors |= {int(checked.rows[i]): [(e.field, e.message) for e in errs] for i, errs in checked.errors.items()}
    return rows, errors


def test_errors_name_the_column_as_the_header_writes_it() -> None:
    data = HEADER.replace("Delicassen", "Delicatessen").encode() + b"\n1,2,3,4,5,-6,,\n1,2,3,4,5,\xe96,,\n"
    _, errors = chunk_errors(data)
    assert [f for f, _ in errors[1]] == ["Delicatessen"] and [f for f, _ in errors[2]] == ["Delicatessen"]


def test_missing_category_without_imputation_names_the_column_as_written(artifact_copy: Path) -> None:
    from api.batch import NO_IMPUTE, score
    from stages.segmenter import Segmenter

    segmenter = dataclasses.replace(Segmenter.load(artifact_copy / "ml" / "segmenter.json"), impute=None)
    source = io.BytesIO(HEADER.replace("Delicassen", "Delicatessen").encode() + b"\n1,2,3,4,5,,,\n")
    header = read_header(source)
    (chunk,) = iter_chunks(source, header)
    checked, _ = check_chunk(chunk, header)
    assert score(segmenter, checked).checked.errors == {0: [FieldError(field="Delicatessen", row=1, message=NO_IMPUTE)]}


def test_batch_errors_name_the_column_as_written(client: FlaskClient) -> None:
    data = HEADER.replace("Delicassen", "Delicatessen").encode() + b"\n1,2,3,4,5,x,,\n"
    result = client.post("/api/segment/batch", data=data, content_type="text/csv").get_json()["results"][0]
    assert [e["field"] for e in result["errors"]] == ["Delicatessen"]


@pytest.mark.parametrize("before", [b"\n", b"\r\n\r\n", b"\xef\xbb\xbf\n  \n\n"])
def test_blank_lines_before_the_header_are_skipped(before: bytes) -> None:
    lines = [f"{i},1,1,1,1,1,1,1" for i in range(1, 2001)]
    lines[4] = "1,2"  # row 5 malformed
    lines[1499] = "1,1,1,1,1,x,1,1"  # row 1500 a bad cell
    lines.insert(100, "")  # a blank line between rows 100 and 101 is not a data row
    data = before + (HEADER.replace(",", ";") + "\n" + "\n".join(lines).replace(",", ";") + "\n").encode()
    rows, errors = chunk_errors(data)
    assert rows == list(range(1, 2001))
    assert sorted(errors) == [5, 1500] and errors[1500][0][0] == "Delicassen"


def test_only_blank_lines_is_an_empty_file() -> None:
    with pytest.raises(ApiError) as info:
        read_header(io.BytesIO(b"\n\r\n  \n"))
    assert "empty" in info.value.message


def test_malformed_row_with_bytes_not_utf8_fails_only_its_row() -> None:
    # UTF-8 text (an unknown channel) above the bytes that are not: the file mixes encodings (see Decoder)
    data = HEADER.encode() + b"\n1,2,3,4,5,6,Caf\xc3\xa9,\n1,\xff\xfe\n7,8,9,1,2,\xe93,,\n1,2,3,4,5,6,caf\xc3\xa9,\n"
    rows, errors = chunk_errors(data, block_size=128)
    assert rows == [1, 2, 3, 4]
    assert errors[2] == [("row", "has 2 fields, the header has 8")]
    assert errors[3] == [("Delicassen", NOT_UTF8)]
    assert [f for f, _ in errors[4]] == ["Channel"]  # valid UTF-8 text, an unknown channel: not reported as bytes


class OneByteAtATime(io.RawIOBase):
    """A stream that hands out one byte per read, so multi-byte characters arrive split."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.data.read(1)


def test_repair_keeps_characters_split_across_reads_and_marks_bad_bytes() -> None:
    text = "caf\u00e9 \u20ac\U0001f600"
    assert Transcoded(cast("IO[bytes]", OneByteAtATime(text.encode() + b"\xe9x\xf0\x9f"))).read() == (text + "\ufffdx\ufffd").encode()


def test_stop_waits_for_every_block_even_after_a_read_past_the_stop() -> None:
    """pyarrow's read-ahead thread can read once more after :meth:`stop` (it gets end of file) while its queue still
    holds blocks, which it frees later on its own thread: stop must wait for those, not return at that read (the
    process then aborted at exit, 1 run in 30 under load)."""
    source = Transcoded(io.BytesIO(b"x" * 100))
    held = [source.read(10) for _ in range(3)]  # pyarrow's queue
    late_read, released = threading.Event(), threading.Event()

    def read_ahead() -> None:
        time.sleep(0.05)
        late_read.set() if source.read(10) == b"" else None
        while held:  # the queue freed on pyarrow's thread, a block at a time
            time.sleep(0.1)
            held.pop()
        released.set()

    thread = threading.Thread(target=read_ahead)
    thread.start()
    assert source.stop(wait=5)
    done = released.is_set()
    thread.join()
    assert late_read.is_set() and done


def test_stop_gives_up_after_its_wait_when_a_block_is_kept() -> None:
    source = Transcoded(io.BytesIO(b"x" * 100))
    kept = source.read(10)
    start = time.monotonic()
    assert not source.stop(wait=0.1)
    assert time.monotonic() - start >= 0.1 and source.read(10) == b"" and kept


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_lines_ended_by_a_lone_cr_or_crlf_read_like_lf(client: FlaskClient, newline: str) -> None:
    """Spreadsheets on old Macs end lines with a lone CR: the same rows, numbers and answers as with LF."""
    rows = ["", HEADER, ",".join(map(str, GOOD.values())) + ",2,3", "1,2", "-1,1,1,1,1,1,,", "5,5,5,5,5,,Retail,Oporto"]
    answers = [
        client.post("/api/segment/batch?format=csv", data=nl.join(rows).encode() + nl.encode(), content_type="text/csv").get_data(as_text=True)
        for nl in ("\n", newline)
    ]
    assert answers[0].count("\n") == 5 and answers[1] == answers[0]


def test_a_header_with_a_stray_cr_is_a_422_not_a_500(client: FlaskClient) -> None:
    """Found by schemathesis: a lone CR inside the first line made Python's csv module raise (a 500)."""
    r = client.post("/api/segment/batch", data=b"Fresh,Mi\rlk,Grocery\n1,2\n", content_type="text/csv")
    assert r.status_code == 422 and "Grocery" in r.get_json()["error"]["message"], r.get_data(as_text=True)[:300]


def test_a_file_without_line_ends_is_refused_without_reading_it_whole() -> None:
    with pytest.raises(ApiError, match="first line is longer"):
        read_header(io.BytesIO(b"Fresh," * 100_000))


def test_imputed_categories_are_named_as_the_header_writes_them(client: FlaskClient) -> None:
    header = HEADER.replace("Delicassen", "Delicatessen")
    data = (header + "\n1,2,3,4,5,,2,3\n").encode()
    as_csv = client.post("/api/segment/batch?format=csv", data=data, content_type="text/csv").get_data(as_text=True)
    assert next(csv.DictReader(io.StringIO(as_csv)))["imputed"] == "Delicatessen"
    as_json = client.post("/api/segment/batch", data=data, content_type="text/csv").get_json()
    assert as_json["results"][0]["imputed"] == ["Delicatessen"]


@pytest.mark.parametrize("how", ["body", "multipart"])
def test_na_is_imputed_and_listed_as_an_empty_cell_is_and_nan_is_a_row_error(client: FlaskClient, how: str) -> None:
    """NA, as R's write.csv writes a value not known, was refused as text (told to leave the cell empty) while the
    pipeline imputed it: the API now imputes it as an empty cell, and lists it in ``imputed``. NaN, which the
    pipeline had imputed too, stays a row error and says how to give a value not known; n/a keeps its advice."""

    def post(query: str = "") -> Any:
        if how == "body":
            return client.post(f"/api/segment/batch{query}", data=MARKED.encode(), content_type="text/csv")
        form = {"file": (io.BytesIO(MARKED.encode()), "customers.csv")}
        return client.post(f"/api/segment/batch{query}", data=form, content_type="multipart/form-data")

    results = post().get_json()["results"]
    assert [r["imputed"] if r["ok"] else [(e["field"], e["message"]) for e in r["errors"]] for r in results] == [
        m if isinstance(m, list) else [("Milk", m)] for m in MARKED_RESULTS
    ]
    alone = client.post("/api/segment", json={f: v for f, v in GOOD.items() if f not in ("Milk", "Frozen")} | {"Region": 3}).get_json()
    assert (results[1]["segment"], results[1]["distances"]) == (alone["segment"], alone["distances"])
    # NA is read as an empty cell (by pyarrow, in C) and echoed so; with spaces around it, it is echoed as written
    answer = list(csv.DictReader(io.StringIO(post("?format=csv").get_data(as_text=True))))
    assert [(r["Milk"], r["Frozen"], r["Channel"], r["imputed"]) for r in answer] == [
        ("", "214", "2", "Milk"), ("", " nA ", "", "Milk;Frozen"), ("", "214", "2", "Milk"), ("NaN", "214", "2", ""), ("n/a", "214", "2", "")
    ]


def test_blank_lines_before_the_header_longer_than_a_block_are_skipped() -> None:
    """pyarrow skipped the blank lines and the header itself, which had to fit in its first block."""
    good = ",".join(map(str, GOOD.values())) + ",,"
    rows, errors = chunk_errors(b"\n" * 10_000 + f"{HEADER}\n{good}\n1,2\n{good}\n".encode(), block_size=4096)
    assert rows == [1, 2, 3] and list(errors) == [2]


def test_amounts_whose_points_may_group_thousands_are_refused_with_both_readings(client: FlaskClient) -> None:
    """A spreadsheet saving cells as shown in Portugal writes 12669 as 12.669: read as a number, a customer a thousand
    times smaller. Such a cell is refused, saying what to write for each reading; decimals that cannot be thousands
    (2.5, 12669.5, 0.500, 1234.567) are read as before."""
    body = ("Fresh;Milk;Grocery;Frozen;Detergents_Paper;Delicassen\n"
            "12.669;9.656;7561;214;2.674;1.338\n"
            "1.234.567;1.200;2.5;12669.5;0.500;1234.567\n"
            "12669;9656;7561;214;2674;1338\n").encode()
    rows, errors = chunk_errors(body)
    assert rows == [1, 2, 3]
    assert errors == {
        1: [("Fresh", "'12.669' is ambiguous: 12,669 or 12.669? For 12,669, write 12669; for 12.669, write 12.6690"),
            ("Milk", "'9.656' is ambiguous: 9,656 or 9.656? For 9,656, write 9656; for 9.656, write 9.6560"),
            ("Detergents_Paper", "'2.674' is ambiguous: 2,674 or 2.674? For 2,674, write 2674; for 2.674, write 2.6740"),
            ("Delicassen", "'1.338' is ambiguous: 1,338 or 1.338? For 1,338, write 1338; for 1.338, write 1.3380")],
        2: [("Fresh", "'1.234.567' is not a number (a point is a decimal point here): for 1,234,567, write 1234567"),
            ("Milk", "'1.200' is ambiguous: 1,200 or 1.2? For 1,200, write 1200; for 1.2, write 1.2")],
    }
    r = client.post("/api/segment/batch?format=csv", data={"file": (io.BytesIO(body), "pt.csv")}, content_type="multipart/form-data")
    out = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [(x["row"], x["segment"] != "", x["error"][:30]) for x in out] == [
        ("1", False, "Fresh: '12.669' is ambiguous: "), ("2", False, "Fresh: '1.234.567' is not a nu"), ("3", True, "")]


@pytest.mark.parametrize("label", ["Total,,", ",,"])
def test_a_totals_row_under_the_customers_is_not_scored_as_one(client: FlaskClient, label: str) -> None:
    """A spreadsheet's SUM row under the customers (with a word in a label column or none; an empty cell counts as 0)
    was scored as one more customer; it is an error of its own row, saying what it is. A row that sums only some of
    the rows above it is a customer."""
    body = ("Channel,Region,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen\n"
            "2,3,12669,9656,7561,214,2674,1338\n"
            "2,3,7057,9810,9568,1762,3293,1776\n"
            "2,3,6353,8808,7684,,3516,7844\n"
            "2,3,19726,19466,17129,1976,5967,3114\n"  # rows 1 and 2 only
            f"{label}45805,47740,41942,3952,15450,14072\n")
    r = client.post("/api/segment/batch?format=csv", data={"file": (io.BytesIO(body.encode()), "sheet.csv")}, content_type="multipart/form-data")
    out = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [(x["row"], x["segment"] != "", x["error"]) for x in out] == [
        ("1", True, ""), ("2", True, ""), ("3", True, ""), ("4", True, ""), ("5", False, "row: is the sum of the rows above it (a totals row?), not a customer: delete it from the file")]


def test_the_data_set_has_no_totals_row() -> None:
    """No customer of the data set is taken for a totals row."""
    rows, errors = chunk_errors((config.ROOT / "data" / "raw" / "wholesale_customers.csv").read_bytes(), block_size=1 << 20)
    assert len(rows) == 440 and errors == {}


@pytest.mark.parametrize(("above", "message"), [
    ("Wholesale customers, export of 2026-11-27\n", "The CSV header is on line 2, not the first line: delete the line above it (a title, say) and send the file again."),
    ("\ufeffCustomers \u2013 Lisbon,,,,,,,\n,,,,,,,\n", "The CSV header is on line 3, not the first line: delete the 2 lines above it (a title, say) and send the file again."),
])
def test_a_header_under_a_title_line_is_named_with_what_to_delete(client: FlaskClient, above: str, message: str) -> None:
    """A spreadsheet's title above the header was refused as a header with unknown columns and nameless ones (said to
    be trailing empty cells); the answer now says on which line the header is and what to delete."""
    body = (above + HEADER + "\n12669,9656,7561,214,2674,1338,2,3\n").encode()
    r = client.post("/api/segment/batch", data={"file": (io.BytesIO(body), "sheet.csv")}, content_type="multipart/form-data")
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["message"] == message
    assert [e["field"] for e in error["errors"]] == ["file"]


@pytest.mark.parametrize(("start", "kind"), [
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "an Excel (.xlsx) or LibreOffice (.ods) workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an Excel 97-2003 (.xls) workbook"),
])
def test_a_workbook_uploaded_for_a_csv_is_named_as_such(client: FlaskClient, start: bytes, kind: str) -> None:
    """A workbook chosen in place of its CSV export was 'not UTF-8 text'; the answer now says what the file is."""
    body = start + bytes(range(256)) * 4
    r = client.post("/api/segment/batch", data={"file": (io.BytesIO(body), "customers.csv")}, content_type="multipart/form-data")
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == (
        f"The file is {kind}, not a CSV file: save it as CSV UTF-8 (in Excel: File > Save As > CSV UTF-8) and send that file.")


# Columns that are none of the fields (a customer number, a note, a spreadsheet's unnamed ones) are carried.

CARRIED = (
    'Customer,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,Note,Note,\n'
    'C-001,12669,9656,7561,214,2674,1338,=HYPERLINK("http://x"),a,\n'
    'C-002,7057,9810,9568,1762,3293,1776,,"b, c",x\n'
    'C-003,-5,9810,9568,1762,3293,1776,+1+1,,\n'
    'C-004,1,2\n'
    'Customer,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,Note,Note,\n'
    'C-005,6353,8808,7684,2405,3516,7844,-5,,\n'
)
#: The same customers without the carried columns: what they are segmented as.
PLAIN = (
    'Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen\n12669,9656,7561,214,2674,1338\n7057,9810,9568,1762,3293,1776\n'
    '-5,9810,9568,1762,3293,1776\n1,2\nFresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen\n6353,8808,7684,2405,3516,7844\n'
)


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_other_columns_are_carried_to_the_csv_answer_unchanged_and_change_no_segment(client: FlaskClient) -> None:
    """A sales export's customer number was refused ("unknown column Customer"), so an answer could be matched back
    only by row number. Other columns are now copied to a CSV answer in their place, as they were written (two of one
    name and an unnamed one too), formula-like cells defused in every row; the segments, errors and the repeated
    header are those of the file without them; the JSON answer names them in ignored_columns."""
    carried = client.post("/api/segment/batch?format=csv", data=CARRIED.encode(), content_type="text/csv")
    plain = client.post("/api/segment/batch?format=csv", data=PLAIN.encode(), content_type="text/csv")
    assert carried.status_code == plain.status_code == 200, carried.get_data(as_text=True)[:300]
    rows, expected = _csv_rows(carried.get_data(as_text=True)), _csv_rows(plain.get_data(as_text=True))
    assert rows[0] == ["row", "Customer", *expected[0][1:7], "Note", "Note", "", *expected[0][7:]]
    assert [r[1] for r in rows[1:]] == ["C-001", "C-002", "C-003", "", "Customer", "C-005"]  # a row too short to split: empty
    assert [r[8:11] for r in rows[1:]] == [["'=HYPERLINK(\"http://x\")", "a", ""], ["", "b, c", "x"], ["'+1+1", "", ""], ["", "", ""], ["Note", "Note", ""], ["-5", "", ""]]
    expected[4][-1] = "row: has 3 fields, the header has 10"  # its own file's count of fields
    assert [[r[0], *r[2:8], *r[11:]] for r in rows[1:]] == expected[1:]
    answer = client.post("/api/segment/batch", data=CARRIED.encode(), content_type="text/csv").get_json()
    assert answer["ignored_columns"] == ["Customer", "Note", "Note", "(column 10)"]
    alone = client.post("/api/segment/batch", data=PLAIN.encode(), content_type="text/csv").get_json()["results"]
    alone[3]["errors"][0]["message"] = "has 3 fields, the header has 10"
    assert [r.pop("ignored") for r in answer["results"]] == [
        ["C-001", '=HYPERLINK("http://x")', "a", None], ["C-002", None, "b, c", "x"], ["C-003", "+1+1", None, None],
        [None, None, None, None], ["Customer", "Note", "Note", None], ["C-005", "-5", None, None]]
    assert answer["results"] == alone
    assert client.post("/api/segment/batch", json=[GOOD]).get_json()["ignored_columns"] == []


def test_api_score_carries_other_columns_as_the_api_does(tmp_path: Path, client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    """python -m api.score writes the same answer as the batch endpoint and says which columns it did not use."""
    from api.score import main

    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(CARRIED)
    assert main([str(source), "-o", str(target)]) == 0
    assert "not used to segment, copied to the output unchanged: Customer, Note, Note, (column 10)" in capsys.readouterr().err
    http = client.post("/api/segment/batch?format=csv", data=CARRIED.encode(), content_type="text/csv").get_data(as_text=True)
    assert _csv_rows(target.read_text()) == _csv_rows(http)


def test_a_pandas_export_with_its_index_column_is_read() -> None:
    """pandas' to_csv writes its index first, under an empty name: that column is carried, as a spreadsheet's
    unnamed ones are (they were refused: "no name for column 1")."""
    h = parse_header(b";Fresh;Milk;Grocery;Frozen;Detergents_Paper;Delicassen;;")
    assert h.carried == [0, 7, 8] and h.carried_names == ["(column 1)", "(column 8)", "(column 9)"]


def test_the_answer_adds_exactly_the_columns_a_carried_one_may_not_be_named(client: FlaskClient, gmm_app: Any) -> None:
    """ANSWER_COLUMNS (refused as carried columns) are the columns a CSV answer adds, for k-Means and a mixture."""
    from api.csvio import ANSWER_COLUMNS, _answer_column

    header = _csv_rows(client.post("/api/segment/batch?format=csv", json=[GOOD]).get_data(as_text=True))[0]
    assert set(header) - set(HEADER.split(",")) == set(ANSWER_COLUMNS)
    mixture = _csv_rows(gmm_app.test_client().post("/api/segment/batch?format=csv", json=[GOOD]).get_data(as_text=True))[0]
    assert all(_answer_column(name) for name in set(mixture) - set(HEADER.split(","))) and any(n.startswith("probability_") for n in mixture)


def test_each_json_result_carries_its_rows_other_cells_and_na_is_kept_there(client: FlaskClient) -> None:
    """The JSON answer's rows carry their cells of the other columns (``ignored``, in ignored_columns' order), so the
    page can show a customer number beside each result. NA there is a customer number or a code as written, not a
    value not known: kept, where NA in a category is still imputed."""
    sent = "Customer,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,Note\nNA,NA,9656,7561,214,2674,1338,na\nC-2,-1,9810,9568,1762,3293,1776,\n"
    answer = client.post("/api/segment/batch", data=sent.encode(), content_type="text/csv").get_json()
    assert answer["ignored_columns"] == ["Customer", "Note"]
    assert [(r["row"], r["ok"], r["ignored"]) for r in answer["results"]] == [(1, True, ["NA", "na"]), (2, False, ["C-2", None])]
    assert answer["results"][0]["imputed"] == ["Fresh"]
    rows = _csv_rows(client.post("/api/segment/batch?format=csv", data=sent.encode(), content_type="text/csv").get_data(as_text=True))
    assert [(r[1], r[2], r[8]) for r in rows[1:]] == [("NA", "", "na"), ("C-2", "-1", "")]
    assert "ignored" not in client.post("/api/segment/batch", json=[GOOD]).get_json()["results"][0]


def _customers(n: int, seed: int = 7) -> np.ndarray:
    """``n`` customers' spending, whole units as spreadsheets hold them, some cells empty (NaN)."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.lognormal(8, 1.2, size=(n, 6)))
    X[rng.random(X.shape) < 0.02] = np.nan
    return X


@pytest.mark.parametrize("block", [1, 7, 1000, 4999, 5000])
def test_a_totals_row_is_found_however_the_rows_are_cut_into_blocks(block: int) -> None:
    """Rows were summed within one block only, so under more rows than a block a totals row was scored as a customer;
    the sums carried from block to block find the same rows as one block of the whole file."""
    X = _customers(5000)
    X[2] = np.nansum(X[:2], axis=0)  # a subtotal under the first two rows
    X[4999] = np.round(np.nansum(X[:4999], axis=0), 2)  # the SUM row, saved to the cent
    whole, _ = totals_rows(X)
    found, above = [], None
    for start in range(0, len(X), block):
        rows, above = totals_rows(X[start : start + block], above)
        found += (rows + start).tolist()
    assert whole.tolist() == found == [2, 4999]
    assert above is not None and above.spent == 5000 and np.allclose(above.sums, np.nansum(X, axis=0))


def test_a_totals_row_under_a_million_rows_is_found_and_no_customer_is_taken_for_one() -> None:
    """float64 sums of 1,000,000 rows of amounts up to the limit stay within the tolerance (see totals_rows)."""
    X = _customers(1_000_000, seed=3)
    X[::97] = 9_999_999.99  # amounts near the limit, with cents
    total = np.nansum(X, axis=0)
    X = np.vstack([X, np.round(total, 2)])
    found, _ = totals_rows(X)
    assert found.tolist() == [1_000_000]


def _sheet(n: int) -> bytes:
    X = _customers(n)
    lines = ["Customer;" + ";".join(FEATURES)] + [f"C{i};" + ";".join("" if np.isnan(v) else f"{v:.0f}" for v in row) for i, row in enumerate(X)]
    lines.append("Total;" + ";".join(f"{v:.0f}" for v in np.nansum(X, axis=0)))
    return ("\r\n".join(lines) + "\r\n").encode()


def test_api_score_finds_a_totals_row_under_many_blocks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from api.score import main

    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(_sheet(3000))
    assert main([str(source), "-o", str(target), "--block-size", "4096"]) == 0  # about 30 blocks, on a pool of threads
    assert "3,001 rows, 3,000 segmented, 1 with errors" in capsys.readouterr().err
    out = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [(r["row"], r["error"]) for r in out if r["error"]] == [("3001", f"row: {TOTALS_ROW}")]


def test_the_batch_endpoint_finds_a_totals_row_under_70000_rows() -> None:
    """The endpoint reads a file in blocks of BLOCK_SIZE (about 30,000 rows): a totals row under 70,000 customers is
    in the third block."""
    data = _sheet(70_000)
    assert len(data) > 2 * BLOCK_SIZE
    big = create_app({"TESTING": True, "BATCH_MAX_ROWS": 100_000, "MAX_CONTENT_LENGTH": 64 << 20}).test_client()
    body = big.post("/api/segment/batch", data=data, content_type="text/csv").get_json()
    assert body["n_rows"] == 70_001 and body["n_errors"] == 1
    assert body["results"][-1]["errors"] == [{"field": "row", "row": 70_001, "message": TOTALS_ROW}]


def test_a_block_that_fails_fails_the_blocks_waiting_for_its_sums() -> None:
    """api.score checks blocks on a pool of threads, each waiting for the sums of the one before: a block that fails
    must not leave the next waiting for ever (the pool would never shut down)."""
    running = Running()
    data = HEADER.encode() + b"\n1,2,3,4,5,6,,\n"
    header = read_header(io.BytesIO(data))
    chunk = next(iter_chunks(io.BytesIO(data), header))
    seen: list[BaseException] = []

    def next_block() -> None:
        try:
            running.take(1)
        except RuntimeError as exc:
            seen.append(exc)

    waiting = threading.Thread(target=next_block)
    waiting.start()
    with pytest.raises(TypeError):
        check_chunk(dataclasses.replace(chunk, rows=None), header, running)  # type: ignore[arg-type]
    waiting.join(5)
    assert not waiting.is_alive() and "an earlier block of the file failed" in str(seen[0])
