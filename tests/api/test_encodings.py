"""Files as sales staff have them: Excel's "CSV" on Windows (Windows-1252) and its "Unicode Text" (UTF-16), read by
the batch endpoint and ``python -m api.score`` as a user expects, and said so; answers are UTF-8."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO, cast, get_args

import pytest
from flask.testing import FlaskClient

from api.csvio import ENCODING_NAMES, NOT_UTF8, Decoder, Transcoded, not_text
from api.schemas import BatchOut
from api.score import main
from tests.api.conftest import GOOD

SHEET = "Customer;Fresh;Milk;Grocery;Frozen;Detergents_Paper;Delicassen\r\n"
#: The brief's file: a customer name with an accent, as Excel on Windows saves it.
CP1252 = SHEET.encode() + b"Jo\xe3o Lda;100;200;300;400;500;600\r\n"


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_an_excel_csv_in_windows_1252_is_read_and_said_so(client: FlaskClient) -> None:
    """Every row with an accented name was refused ("Customer: not valid UTF-8 text"); it is segmented, its name
    carried as it reads, the JSON answer says the file was read as Windows-1252, and the CSV answer is UTF-8."""
    body = client.post("/api/segment/batch", data={"file": (io.BytesIO(CP1252), "clientes.csv")}, content_type="multipart/form-data").get_json()
    assert body["encoding"] == "Windows-1252" and body["n_ok"] == 1
    assert body["results"][0]["ignored"] == ["Jo\u00e3o Lda"]
    r = client.post("/api/segment/batch?format=csv", data=CP1252, content_type="text/csv")
    assert r.status_code == 200
    out = _csv(r.get_data().decode("utf-8"))
    assert out[0]["Customer"] == "Jo\u00e3o Lda" and out[0]["error"] == ""
    assert client.post("/api/segment/batch", data=CP1252.decode("cp1252").encode(), content_type="text/csv").get_json()["encoding"] == "UTF-8"
    assert client.post("/api/segment/batch", json=[GOOD]).get_json()["encoding"] == "UTF-8"


def test_a_windows_1252_header_and_spending_cell(client: FlaskClient) -> None:
    """A header written in Windows-1252 (N\u00ba Cliente) is read so; a spending cell with such a byte is text, refused
    in its row as text, not as bytes; a byte Windows-1252 leaves undefined fails its row, naming its column."""
    data = b"N\xba Cliente;Fresh;Milk;Grocery;Frozen;Detergents_Paper;Delicassen\n" + b"A;1;2;3;4;5;6\nB;1;2;3;4;5;\xe96\nC\x81;1;2;3;4;5;6\n"
    body = client.post("/api/segment/batch", data=data, content_type="text/csv").get_json()
    assert body["encoding"] == "Windows-1252" and body["ignored_columns"] == ["N\u00ba Cliente"]
    assert [r["ok"] for r in body["results"]] == [True, False, False]
    assert body["results"][1]["errors"] == [{"field": "Delicassen", "row": 2, "message": "must be a number (yearly spending), not text '\u00e96'"}]
    assert body["results"][2]["errors"] == [{"field": "N\u00ba Cliente", "row": 3, "message": not_text("cp1252")}]
    assert not_text("cp1252") == "not valid Windows-1252 text (save the file as CSV UTF-8)"


def test_a_header_that_is_no_text_in_either_encoding_is_refused(client: FlaskClient) -> None:
    r = client.post("/api/segment/batch", data=b"Fresh\x81;Milk\n1;2\n", content_type="text/csv")
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == "The file is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8."


def test_a_file_that_mixes_utf8_and_windows_1252_keeps_its_row_errors(client: FlaskClient) -> None:
    """UTF-8 text above the first byte that is not UTF-8: the file is UTF-8, and that row's cell is an error of its own."""
    data = SHEET.encode() + "Jo\u00e3o Lda;1;2;3;4;5;6\r\n".encode() + b"Jo\xe3o Lda;1;2;3;4;5;6\r\n"
    body = client.post("/api/segment/batch", data=data, content_type="text/csv").get_json()
    assert body["encoding"] == "UTF-8" and [r["ok"] for r in body["results"]] == [True, False]
    assert body["results"][1]["errors"] == [{"field": "Customer", "row": 2, "message": NOT_UTF8}]


def test_the_first_byte_not_utf8_far_down_a_streamed_file_makes_it_windows_1252(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """python -m api.score reads a file in blocks: a Windows-1252 byte in a late block (after thousands of ASCII
    rows already scored and written) reads the whole file as Windows-1252, as ASCII is the same in both."""
    rows = [f"C{i};1;2;3;4;5;6\r\n".encode() for i in range(3000)]
    rows[2500] = b"Jos\xe9;1;2;3;4;5;6\r\n"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(SHEET.encode() + b"".join(rows))
    assert main([str(source), "-o", str(target), "--block-size", "4096"]) == 0
    err = capsys.readouterr().err
    assert "3,000 rows, 3,000 segmented, 0 with errors" in err
    assert "read as Windows-1252 (not UTF-8, as Excel saves CSV on Windows), written as UTF-8" in err
    out = _csv(target.read_text(encoding="utf-8"))
    assert out[2500]["Customer"] == "Jos\u00e9" and out[2499]["Customer"] == "C2499" and out[2501]["Customer"] == "C2501"


#: A file with what an export holds: a BOM-less header, accented carried text, a quoted cell with a separator and a
#: line break, blank lines before the header, labels, a bad row, and a character beyond the BMP (a UTF-16 pair).
SAMPLE = ("\r\n\r\nCliente\tFresh\tMilk\tGrocery\tFrozen\tDetergents_Paper\tDelicassen\tChannel\tRegion\r\n"
          "Jo\u00e3o Lda\t12669\t9656\t7561\t214\t2674\t1338\tRetail\tLisbon\r\n"
          "\"Caf\u00e9\tA\r\nB\"\t7057\t9810\t9568\t1762\t3293\t1776\t2\t3\r\n"
          "\u00c9 \U0001f600\t-1\tx\t1\t1\t1\t1\t\t\r\n"
          "Z\u00fcrich\t6353\t8808\t7684\t\t3516\t7844\tHoreca\tOther\r\n")


@pytest.mark.parametrize(("codec", "marked", "name"), [
    ("utf-16-le", True, "UTF-16LE"), ("utf-16-be", True, "UTF-16BE"),
    # without a byte-order mark (Python's utf-16-le, .NET's Encoding.Unicode): its header read as unknown columns
    # ("missing columns Fresh, … (is F\0r\0e\0s\0h\0…)")
    ("utf-16-le", False, "UTF-16LE"), ("utf-16-be", False, "UTF-16BE"),
])
def test_excel_unicode_text_gives_the_answer_of_the_same_file_in_utf8(tmp_path: Path, client: FlaskClient, capsys: pytest.CaptureFixture[str],
                                                                      codec: str, marked: bool, name: str) -> None:
    """Excel's Unicode Text (UTF-16 with a byte-order mark, tab-separated) was "not UTF-8 text"; it gives the same rows,
    numbers and bytes as the same file in UTF-8, streamed in small blocks too, and the answer says how it was read.
    So does UTF-16 without the mark, told by its first characters."""
    data = ("\ufeff" + SAMPLE if marked else SAMPLE).encode(codec)
    assert data.startswith(b"\xff\xfe" if name == "UTF-16LE" else b"\xfe\xff") == marked
    utf16, utf8 = tmp_path / "in16.txt", tmp_path / "in8.txt"
    utf16.write_bytes(data)
    utf8.write_bytes(SAMPLE.encode("utf-8"))
    for block_size in ("64", "1048576"):
        assert main([str(utf16), "-o", str(tmp_path / "out16.csv"), "--block-size", block_size]) == 0
        assert f"read as {name} (Unicode text" in capsys.readouterr().err
        assert main([str(utf8), "-o", str(tmp_path / "out8.csv"), "--block-size", block_size]) == 0
        assert "read as" not in capsys.readouterr().err
        assert (tmp_path / "out16.csv").read_bytes() == (tmp_path / "out8.csv").read_bytes()
    out = _csv((tmp_path / "out16.csv").read_bytes().decode("utf-8"))
    assert [r["Cliente"] for r in out] == ["Jo\u00e3o Lda", "Caf\u00e9\tA\r\nB", "\u00c9 \U0001f600", "Z\u00fcrich"]
    assert [r["error"] == "" for r in out] == [True, True, False, True]
    as16 = client.post("/api/segment/batch?format=csv", data={"file": (io.BytesIO(data), "x.txt")}, content_type="multipart/form-data")
    assert as16.get_data() == client.post("/api/segment/batch?format=csv", data=SAMPLE.encode(), content_type="text/csv").get_data()
    json16 = client.post("/api/segment/batch", data=data, content_type="text/csv").get_json()
    json8 = client.post("/api/segment/batch", data=SAMPLE.encode(), content_type="text/csv").get_json()
    assert json16.pop("encoding") == name and json8.pop("encoding") == "UTF-8" and json16 == json8


class Pieces(io.RawIOBase):
    """A stream that hands out ``size`` bytes per read at most, so characters and byte-order marks arrive split."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = io.BytesIO(data), size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.data.read(self.size)


@pytest.mark.parametrize(("data", "text", "encoding"), [
    (b"a,b\n" * 50 + b"Jo\xe3o,\x80\n", "a,b\n" * 50 + "Jo\u00e3o,\u20ac\n", "cp1252"),  # first non-ASCII byte late
    (b"Jo\xc3\xa3o\n" + b"x\xe3\n", "Jo\u00e3o\nx\ufffd\n", "utf-8"),  # UTF-8 above: mixed, the byte repaired
    (b"\xef\xbb\xbfa\xe3\n", "\ufeffa\ufffd\n", "utf-8"),  # a UTF-8 byte-order mark says UTF-8
    (b"a\x81\x8d\x8f\x90\x9d\xe3", "a\ufffd\ufffd\ufffd\ufffd\ufffd\u00e3", "cp1252"),  # bytes Windows-1252 leaves undefined
    (b"ab\xc3", "ab\u00c3", "cp1252"),  # a UTF-8 sequence cut short at the end, ASCII before
    ("\ufeffJo\u00e3o\U0001f600\n".encode("utf-16-le"), "Jo\u00e3o\U0001f600\n", "utf-16-le"),
    ("\ufeffJo\u00e3o\n".encode("utf-16-be"), "Jo\u00e3o\n", "utf-16-be"),
    (b"\xff\xfea\x00b", "a\ufffd", "utf-16-le"),  # an odd last byte
    # no mark: told by its first 16 characters (Latin-1 ones: a zero byte beside each)
    ("\r\nJo\u00e3o\tFresh\tMilk\U0001f600\n".encode("utf-16-le"), "\r\nJo\u00e3o\tFresh\tMilk\U0001f600\n", "utf-16-le"),
    ("Fresh;Milk;Grocery;Frozen\n1;2;3;4\n".encode("utf-16-be"), "Fresh;Milk;Grocery;Frozen\n1;2;3;4\n", "utf-16-be"),
    ("ab\n".encode("utf-16-le"), "ab\n", "utf-16-le"),  # a short file: told at its end
    (b"Fresh,Milk\n1,2\n", "Fresh,Milk\n1,2\n", "utf-8"),  # shorter than what is looked at: still UTF-8
    (b"a\x00b,c\n" * 8, "a\x00b,c\n" * 8, "utf-8"),  # a zero byte, but not at every other place
    (b"\xff", "\u00ff", "cp1252"),
    (b"", "", "utf-8"),
])
@pytest.mark.parametrize("size", [1, 2, 3, 7, 1 << 16])
def test_the_decoder_reads_the_same_text_however_the_file_is_cut(data: bytes, text: str, encoding: str, size: int) -> None:
    decoded = Transcoded(cast("IO[bytes]", Pieces(data, size))).read()  # a raw stream: Transcoded only calls read()
    assert decoded == text.encode("utf-8")
    decoder = Decoder()
    assert b"".join([*(decoder.decode(data[i : i + size]) for i in range(0, len(data), size)), decoder.decode(b"", final=True)]) == decoded
    assert (decoder.encoding or "utf-8") == encoding and decoder.damaged == ("\ufffd" in text)


def test_the_documented_encodings_are_the_ones_answered() -> None:
    """The OpenAPI document's list of ``encoding`` values is the names the reader gives."""
    assert set(get_args(BatchOut.model_fields["encoding"].annotation)) == set(ENCODING_NAMES.values())


def _split_at_a_block(block: int) -> bytes:
    """A UTF-8 file whose "ã" starts on the last byte of the first ``block`` bytes read (so the decoder holds a byte
    back), and whose row then spans the end of the second block."""
    body = SHEET.encode()
    body += b"".join(f"C{i:05d};1;2;3;4;5;6\r\n".encode() for i in range((block - 40 - len(body)) // 21))
    body += b"X" * (block - 1 - len(body)) + "\u00e3;1;2;3;4;5;6\r\n".encode()
    body += b"".join(f"C{i:05d};1;2;3;4;5;6\r\n".encode() for i in range((2 * block - 30 - len(body)) // 21))
    return body + b"b" * 60 + b";1;2;3;4;5;6\r\n" + b"".join(f"D{i:05d};1;2;3;4;5;6\r\n".encode() for i in range(3000))


def test_a_character_across_a_block_boundary_does_not_break_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid UTF-8 file was refused ("a quote that is not closed, or a row longer than 65,536 bytes"): the byte
    held back from one block made the next one byte too long, and that byte was handed to pyarrow as a block of its
    own, inside a row. (Seen on a 1,000,000-row export with accented names at the default block size.)"""
    data = _split_at_a_block(65536)
    assert data.index("\u00e3".encode()) == 65535
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(data)
    assert main([str(source), "-o", str(target), "--block-size", "65536"]) == 0
    rows = data.count(b"\n") - 1
    assert f"{rows:,} rows, {rows:,} segmented" in capsys.readouterr().err
