"""One thing per submitted form: a hidden one-time id in each rendered form, so that a
double click or a retry after a lost response cannot make two (comments, questions,
groups, meetings). Each model keeps the id under a unique constraint; its service
returns what the id already made when the same form comes again.

What is stored is the form's id combined with what the form said (`with_content`): the
same form sent again with other words (a page restored by Back and changed) is another
post with an id of its own, so that a double click of that one is caught too."""

import uuid

from django import forms


def with_content(submission_id: uuid.UUID | None, *content) -> uuid.UUID | None:
    """The id a submission is stored under: the form's id and what it sent."""
    if submission_id is None:
        return None
    return uuid.uuid5(submission_id, repr(content))


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
