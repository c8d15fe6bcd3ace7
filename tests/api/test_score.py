"""``python -m api.score``: the streamed command gives the same rows and errors as the batch endpoint."""

from __future__ import annotations

import csv
import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.csvio import NOT_UTF8
from api import score as score_module
from api.score import main
from stages import config
from tests.api.conftest import GOOD, HEADER, MARKED, MARKED_RESULTS

ROWS = [",".join(map(str, [*GOOD.values(), 2, 3])), "1,2", "-1,1,1,1,1,1,,", ",,,,,,,", "5,5,5,5,5,,Retail,Oporto"]


def test_score_file_matches_the_batch_endpoint(tmp_path: Path, client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    data = "\ufeff" + "\n".join([HEADER.replace(",", ";"), *[r.replace(",", ";") for r in ROWS]]) + "\n"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(data, encoding="utf-8")
    assert main([str(source), "-o", str(target), "--block-size", "256"]) == 0
    assert "5 rows, 2 segmented, 3 with errors" in capsys.readouterr().err
    cli = list(csv.DictReader(io.StringIO(target.read_text())))
    http = list(csv.DictReader(io.StringIO(client.post("/api/segment/batch?format=csv", data=data.encode(), content_type="text/csv").get_data(as_text=True))))
    assert cli == http
    assert [r["error"] == "" for r in cli] == [True, False, False, False, True]


def test_na_is_imputed_and_nan_refused_as_the_batch_endpoint_does(tmp_path: Path, client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    """NA (R's mark of a value not known) was refused as text; it is imputed and named in the imputed column now, and
    NaN is an error row, as the batch endpoint answers the same file."""
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(MARKED, encoding="utf-8")
    assert main([str(source), "-o", str(target)]) == 0
    assert "5 rows, 3 segmented, 2 with errors" in capsys.readouterr().err
    cli = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["imputed"] or r["error"] for r in cli] == [";".join(m) if isinstance(m, list) else f"Milk: {m}" for m in MARKED_RESULTS]
    http = client.post("/api/segment/batch?format=csv", data=MARKED.encode(), content_type="text/csv").get_data(as_text=True)
    assert cli == list(csv.DictReader(io.StringIO(http)))


def test_bad_header_exits_2_with_the_columns_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text("Fresh,Milk,Foo\n1,2,3\n")
    assert main([str(source), "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "Foo: not one of the API's columns" in err and "Grocery: missing column" in err
    assert not (tmp_path / "out.csv").exists()


def test_missing_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.csv"), "-o", str(tmp_path / "out.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_standard_input_is_refused_with_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` is standard output for -o; as the input it was "-: no such file"."""
    monkeypatch.chdir(tmp_path)
    assert main(["-", "-o", str(tmp_path / "out.csv")]) == 2
    assert "the input must be a file, not standard input" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_row_not_utf8_is_an_error_row_not_a_failed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    # a UTF-8 byte-order mark says the file is UTF-8: its byte that is not is an error of its row (see Decoder)
    source.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"\n1,2,3,4,5,6,,\n1,2,3,4,5,\xe96,,\n7,8,9,1,2,3,,\n")
    assert main([str(source), "-o", str(target)]) == 0
    assert "3 rows, 2 segmented, 1 with errors" in capsys.readouterr().err
    out = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["row"], r["error"]) for r in out] == [("1", ""), ("2", f"Delicassen: {NOT_UTF8}"), ("3", "")]


def _run_command(source: Path, target: Path) -> str:
    """``python -m api.score`` in a fresh interpreter; its stderr, with the modules it loaded reported at exit."""
    report = "import atexit, sys; atexit.register(lambda: print('loaded:', sorted({'pandas', 'pydantic', 'flask'} & set(sys.modules)), file=sys.stderr))"
    command = [sys.executable, "-c", f"{report}; import runpy; sys.argv[0] = 'api.score'; runpy.run_module('api.score', run_name='__main__', alter_sys=True)"]
    done = subprocess.run([*command, str(source), "-o", str(target)], cwd=config.ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_command_runs_without_pandas_and_writes_the_same_file(tmp_path: Path) -> None:
    """`python -m api.score` keeps pyarrow from importing pandas (start-up time); nothing it does needs pandas."""
    source = tmp_path / "in.csv"
    source.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode() + b"1,2,3,4,5,\xe96,,\n7,8,9,1,2,3,Horeca,\n")
    stderr = _run_command(source, tmp_path / "cli.csv")
    assert "loaded: ['pydantic']" in stderr and "7 rows, 3 segmented, 4 with errors" in stderr  # pydantic words the errors
    assert main([str(source), "-o", str(tmp_path / "in_process.csv")]) == 0
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "in_process.csv").read_bytes()


def test_a_file_without_bad_rows_is_scored_without_pydantic(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("\n".join([HEADER, ROWS[0], ROWS[4]]) + "\n")
    stderr = _run_command(source, tmp_path / "cli.csv")
    assert "loaded: []" in stderr and "2 rows, 2 segmented, 0 with errors" in stderr


@pytest.mark.parametrize("where", ["a folder", "in a missing folder"])
def test_an_output_path_that_cannot_be_written_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text("\n".join([HEADER, ROWS[0]]) + "\n")
    target = tmp_path / "out" if where == "a folder" else tmp_path / "missing" / "out.csv"
    if where == "a folder":
        target.mkdir()
    assert main([str(source), "-o", str(target)]) == 2
    assert str(target) in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["in.csv", *(["out"] if where == "a folder" else [])])


def test_a_failure_to_write_exits_2_and_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An OSError at the last step (moving the finished file into place) is reported; no temporary file is left."""
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("\n".join([HEADER, ROWS[0]]) + "\n")

    def fail(self: Path, other: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", fail)
    assert main([str(source), "-o", str(target)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def _customers(path: Path, n: int = 3) -> bytes:
    """A small good CSV of ``n`` rows at ``path``; returns its bytes."""
    data = ("\n".join([HEADER, *[ROWS[0]] * n]) + "\n").encode()
    path.write_bytes(data)
    return data


def test_a_symlinked_output_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    """`-o link.csv` where link.csv points elsewhere writes the file it points to; the link is not replaced by a file."""
    source, real, link = tmp_path / "in.csv", tmp_path / "keep" / "real.csv", tmp_path / "link.csv"
    _customers(source)
    real.parent.mkdir()
    real.write_text("previous\n")
    real.chmod(0o640)
    link.symlink_to(real)
    assert main([str(source), "-o", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith("\"row\",") and len(real.read_text().splitlines()) == 4
    assert real.stat().st_mode & 0o777 == 0o640  # an existing output keeps its permissions
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.csv"]  # no temporary file left


@pytest.mark.parametrize("how", ["the same path", "a symlink to it", "a hard link to it"])
def test_the_input_file_is_never_the_output(tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str) -> None:
    source = tmp_path / "in.csv"
    data = _customers(source)
    target = {"the same path": source, "a symlink to it": tmp_path / "link.csv", "a hard link to it": tmp_path / "hard.csv"}[how]
    if how == "a symlink to it":
        target.symlink_to(source)
    elif how == "a hard link to it":
        target.hardlink_to(source)
    assert main([str(source), "-o", str(target)]) == 2
    assert f"{target}: is the input file" in capsys.readouterr().err
    assert source.read_bytes() == data


def test_an_input_that_is_not_a_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "-o", str(tmp_path / "out.csv")]) == 2
    assert f"{tmp_path}: is a directory; give the path of the CSV file to read" in capsys.readouterr().err


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.score", *args]


def test_dash_writes_standard_output(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n")
    done = subprocess.run(_command(str(source), "-o", "-"), cwd=config.ROOT, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert b"standard output: 5 rows, 2 segmented, 3 with errors" in done.stderr
    assert main([str(source), "-o", str(tmp_path / "out.csv")]) == 0
    assert done.stdout == (tmp_path / "out.csv").read_bytes()
    assert not (config.ROOT / "-").exists()


def test_a_named_pipe_is_written_to_not_replaced(tmp_path: Path) -> None:
    """A device or pipe (``/dev/stdout`` is one when piped) cannot be replaced by a file, only written to."""
    source, fifo = tmp_path / "in.csv", tmp_path / "out.fifo"
    _customers(source, 2)
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    done = subprocess.run(_command(str(source), "-o", str(fifo)), cwd=config.ROOT, capture_output=True, text=True, check=False)
    out, _ = reader.communicate(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert out.decode().startswith("\"row\",") and len(out.decode().splitlines()) == 3


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """`python -m api.score in.csv -o - | head -1`: no traceback, exit 141 like other tools stopped by SIGPIPE."""
    source = tmp_path / "in.csv"
    _customers(source, 200_000)
    with subprocess.Popen(_command(str(source), "-o", "-"), cwd=config.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as command:
        assert command.stdout is not None and command.stderr is not None
        assert command.stdout.readline().startswith(b"\"row\",")
        command.stdout.close()
        stderr = command.stderr.read().decode()
        assert command.wait(timeout=120) == 128 + signal.SIGPIPE
    assert stderr == ""


def test_a_termination_signal_leaves_the_old_output_and_no_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    _customers(source, 5_000)
    target.write_text("previous\n")
    answer = score_module._answer
    blocks = iter(range(10**9))

    def answer_then_stop(*args: Any) -> Any:
        if next(blocks) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs in the main thread, which is writing
        return answer(*args)

    monkeypatch.setattr(score_module, "_answer", answer_then_stop)
    before = signal.getsignal(signal.SIGTERM)
    assert main([str(source), "-o", str(target), "--block-size", "4096"]) == 128 + signal.SIGTERM
    assert f"stopped by SIGTERM before the end; {target} is as it was" in capsys.readouterr().err
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.parametrize("output", ["/dev/stdout", "/dev/fd/1", "-"])
def test_standard_output_by_any_name_is_written_through_the_shells_descriptor(tmp_path: Path, output: str) -> None:
    """Piped, `-o /dev/stdout` reaches the pipe (its path resolves into /proc and cannot be replaced); redirected
    with `>>`, it appends to the file instead of replacing what was there."""
    source, expected = tmp_path / "in.csv", tmp_path / "expected.csv"
    _customers(source, 3)
    assert main([str(source), "-o", str(expected)]) == 0
    piped = subprocess.run(_command(str(source), "-o", output), cwd=config.ROOT, capture_output=True, check=False)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == expected.read_bytes()
    appended = tmp_path / "log.csv"
    appended.write_bytes(b"KEEP\n")
    with appended.open("ab") as log:
        done = subprocess.run(_command(str(source), "-o", output), cwd=config.ROOT, stdout=log, stderr=subprocess.PIPE, check=False)
    assert done.returncode == 0, done.stderr
    assert appended.read_bytes() == b"KEEP\n" + expected.read_bytes()


def test_a_mixture_model_scores_with_the_probability_columns_of_the_batch_endpoint(tmp_path: Path, gmm_app, capsys: pytest.CaptureFixture[str]) -> None:
    root = gmm_app.config["ARTIFACTS_ROOT"]
    data = "\n".join([HEADER, *ROWS]) + "\n"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(data, encoding="utf-8")
    assert main([str(source), "-o", str(target), "--root", str(root), "--block-size", "256"]) == 0
    cli = list(csv.DictReader(io.StringIO(target.read_text())))
    http = list(csv.DictReader(io.StringIO(gmm_app.test_client().post("/api/segment/batch?format=csv", data=data.encode(), content_type="text/csv").get_data(as_text=True))))
    assert cli == http
    assert "probability_0" in cli[0] and cli[0]["probability_0"] != "" and cli[1]["probability_0"] == ""


def test_a_block_smaller_than_the_header_line_still_reads_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pyarrow skipped the header itself, which had to fit in one block: `--block-size 40` (rows fit, the header does not) failed the file."""
    source, small, default = tmp_path / "in.csv", tmp_path / "small.csv", tmp_path / "default.csv"
    source.write_text("\n\n" + "\n".join([HEADER, *ROWS]) + "\n")
    assert main([str(source), "-o", str(small), "--block-size", "40"]) == 0
    assert main([str(source), "-o", str(default)]) == 0
    assert "5 rows, 2 segmented, 3 with errors" in capsys.readouterr().err
    assert small.read_bytes() == default.read_bytes()


def test_a_file_pyarrow_cannot_parse_exits_2_without_aborting(tmp_path: Path) -> None:
    """A quote never closed in the first row of a file larger than a block: pyarrow's read-ahead thread could free
    its blocks as the interpreter exited, and the process aborted ("terminate called without an active exception",
    exit 134) in about 1 run in 5. Each run must exit 2 with the message."""
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "\n" + '1,2,3,4,5,"6\n' + "1,2,3,4,5,6,,\n" * 400_000)
    for _ in range(15):
        done = subprocess.run(_command(str(source), "-o", "-", "--block-size", "100000"), cwd=config.ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 2 and "terminate called" not in done.stderr, done.stderr
        assert 'a quote " that is not closed, or a row longer than 100,000 bytes, in the first rows' in done.stderr


def test_two_runs_writing_the_same_file_each_write_a_whole_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs with the same output, both mid-write at once (held there by a barrier): each finishes, and the
    file is one run's whole answer, never a mix. They once shared one temporary name: one run's rows were written
    over the other's, and that run still reported success."""
    import threading

    from api import artifacts as artifact_files

    art = artifact_files.load(config.ROOT, pages=False)
    sources = {}
    for name, rows in (("a", ROWS[:1] * 40), ("b", ROWS[4:5] * 25)):
        sources[name] = tmp_path / f"{name}.csv"
        sources[name].write_text("\n".join([HEADER, *rows]) + "\n")
    target = tmp_path / "out.csv"
    barrier = threading.Barrier(2, timeout=20)
    write = score_module._score_into

    def held(*args: Any) -> score_module.Outcome:
        counts = write(*args)
        barrier.wait()  # both temporary files written, neither yet in place
        return counts

    monkeypatch.setattr(score_module, "_score_into", held)
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            results[name] = score_module.score_file(sources[name], target, art)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            results[name] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"a": (40, 0, "utf-8"), "b": (25, 0, "utf-8")}
    answer = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(answer) in (40, 25) and len({r["Fresh"] for r in answer}) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_summary_counts_one_row_in_the_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "\n" + ROWS[0] + "\n")
    assert main([str(source), "-o", str(tmp_path / "out.csv")]) == 0
    assert ": 1 row, 1 segmented, 0 with errors" in capsys.readouterr().err


def test_a_repeated_header_line_is_one_error_that_says_so(tmp_path: Path, client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    """Two exports joined together: the second header is one error naming what it is (it was eight: "not a
    number" per category and "not a valid code" per label), from the command and the endpoint alike, with the
    header written as the file writes it (Delicatessen, spaces around a name); every customer is still scored."""
    header = HEADER.replace("Delicassen", "Delicatessen")
    data = "\n".join([header, ROWS[0], header.replace("Fresh", " Fresh "), ROWS[0]]) + "\n"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(data, encoding="utf-8")
    assert main([str(source), "-o", str(target)]) == 0
    assert "3 rows, 2 segmented, 1 with errors" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["error"] for r in rows] == ["", "row: repeats the header line, so it is not a customer (were files joined together?)", ""]
    http = client.post("/api/segment/batch", data=data.encode(), content_type="text/csv").get_json()["results"]
    assert http[1]["errors"] == [{"field": "row", "row": 2, "message": "repeats the header line, so it is not a customer (were files joined together?)"}]
    # a row that only starts like the header is a customer with bad cells, named one by one
    partial = client.post("/api/segment/batch", data=f"{HEADER}\nFresh,1,1,1,1,1,1,1\n".encode(), content_type="text/csv").get_json()["results"]
    assert [e["field"] for e in partial[0]["errors"]] == ["Fresh"]


def test_an_empty_row_is_one_error_that_says_so(tmp_path: Path, client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    """A spreadsheet saves the rows it once formatted as separators only (`;;;;;;;;`): each was "Fresh, Milk, …: no
    spending given" for the six categories; it is one error saying the row is empty, from the command and the endpoint
    alike. A row with a customer number but no spending is still a customer without spending."""
    data = "\n".join([f"Customer,{HEADER}", f"C-1,{ROWS[0]}", ",,,,,,,,", " , ,,,,,,NA,", "C-3,,,,,,,,"]) + "\n"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(data, encoding="utf-8")
    assert main([str(source), "-o", str(target)]) == 0
    assert "4 rows, 1 segmented, 3 with errors" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    empty = "is empty (no cell holds a value), so it is not a customer: delete it from the file"
    assert [r["error"] for r in rows[1:3]] == [f"row: {empty}"] * 2
    assert rows[3]["error"].startswith("Fresh, Milk, Grocery, Frozen, Detergents_Paper, Delicassen: no spending given")
    http = client.post("/api/segment/batch", data=data.encode(), content_type="text/csv").get_json()["results"]
    assert [r.get("errors") for r in http[1:3]] == [[{"field": "row", "row": 2, "message": empty}], [{"field": "row", "row": 3, "message": empty}]]


def test_ctrl_c_while_the_libraries_load_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """SIGINT sent once pyarrow's library is mapped into the process (its imports and the artifacts' loading take
    about half a second): exit 130 with a line saying so, no traceback, no output file."""
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    _customers(source, 3)
    with subprocess.Popen(_command(str(source), "-o", str(target)), cwd=config.ROOT, stderr=subprocess.PIPE, text=True) as command:
        maps = Path(f"/proc/{command.pid}/maps")
        while command.poll() is None and "libarrow" not in maps.read_text():
            time.sleep(0.001)
        command.send_signal(signal.SIGINT)
        stderr = command.stderr.read() if command.stderr else ""
        code = command.wait(timeout=60)
    assert code == 128 + signal.SIGINT, stderr
    assert "Traceback" not in stderr and "stopped by SIGINT" in stderr, stderr
    assert not target.exists()


def test_a_problem_of_the_whole_file_is_named_as_the_file_not_as_a_request_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"")
    assert main([str(source), "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "  file: empty file" in err and "body" not in err
