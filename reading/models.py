import re

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

# A passage "breaks off" when its last character is not one a sentence can end on.
SENTENCE_END = re.compile(r"""[.!?:;)\]"'\u201d\u2019*]\s*$""")


# Passages in a text, for counts over the `passages` relation (removed ones are kept).
IN_TEXT = Q(passages__position__isnull=False)

TITLE_MAX_LENGTH = 200
AUTHOR_MAX_LENGTH = 200
SLUG_MAX_LENGTH = 100


class TextQuerySet(models.QuerySet):
    def with_passage_stats(self):
        return self.annotate(
            passage_count=Count("passages", filter=IN_TEXT, distinct=True),
        )


class Text(models.Model):
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH, blank=True)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TextQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("text_detail", kwargs={"text_slug": self.slug})


class PassageQuerySet(models.QuerySet):
    def with_read_state(self, user):
        if not user.is_authenticated:
            return self.annotate(is_read=models.Value(False))
        return self.annotate(
            is_read=Exists(ReadingProgress.objects.filter(passage=OuterRef("pk"), reader=user))
        )


class PassageManager(models.Manager.from_queryset(PassageQuerySet)):
    def get_queryset(self):
        # The search vector serves search's queries and is never read back: every
        # passage page would otherwise fetch the tsvector of the passage and of each
        # neighbour.
        return super().get_queryset().defer("search_vector")


class InTextManager(PassageManager):
    def get_queryset(self):
        return super().get_queryset().filter(position__isnull=False)


class Passage(models.Model):
    """A paragraph of a text. Its identity outlives revisions of the text: a revision
    renumbers positions, edits bodies, and removes a passage by taking it out of the
    text (no position, `removed_at` set) so that its discussion is never deleted."""

    text = models.ForeignKey(Text, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField(null=True, blank=True)
    body = models.TextField()
    word_count = models.PositiveIntegerField()
    removed_at = models.DateTimeField(null=True, blank=True)
    # For search: English stems of the body, kept by PostgreSQL (GIN-indexed below,
    # with a trigram index on the body for misspelt words).
    search_vector = models.GeneratedField(
        expression=SearchVector("body", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    # `objects` (the default, so also `text.passages`) has the passages in the text;
    # `everything` also those a revision removed. `comment.passage` finds either.
    objects = InTextManager()
    everything = PassageManager()

    class Meta:
        ordering = ["text", "position"]
        base_manager_name = "everything"
        indexes = [
            GinIndex(fields=["search_vector"], name="passage_search_vector"),
            GinIndex(fields=["body"], opclasses=["gin_trgm_ops"], name="passage_body_trigram"),
        ]
        constraints = [
            # Deferred, so that a revision can renumber passages in one UPDATE after another.
            models.UniqueConstraint(
                fields=["text", "position"],
                name="unique_passage_position",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="passage_position_from_one"),
            models.CheckConstraint(
                condition=Q(position__isnull=True, removed_at__isnull=False)
                | Q(position__isnull=False, removed_at__isnull=True),
                name="passage_removed_has_no_position",
            ),
        ]

    def __str__(self):
        if self.is_removed:
            return f"{self.text.title}, a passage no longer in the text"
        return f"{self.text.title}, passage {self.position}"

    def get_absolute_url(self):
        if self.is_removed:
            return reverse(
                "removed_passage_detail",
                kwargs={"text_slug": self.text.slug, "passage_pk": self.pk},
            )
        return reverse(
            "passage_detail", kwargs={"text_slug": self.text.slug, "position": self.position}
        )

    @property
    def is_removed(self) -> bool:
        return self.position is None

    @property
    def breaks_off(self) -> bool:
        """True when the source passage ends in mid-sentence."""
        return not SENTENCE_END.search(self.body)

    @property
    def opening_words(self) -> str:
        words = self.body.split()
        if len(words) <= 10:
            return self.body
        # Cut on a whole word, without a dangling hyphen or punctuation before the ellipsis.
        opening = " ".join(words[:10]).rstrip(".,;:!?-–—")
        return f"{opening}…"


class Revision(models.Model):
    """An import or a revision of a text: when, and a short summary of what changed."""

    text = models.ForeignKey(Text, on_delete=models.CASCADE, related_name="revisions")
    created_at = models.DateTimeField(auto_now_add=True)
    summary = models.CharField(max_length=300)
    # The plan, one line per step, as `import_text --dry-run` prints it.
    plan = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.text.title}, {self.created_at:%Y-%m-%d}: {self.summary}"


class PassageVersion(models.Model):
    """The wording a passage had before a revision changed it."""

    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="versions")
    revision = models.ForeignKey(
        Revision, on_delete=models.CASCADE, related_name="passage_versions"
    )
    body = models.TextField()

    class Meta:
        ordering = ["-revision__created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["passage", "revision"], name="one_version_per_passage_revision"
            )
        ]

    def __str__(self):
        return f"{self.passage} before {self.revision}"


class ReadingProgress(models.Model):
    """A reader has read a passage. No row means unread."""

    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_progress"
    )
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="progress")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "passage"], name="one_progress_per_reader_passage"
            ),
        ]

    def __str__(self):
        return f"{self.reader} read {self.passage}"


class PassageRange(models.Model):
    """A run of passages of a group's text, "passages 3 to 5": what a meeting
    asks members to read and what a question is about."""

    # How a concrete range reaches its text; a revision renumbers ranges through it.
    TEXT_LOOKUP = "group__text"

    first_position = models.PositiveIntegerField()
    last_position = models.PositiveIntegerField()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(first_position__gte=1)
                & Q(last_position__gte=models.F("first_position")),
                name="%(class)s_passage_range_valid",
            ),
        ]

    @classmethod
    def concrete_models(cls) -> list[type["PassageRange"]]:
        return [model for model in apps.get_models() if issubclass(model, cls)]

    @property
    def passage_range_label(self) -> str:
        if self.first_position == self.last_position:
            return f"passage {self.first_position}"
        return f"passages {self.first_position} to {self.last_position}"

    @property
    def passage_count(self) -> int:
        return self.last_position - self.first_position + 1

    def covers(self, position: int) -> bool:
        return self.first_position <= position <= self.last_position
