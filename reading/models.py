import re
import secrets

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


def new_invite_token() -> str:
    return secrets.token_urlsafe(24)


class StudyGroupQuerySet(models.QuerySet):
    def for_member(self, user):
        """Groups the user belongs to; the only way group content is looked up."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)

    def shared(self):
        return self.filter(notebook_owner__isnull=True)


class StudyGroup(models.Model):
    text = models.ForeignKey(Text, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(max_length=1000, blank=True)
    # A private notebook is a one-member group owned by its reader, so that every
    # discussion feature works there too.
    notebook_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notebooks",
    )
    invite_token = models.CharField(max_length=64, unique=True, default=new_invite_token)
    invite_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StudyGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["notebook_owner", "text"],
                condition=Q(notebook_owner__isnull=False),
                name="one_notebook_per_reader_text",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("group_detail", kwargs={"group_slug": self.slug})

    @property
    def is_notebook(self) -> bool:
        return self.notebook_owner_id is not None


class Membership(models.Model):
    class Role(models.TextChoices):
        FACILITATOR = "facilitator", "Facilitator"
        MEMBER = "member", "Member"

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="one_membership_per_group_user"),
            models.CheckConstraint(
                condition=Q(role__in=["facilitator", "member"]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.group} ({self.role})"

    @property
    def is_facilitator(self) -> bool:
        return self.role == self.Role.FACILITATOR


class MeetingQuerySet(models.QuerySet):
    def scheduled(self):
        return self.filter(cancelled_at__isnull=True)

    def upcoming(self, now):
        return self.scheduled().filter(starts_at__gte=now).order_by("starts_at")


class Meeting(models.Model):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField()
    first_position = models.PositiveIntegerField()
    last_position = models.PositiveIntegerField()
    agenda = models.TextField(max_length=2000, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_position__gte=1)
                & Q(last_position__gte=models.F("first_position")),
                name="meeting_passage_range_valid",
            ),
        ]

    def __str__(self):
        return f"{self.group} meeting at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def passage_range_label(self) -> str:
        if self.first_position == self.last_position:
            return f"passage {self.first_position}"
        return f"passages {self.first_position} to {self.last_position}"
