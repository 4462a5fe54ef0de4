"""CSV files as spreadsheets and locales save them: read like a plain comma-separated UTF-8 file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kardashev.data.csv_format import CsvFormat, csv_format
from kardashev.data.layout import file_layout, read_table
from kardashev.errors import DataFormatError, NotFoundError


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"id": [f"n{i:03d}" for i in range(50)], "era": ["0001"] * 50, "prediction": rng.random(50)}
    )


def _euro(frame: pd.DataFrame) -> str:
    text = frame.assign(prediction=[f"{v:.17g}".replace(".", ",") for v in frame["prediction"]])
    return text.to_csv(sep=";", index=False)


@pytest.mark.parametrize(
    ("name", "write", "expected"),
    [
        ("plain", lambda f, p: f.to_csv(p, index=False), CsvFormat()),
        ("semicolon", lambda f, p: f.to_csv(p, index=False, sep=";"), CsvFormat(sep=";")),
        ("tab", lambda f, p: f.to_csv(p, index=False, sep="\t"), CsvFormat(sep="\t")),
        ("pipe", lambda f, p: f.to_csv(p, index=False, sep="|"), CsvFormat(sep="|")),
        ("decimal comma", lambda f, p: p.write_text(_euro(f)), CsvFormat(sep=";", decimal=",")),
        (
            "utf-8 with BOM",
            lambda f, p: p.write_bytes(b"\xef\xbb\xbf" + f.to_csv(index=False).encode()),
            CsvFormat(encoding="utf-8-sig"),
        ),
        ("utf-16", lambda f, p: f.to_csv(p, index=False, encoding="utf-16"), CsvFormat(encoding="utf-16")),
        (
            "utf-16 tabs",
            lambda f, p: f.to_csv(p, index=False, sep="\t", encoding="utf-16"),
            CsvFormat(sep="\t", encoding="utf-16"),
        ),
    ],
)
def test_every_dialect_reads_as_the_plain_file(name, write, expected, tmp_path: Path) -> None:
    frame, path = _frame(), tmp_path / f"{name}.csv"
    write(frame, path)
    assert csv_format(path) == expected
    assert file_layout(path).columns == ("id", "era", "prediction")
    pd.testing.assert_frame_equal(read_table(path), frame, check_exact=False, rtol=1e-15)
    assert csv_format(path).is_plain == (name in ("plain", "utf-8 with BOM"))


def test_describe_names_what_differs_from_a_plain_csv() -> None:
    assert CsvFormat(sep=";", decimal=",", encoding="utf-16").describe() == (
        "semicolon-separated, decimal commas, UTF-16"
    )
    assert CsvFormat(sep="\t").describe() == "tab-separated"


def test_commas_inside_a_semicolon_file_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("id;era;prediction\nn1;0001;0,5\nn2;0001;0,25\n")
    assert csv_format(path) == CsvFormat(sep=";", decimal=",")
    assert read_table(path)["prediction"].tolist() == [0.5, 0.25]


def test_other_encodings_are_named_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,era,modèle\nn1,0001,0.5\n".encode("latin-1"))
    with pytest.raises(DataFormatError) as caught:
        read_table(path)
    assert caught.value.code == "bad_encoding"
    assert caught.value.message == (
        "latin.csv: not UTF-8 (byte 0xe8 on line 1: Latin-1 or Windows-1252?); save it as UTF-8"
    )


def test_a_character_cut_by_the_sample_end_is_not_an_encoding_error(tmp_path: Path) -> None:
    line = "é0000,0001,0.5\n".encode()
    padding = next(k for k in range(len(line)) if (65535 - len(b"id,era,prediction\n") - k) % len(line) == 0)
    data = b"id,era,prediction" + b"x" * padding + b"\n" + line * 5000
    assert data[65535] == 0xC3  # the first byte of "é" is the sample's last byte
    path = tmp_path / "long.csv"
    path.write_bytes(data)
    assert csv_format(path) == CsvFormat()


def test_an_unnamed_first_column_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "noid.csv"
    _frame().set_index("id").to_csv(path, index_label=False)
    assert csv_format(path).unnamed_first_column
    with pytest.raises(DataFormatError, match=r"the unnamed first column the ids.*name it 'id'"):
        file_layout(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        csv_format(tmp_path / "nope.csv")
