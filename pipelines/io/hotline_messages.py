"""Citizens' messages from a CSV or XLSX file, and the labelled reference set.

The reference set is the 2020 Teddy Cup's (``hotline_routing.reference_data``
in ``infra/config/zongzhi.yaml``): ``labelled_messages_fujian2.xlsx`` with its
subject (``留言主题``), body (``留言详情``) and first-level category
(``一级分类``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.errors import UsageError

__all__ = [
    "LABELLED_FILE",
    "REPLIED_FILE",
    "VOTED_FILE",
    "read_labelled",
    "read_messages",
    "read_replied",
    "read_voted",
]

LABELLED_FILE = "labelled_messages_fujian2.xlsx"
REPLIED_FILE = "messages_with_replies.xlsx"
VOTED_FILE = "messages_with_votes.xlsx"
REPLY_COLUMN = "答复意见"
TITLE_COLUMN = "留言主题"
TEXT_COLUMN = "留言详情"
LABEL_COLUMN = "一级分类"
_SUFFIXES = (".csv", ".xlsx")
#: Characters of a broken CSV line kept in its report.
_BROKEN_PREVIEW = 80


def read_messages(path: Path, columns: list[str]) -> pd.DataFrame:
    """The file's rows, its ``columns`` as text; a missing file or column is a :class:`UsageError` (exit 2).

    A CSV line that does not split into the header's number of fields is
    skipped; each is listed in ``frame.attrs["broken_lines"]`` with the
    reason and the start of its text.
    """
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise UsageError(f"{path}: expected a .csv or .xlsx file of messages")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    broken: list[dict] = []

    def skip(fields: list[str]) -> None:
        broken.append(
            {
                "reason": f"{len(fields)} fields, not the header's",
                "text": ",".join(fields)[:_BROKEN_PREVIEW],
            }
        )

    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, engine="python", on_bad_lines=skip)
        else:
            frame = pd.read_excel(path, dtype=str)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UsageError(f"{path}: not readable as {path.suffix} ({exc})") from exc
    frame.attrs["broken_lines"] = broken
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{path}: no column {', '.join(repr(c) for c in missing)}; "
            f"its columns are {', '.join(repr(str(c)) for c in frame.columns)}"
        )
    return frame


def read_labelled(folder: Path) -> pd.DataFrame:
    """The labelled reference messages: ``title``, ``body``, ``label``."""
    frame = read_messages(folder / LABELLED_FILE, [TITLE_COLUMN, TEXT_COLUMN, LABEL_COLUMN])
    return pd.DataFrame(
        {
            "title": frame[TITLE_COLUMN].fillna(""),
            "body": frame[TEXT_COLUMN].fillna(""),
            "label": frame[LABEL_COLUMN].str.strip(),
        }
    )


def read_replied(folder: Path) -> pd.DataFrame:
    """The answered reference messages: ``title``, ``body``, ``reply``."""
    frame = read_messages(folder / REPLIED_FILE, [TITLE_COLUMN, TEXT_COLUMN, REPLY_COLUMN])
    return pd.DataFrame(
        {
            "title": frame[TITLE_COLUMN].fillna(""),
            "body": frame[TEXT_COLUMN].fillna(""),
            "reply": frame[REPLY_COLUMN].fillna(""),
        }
    )


def read_voted(folder: Path) -> pd.DataFrame:
    """The voted reference messages (subjects and bodies; they carry no labels): ``title``, ``body``."""
    frame = read_messages(folder / VOTED_FILE, [TITLE_COLUMN, TEXT_COLUMN])
    return pd.DataFrame(
        {"title": frame[TITLE_COLUMN].fillna(""), "body": frame[TEXT_COLUMN].fillna("")}
    )
