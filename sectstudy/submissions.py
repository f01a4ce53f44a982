"""One thing per submitted form: a hidden one-time id in each rendered form, so that a
double click or a retry after a lost response cannot make two (comments, questions,
groups, meetings). Each model keeps the id under a unique constraint; its service
returns what the id already made when the same form comes again.

What is stored is the form's id combined with what the form said (`with_content`): the
same form sent again with other words (a page restored by Back and changed) is another
post with an id of its own, so that a double click of that one is caught too."""

import uuid
from collections.abc import Callable

from django import forms


def with_content(submission_id: uuid.UUID | None, *content) -> uuid.UUID | None:
    """The id a submission is stored under: the form's id and what it sent."""
    if submission_id is None:
        return None
    return uuid.uuid5(submission_id, repr(content))


def made_before[T](
    submission_id: uuid.UUID | None, *, used, made: Callable[[], T | None]
) -> tuple[T | None, uuid.UUID | None]:
    """What an earlier post of this very submission made (a retry: return it), and the
    id a new post is stored under. `used`: the things stored under the id; `made()`: the
    one that still matches what was sent, if any.

    Whether the id was used is asked before what it made: the other way round, a double
    click's first post could commit between the two questions and a second thing be
    made. An id used for something changed since (edited, deleted, cancelled, left by its
    creator) is not stored again: the new post is made without it."""
    if submission_id is None or not used.exists():
        return None, submission_id
    return made(), None


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
