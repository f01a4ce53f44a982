from django import forms

from reading.models import Text


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
