from django import forms

from discussions.models import COMMENT_MAX_LENGTH, HIDE_REASON_MAX_LENGTH, QUOTE_MAX_LENGTH, Comment


def _body_field(label="Your comment"):
    return forms.CharField(
        label=label,
        max_length=COMMENT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH}),
        help_text="Markdown: **bold**, *italic*, [links](https://…), > quotes. Mention a member with @username.",
        error_messages={
            "required": "Write something before posting.",
            "max_length": f"Comments can be at most {COMMENT_MAX_LENGTH:,} characters long "
            "(this one has %(show_value)d).",
        },
    )


class CommentForm(forms.Form):
    body = _body_field()
    quote = forms.CharField(
        label="Quote from the passage (optional)",
        required=False,
        max_length=QUOTE_MAX_LENGTH,
        help_text="Select words in the passage and choose “Comment on selection”, or paste them here.",
        widget=forms.TextInput(attrs={"maxlength": QUOTE_MAX_LENGTH}),
    )
    quote_start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class CommentEditForm(forms.ModelForm):
    body = _body_field("Edit your comment")

    class Meta:
        model = Comment
        fields = ("body",)


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Reason (shown to the author)",
        max_length=HIDE_REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"maxlength": HIDE_REASON_MAX_LENGTH}),
        error_messages={"required": "Give the author a reason."},
    )


class ToggleForm(forms.Form):
    """One boolean switched by a button: helpful marks, pins."""

    on = forms.TypedChoiceField(choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1")


class NotificationPreferenceForm(forms.Form):
    email_replies = forms.BooleanField(
        required=False, label="Email me when someone replies to my comments"
    )
