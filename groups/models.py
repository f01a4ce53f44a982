import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.safestring import mark_safe

from reading.models import PassageRange, Text
from sectstudy.dates import in_range_condition


def on_one_line(text: str) -> str:
    """Text with each run of line breaks, tabs and spaces made one space."""
    return " ".join(text.split())


def validate_one_line(name: str) -> None:
    """A group's name goes into the subject line of its emails, where Python refuses any
    line break: all that str.splitlines() breaks on (\\u2028, NEL, form feed...) and tabs."""
    if "\t" in name or "".join(name.splitlines()) != name:
        raise ValidationError("Write the name on one line.", code="line_break")


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
    name = models.CharField(max_length=80, validators=[validate_one_line])
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
    # The form that created it (sectstudy.submissions): the same form sent twice makes one.
    submission_id = models.UUIDField(null=True, blank=True, editable=False)

    objects = StudyGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission_id"],
                condition=Q(submission_id__isnull=False),
                name="one_group_per_submission",
            ),
            models.UniqueConstraint(
                fields=["notebook_owner", "text"],
                condition=Q(notebook_owner__isnull=False),
                name="one_notebook_per_reader_text",
            ),
            models.CheckConstraint(
                condition=in_range_condition("invite_expires_at", nullable=True),
                name="group_invite_expiry_in_range",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("group_detail", kwargs={"group_slug": self.slug})

    def passage_url(self, position: int | None, anchor: str = "") -> str:
        """A passage of the group's text with this group's discussion beside it. A
        passage a revision removed has no position: its link is the text's contents,
        which list removed passages with their discussions."""
        if position is None:
            url = reverse("text_detail", kwargs={"text_slug": self.text.slug})
            return f"{url}?group={self.slug}"
        url = reverse("passage_detail", kwargs={"text_slug": self.text.slug, "position": position})
        return f"{url}?group={self.slug}" + (f"#{anchor}" if anchor else "")

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


class Removal(models.Model):
    """A facilitator removed this reader from the group while this invitation link was
    current: that link no longer lets them back in. A new link (a new invitation)
    does."""

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="removals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invite_token = models.CharField(max_length=64)
    removed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="one_removal_per_group_user"),
        ]

    def __str__(self):
        return f"{self.user} removed from {self.group}"


class ActionCount(models.Model):
    """How often something happened under a key (say "post:user:12") in one time window:
    the counter behind throttling, kept in PostgreSQL so every app server shares it."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="one_count_per_key_window")
        ]

    def __str__(self):
        return f"{self.key} x{self.count} from {self.window_start:%Y-%m-%d %H:%M}"


class MeetingQuerySet(models.QuerySet):
    def scheduled(self):
        return self.filter(cancelled_at__isnull=True)

    def upcoming(self, now):
        return self.scheduled().filter(starts_at__gte=now).order_by("starts_at")


MEETING_NOTES_MAX_LENGTH = 10_000
MEETING_MINUTES_MIN, MEETING_MINUTES_MAX = 5, 12 * 60


class Meeting(PassageRange):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=90,
        verbose_name="Length in minutes",
        validators=[
            MinValueValidator(MEETING_MINUTES_MIN),
            MaxValueValidator(MEETING_MINUTES_MAX),
        ],
    )
    agenda = models.TextField(max_length=2000, blank=True)
    # Written by a facilitator after the meeting (Markdown); members read them on its page.
    notes = models.TextField(max_length=MEETING_NOTES_MAX_LENGTH, blank=True)
    # Rendered once from `notes` at write time and sanitized (discussions.markdown).
    notes_html = models.TextField(blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When members were reminded, a day before (once per start time: moving it resets this).
    reminder_sent_for = models.DateTimeField(null=True, blank=True, editable=False)
    # Calendar apps take a change only from a later version of the event (SEQUENCE).
    updated_at = models.DateTimeField(auto_now=True)
    # The form that scheduled it (sectstudy.submissions): the same form sent twice makes one.
    submission_id = models.UUIDField(null=True, blank=True, editable=False)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            *PassageRange.Meta.constraints,
            models.UniqueConstraint(
                fields=["group", "submission_id"],
                condition=Q(submission_id__isnull=False),
                name="one_meeting_per_submission",
            ),
            models.CheckConstraint(
                condition=in_range_condition("starts_at", nullable=False),
                name="meeting_starts_in_range",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=MEETING_MINUTES_MIN)
                & Q(duration_minutes__lte=MEETING_MINUTES_MAX),
                name="meeting_duration_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.group} meeting at {self.starts_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse(
            "meeting_detail", kwargs={"group_slug": self.group.slug, "meeting_pk": self.pk}
        )

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def notes_markup(self):
        # Sanitized at write time by discussions.markdown.render_markdown
        # (discussions.services.meeting_notes_save), as comments are.
        return mark_safe(self.notes_html)  # noqa: S308


class CalendarFeed(models.Model):
    """A member's private calendar address: every meeting of their groups, for calendar
    apps to subscribe to. Whoever has the address sees the meetings, so it is secret
    and can be replaced (the old address stops working) or turned off (deleted)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_invite_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"

    def get_absolute_url(self):
        return reverse("calendar_feed", kwargs={"token": self.token})


class ReaderSettings(models.Model):
    """A reader's own settings that every page uses: their time zone ("" for the site's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_settings"
    )
    time_zone = models.CharField(max_length=64, blank=True, default="")

    def __str__(self):
        return f"Settings of {self.user}"
