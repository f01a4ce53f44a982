from django import forms
from django.db.models import Q

from discussions.models import (
    COMMENT_MAX_LENGTH,
    HIDE_REASON_MAX_LENGTH,
    QUOTE_MAX_LENGTH,
    Comment,
    NotificationPreference,
    Question,
)
from discussions.selectors import DIGEST_HOUR
from groups.forms import TimeZoneField
from groups.models import Meeting
from reading.forms import PassageRangeFormMixin
from sectstudy.dates import DATETIME_LOCAL, BoundedDateTimeField
from sectstudy.markdown_fields import MarkdownField
from sectstudy.submissions import SubmissionIdField, SubmissionIdMixin


def _body_field(label="Your comment"):
    return MarkdownField(
        label=label,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown: **bold**, *italic*, [links](https://…), > quotes. Mention a member with @username.",
        error_messages={
            "required": "Write something before posting.",
            "max_length": f"Comments can be at most {COMMENT_MAX_LENGTH:,} characters long "
            "(this one has %(show_value)d).",
        },
    )


class CommentForm(SubmissionIdMixin, forms.Form):
    body = _body_field()
    submission_id = SubmissionIdField()
    quote = forms.CharField(
        label="Quote from the passage (optional)",
        required=False,
        max_length=QUOTE_MAX_LENGTH,
        help_text="Select words in the passage and choose “Comment”, or paste them here.",
    )
    quote_start = forms.IntegerField(
        required=False,
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "The position of the quote was not understood. Select or paste it again.",
            "min_value": "The position of the quote was not understood. Select or paste it again.",
        },
    )
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def prepare_reply_form(form: CommentForm, parent: Comment) -> CommentForm:
    """A comment form shown as the reply to `parent`: its own ids beside the other
    replies on the page, and a label naming whom it answers."""
    form.auto_id = f"reply-%s-{parent.pk}"
    form.initial.setdefault("parent", parent.pk)
    author = parent.author.username if parent.author else "this comment"
    form.fields["body"].label = f"Your reply to {author}"
    form.fields["body"].widget.attrs["rows"] = 3
    # A posted reply with errors was validated as a plain comment form: its fields (label,
    # ids) and its errors (the id `aria-describedby` points at) are drawn again as the reply's.
    form._bound_fields_cache.clear()
    for name, errors in form.errors.items() if form.is_bound else ():
        if name in form.fields:
            errors.field_id = form[name].auto_id
    return form


class CommentEditForm(forms.ModelForm):
    body = _body_field("Edit your comment")

    class Meta:
        model = Comment
        fields = ("body",)

    def __init__(self, *args, instance: Comment, **kwargs):
        # Its own ids beside the page's comment form (and other open forms).
        kwargs.setdefault("auto_id", f"edit-%s-{instance.pk}")
        super().__init__(*args, instance=instance, **kwargs)


class QuoteReattachForm(forms.Form):
    quote = forms.CharField(
        label="The words this comment is about now",
        max_length=QUOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Select them in the passage, or copy them here.",
        error_messages={"required": "Choose the words of the passage this comment is about."},
    )
    quote_start = CommentForm.base_fields["quote_start"]


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Reason (shown to the author)",
        max_length=HIDE_REASON_MAX_LENGTH,
        error_messages={"required": "Give the author a reason."},
    )


class ToggleForm(forms.Form):
    """One boolean switched by a button: helpful marks, pins."""

    on = forms.TypedChoiceField(choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1")


class NotificationPreferenceForm(forms.Form):
    time_zone = TimeZoneField()
    email_replies = forms.BooleanField(
        required=False, label="Email me when someone replies to my comments"
    )
    email_mentions = forms.BooleanField(
        required=False,
        label="Email me when someone mentions me (@username)",
        help_text="A mention in a reply to you comes as the reply's email, not twice.",
    )
    email_questions = forms.BooleanField(
        required=False,
        label="Email me when a question is assigned to my group and a day before it is due",
    )
    email_meetings = forms.BooleanField(
        required=False,
        label="Email me a day before a meeting, with the passages I have not read yet",
    )
    email_delivery = forms.ChoiceField(
        choices=[
            (
                NotificationPreference.Delivery.IMMEDIATE,
                "Right away: one email for each reply, mention or question",
            ),
            (
                NotificationPreference.Delivery.DAILY,
                # Not "time zone": the zone's own field has that label.
                f"Once a day: one digest, each morning after {DIGEST_HOUR:02d}:00 your local time",
            ),
        ],
        widget=forms.RadioSelect,
        required=False,
        label="Send reply, mention and question emails",
        help_text=(
            "The digest lists by group what you have not opened yet since the last one; "
            "on a day without anything new, none is sent. Meeting reminders always come "
            "the day before, on their own."
        ),
    )

    def clean_time_zone(self) -> str:
        # A browser always posts the menu's choice ("" for the site's); a post without
        # it keeps the reader's zone.
        if self.add_prefix("time_zone") not in self.data:
            return self.initial.get("time_zone", "")
        return self.cleaned_data["time_zone"]

    def clean_email_delivery(self) -> str:
        # A browser always posts one of the radio buttons; a post without (a script)
        # keeps the reader's choice.
        return self.cleaned_data["email_delivery"] or self.initial.get(
            "email_delivery", NotificationPreference.Delivery.IMMEDIATE
        )


class QuestionForm(SubmissionIdMixin, PassageRangeFormMixin, forms.ModelForm):
    submission_id = SubmissionIdField()

    class Meta:
        model = Question
        fields = ("body", "first_position", "last_position", "due_at", "meeting", "answer_first")
        field_classes = {"due_at": BoundedDateTimeField, "body": MarkdownField}
        labels = {
            "body": "Question",
            "first_position": "On passage",
            "last_position": "to passage",
            "due_at": "Due (optional)",
            "meeting": "For meeting (optional)",
        }
        help_texts = {
            "body": "Markdown is welcome. Up to 5,000 characters.",
            "last_position": "The same number for a single passage.",
            "due_at": "Leave empty to use the meeting's time, or for no due date.",
            "answer_first": "Members see the others' answers only after answering; you always see them all.",
        }
        widgets = {
            "body": forms.Textarea(attrs={"rows": 4}),
            "due_at": forms.DateTimeInput(attrs=DATETIME_LOCAL, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.group = group
        self.setup_passage_range(group.text)
        # The group's meetings that take place, and the question's own even if cancelled
        # (else saving the form would quietly unlink it).
        meeting = self.fields["meeting"]
        meeting.queryset = Meeting.objects.filter(
            Q(cancelled_at__isnull=True) | Q(pk=self.instance.meeting_id), group=group
        ).order_by("starts_at")
        meeting.label_from_instance = lambda m: f"{m} (cancelled)" if m.cancelled_at else str(m)
        meeting.empty_label = "No meeting"
        self.fields["body"].error_messages["required"] = "Write the question."


class AnswerForm(forms.Form):
    body = _body_field("Your answer")

    def __init__(self, *args, question_id: int, my_answer: Comment | None = None, **kwargs):
        # One form per question on a passage page: ids of their own.
        kwargs.setdefault("auto_id", f"answer-%s-{question_id}")
        if my_answer is not None:
            kwargs.setdefault("initial", {"body": my_answer.body})
        super().__init__(*args, **kwargs)
        self.fields["body"].label = "Edit your answer" if my_answer else "Your answer"
        self.fields["body"].widget.attrs["rows"] = 3


class QuestionDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        required=False, label="Yes, delete the question and all its answers"
    )


class MoveForm(forms.Form):
    direction = forms.TypedChoiceField(
        choices=[("up", "up"), ("down", "down")], coerce=lambda v: -1 if v == "up" else 1
    )
