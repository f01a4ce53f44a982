"""Anchoring comments to quoted phrases of a passage.

A quote is stored as the W3C Web Annotation text-quote selector (exact, prefix,
suffix) plus the text-position selector (start, end). After a passage is
corrected, the anchor is found again by its quote; when the quote is gone the
comment is shown as detached.
"""

import re
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

CONTEXT_LENGTH = 32
WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TextQuote:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


def normalize_quote(quote: str) -> str:
    # Pasted or selected text may carry line breaks where the passage has spaces.
    return WHITESPACE.sub(" ", quote).strip()


def quote_in_passage(body: str, quote: str, start_hint: int | None = None) -> TextQuote | None:
    """Where `quote` occurs in `body`, preferring the occurrence at `start_hint`."""
    exact = normalize_quote(quote)
    if not exact:
        return None
    if (
        start_hint is not None
        and start_hint >= 0
        and body[start_hint : start_hint + len(exact)] == exact
    ):
        start = start_hint
    else:
        start = body.find(exact)
        if start < 0:
            return None
    end = start + len(exact)
    return TextQuote(
        exact=exact,
        prefix=body[max(0, start - CONTEXT_LENGTH) : start],
        suffix=body[end : end + CONTEXT_LENGTH],
        start=start,
        end=end,
    )


def _context_score(body: str, start: int, end: int, prefix: str, suffix: str) -> int:
    before = body[max(0, start - len(prefix)) : start]
    after = body[end : end + len(suffix)]
    score = 0
    for a, b in zip(reversed(before), reversed(prefix), strict=False):
        if a != b:
            break
        score += 1
    for a, b in zip(after, suffix, strict=False):
        if a != b:
            break
        score += 1
    return score


def locate(
    body: str, *, exact: str, prefix: str, suffix: str, start: int | None
) -> tuple[int, int] | None:
    """Find a stored quote in the (possibly corrected) passage body, or None if detached."""
    if not exact:
        return None
    if start is not None and body[start : start + len(exact)] == exact:
        return start, start + len(exact)
    candidates = [match.start() for match in re.finditer(re.escape(exact), body)]
    if not candidates:
        return None
    best = max(
        candidates,
        key=lambda s: (
            _context_score(body, s, s + len(exact), prefix, suffix),
            -abs(s - (start or 0)),
        ),
    )
    return best, best + len(exact)


def highlight(body: str, anchors: list[tuple[int, int, int]]) -> SafeString:
    """The passage body as HTML with each anchored range wrapped in a <mark> that
    links to its comment. `anchors` are (start, end, comment_id); overlaps are
    split into segments linking to the earliest comment covering them."""
    if not anchors:
        return escape(body)
    boundaries = sorted({0, len(body), *(a[0] for a in anchors), *(a[1] for a in anchors)})
    first_segment_seen: set[int] = set()
    parts = []
    for seg_start, seg_end in zip(boundaries, boundaries[1:], strict=False):
        segment = body[seg_start:seg_end]
        covering = [cid for (s, e, cid) in anchors if s <= seg_start and seg_end <= e]
        if not covering:
            parts.append(escape(segment))
            continue
        comment_id = min(covering)
        new_ids = [cid for cid in covering if cid not in first_segment_seen]
        first_segment_seen.update(new_ids)
        # The first segment of each comment's range carries its id, for "back to the phrase".
        ids = " ".join(f"quote-{cid}" for cid in sorted(new_ids))
        element_id = ids.split(" ")[0] if ids else ""
        extra_targets = ids.split(" ")[1:] if ids else []
        inner = format_html('<a href="#comment-{}" class="quote-link">{}</a>', comment_id, segment)
        for target in extra_targets:
            inner = format_html('<span id="{}"></span>{}', target, inner)
        if element_id:
            parts.append(
                format_html(
                    '<mark id="{}" data-comments="{}">{}</mark>',
                    element_id,
                    " ".join(map(str, sorted(covering))),
                    inner,
                )
            )
        else:
            parts.append(
                format_html(
                    '<mark data-comments="{}">{}</mark>',
                    " ".join(map(str, sorted(covering))),
                    inner,
                )
            )
    return mark_safe("".join(str(part) for part in parts))  # noqa: S308 - every part is escaped above
