"""Parse a plain-text essay into a title and passages.

Blocks are separated by blank lines. The first block is the title when it is a
single short line. Hard-wrapped lines inside a block are joined into one flowing
paragraph; nothing else is touched (spelling, punctuation, hyphens, asterisks
stay exactly as in the source).
"""

import re
from dataclasses import dataclass

TITLE_MAX_LENGTH = 120
BLANK_LINES = re.compile(r"\n[ \t]*\n")


class TextParseError(ValueError):
    pass


@dataclass(frozen=True)
class ParsedText:
    title: str | None
    passages: list[str]


def join_wrapped_lines(block: str) -> str:
    return " ".join(line.strip() for line in block.split("\n") if line.strip())


def parse_text(source: str) -> ParsedText:
    source = source.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    blocks = [block for block in BLANK_LINES.split(source) if block.strip()]
    if not blocks:
        raise TextParseError("The file has no text in it.")
    title = None
    first_lines = [line for line in blocks[0].split("\n") if line.strip()]
    if len(first_lines) == 1 and len(first_lines[0].strip()) <= TITLE_MAX_LENGTH:
        title = first_lines[0].strip()
        blocks = blocks[1:]
    passages = [join_wrapped_lines(block) for block in blocks]
    if not passages:
        raise TextParseError("The file has a title but no passages.")
    return ParsedText(title=title, passages=passages)
