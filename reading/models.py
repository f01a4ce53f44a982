import re

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

# A passage "breaks off" when its last character is not one a sentence can end on.
SENTENCE_END = re.compile(r"""[.!?:;)\]"'\u201d\u2019*]\s*$""")


class TextQuerySet(models.QuerySet):
    def with_passage_stats(self):
        return self.annotate(
            passage_count=Count("passages", distinct=True),
        )


class Text(models.Model):
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=200, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
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


class Passage(models.Model):
    text = models.ForeignKey(Text, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField()
    body = models.TextField()
    word_count = models.PositiveIntegerField()

    objects = PassageQuerySet.as_manager()

    class Meta:
        ordering = ["text", "position"]
        constraints = [
            models.UniqueConstraint(fields=["text", "position"], name="unique_passage_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="passage_position_from_one"),
        ]

    def __str__(self):
        return f"{self.text.title}, passage {self.position}"

    def get_absolute_url(self):
        return reverse(
            "passage_detail", kwargs={"text_slug": self.text.slug, "position": self.position}
        )

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
