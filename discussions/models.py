import html

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.expressions import DatabaseDefault
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from groups import permissions
from groups.models import Meeting, Membership, StudyGroup
from reading.models import Passage, PassageRange
from sectstudy.dates import in_range_condition

COMMENT_MAX_LENGTH = 10_000
QUESTION_MAX_LENGTH = 5_000
QUOTE_MAX_LENGTH = 1_000
HIDE_REASON_MAX_LENGTH = 300


class QuestionQuerySet(models.QuerySet):
    def for_passage(self, passage: Passage):
        return self.filter(
            first_position__lte=passage.position, last_position__gte=passage.position
        )

    def open(self):
        return self.filter(closed_at__isnull=True)


class Question(PassageRange):
    """A reading question a facilitator assigns to a passage or a range of passages.

    Members answer it once each; an answer is a Comment with `question` set, so
    answers get the same rendering, editing, tombstones, replies, helpful marks
    and notifications as comments.
    """

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="questions")
    body = models.TextField(max_length=QUESTION_MAX_LENGTH)
    body_html = models.TextField()
    due_at = models.DateTimeField(null=True, blank=True)
    meeting = models.ForeignKey(
        Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions"
    )
    answer_first = models.BooleanField(
        default=False,
        verbose_name="Members answer before they see others' answers",
    )
    order = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    due_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    submission_id = models.UUIDField(null=True, blank=True, editable=False)
    # For search: English stems of the body, kept by PostgreSQL (GIN-indexed).
    search_vector = models.GeneratedField(
        expression=SearchVector("body", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["first_position", "order", "pk"]
        indexes = [GinIndex(fields=["search_vector"], name="question_search_vector")]
        constraints = [
            *PassageRange.Meta.constraints,
            models.CheckConstraint(
                condition=in_range_condition("due_at", nullable=True),
                name="question_due_in_range",
            ),
            models.UniqueConstraint(
                fields=["created_by", "submission_id"],
                condition=Q(submission_id__isnull=False),
                name="one_question_per_submission",
            ),
        ]

    def __str__(self):
        return self.body[:60]

    def get_absolute_url(self):
        return reverse(
            "question_detail", kwargs={"group_slug": self.group.slug, "question_pk": self.pk}
        )

    @property
    def body_markup(self):
        # Sanitized at write time by discussions.markdown.render_markdown.
        return mark_safe(self.body_html)  # noqa: S308

    @property
    def due(self):
        """The due time: the question's own, else its meeting's."""
        if self.due_at:
            return self.due_at
        if self.meeting_id and self.meeting.cancelled_at is None:
            return self.meeting.starts_at
        return None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class CommentQuerySet(models.QuerySet):
    """The two kinds of writing that share the comments table, and who may see what."""

    def discussion(self):
        """Comments in a passage's discussion (not answers, nor replies to answers)."""
        return self.filter(question__isnull=True)

    def answers(self):
        """Members' answers to questions: the top of each answer thread, not deleted."""
        return self.filter(question__isnull=False, parent__isnull=True, deleted_at__isnull=True)

    def answer_threads(self):
        """Answers and the replies under them."""
        return self.filter(question__isnull=False)

    def thread(self, root_id: int):
        """A whole thread: its top-level comment (or answer) and every reply under it."""
        return self.filter(Q(pk=root_id) | Q(root_id=root_id))

    def visible_to(self, membership):
        """What this member may see: hidden comments only for facilitators and their
        authors; answer threads under "answer first" only once the member has answered
        (rules of groups.permissions, in SQL)."""
        answered = (
            Comment.objects.answers().filter(author_id=membership.user_id).values("question_id")
        )
        return self.filter(
            permissions.hidden_comment_filter(membership),
            permissions.answers_filter(membership, answered),
        )


class CommentManager(models.Manager.from_queryset(CommentQuerySet)):
    def get_queryset(self):
        # The search vector serves queries (search.selectors) and is never read back:
        # a passage's thousand comments are not fetched with a tsvector each.
        return super().get_queryset().defer("search_vector")


class Comment(models.Model):
    """A piece of writing in a group's discussion of a passage.

    Replies point at their parent and their thread's top (root); the tree is built in
    Python. A deleted comment stays as a tombstone without its words: threads show it
    while it has replies (it keeps their shape), and open pages learn of the deletion.
    """

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="comments")
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    # The top-level comment (or answer) of the thread a reply belongs to; None at the
    # top. Re-rendering one comment reads its thread, not the whole passage.
    root = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # How many replies up its thread's top is (0 at the top), fixed when it is written:
    # one comment renders at its depth without reading the thread above it.
    depth = models.PositiveSmallIntegerField(db_default=0, editable=False)
    DEEPEST = 32_767  # the largest depth the column (a PostgreSQL smallint) holds
    # Set on an answer (top level) and on every reply in its thread.
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    highlighted_at = models.DateTimeField(null=True, blank=True)
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    # Rendered once from `body` at write time and sanitized (see discussions.markdown).
    body_html = models.TextField()

    # The quoted phrase, stored as W3C Web Annotation text-quote and
    # text-position selectors so the anchor survives corrections of the passage.
    quote_exact = models.TextField(max_length=QUOTE_MAX_LENGTH, blank=True)
    quote_prefix = models.CharField(max_length=64, blank=True)
    quote_suffix = models.CharField(max_length=64, blank=True)
    quote_start = models.PositiveIntegerField(null=True, blank=True)
    quote_end = models.PositiveIntegerField(null=True, blank=True)
    # After a revision corrected the quoted words: the words first quoted (the quote
    # then points at the corrected ones), and whether nothing close remained.
    quote_original = models.TextField(max_length=QUOTE_MAX_LENGTH, blank=True)
    quote_detached_at = models.DateTimeField(null=True, blank=True)
    # When the author or a facilitator re-attached a detached quote to new words.
    quote_reattached_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=HIDE_REASON_MAX_LENGTH, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    pinned_at = models.DateTimeField(null=True, blank=True)
    # When anything a reader sees of it last changed (written, edited, deleted, hidden,
    # pinned, marked helpful...): an open page asks for what changed since (the poll).
    updated_at = models.DateTimeField(db_default=Now())
    # The one-time id of the form that posted it: a double submit or a retry of the
    # same form finds this comment instead of making a second one.
    submission_id = models.UUIDField(null=True, blank=True, editable=False)
    # For search: English stems of the body, kept by PostgreSQL (GIN-indexed).
    search_vector = models.GeneratedField(
        expression=SearchVector("body", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = CommentManager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["group", "passage", "created_at"]),
            GinIndex(fields=["search_vector"], name="comment_search_vector"),
            # A thread's first replies in time, read without reading the rest of it.
            models.Index(fields=["root", "created_at", "id"], name="comment_thread_in_time"),
            # The discussion's newest comment and latest change, each one index probe
            # (the poll asks every few seconds).
            models.Index(
                fields=["group", "passage", "id"],
                condition=Q(question__isnull=True),
                name="discussion_newest",
            ),
            models.Index(
                fields=["group", "passage", "updated_at"],
                condition=Q(question__isnull=True),
                name="discussion_last_change",
            ),
            # How many comments of a discussion a member sees (the passage's heading, the
            # contents page), counted from the index alone: what the hidden rule reads
            # is in it.
            models.Index(
                fields=["group", "passage"],
                include=["hidden_at", "author"],
                condition=Q(question__isnull=True, deleted_at__isnull=True),
                name="discussion_standing",
            ),
            # The tops of a discussion's threads, for the page of threads shown.
            models.Index(
                fields=["group", "passage"],
                condition=Q(question__isnull=True, parent__isnull=True),
                name="discussion_threads",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True, root__isnull=True)
                | Q(parent__isnull=False, root__isnull=False),
                name="comment_reply_has_root",
            ),
            models.CheckConstraint(
                condition=Q(pinned_at__isnull=True) | Q(question__isnull=True, parent__isnull=True),
                name="comment_pin_only_on_discussion_threads",
            ),
            models.CheckConstraint(
                condition=Q(quote_exact="") | Q(question__isnull=True, parent__isnull=True),
                name="comment_quote_only_on_discussion_threads",
            ),
            models.CheckConstraint(
                condition=Q(highlighted_at__isnull=True)
                | Q(question__isnull=False, parent__isnull=True),
                name="comment_highlight_only_on_answers",
            ),
            models.CheckConstraint(
                condition=Q(quote_start__isnull=True)
                | Q(quote_end__isnull=False, quote_end__gt=models.F("quote_start")),
                name="comment_quote_range_valid",
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="comment_not_its_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, depth=0) | Q(parent__isnull=False, depth__gt=0),
                name="comment_depth_matches_parent",
            ),
            models.UniqueConstraint(
                fields=["question", "author"],
                condition=Q(question__isnull=False, parent__isnull=True, deleted_at__isnull=True),
                name="one_answer_per_member_question",
            ),
            models.UniqueConstraint(
                fields=["author", "submission_id"],
                condition=Q(submission_id__isnull=False),
                name="one_comment_per_submission",
            ),
        ]

    def __str__(self):
        return f"Comment {self.pk} by {self.author} on {self.passage}"

    def save(self, *args, **kwargs):
        if self._state.adding:
            if self.parent_id is not None:
                self.depth = self.parent.depth + 1
            if isinstance(self.updated_at, DatabaseDefault):
                # The app's clock, as created_at's (the database's default is for inserts
                # made outside the app).
                self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse(
            "comment_thread", kwargs={"group_slug": self.group.slug, "comment_pk": self.pk}
        )

    @property
    def plain_body(self) -> str:
        """The comment as plain text (Markdown rendered, tags dropped), for excerpts."""
        return html.unescape(strip_tags(self.body_html))

    @property
    def body_markup(self):
        # body_html was produced by discussions.markdown.render_markdown, which
        # sanitizes with an allowlist; this is the one place it is marked safe.
        return mark_safe(self.body_html)  # noqa: S308

    @property
    def at_deepest(self) -> bool:
        """As deep as a thread goes: a reply to it would not fit the depth column. (An
        unsaved top-level comment's depth is still the database's default, 0.)"""
        return isinstance(self.depth, int) and self.depth >= self.DEEPEST

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    # What a deleted comment no longer holds: its words and what it quoted.
    WORDS = (
        "body",
        "body_html",
        "quote_exact",
        "quote_prefix",
        "quote_suffix",
        "quote_original",
        "quote_start",
        "quote_end",
    )

    def forget_words(self) -> None:
        """A deleted comment is a tombstone: a place in its thread, without words."""
        self.body = self.body_html = ""
        self.quote_exact = self.quote_prefix = self.quote_suffix = self.quote_original = ""
        self.quote_start = self.quote_end = None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_pinned(self) -> bool:
        return self.pinned_at is not None

    @property
    def has_quote(self) -> bool:
        return bool(self.quote_exact)

    @property
    def quote_reanchored(self) -> bool:
        """The quote was moved approximately onto corrected words by a revision."""
        return (
            bool(self.quote_original)
            and self.quote_detached_at is None
            and self.quote_reattached_at is None
        )

    @property
    def is_answer(self) -> bool:
        return self.question_id is not None and self.parent_id is None

    @property
    def in_answer_thread(self) -> bool:
        return self.question_id is not None

    @property
    def thread_root_id(self) -> int:
        return self.root_id or self.pk


class HelpfulMark(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="helpful_marks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpful_marks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="one_helpful_mark_per_user")
        ]

    def __str__(self):
        return f"{self.user} found comment {self.comment_id} helpful"


class PassageVisit(models.Model):
    """When a reader last saw a group's discussion of a passage: what is new is after it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passage_visits"
    )
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="+")
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="+")
    last_seen_at = models.DateTimeField()

    class Meta:
        # Also the conflict target of services._RECORD_VISIT, which names this table
        # and its columns in SQL: keep the two together.
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group", "passage"], name="one_visit_per_user_group_passage"
            )
        ]

    def __str__(self):
        return f"{self.user} saw {self.passage} in {self.group} at {self.last_seen_at}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def for_reader(self, user):
        """A reader's notifications about groups they still belong to (others' links would 404)."""
        # A subquery of the reader's groups rather than a join through each group's
        # memberships: the join planned and hashed every membership of every question's
        # group on each page's header badge.
        my_groups = Membership.objects.filter(user=user).values("group_id")
        return self.filter(
            Q(comment__group_id__in=my_groups) | Q(question__group_id__in=my_groups),
            recipient=user,
        )

    def readable_by(self, user):
        """The reader's notifications they may still read: in groups they belong to, and
        not about a comment deleted or hidden since or an answer thread under "answer
        first" they may not see (selectors.may_read, in SQL; one query however many)."""
        facilitated = Membership.objects.filter(user=user, role=Membership.Role.FACILITATOR).values(
            "group_id"
        )
        answered = Comment.objects.answers().filter(author=user).values("question_id")
        return self.for_reader(user).filter(
            Q(comment__isnull=True)
            | (
                Q(comment__deleted_at__isnull=True)
                & permissions.hidden_comment_filter_across_groups(
                    user.pk, facilitated, prefix="comment__"
                )
                & permissions.answers_filter_across_groups(
                    facilitated, answered, prefix="comment__"
                )
            )
        )


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "replied to you"
        MENTION = "mention", "mentioned you"
        QUESTION_ASSIGNED = "question_assigned", "assigned a question"
        QUESTION_DUE = "question_due", "question due soon"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set just before its email goes out (and cleared if sending fails), so a task run
    # again (a retry, a task recovered from a worker that died) never emails it twice.
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "comment"],
                condition=Q(comment__isnull=False),
                name="one_notification_per_comment_kind",
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "question"],
                condition=Q(question__isnull=False, comment__isnull=True),
                name="one_notification_per_question_kind",
            ),
        ]

    def __str__(self):
        return f"{self.actor} {self.get_kind_display()} (to {self.recipient})"


class NotificationPreference(models.Model):
    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "Right away, one email each"
        DAILY = "daily", "Once a day, in one digest"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_replies = models.BooleanField(
        default=True, verbose_name="Email me when someone replies to my comments"
    )
    # Its own setting, beside replies': being called into a discussion is not the same
    # as being answered, and a reader may want one and not the other.
    email_mentions = models.BooleanField(
        default=True, verbose_name="Email me when someone mentions me (@username)"
    )
    email_questions = models.BooleanField(
        default=True,
        verbose_name="Email me when a question is assigned and a day before it is due",
    )
    email_meetings = models.BooleanField(
        default=True,
        verbose_name="Email me a day before a meeting, with the passages I have not read yet",
    )
    # How reply, mention and question emails go out; meeting reminders are time-bound
    # and always come the day before, on their own.
    email_delivery = models.CharField(
        max_length=16,
        choices=Delivery.choices,
        default=Delivery.IMMEDIATE,
        verbose_name="Send these emails",
    )
    # When the last daily digest went out, or the reader chose the digest: the next
    # one lists what came after (selectors.daily_digest), on a later local day.
    digest_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(email_delivery__in=["immediate", "daily"]),
                name="notification_email_delivery_valid",
            )
        ]

    # Which setting allows the email about each kind of notification.
    SETTING_FOR_KIND = {
        Notification.Kind.REPLY: "email_replies",
        Notification.Kind.MENTION: "email_mentions",
        Notification.Kind.QUESTION_ASSIGNED: "email_questions",
        Notification.Kind.QUESTION_DUE: "email_questions",
    }

    def __str__(self):
        return f"Notification settings of {self.user}"

    def wants_email(self, kind: str) -> bool:
        return getattr(self, self.SETTING_FOR_KIND[kind])


class HandoutThread(models.Model):
    """A thread a facilitator chose to print on a meeting's handout."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="handout_threads")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "comment"], name="one_handout_row_per_thread"
            )
        ]

    def __str__(self):
        return f"Thread {self.comment_id} on the handout of {self.meeting}"
