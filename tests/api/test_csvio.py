"""Reading customers' CSV files: delimiter, byte-order mark, header check, row numbers of malformed rows."""

from __future__ import annotations

import io

import pytest

from api.csvio import check_chunk, iter_chunks, parse_header
from api.errors import ApiError
from tests.api.conftest import HEADER


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_header_delimiter_and_alias(sep: str) -> None:
    line = ("\ufeff" + HEADER.replace("Delicassen", " Delicatessen").replace(",", sep) + "\r\n").encode()
    h = parse_header(line)
    assert h.delimiter == sep and h.fields[5] == "Delicassen" and h.names[5] == "Delicatessen"


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        (b"Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen,Extra", ["Extra"]),
        (b"Fresh,Milk,Grocery,Frozen,Detergents_Paper", ["Delicassen"]),
        (b"Fresh,Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen", ["Fresh"]),
        (b"", ["body"]),
    ],
)
def test_wrong_header_names_the_columns(line: bytes, fields: list[str]) -> None:
    with pytest.raises(ApiError) as info:
        parse_header(line)
    assert info.value.status == 422 and [e.field for e in info.value.errors] == fields


def test_malformed_rows_keep_their_place_across_chunks() -> None:
    lines = [HEADER] + [f"{i},1,1,1,1,1,1,1" for i in range(1, 3001)]
    for bad in (2, 1500, 3000):
        lines[bad] = "1,2"
    lines.insert(10, "")  # a blank line is not a data row
    data = ("\n".join(lines) + "\n").encode()
    header = parse_header(data.split(b"\n")[0])
    rows, errors = [], []
    for chunk in iter_chunks(io.BytesIO(data), header, block_size=4096):
        checked, echo = check_chunk(chunk, header)
        assert echo.num_rows == len(checked.rows)
        rows += checked.rows.tolist()
        errors += [int(checked.rows[i]) for i in checked.errors]
    assert rows == list(range(1, 3001))
    assert sorted(errors) == [2, 1500, 3000]
