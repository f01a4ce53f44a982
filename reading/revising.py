"""Align the passages of a text with those of a revised file, by their content.

`align(old, new)` says which old passage becomes which new one: unchanged, edited,
moved, inserted, removed, split (one old passage into several consecutive new
ones) or merged (several consecutive old passages into one new one). Positions
play no part, so inserting a paragraph in the middle leaves every later passage
matched with its own words.

How: identical passages are matched first, in order (difflib's longest matching
blocks over whole passages). Each stretch left between them is aligned by a small
dynamic programme over the words, which may pair one old with one new passage
(edited), one with several (split) or several with one (merged) when the words
agree well enough, and otherwise removes or inserts. Identical passages that
changed places are then recognised as moved, and so are nearly identical ones.
Word similarity is rapidfuzz's normalised Indel similarity over word lists.
"""

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from rapidfuzz.distance import Indel

# Two passages are the same passage, edited, when this share of their words agree.
SAME_PASSAGE = 0.5
# A passage that moved elsewhere must agree more closely than one that stayed.
SAME_MOVED_PASSAGE = 0.8
# Splits and merges of up to this many passages are recognised.
MAX_PIECES = 4
# Stretches larger than this (old x new passages) are not aligned word by word: there,
# passages are paired in order when the counts agree, else removed and inserted.
MAX_STRETCH_CELLS = 2_500

UNCHANGED = "unchanged"
EDITED = "edited"
MOVED = "moved"
INSERTED = "inserted"
REMOVED = "removed"
SPLIT = "split"
MERGED = "merged"


@dataclass(frozen=True)
class Step:
    """One line of a revision plan: old passages (0-based indexes) become new ones.

    For a split, `old` has one index and `new` several; for a merge, the reverse.
    `keeper` is the index (in `new` for a split, in `old` for a merge) of the piece
    that keeps the passage's identity."""

    kind: str
    old: tuple[int, ...]
    new: tuple[int, ...]
    keeper: int = 0


@dataclass
class _Stretch:
    old: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)


def _words(body: str) -> list[str]:
    return body.split()


def similarity(a: list[str], b: list[str]) -> float:
    return Indel.normalized_similarity(a, b)


def align(old: list[str], new: list[str]) -> list[Step]:
    """The plan turning passages `old` into passages `new`, in the order of `new`
    (removed passages last)."""
    old_words = [_words(body) for body in old]
    new_words = [_words(body) for body in new]
    steps: list[Step] = []
    # Whole passages are compared by their words: a change of spacing alone is an edit.
    matcher = SequenceMatcher(
        None, [" ".join(w) for w in old_words], [" ".join(w) for w in new_words], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            steps.extend(
                Step(UNCHANGED if old[i] == new[j] else EDITED, (i,), (j,))
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        else:
            steps.extend(
                _align_stretch(list(range(i1, i2)), list(range(j1, j2)), old_words, new_words)
            )
    steps = _find_moves(steps, old_words, new_words)
    return sorted(steps, key=lambda s: (not s.new, s.new[:1] or s.old[:1]))


def _align_stretch(olds: list[int], news: list[int], old_words, new_words) -> list[Step]:
    p, q = len(olds), len(news)
    if p * q > MAX_STRETCH_CELLS and p == q:
        # Too large to align word by word: pair in order where the words agree.
        steps = []
        for i, j in zip(olds, news, strict=True):
            if similarity(old_words[i], new_words[j]) >= SAME_PASSAGE:
                steps.append(Step(EDITED, (i,), (j,)))
            else:
                steps += [Step(REMOVED, (i,), ()), Step(INSERTED, (), (j,))]
        return steps
    if p == 0 or q == 0 or p * q > MAX_STRETCH_CELLS:
        return [Step(REMOVED, (i,), ()) for i in olds] + [Step(INSERTED, (), (j,)) for j in news]
    # best[a][b]: words matched aligning olds[:a] with news[:b]; choice[a][b] how.
    best = [[0.0] * (q + 1) for _ in range(p + 1)]
    choice: list[list[tuple[int, int, float] | None]] = [[None] * (q + 1) for _ in range(p + 1)]
    for a in range(p + 1):
        for b in range(q + 1):
            if a == 0 and b == 0:
                continue
            options: list[tuple[float, tuple[int, int, float]]] = []
            if a:
                options.append((best[a - 1][b], (1, 0, 0.0)))
            if b:
                options.append((best[a][b - 1], (0, 1, 0.0)))
            for da, db in _shapes(a, b):
                left = [w for i in olds[a - da : a] for w in old_words[i]]
                right = [w for j in news[b - db : b] for w in new_words[j]]
                score = similarity(left, right)
                if score >= SAME_PASSAGE:
                    matched = score * (len(left) + len(right)) / 2
                    # A split or merge must earn its extra pieces: ties go to 1:1.
                    options.append(
                        (best[a - da][b - db] + matched - 0.01 * (da + db), (da, db, score))
                    )
            best[a][b], choice[a][b] = max(options, key=lambda option: option[0])
    steps: list[Step] = []
    a, b = p, q
    while a or b:
        da, db, score = choice[a][b]
        old_part = tuple(olds[a - da : a])
        new_part = tuple(news[b - db : b])
        if da and not db:
            steps.append(Step(REMOVED, old_part, ()))
        elif db and not da:
            steps.append(Step(INSERTED, (), new_part))
        elif da == db == 1:
            steps.append(Step(EDITED, old_part, new_part))
        elif da == 1:
            keeper = _best_piece([new_words[j] for j in new_part], old_words[old_part[0]])
            steps.append(Step(SPLIT, old_part, new_part, keeper))
        else:
            keeper = _best_piece([old_words[i] for i in old_part], new_words[new_part[0]])
            steps.append(Step(MERGED, old_part, new_part, keeper))
        a, b = a - da, b - db
    return steps[::-1]


def _shapes(a: int, b: int):
    """The (old, new) piece counts a pairing ending at (a, b) may take."""
    if a and b:
        yield 1, 1
        for k in range(2, MAX_PIECES + 1):
            if b >= k:
                yield 1, k
            if a >= k:
                yield k, 1


def _best_piece(pieces: list[list[str]], whole: list[str]) -> int:
    """The piece most like the whole: it keeps the passage's identity."""
    scores = [similarity(piece, whole) * len(piece) for piece in pieces]
    return scores.index(max(scores))


def _find_moves(steps: list[Step], old_words, new_words) -> list[Step]:
    removed = [s.old[0] for s in steps if s.kind == REMOVED]
    inserted = [s.new[0] for s in steps if s.kind == INSERTED]
    if not removed or not inserted:
        return steps
    pairs: dict[int, int] = {}
    by_words: dict[tuple[str, ...], list[int]] = {}
    for i in removed:
        by_words.setdefault(tuple(old_words[i]), []).append(i)
    for j in inserted:
        olds = by_words.get(tuple(new_words[j]))
        if olds:
            pairs[j] = olds.pop(0)
    if len(removed) * len(inserted) <= MAX_STRETCH_CELLS:
        taken = set(pairs.values())
        for j in inserted:
            if j in pairs:
                continue
            scored = [
                (similarity(old_words[i], new_words[j]), i) for i in removed if i not in taken
            ]
            score, i = max(scored, default=(0.0, -1))
            if score >= SAME_MOVED_PASSAGE:
                pairs[j] = i
                taken.add(i)
    moved_old = set(pairs.values())
    kept = [
        s
        for s in steps
        if not (s.kind == REMOVED and s.old[0] in moved_old)
        and not (s.kind == INSERTED and s.new[0] in pairs)
    ]
    return kept + [Step(MOVED, (i,), (j,)) for j, i in pairs.items()]
