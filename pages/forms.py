from django import forms


class GroupChoiceForm(forms.Form):
    """Which of the reader's groups (or their notebook) to show beside a text."""

    group = forms.ChoiceField()

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(m.group.slug, m.group.name) for m in choices]
