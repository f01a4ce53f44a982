from django import forms


class GroupChoiceForm(forms.Form):
    """Which of the reader's groups (or their notebook) to show beside a text."""

    group = forms.ChoiceField()

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(m.group.slug, m.group.name) for m in choices]


class HandoutThreadsForm(forms.Form):
    threads = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["threads"].choices = [(row.comment.pk, row.comment.pk) for row in candidates]
