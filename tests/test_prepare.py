"""Tests of stages.prepare: validation messages, imputation, report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stages.prepare import DataValidationError, canonical_order, duplicate_groups, impute, prepare, read_raw_text, validate_raw
from tests.conftest import FEATURES, HEADER, LABELS

ROW1 = "2,3,12669,9656,7561,214,2674,1338"
ROW2 = "2,3,7057,9810,9568,1762,3293,1776"


def run(text: str, strategy: str = "median"):
    return prepare(read_raw_text(text, "raw.csv"), FEATURES, LABELS, strategy, "raw.csv")


BAD_DATA = [
    ("missing column", "Channel,Region,Fresh,Milk,Grocery,Frozen,Detergents_Paper\n2,3,1,2,3,4,5\n", "missing column(s) Delicassen"),
    ("negative value", f"{HEADER}\n{ROW1}\n2,3,7057,-5,9568,1762,3293,1776\n", "row 2, column Milk: '-5' is negative"),
    ("text in a number column", f"{HEADER}\n{ROW1}\n2,3,7057,abc,9568,1762,3293,1776\n", "row 2, column Milk: 'abc' is not a number"),
    ("infinity", f"{HEADER}\n{ROW1}\n2,3,inf,1,9568,1762,3293,1776\n", "row 2, column Fresh: 'inf' is not a finite number"),
    ("NaN, no missing mark", f"{HEADER}\n{ROW1}\n2,3,NaN,1,9568,1762,3293,1776\n", "row 2, column Fresh: 'NaN' is not a finite number"),
    # Python's float() reads these; no spreadsheet writes them for a number, and the API refuses them too
    ("digits grouped by underscores", f"{HEADER}\n{ROW1}\n2,3,7_057,1,9568,1762,3293,1776\n", "row 2, column Fresh: '7_057' is not a number (write digits"),
    ("full-width digits", f"{HEADER}\n{ROW1}\n2,3,\uff17\uff10,1,9568,1762,3293,1776\n", "row 2, column Fresh: '\uff17\uff10' is not a number"),
    ("empty file", "", "the file is empty"),
    ("header only", f"{HEADER}\n", "header but no data rows"),
    ("all-missing column", f"{HEADER}\n2,3,1,2,3,,5,6\n1,3,1,2,3,,5,6\n", "column Frozen: has no values at all"),
    ("unknown channel code", f"{HEADER}\n7,3,1,2,3,4,5,6\n", "row 1, column Channel: '7' is not a valid code"),
    ("missing label", f"{HEADER}\n{ROW1}\n,3,1,2,3,4,5,6\n", "row 2, column Channel: missing"),
    ("truncated row", f"{HEADER}\n{ROW1}\n2,3,7057,9810\n", "row 2: has 4 field(s), the header has 8"),
    ("row with an extra field", f"{HEADER}\n{ROW1},9\n{ROW2}\n", "row 1: has 9 field(s), the header has 8"),
    # pandas renames the second Milk to Milk.1 and only the first would be read: refused, not guessed
    ("column given twice", f"{HEADER},Milk\n{ROW1},1\n", "the header: column Milk appears 2 times (columns 4, 9)"),
    ("column given twice, once with spaces", f"{HEADER}, Milk \n{ROW1},1\n", "column Milk appears 2 times"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_bad_data_is_rejected_with_file_row_and_column(case: str, text: str, message: str) -> None:
    with pytest.raises(DataValidationError) as err:
        run(text)
    assert "raw.csv" in str(err.value)
    assert message in str(err.value)


def test_every_bad_cell_is_listed_not_only_the_first() -> None:
    text = f"{HEADER}\n2,3,x,1,1,1,1,1\n2,3,1,1,1,1,-1,1\n"
    with pytest.raises(DataValidationError) as err:
        run(text)
    assert len(err.value.problems) == 2
    assert "row 1, column Fresh" in str(err.value) and "row 2, column Detergents_Paper" in str(err.value)


def test_duplicate_rows_are_reported_not_dropped() -> None:
    result = run(f"{HEADER}\n{ROW1}\n{ROW2}\n{ROW1}\n")
    assert result.report["n_rows"] == 3
    assert result.report["duplicates"] == {"n_groups": 1, "rows": [[1, 3]]}


@pytest.mark.parametrize(("strategy", "expected"), [("median", 5.0), ("mean", 6.0)])
def test_missing_spending_is_imputed_and_reported(strategy: str, expected: float) -> None:
    text = f"{HEADER}\n2,3,1,1,1,1,1,1\n2,3,2,1,1,1,1,1\n2,3,,1,1,1,1,1\n2,3,5,1,1,1,1,1\n2,3,5,1,1,1,1,1\n2,3,17,1,1,1,1,1\n"
    result = run(text, strategy)
    assert result.report["impute"]["rows"] == {"Fresh": [3]}
    assert result.report["impute"]["values"]["Fresh"] == expected
    assert result.customers.loc[result.customers["row"] == 3, "Fresh"].item() == expected


def test_na_as_r_writes_it_is_a_missing_value_imputed_and_reported_like_an_empty_cell() -> None:
    """R's write.csv writes a value not known as NA: imputed and reported per column and row (any case, spaces around
    it aside), as the API's CSV readers read it (tests/api/test_csvio.py); a label so marked is missing."""
    result = run(f"{HEADER}\n{ROW1}\n2,3,NA,1,1,1,1,1\n2,3,5, na ,1,1,1,1\n2,3,7,1,1,1,1,\n{ROW2}\n")
    assert result.report["impute"]["rows"] == {"Fresh": [2], "Milk": [3], "Delicassen": [4]}
    assert result.report["missing"] == {"Channel": 0, "Region": 0, "Fresh": 1, "Milk": 1, "Grocery": 0, "Frozen": 0, "Detergents_Paper": 0, "Delicassen": 1}
    values = result.report["impute"]["values"]
    assert result.customers.set_index("row").loc[[2, 3], ["Fresh", "Milk"]].to_numpy().tolist() == [[values["Fresh"], 1.0], [5.0, values["Milk"]]]
    with pytest.raises(DataValidationError, match="row 2, column Region: missing; every customer needs a Region code"):
        run(f"{HEADER}\n{ROW1}\n2,Na,1,1,1,1,1,1\n")


@pytest.mark.parametrize("cell", ["NaN", "nan", " NAN", "-nan", "inf", "-Infinity"])
def test_nan_is_no_missing_mark_but_a_number_that_is_not_finite_named_by_row_and_column(cell: str) -> None:
    """NaN had been imputed as NA is; like the API, the pipeline now refuses it as not finite, saying how to give a
    value that is not known. A label gets no such advice: every customer needs a code."""
    with pytest.raises(DataValidationError) as err:
        run(f"{HEADER}\n{ROW1}\n2,3,7057,{cell},9568,1762,3293,1776\n")
    assert err.value.problems == [f"row 2, column Milk: {cell.strip()!r} is not a finite number: leave the cell empty when the amount is not known"]
    with pytest.raises(DataValidationError) as err:
        run(f"{HEADER}\n{ROW1}\n{cell},3,7057,1,9568,1762,3293,1776\n")
    assert err.value.problems == [f"row 2, column Channel: {cell.strip()!r} is not a finite number"]


def test_impute_error_strategy_names_the_missing_rows() -> None:
    with pytest.raises(DataValidationError, match=r"column Milk: missing value in row\(s\) 2"):
        run(f"{HEADER}\n{ROW1}\n2,3,1,,1,1,1,1\n", "error")


def test_unknown_impute_strategy_names_the_key() -> None:
    with pytest.raises(ValueError, match="data.impute"):
        run(f"{HEADER}\n{ROW1}\n", "mode")


def test_validate_keeps_raw_row_numbers() -> None:
    frame = validate_raw(read_raw_text(f"{HEADER}\n{ROW1}\n{ROW2}\n", "x"), FEATURES, LABELS, "x")
    assert frame["row"].tolist() == [1, 2]
    assert frame["Milk"].tolist() == [9656.0, 9810.0]


def test_byte_order_mark_and_spaces_in_header_are_tolerated() -> None:
    text = "\ufeff" + HEADER.replace(",", ", ") + f"\n{ROW1}\n"
    assert run(text).report["n_rows"] == 1


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_read_like_the_api_reads_them(delimiter: str) -> None:
    """Spreadsheets in many locales save CSV with ";": the pipeline reads what the API accepts, by the same rule."""
    text = f"{HEADER}\n{ROW1}\n{ROW2}\n"
    separated = run(text.replace(",", delimiter))
    pd.testing.assert_frame_equal(separated.customers, run(text).customers)


def test_a_decimal_comma_in_a_semicolon_file_names_the_cell() -> None:
    text = f"{HEADER}\n{ROW1}\n2,3,7057.5,9810,9568,1762,3293,1776\n".replace(",", ";").replace("7057.5", "7057,5")
    with pytest.raises(DataValidationError, match="row 2, column Fresh: '7057,5' is not a number"):
        run(text)


def test_unnamed_columns_from_trailing_empty_cells_are_ignored() -> None:
    # a spreadsheet writes these for cells that were once used; they are not duplicates of each other
    prepared = run(f"{HEADER},,\n{ROW1},,\n{ROW2},,\n")
    assert sorted(prepared.customers["Milk"].tolist()) == [9656, 9810]


def test_canonical_order_does_not_depend_on_file_order() -> None:
    frame = pd.DataFrame({"row": [1, 2, 3], "a": [3.0, 1.0, 2.0]})
    shuffled = frame.iloc[[2, 0, 1]]
    assert canonical_order(frame, ["a"])["a"].tolist() == canonical_order(shuffled, ["a"])["a"].tolist() == [1.0, 2.0, 3.0]


def test_duplicate_groups_lists_row_ids() -> None:
    frame = pd.DataFrame({"row": [1, 2, 3, 4], "a": [1, 2, 1, 2], "b": [0, 0, 0, 1]})
    assert duplicate_groups(frame, ["a", "b"]) == [[1, 3]]


def test_impute_leaves_complete_data_alone() -> None:
    frame = pd.DataFrame({"row": [1, 2], "Fresh": [1.0, 2.0]})
    out, rows = impute(frame, ["Fresh"], "median", "x")
    assert rows == {} and np.array_equal(out["Fresh"], frame["Fresh"])


def test_read_raw_names_the_file_as_params_writes_it(tmp_path: Path) -> None:
    """The notebook passes data.raw as written in params.yaml: every message names that path, the empty file's too."""
    from stages.prepare import read_raw

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError, match=r"^data/raw/empty\.csv: invalid data\n  the file is empty"):
        read_raw(empty, "data/raw/empty.csv")
    with pytest.raises(DataValidationError, match=rf"^{empty}: invalid data"):
        read_raw(empty)


def test_a_file_that_is_not_utf8_names_the_row(tmp_path: Path) -> None:
    """A spreadsheet saved as Latin-1 gave a bare UnicodeDecodeError with a byte offset."""
    from stages.prepare import read_raw

    latin = tmp_path / "latin.csv"
    latin.write_bytes("Channel,Region,Fresh\n2,3,12669\n2,3,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"^data/raw/latin\.csv: invalid data\n  row 2 is not UTF-8 text \(byte 0xe9\); save the file as CSV UTF-8"):
        read_raw(latin, "data/raw/latin.csv")
    latin.write_bytes("Channel,Region,Fr\u00e9sh\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"the header is not UTF-8 text"):
        read_raw(latin, "data/raw/latin.csv")


def test_spread_text_is_computed_from_the_data() -> None:
    from stages.prepare import spread_text

    frame = pd.DataFrame({"Fresh": [1, 2, 3, 100], "Milk": [5, 5, 5, 5]})
    text = spread_text(frame, ["Fresh", "Milk"])
    assert text.startswith("The mean is above the median in 1 of the 2 categories (Fresh 10.60×): spending is right-skewed.")
    assert "1 of 4 customers (25%) spend 10 times a category's median or more" in text
    assert spread_text(pd.DataFrame({"Fresh": [3, 3, 1]}), ["Fresh"]).startswith("The mean is above the median in no category")


def test_spread_text_prints_ratios_and_shares_as_every_other_text_does() -> None:
    """Its skew ratios were printed to one decimal ("1.4×", "2.0×") and its share by Python's half-to-even rounding
    (1 of 8 read "12%"), where every other ratio is ``stages.names.times`` (two decimals, "1.44×") and every share
    ``stages.names.percent`` (12.5% → "13%"); a mean a hair above the median read "above the median (… 1.0×)"."""
    from stages.prepare import spread_text

    skewed = pd.DataFrame({"Fresh": [100.0] * 7 + [3620.0], "Milk": [100.0] * 7 + [101.6]})  # means 540 and 100.2
    text = spread_text(skewed, ["Fresh", "Milk"])
    assert text.startswith("The mean is above the median in 1 of the 2 categories (Fresh 5.40×): spending is right-skewed.")
    assert " 1 of 8 customers (13%) spend 10 times" in text
    near = pd.DataFrame({"Fresh": [100.0, 100.0, 100.0, 101.6]})  # mean 100.4: 1.004 prints as 1.00×, not above
    assert spread_text(near, ["Fresh"]).startswith("The mean is above the median in no category")


@pytest.mark.parametrize(("features", "where"), [(["Fresh", "Milk"], "both categories"), (["Fresh", "Milk", "Frozen"], "all 3 categories")])
def test_spread_text_says_both_or_all_not_2_of_the_2(features: list[str], where: str) -> None:
    from stages.prepare import spread_text

    frame = pd.DataFrame({"Fresh": [1, 2, 3, 100], "Milk": [1, 2, 3, 50], "Frozen": [1, 2, 3, 70]})
    assert spread_text(frame, features).startswith(f"The mean is above the median in {where} (")


def test_a_label_value_no_customer_has_is_counted_as_zero() -> None:
    # new data without Lisbon customers: the report (site/_variables.yml) still finds Lisbon, with 0 customers
    result = run(f"{HEADER}\n{ROW1}\n1,2,7057,9810,9568,1762,3293,1776\n")
    assert result.report["labels"] == {"Channel": {"Horeca": 1, "Retail": 1}, "Region": {"Lisbon": 0, "Oporto": 1, "Other": 1}}
    only_retail = run(f"{HEADER}\n{ROW1}\n{ROW2}\n")
    assert only_retail.report["labels"]["Channel"] == {"Horeca": 0, "Retail": 2}


def test_notebook_1_says_what_data_impute_error_does_with_missing_spending() -> None:
    """`data.impute=error`: notebook 1 said "Missing spending is filled per `data.impute`", where that setting fills
    nothing and stops the pipeline naming the rows (the methods page's `missing_rule`)."""
    import json

    from stages import config
    nb = json.loads((config.ROOT / "notebook" / "01_prepare.ipynb").read_text(encoding="utf-8"))
    text = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown").replace("\n", " ")
    assert "filled per `data.impute`;" not in text
    assert "with `data.impute: error`, stops the pipeline here naming its rows" in text
