import base64
import binascii

from django import forms

from reading.importing import ENCODINGS, TextParseError, decode_source
from reading.models import AUTHOR_MAX_LENGTH, SLUG_MAX_LENGTH, TITLE_MAX_LENGTH, Text

# The largest file the admin takes (2,000 passages of 100 words is ~1.3 MB): the
# confirmation sends it back in base64, which must stay under Django's 2.5 MB request
# limit (DATA_UPLOAD_MAX_MEMORY_SIZE). Larger texts go through `manage.py import_text`.
MAX_TEXT_FILE_BYTES = 1_800_000
ENCODING_CHOICES = [(name, name) for name in ENCODINGS]


class ProgressForm(forms.Form):
    read = forms.TypedChoiceField(
        choices=[("1", "read"), ("0", "unread")], coerce=lambda value: value == "1"
    )


class PassageRangeFormMixin:
    """first_position/last_position fields checked against a text's passages.

    For ModelForms of passage ranges (meetings, questions); call
    `setup_passage_range(text)` from __init__.
    """

    def setup_passage_range(self, text: Text) -> None:
        self.passage_count = text.passages.count()
        for name in ("first_position", "last_position"):
            self.fields[name].widget.attrs.update({"min": 1, "max": self.passage_count})

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_position"), cleaned.get("last_position")
        for name, value in (("first_position", first), ("last_position", last)):
            if value is not None and not 1 <= value <= self.passage_count:
                self.add_error(name, f"Choose a passage between 1 and {self.passage_count}.")
        if first is not None and last is not None and last < first:
            self.add_error("last_position", "The last passage cannot come before the first.")
        return cleaned


class TextFileForm(forms.Form):
    """A plain-text file to import as a new text or to revise a text with (the admin's
    upload). The file's bytes travel on to the confirmation step in `source`."""

    file = forms.FileField(
        help_text="Plain text: a title line, then passages separated by blank lines."
    )
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial="utf-8")
    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH, required=False, help_text="Default: the file's first line."
    )
    author = forms.CharField(max_length=AUTHOR_MAX_LENGTH, required=False)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None or "encoding" not in cleaned:
            return cleaned
        if upload.size > MAX_TEXT_FILE_BYTES:
            self.add_error(
                "file",
                f"The file is larger than {MAX_TEXT_FILE_BYTES / 1e6:.1f} MB: "
                "import it with manage.py import_text.",
            )
            return cleaned
        data = upload.read()
        try:
            cleaned["source"] = decode_source(data, cleaned["encoding"])
        except TextParseError as error:
            self.add_error("file", str(error))
        cleaned["data"] = base64.b64encode(data).decode("ascii")
        return cleaned


class NewTextFileForm(TextFileForm):
    slug = forms.SlugField(
        max_length=SLUG_MAX_LENGTH, required=False, help_text="Default: made from the title."
    )


class ConfirmTextFileForm(forms.Form):
    """The confirmation of a previewed upload: the same file and choices, and the
    plan the staff member saw, so that a plan that changed meanwhile is shown again."""

    data = forms.CharField(widget=forms.HiddenInput)
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, widget=forms.HiddenInput)
    title = forms.CharField(max_length=TITLE_MAX_LENGTH, required=False, widget=forms.HiddenInput)
    author = forms.CharField(max_length=AUTHOR_MAX_LENGTH, required=False, widget=forms.HiddenInput)
    slug = forms.CharField(max_length=SLUG_MAX_LENGTH, required=False, widget=forms.HiddenInput)
    plan_digest = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if "data" not in cleaned or "encoding" not in cleaned:
            return cleaned
        try:
            data = base64.b64decode(cleaned["data"], validate=True)
            cleaned["source"] = decode_source(data, cleaned["encoding"])
        except (binascii.Error, ValueError, TextParseError):
            raise forms.ValidationError("The file was not sent back intact.") from None
        return cleaned
