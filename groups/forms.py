from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone

from groups import timezones
from groups.models import Meeting, Membership, StudyGroup
from reading.forms import PassageRangeFormMixin
from sectstudy.dates import DATETIME_LOCAL, BoundedDateTimeField
from sectstudy.markdown_fields import MarkdownField
from sectstudy.submissions import SubmissionIdField, SubmissionIdMixin


class TimeZoneField(forms.ChoiceField):
    """An IANA time zone, or "" for the site's; the page proposes the browser's."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault(
            "help_text", "Meeting times and due dates are shown in it. Your browser's is proposed."
        )
        super().__init__(choices=timezones.zone_choices, required=False, **kwargs)


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=True,
        help_text="Used only to reset your password and, if you wish, for notifications.",
    )
    time_zone = TimeZoneField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new reader: site.js proposes the browser's zone (later, Settings keeps theirs).
        self.fields["time_zone"].widget.attrs["data-propose-browser-zone"] = ""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email

    def validate_password_for_user(self, user, password_field_name="password1"):  # noqa: S107
        # A weak password is the password's to fix, not its confirmation's (Django puts it
        # on password2); checked even when the two differ, so both are said at once.
        super().validate_password_for_user(user, password_field_name=password_field_name)


class _StudyGroupFields(forms.ModelForm):
    class Meta:
        model = StudyGroup
        fields = ("text", "name", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        error_messages = {"name": {"required": "Give the group a name."}}

        help_texts = {
            "name": "Up to 80 characters.",
            "description": "Optional. What the group is reading for, when it meets. Up to 1,000 characters.",
        }


class StudyGroupForm(SubmissionIdMixin, _StudyGroupFields):
    """A new group: its text, name and description."""

    submission_id = SubmissionIdField()


class StudyGroupEditForm(_StudyGroupFields):
    """Name and description; a group's text is fixed once people discuss it."""

    class Meta(_StudyGroupFields.Meta):
        fields = ("name", "description")


class InvitationForm(forms.Form):
    expires_at = BoundedDateTimeField(
        required=False,
        label="Link expires",
        help_text="Optional. Leave empty for a link that works until you regenerate it.",
        widget=forms.DateTimeInput(attrs=DATETIME_LOCAL, format="%Y-%m-%dT%H:%M"),
    )

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return expires_at


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class MeetingForm(SubmissionIdMixin, PassageRangeFormMixin, forms.ModelForm):
    submission_id = SubmissionIdField()  # scheduling; a meeting's edits ignore it

    class Meta:
        model = Meeting
        fields = ("starts_at", "duration_minutes", "first_position", "last_position", "agenda")
        field_classes = {"starts_at": BoundedDateTimeField, "agenda": MarkdownField}
        labels = {
            "starts_at": "Date and time",
            "first_position": "Read from passage",
            "last_position": "to passage",
            "agenda": "Agenda",
        }
        help_texts = {
            "agenda": "Optional. Up to 2,000 characters.",
            "duration_minutes": "For calendars: from 5 minutes to 12 hours.",
        }
        widgets = {
            "starts_at": forms.DateTimeInput(attrs=DATETIME_LOCAL, format="%Y-%m-%dT%H:%M"),
            "agenda": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, group: StudyGroup, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.group = group
        self.setup_passage_range(group.text)
        self.fields["duration_minutes"].required = False
        self.fields[
            "starts_at"
        ].help_text = (
            f"In your time zone, {timezone.get_current_timezone_name().replace('_', ' ')}."
        )

    def clean_duration_minutes(self):
        duration = self.cleaned_data.get("duration_minutes")
        return Meeting._meta.get_field("duration_minutes").default if duration is None else duration


class MeetingNotesForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ("notes",)
        labels = {"notes": "Notes from the meeting"}
        help_texts = {"notes": "Markdown. Members see them on the meeting's page."}
        field_classes = {"notes": MarkdownField}
        widgets = {"notes": forms.Textarea(attrs={"rows": 8})}

    def clean_notes(self) -> str:
        # A browser always sends the field (empty to clear the notes): a post without it
        # (a script, a broken request) must not erase them.
        if self.add_prefix("notes") not in self.data:
            raise forms.ValidationError("The notes did not arrive; nothing was changed.")
        return self.cleaned_data["notes"]


class CalendarFeedForm(forms.Form):
    RENEW, STOP = "renew", "stop"
    action = forms.ChoiceField(choices=[(RENEW, "new address"), (STOP, "turn off")])
