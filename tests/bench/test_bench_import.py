"""Importing and revising a long text: `make bench` prints how long each takes.

The target (issue 10): a 200,000-word text of 2,000 passages imports in under
10 seconds on a 2-core machine, and its contents page stays light.
"""

import io
import random
import textwrap
import time

import pytest
from django.core.management import call_command

from reading.models import Passage, Text

pytestmark = pytest.mark.bench

PASSAGES = 2_000
WORDS_PER_PASSAGE = 100
IMPORT_TARGET_SECONDS = 10


def long_source(seed: int = 1) -> tuple[str, list[str]]:
    """A reproducible text: a title and 2,000 hard-wrapped paragraphs of 100 words."""
    rng = random.Random(seed)
    vocabulary = [
        "sect", "class", "movement", "party", "organization", "program", "members", "the",
        "of", "and", "a", "to", "in", "socialist", "political", "tendency", "discipline",
        "vanguard", "critical", "mass", "levers", "action", "workers", "history", "its",
    ]  # fmt: skip
    passages = []
    for n in range(PASSAGES):
        words = [rng.choice(vocabulary) for _ in range(WORDS_PER_PASSAGE - 1)]
        passages.append(f"§{n} " + " ".join(words) + ".")
    wrapped = [textwrap.fill(p, width=72) for p in passages]
    return "A Long Essay\n\n" + "\n\n".join(wrapped) + "\n", passages


def test_bench_import_and_revise_a_200000_word_text(db, tmp_path, client, capsys):
    source, _ = long_source()
    path = tmp_path / "long.txt"
    path.write_text(source, encoding="utf-8")

    started = time.perf_counter()
    call_command("import_text", str(path), stdout=io.StringIO())
    imported = time.perf_counter() - started

    text = Text.objects.get(slug="a-long-essay")
    assert text.passages.count() == PASSAGES
    words = sum(Passage.objects.filter(text=text).values_list("word_count", flat=True))

    paragraphs = source.split("\n\n")
    paragraphs.insert(1001, "A paragraph found in the manuscript, inserted in the middle.")
    paragraphs[1500] = paragraphs[1500].replace("sect", "SECT", 1)
    del paragraphs[300]
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    started = time.perf_counter()
    call_command("import_text", str(path), revise=text.slug, stdout=io.StringIO())
    revised = time.perf_counter() - started

    started = time.perf_counter()
    response = client.get(text.get_absolute_url())
    contents = time.perf_counter() - started

    with capsys.disabled():
        print(
            f"\nimport {words:,} words in {PASSAGES:,} passages: {imported:.2f} s "
            f"(target under {IMPORT_TARGET_SECONDS} s); revise (1 inserted, 1 removed, "
            f"1 edited): {revised:.2f} s; contents page: {len(response.content) / 1000:.0f} KB "
            f"in {contents * 1000:.0f} ms"
        )
    assert words == PASSAGES * WORDS_PER_PASSAGE
    assert imported < IMPORT_TARGET_SECONDS
    assert len(response.content) < 150_000
    assert text.passages.count() == PASSAGES
