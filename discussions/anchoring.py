"""Anchoring comments to quoted phrases of a passage.

A quote is stored as the W3C Web Annotation text-quote selector (exact, prefix,
suffix) plus the text-position selector (start, end). Positions everywhere count
code points of the stored passage (Python string offsets); the browser converts its
UTF-16 offsets before sending them (static/js/site.js).

Matching follows the Hypothesis client's `matchQuote`:
- the passage and the quote are compared after collapsing runs of whitespace
  (spaces, tabs, non-breaking spaces, line breaks) to one space and composing
  accents (NFC), and a match is mapped back to exact offsets in the stored passage;
- every occurrence (overlapping ones too: "ha ha" in "ha ha ha") is a candidate,
  and so, when the quote is no longer there word for word and errors are allowed,
  is every best approximate occurrence (edlib's infix alignment: Myers' bit-vector
  algorithm, as in approx-string-match);
- each candidate is scored on the quote (weight 50), the prefix (20) and the suffix
  (20), each compared approximately, and the distance to the stored position (2);
  the best score wins, the earliest on a tie.

When comments are written, a quote must be in the passage (up to whitespace and
accents). When a revision changes a passage, quotes are re-anchored allowing up to
a quarter of the quote's characters to differ (MAX_ERROR_RATIO); beyond that the
quote is detached.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import edlib
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

CONTEXT_LENGTH = 32
MAX_ERROR_RATIO = 0.25
WHITESPACE = re.compile(r"\s+")
QUOTE_WEIGHT, PREFIX_WEIGHT, SUFFIX_WEIGHT, POSITION_WEIGHT = 50, 20, 20, 2
# edlib compares at most 256 distinct symbols; characters absent from the pattern
# all become this one, which prose never contains (the importer refuses NUL).
OTHER = "\x00"


@dataclass(frozen=True)
class TextQuote:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


@dataclass(frozen=True)
class Match:
    start: int  # code points of the stored passage
    end: int
    errors: int  # edits between the quote and the matched words (after normalizing)
    score: float  # 0 to 1, as the Hypothesis client's matchQuote


def normalize_quote(quote: str) -> str:
    # Pasted or selected text may carry line breaks where the passage has spaces.
    return unicodedata.normalize("NFC", WHITESPACE.sub(" ", quote).strip())


def _normalize_context(context: str) -> str:
    return unicodedata.normalize("NFC", WHITESPACE.sub(" ", context))


@dataclass(frozen=True)
class Normalized:
    """A passage with whitespace runs collapsed and accents composed; `starts[i]` and
    `ends[i]` are the stored passage's offsets of the piece that normalized char i
    came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]

    def index_at(self, offset: int) -> int:
        """The normalized index of the stored passage's offset (for position hints)."""
        for index, start in enumerate(self.starts):
            if start >= offset:
                return index
        return len(self.text)


@lru_cache(maxsize=256)
def normalized(body: str) -> Normalized:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(body)
    while i < n:
        j = i + 1
        if body[i].isspace():
            while j < n and body[j].isspace():
                j += 1
            piece = " "
        else:
            while j < n and unicodedata.combining(body[j]):
                j += 1
            piece = unicodedata.normalize("NFC", body[i:j])
        for char in piece:
            chars.append(char)
            starts.append(i)
            ends.append(j)
        i = j
    return Normalized("".join(chars), tuple(starts), tuple(ends))


def _approximate(pattern: str, text: str, max_errors: int) -> tuple[int, list[tuple[int, int]]]:
    """Edit distance of the best occurrences of `pattern` in `text` (at most
    `max_errors`, -1 for no limit) and their (start, end); (-1, []) when none."""
    alphabet = set(pattern)
    if len(alphabet) > 255 or not pattern or not text:
        return -1, []
    other = {ord(c): OTHER for c in set(text) - alphabet}
    result = edlib.align(pattern, text.translate(other), mode="HW", task="locations", k=max_errors)
    locations = sorted({(start, end + 1) for start, end in result["locations"]})
    return result["editDistance"], locations


def _occurrences(text: str, quote: str) -> list[int]:
    found, position = [], text.find(quote)
    while position >= 0:
        found.append(position)
        position = text.find(quote, position + 1)
    return found


def text_match_score(text: str, expected: str) -> float:
    """Similarity (0 to 1) of `expected` to its best approximate occurrence in `text`."""
    if not expected or not text:
        return 0.0
    if expected in text:
        return 1.0
    errors, _ = _approximate(expected, text, -1)
    return 0.0 if errors < 0 else max(0.0, 1 - errors / len(expected))


def match_quote(
    body: str,
    quote: str,
    *,
    prefix: str = "",
    suffix: str = "",
    hint: int | None = None,
    max_errors: int = 0,
) -> Match | None:
    """The best match of `quote` in `body`, allowing up to `max_errors` edits, or None."""
    target = normalized(body)
    exact = normalize_quote(quote)
    if not exact or not target.text:
        return None
    candidates = [(s, s + len(exact), 0) for s in _occurrences(target.text, exact)]
    if not candidates and max_errors > 0:
        errors, locations = _approximate(exact, target.text, max_errors)
        candidates = [(s, e, errors) for s, e in locations]
    if not candidates:
        return None
    prefix, suffix = _normalize_context(prefix), _normalize_context(suffix)
    text = target.text
    hint_index = target.index_at(hint) if hint is not None and hint >= 0 else None

    def score(candidate: tuple[int, int, int]) -> float:
        start, end, errors = candidate
        quote_score = 1 - errors / len(exact)
        prefix_score = (
            text_match_score(text[max(0, start - len(prefix)) : start], prefix) if prefix else 1.0
        )
        suffix_score = text_match_score(text[end : end + len(suffix)], suffix) if suffix else 1.0
        position_score = 1.0 if hint_index is None else 1 - abs(start - hint_index) / len(text)
        raw = (
            QUOTE_WEIGHT * quote_score
            + PREFIX_WEIGHT * prefix_score
            + SUFFIX_WEIGHT * suffix_score
            + POSITION_WEIGHT * position_score
        )
        return raw / (QUOTE_WEIGHT + PREFIX_WEIGHT + SUFFIX_WEIGHT + POSITION_WEIGHT)

    # The best score wins; on a tie the earliest, then the length nearest the quote's.
    scored = [(score(c), c) for c in candidates]
    best_score, (start, end, errors) = max(
        scored, key=lambda pair: (pair[0], -pair[1][0], -abs(pair[1][1] - pair[1][0] - len(exact)))
    )
    original_start, original_end = target.original(start, end)
    return Match(start=original_start, end=original_end, errors=errors, score=best_score)


def selector_at(body: str, start: int, end: int) -> TextQuote:
    """The text-quote and text-position selectors of body[start:end]."""
    return TextQuote(
        exact=body[start:end],
        prefix=body[max(0, start - CONTEXT_LENGTH) : start],
        suffix=body[end : end + CONTEXT_LENGTH],
        start=start,
        end=end,
    )


def quote_in_passage(body: str, quote: str, start_hint: int | None = None) -> TextQuote | None:
    """Where `quote` occurs in `body` (up to whitespace and accents), preferring the
    occurrence nearest `start_hint`; its selectors quote the passage's own words."""
    match = match_quote(body, quote, hint=start_hint)
    return None if match is None else selector_at(body, match.start, match.end)


def locate(
    body: str, *, exact: str, prefix: str, suffix: str, start: int | None
) -> tuple[int, int] | None:
    """Where a stored quote is in the passage body now, or None if it is not there."""
    if not exact:
        return None
    if start is not None and body[start : start + len(exact)] == exact:
        return start, start + len(exact)
    match = match_quote(body, exact, prefix=prefix, suffix=suffix, hint=start)
    return None if match is None else (match.start, match.end)


def reanchor(body: str, *, exact: str, prefix: str, suffix: str, start: int | None) -> Match | None:
    """A stored quote in a corrected passage: exactly where it still occurs, else
    approximately within MAX_ERROR_RATIO of its length, else None (detached)."""
    max_errors = int(len(normalize_quote(exact)) * MAX_ERROR_RATIO)
    return match_quote(body, exact, prefix=prefix, suffix=suffix, hint=start, max_errors=max_errors)


def highlight(body: str, anchors: list[tuple[int, int, int]]) -> SafeString:
    """The passage body as HTML with each anchored range wrapped in a <mark> that
    links to its comment. `anchors` are (start, end, comment_id); where ranges overlap,
    a segment links to the innermost comment covering it (the one starting last, then
    ending first), so a phrase quoted inside another stays reachable. A comment whose
    words are all covered by others' links (the same words quoted twice) gets its own
    small link at the start of its range, whose name says so: every highlight leads to
    its comment. Those links add no text, so offsets in the passage stay as they are."""
    if not anchors:
        return escape(body)
    by_id = {cid: (s, e) for (s, e, cid) in anchors}

    def innermost(covering: list[int]) -> int:
        return min(covering, key=lambda cid: (-by_id[cid][0], by_id[cid][1], cid))

    boundaries = sorted({0, len(body), *(a[0] for a in anchors), *(a[1] for a in anchors)})
    segments = []
    for seg_start, seg_end in zip(boundaries, boundaries[1:], strict=False):
        covering = sorted(cid for (s, e, cid) in anchors if s <= seg_start and seg_end <= e)
        segments.append((seg_start, seg_end, covering, innermost(covering) if covering else None))
    linked = {target for *_, target in segments if target is not None}
    first_segment_seen: set[int] = set()
    parts = []
    for seg_start, seg_end, covering, comment_id in segments:
        segment = body[seg_start:seg_end]
        if not covering:
            parts.append(escape(segment))
            continue
        new_ids = [cid for cid in covering if cid not in first_segment_seen]
        first_segment_seen.update(new_ids)
        # The first segment of each comment's range carries its id, for "back to the phrase".
        ids = " ".join(f"quote-{cid}" for cid in sorted(new_ids))
        element_id = ids.split(" ")[0] if ids else ""
        extra_targets = ids.split(" ")[1:] if ids else []
        inner = format_html('<a href="#comment-{}" class="quote-link">{}</a>', comment_id, segment)
        for target in extra_targets:
            inner = format_html('<span id="{}"></span>{}', target, inner)
        for other in new_ids:
            if other not in linked:
                inner = format_html(
                    '{}<a href="#comment-{}" class="quote-link quote-more" '
                    'aria-label="Another comment on these words"></a>',
                    inner,
                    other,
                )
        if element_id:
            parts.append(
                format_html(
                    '<mark id="{}" data-comments="{}">{}</mark>',
                    element_id,
                    " ".join(map(str, covering)),
                    inner,
                )
            )
        else:
            parts.append(
                format_html(
                    '<mark data-comments="{}">{}</mark>',
                    " ".join(map(str, covering)),
                    inner,
                )
            )
    return mark_safe("".join(str(part) for part in parts))  # noqa: S308 - every part is escaped above
