"""One thing per submitted form: a hidden one-time id in each rendered form, so that a
double click or a retry after a lost response cannot make two (comments, questions,
groups, meetings). Each model keeps the id under a unique constraint; its service
returns what the id already made when the same form comes again."""

import uuid

from django import forms


class SubmissionIdField(forms.UUIDField):
    """A one-time id for each rendered form: the server makes one thing per id."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)


class SubmissionIdMixin:
    """Gives an unbound form a fresh submission id."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["submission_id"].initial = uuid.uuid4()
