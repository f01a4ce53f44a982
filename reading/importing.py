"""Read a plain-text essay: decode its bytes, then parse it into a title and passages.

Blocks are separated by blank lines; a line of spaces, tabs, non-breaking spaces or
form feeds is blank too. The first block is the title when it is a single short
line. Hard-wrapped lines inside a block are joined into one flowing paragraph with
a space, except after a word broken by a hyphen at the end of a line ("cannon-" +
"shot" gives "cannon-shot"). Nothing else is touched: spelling, punctuation,
asterisks and spaces inside a line stay exactly as in the source.

Every problem is a TextParseError with a message meant for the person importing.
"""

import codecs
import re
import unicodedata
from dataclasses import dataclass

TITLE_MAX_LENGTH = 120
ENCODINGS = ("utf-8", "latin-1", "cp1252", "utf-16")
# A word broken at the end of a line: a letter, then one hyphen (not a "--" dash).
BROKEN_WORD = re.compile(r"[^\W\d_]-$")
# Characters no prose contains: C0 and C1 controls other than the whitespace ones.
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")


class TextParseError(ValueError):
    pass


@dataclass(frozen=True)
class ParsedText:
    title: str | None
    passages: list[str]


def decode_source(data: bytes, encoding: str = "utf-8") -> str:
    """The file's text, from its bytes in `encoding` (a UTF-8 or UTF-16 byte order
    mark wins). Undecodable bytes, NUL bytes and binary files are refused by name."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise TextParseError(
            f"Unknown encoding “{encoding}”: try one of {', '.join(ENCODINGS)}."
        ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    elif data.startswith(codecs.BOM_UTF8) or codec == "utf-8":
        codec = "utf-8-sig"
    if b"\x00" in data and not codec.startswith("utf-16"):
        raise TextParseError(
            "The file contains NUL bytes: it looks like a binary file, or text in UTF-16 "
            "without a byte order mark (pass --encoding utf-16)."
        )
    try:
        source = data.decode(codec)
    except UnicodeDecodeError as error:
        name = "UTF-8" if codec == "utf-8-sig" else codec
        raise TextParseError(
            f"The file is not valid {name}: byte 0x{data[error.start]:02x} at offset "
            f"{error.start} cannot be decoded. Pass its encoding, for example "
            f"--encoding latin-1 or --encoding cp1252."
        ) from None
    return source


def join_wrapped_lines(lines: list[str]) -> str:
    joined = ""
    for line in lines:
        line = line.strip()
        if not joined:
            joined = line
        elif BROKEN_WORD.search(joined) and line[:1].isalpha():
            joined += line
        else:
            joined += " " + line
    return joined


def check_characters(source: str) -> None:
    if "\x00" in source:
        raise TextParseError("The file contains NUL characters: it looks like a binary file.")
    control = CONTROL.search(source)
    if control:
        line = source.count("\n", 0, control.start()) + 1
        name = unicodedata.name(control.group(), f"U+{ord(control.group()):04X}")
        hint = (
            " It may be Windows-1252 text read as Latin-1: try --encoding cp1252."
            if "\x80" <= control.group() <= "\x9f"
            else " Is it a binary file?"
        )
        raise TextParseError(
            f"The file contains a control character ({name}) on line {line}.{hint}"
        )


def parse_text(source: str) -> ParsedText:
    # A DOS end-of-file mark is not part of the text.
    source = source.lstrip("\ufeff").rstrip("\x1a")
    # splitlines() breaks on CRLF, CR, LF and also on form feeds, vertical tabs and
    # Unicode line separators; a line left with only whitespace of any kind is blank.
    lines = [line.replace("\x0c", "").replace("\x0b", "") for line in source.splitlines()]
    check_characters("\n".join(lines))
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    if not blocks:
        raise TextParseError("The file has no text in it.")
    title = None
    if len(blocks[0]) == 1 and len(blocks[0][0].strip()) <= TITLE_MAX_LENGTH:
        title = blocks[0][0].strip()
        blocks = blocks[1:]
    passages = [join_wrapped_lines(block) for block in blocks]
    if not passages:
        raise TextParseError("The file has a title but no passages.")
    return ParsedText(title=title, passages=passages)
