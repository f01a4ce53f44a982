"""Writing exports out: Markdown, CSV and JSON, as iterators of text chunks so that a
download streams (nothing holds the whole file)."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.utils import timezone

from exports.selectors import (
    DELETED,
    DiscussionExport,
    ExportComment,
    ExportPassage,
    GroupBackup,
    in_thread_order,
)

CSV_COLUMNS = (
    "id", "passage", "kind", "question", "author", "time", "parent", "quote", "text", "state",
    "helpful",
)  # fmt: skip
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def _one_line(value: str) -> str:
    return " ".join(value.split())


# Markdown ------------------------------------------------------------------------------


def _quoted(lines: Iterable[str], depth: int) -> Iterator[str]:
    prefix = "> " * depth
    for line in lines:
        yield f"{prefix}{line}".rstrip() + "\n"


def _comment_header(comment: ExportComment) -> str:
    if comment.placeholder:
        return f"*{comment.placeholder}*"
    verb = {"answer": "answered", "reply": "replied", "comment": "wrote"}[comment.kind]
    parts = [f"**{comment.author or 'a former reader'}** {verb} on {_when(comment.created_at)}"]
    if comment.edited_at:
        parts.append("(edited)")
    notes = []
    if comment.hidden:
        reason = f": {_one_line(comment.hidden_reason)}" if comment.hidden_reason else ""
        notes.append(f"hidden by a facilitator{reason}")
    if comment.pinned_at:
        notes.append("pinned")
    if comment.highlighted:
        notes.append("highlighted by a facilitator")
    if comment.helpful_count:
        notes.append(f"helpful to {comment.helpful_count}")
    if notes:
        parts.append(f"({', '.join(notes)})")
    header = " ".join(parts)
    if comment.quote:
        header += f", on “{_one_line(comment.quote)}”"
    return header


# Replies are quoted one level deeper than their parent down to this many levels; deeper
# ones stay at the last level and say whom they answer (as the page does), so a file
# does not grow with the square of a thread's depth.
QUOTE_LEVELS = 8


def _comment_markdown(thread: ExportComment) -> Iterator[str]:
    # Each reply after a blank line of its parent's level.
    answering: dict[int, str] = {}  # whom a reply to each comment answers
    for comment, level in in_thread_order(thread):
        answering[comment.id] = (
            "a comment no longer shown"
            if comment.placeholder
            else f"**{comment.author or 'a former reader'}**"
        )
        depth = min(level + 1, QUOTE_LEVELS)
        if level:
            yield from _quoted([""], min(level, QUOTE_LEVELS))
        header = _comment_header(comment)
        if level + 1 > QUOTE_LEVELS and not comment.placeholder:
            header += f", replying to {answering[comment.parent_id]}"
        lines = [header]
        if comment.body:
            lines += ["", *comment.body.splitlines()]
        yield from _quoted(lines, depth)


def _passage_markdown(passage: ExportPassage, is_notebook: bool) -> Iterator[str]:
    if passage.is_removed:
        yield "## A passage no longer in the text\n\n"
    else:
        yield f"## Passage {passage.position}\n\n"
    yield f"{passage.body}\n\n"
    for question in passage.questions:
        flags = [question.range_label]
        if question.answer_first:
            flags.append("answer first")
        if question.due:
            flags.append(f"due {_when(question.due)}")
        if question.closed:
            flags.append("closed")
        yield f"### Question ({', '.join(flags)})\n\n{question.body}\n\n"
        if not question.answers_visible:
            yield "*Answer first: the others' answers appear once you have answered.*\n\n"
        elif not question.answers:
            yield "*No answers yet.*\n\n"
        for answer in question.answers:
            yield from _comment_markdown(answer)
            yield "\n"
    if passage.threads:
        yield "### Notes\n\n" if is_notebook else "### Discussion\n\n"
        for thread in passage.threads:
            yield from _comment_markdown(thread)
            yield "\n"


def discussion_markdown(export: DiscussionExport) -> Iterator[str]:
    """The discussion in reading order: each passage's text, its questions with the
    answers, then its threads with authors and times; replies nested as quotes."""
    author = f" by {export.text_author}" if export.text_author else ""
    if export.is_notebook:
        yield f"# My notebook on *{export.text_title}*{author}\n\n"
    else:
        yield f"# *{export.text_title}*{author}: the discussion in “{export.group_name}”\n\n"
    yield (
        f"Exported by {export.exported_by} on {_when(export.exported_at)}, "
        "as the discussion appeared to them.\n\n"
    )
    for passage in export.passages:
        yield from _passage_markdown(passage, export.is_notebook)


# CSV -------------------------------------------------------------------------------------


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _thread_rows(thread: ExportComment, passage: str) -> Iterator[list[str]]:
    for comment, _level in in_thread_order(thread):
        yield _comment_row(comment, passage)


def _comment_row(comment: ExportComment, passage: str) -> list[str]:
    if comment.placeholder:
        state = "deleted" if comment.placeholder == DELETED else "hidden"
    else:
        state = "hidden" if comment.hidden else ""
    return [
        _cell(value)
        for value in (
            comment.id,
            passage,
            comment.kind,
            comment.question_id,
            comment.author,
            timezone.localtime(comment.created_at).isoformat(),
            comment.parent_id,
            comment.quote,
            comment.body,
            state,
            comment.helpful_count,
        )
    ]


def discussion_csv_rows(export: DiscussionExport) -> Iterator[list[str]]:
    """One row per comment, answer or reply, in the Markdown's order; tombstones (a
    deleted or hidden comment that holds replies) as rows with a state and no words."""
    yield list(CSV_COLUMNS)
    for passage in export.passages:
        label = "removed" if passage.is_removed else str(passage.position)
        for question in passage.questions:
            for answer in question.answers:
                yield from _thread_rows(answer, label)
        for thread in passage.threads:
            yield from _thread_rows(thread, label)


def csv_text(rows: Iterable[list[str]], batch: int = 200) -> Iterator[str]:
    """CSV (RFC 4180, with a byte order mark so spreadsheets read UTF-8), a few hundred
    rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# JSON ------------------------------------------------------------------------------------


def backup_json(backup: GroupBackup) -> Iterator[str]:
    """The backup as one JSON object, a section at a time, one line per object."""
    head = json.dumps(backup.header, ensure_ascii=False, indent=1)
    yield head[:-2]  # without the closing "\n}"
    for name, rows in backup.sections.items():
        yield f',\n "{name}": ['
        separator = "\n  "
        for row in rows:
            yield separator + json.dumps(row, ensure_ascii=False)
            separator = ",\n  "
        yield "\n ]"
    yield "\n}\n"
