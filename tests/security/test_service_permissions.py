"""The services enforce every rule of groups.permissions themselves, without a view.

Each write is called directly with someone the rule refuses (PermissionDenied,
and the database exactly as before) and with someone it allows (the write
happens). Disabling any permission check inside a service fails one of these.

The people: the group's facilitator and member, a second member, an outsider,
the facilitator of another group on the same text, and a reader who owns a
private notebook on it.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from discussions import services as discussions
from discussions.models import Comment, HelpfulMark, Notification, Question
from groups import services as groups
from groups.models import Meeting, Membership, StudyGroup
from tests.discussions.helpers import post_comment
from tests.factories import make_group, make_user

NOT_IN_GROUP = ("outsider", "facilitator_elsewhere")
NOT_FACILITATOR = ("member", *NOT_IN_GROUP)


@pytest.fixture
def passage(essay):
    return essay.passages.get(position=1)


@pytest.fixture
def notebook(essay, reader):
    """The private notebook of `reader` on the essay."""
    return groups.notebook_for(reader=reader, text=essay)


@pytest.fixture
def people(group, facilitator, member, outsider, reader, notebook):
    other = make_user("other")
    Membership.objects.create(group=group, user=other, role=Membership.Role.MEMBER)
    elsewhere = make_user("facilitator_elsewhere")
    make_group(group.text, facilitator=elsewhere, name="Another circle")
    return {
        "facilitator": facilitator,
        "member": member,
        "other_member": other,
        "outsider": outsider,
        "facilitator_elsewhere": elsewhere,
        "notebook_owner": reader,
    }


def db_state() -> dict[str, list[dict]]:
    """Every row a service of groups or discussions may write."""
    models = (StudyGroup, Membership, Meeting, Question, Comment, HelpfulMark, Notification)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def assert_denied(service, **kwargs):
    before = db_state()
    with pytest.raises(PermissionDenied):
        service(**kwargs)
    assert db_state() == before


def make_meeting(group) -> Meeting:
    return Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=3), first_position=1, last_position=2
    )


def unsaved_meeting(group) -> Meeting:
    return Meeting(
        group=group,
        starts_at=timezone.now() + timedelta(days=7),
        first_position=2,
        last_position=3,
    )


def make_question(group, facilitator, body="What makes a sect?", **fields) -> Question:
    return discussions.question_create(
        facilitator=facilitator, group=group, body=body, first_position=1, last_position=1, **fields
    )


def notebook_question(notebook) -> Question:
    """A question in a notebook, which no service makes: the rules refuse it anyway."""
    return Question.objects.create(
        group=notebook, body="Mine?", body_html="<p>Mine?</p>", first_position=1, last_position=1
    )


def membership(user, group) -> Membership:
    return Membership.objects.get(user=user, group=group)


# groups.services: the group itself --------------------------------------------------


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_group_update_by_non_facilitator_is_denied(people, group, role):
    assert_denied(
        groups.group_update, facilitator=people[role], group=group, name="Taken", description="x"
    )


def test_group_update_in_own_notebook_is_denied(people, notebook):
    assert_denied(
        groups.group_update,
        facilitator=people["notebook_owner"],
        group=notebook,
        name="Renamed notebook",
        description="",
    )


def test_group_update_by_facilitator_saves(people, group):
    groups.group_update(
        facilitator=people["facilitator"], group=group, name="Renamed", description="New."
    )
    assert StudyGroup.objects.filter(pk=group.pk).values_list("name", "description").get() == (
        "Renamed",
        "New.",
    )


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_invitation_regenerate_by_non_facilitator_is_denied(people, group, role):
    assert_denied(groups.invitation_regenerate, facilitator=people[role], group=group)


def test_invitation_regenerate_in_own_notebook_is_denied(people, notebook):
    assert_denied(
        groups.invitation_regenerate, facilitator=people["notebook_owner"], group=notebook
    )


def test_invitation_regenerate_by_facilitator_replaces_the_token(people, group):
    old_token = group.invite_token
    expires_at = timezone.now() + timedelta(days=2)
    groups.invitation_regenerate(
        facilitator=people["facilitator"], group=group, expires_at=expires_at
    )
    stored = StudyGroup.objects.get(pk=group.pk)
    assert (stored.invite_token != old_token, stored.invite_expires_at) == (True, expires_at)


# groups.services: memberships --------------------------------------------------------


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_membership_set_role_by_non_facilitator_is_denied(people, group, role):
    # Not even the member promoting themselves.
    assert_denied(
        groups.membership_set_role,
        acting_user=people[role],
        membership=membership(people["member"], group),
        role=Membership.Role.FACILITATOR,
    )


def test_membership_set_role_in_own_notebook_is_denied(people, notebook):
    assert_denied(
        groups.membership_set_role,
        acting_user=people["notebook_owner"],
        membership=membership(people["notebook_owner"], notebook),
        role=Membership.Role.MEMBER,
    )


def test_membership_set_role_by_facilitator_promotes(people, group):
    groups.membership_set_role(
        acting_user=people["facilitator"],
        membership=membership(people["member"], group),
        role=Membership.Role.FACILITATOR,
    )
    assert membership(people["member"], group).role == Membership.Role.FACILITATOR


@pytest.mark.parametrize("role", ("other_member", *NOT_IN_GROUP))
def test_membership_remove_of_someone_else_by_non_facilitator_is_denied(people, group, role):
    assert_denied(
        groups.membership_remove,
        acting_user=people[role],
        membership=membership(people["member"], group),
    )


def test_membership_remove_of_a_facilitator_by_member_is_denied(people, group):
    # With a second facilitator, only the rule stands between the member and the removal.
    Membership.objects.filter(user=people["other_member"], group=group).update(
        role=Membership.Role.FACILITATOR
    )
    assert_denied(
        groups.membership_remove,
        acting_user=people["member"],
        membership=membership(people["facilitator"], group),
    )


def test_membership_remove_of_own_notebook_is_denied(people, notebook):
    assert_denied(
        groups.membership_remove,
        acting_user=people["notebook_owner"],
        membership=membership(people["notebook_owner"], notebook),
    )


def test_membership_remove_of_a_notebook_owner_by_outsider_is_denied(people, notebook):
    assert_denied(
        groups.membership_remove,
        acting_user=people["outsider"],
        membership=membership(people["notebook_owner"], notebook),
    )


def test_membership_remove_by_facilitator_removes_the_member(people, group):
    groups.membership_remove(
        acting_user=people["facilitator"], membership=membership(people["member"], group)
    )
    assert list(group.memberships.values_list("user__username", flat=True)) == [
        "facilitator",
        "other",
    ]


def test_membership_remove_of_self_by_member_leaves(people, group):
    groups.membership_remove(
        acting_user=people["member"], membership=membership(people["member"], group)
    )
    assert list(group.memberships.values_list("user__username", flat=True)) == [
        "facilitator",
        "other",
    ]


# groups.services: meetings -----------------------------------------------------------


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_meeting_save_new_by_non_facilitator_is_denied(people, group, role):
    assert_denied(groups.meeting_save, facilitator=people[role], meeting=unsaved_meeting(group))


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_meeting_save_existing_by_non_facilitator_is_denied(people, group, role):
    meeting = make_meeting(group)
    meeting.agenda = "Changed behind the facilitator's back."
    assert_denied(groups.meeting_save, facilitator=people[role], meeting=meeting)


def test_meeting_save_in_own_notebook_is_denied(people, notebook):
    assert_denied(
        groups.meeting_save,
        facilitator=people["notebook_owner"],
        meeting=unsaved_meeting(notebook),
    )


def test_meeting_save_by_facilitator_schedules(people, group):
    meeting = groups.meeting_save(facilitator=people["facilitator"], meeting=unsaved_meeting(group))
    assert list(Meeting.objects.values_list("pk", "group", "first_position", "last_position")) == [
        (meeting.pk, group.pk, 2, 3)
    ]


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_meeting_cancel_by_non_facilitator_is_denied(people, group, role):
    assert_denied(groups.meeting_cancel, facilitator=people[role], meeting=make_meeting(group))


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_meeting_restore_by_non_facilitator_is_denied(people, group, role):
    assert_denied(groups.meeting_restore, facilitator=people[role], meeting=make_meeting(group))


def test_meeting_cancel_in_own_notebook_is_denied(people, notebook):
    assert_denied(
        groups.meeting_cancel, facilitator=people["notebook_owner"], meeting=make_meeting(notebook)
    )


def test_meeting_cancel_by_facilitator_cancels(people, group):
    meeting = make_meeting(group)
    groups.meeting_cancel(facilitator=people["facilitator"], meeting=meeting)
    assert Meeting.objects.get(pk=meeting.pk).cancelled_at is not None


# discussions.services: comments ------------------------------------------------------


@pytest.mark.parametrize("role", (*NOT_IN_GROUP, "notebook_owner"))
def test_comment_create_by_non_member_is_denied(people, group, passage, role):
    assert_denied(
        discussions.comment_create, author=people[role], group=group, passage=passage, body="Hi."
    )


@pytest.mark.parametrize("role", ("facilitator", *NOT_IN_GROUP))
def test_comment_create_in_someone_elses_notebook_is_denied(people, notebook, passage, role):
    assert_denied(
        discussions.comment_create, author=people[role], group=notebook, passage=passage, body="Hi."
    )


def test_comment_create_reply_by_non_member_is_denied(people, group, passage):
    parent = post_comment(people["member"], group, passage)
    assert_denied(
        discussions.comment_create,
        author=people["outsider"],
        group=group,
        passage=passage,
        body="Let me in.",
        parent=parent,
    )


@pytest.mark.parametrize("role", ("member", "facilitator"))
def test_comment_create_by_member_saves(people, group, passage, role):
    comment = discussions.comment_create(
        author=people[role], group=group, passage=passage, body="A thought."
    )
    assert list(Comment.objects.values_list("pk", "author__username", "body")) == [
        (comment.pk, people[role].username, "A thought.")
    ]


def test_comment_create_in_own_notebook_saves(people, notebook, passage):
    comment = discussions.comment_create(
        author=people["notebook_owner"], group=notebook, passage=passage, body="A note."
    )
    assert list(Comment.objects.values_list("pk", "group", "body")) == [
        (comment.pk, notebook.pk, "A note.")
    ]


@pytest.mark.parametrize("role", ("facilitator", "other_member", *NOT_IN_GROUP))
def test_comment_edit_by_non_author_is_denied(people, group, passage, role):
    comment = post_comment(people["member"], group, passage, body="Mine.")
    assert_denied(discussions.comment_edit, editor=people[role], comment=comment, body="Yours.")


def test_comment_edit_by_author_who_left_is_denied(people, group, passage):
    comment = post_comment(people["member"], group, passage, body="Mine.")
    membership(people["member"], group).delete()
    assert_denied(
        discussions.comment_edit, editor=people["member"], comment=comment, body="Still mine?"
    )


def test_comment_edit_by_author_saves(people, group, passage):
    comment = post_comment(people["member"], group, passage, body="Mine.")
    discussions.comment_edit(editor=people["member"], comment=comment, body="Mine, edited.")
    assert Comment.objects.get(pk=comment.pk).body == "Mine, edited."


@pytest.mark.parametrize("role", ("facilitator", "other_member", *NOT_IN_GROUP))
def test_comment_delete_by_non_author_is_denied(people, group, passage, role):
    comment = post_comment(people["member"], group, passage)
    assert_denied(discussions.comment_delete, user=people[role], comment=comment)


def test_comment_delete_with_replies_by_non_author_is_denied(people, group, passage):
    comment = post_comment(people["member"], group, passage)
    post_comment(people["other_member"], group, passage, parent=comment)
    assert_denied(discussions.comment_delete, user=people["facilitator"], comment=comment)


def test_comment_delete_by_author_deletes(people, group, passage):
    comment = post_comment(people["member"], group, passage)
    discussions.comment_delete(user=people["member"], comment=comment)
    tombstone = Comment.objects.get()
    assert (tombstone.pk, tombstone.body, tombstone.is_deleted) == (comment.pk, "", True)


# discussions.services: moderation ----------------------------------------------------


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_comment_hide_by_non_facilitator_is_denied(people, group, passage, role):
    # Not even the member hiding their own comment.
    comment = post_comment(people["member"], group, passage)
    assert_denied(discussions.comment_hide, moderator=people[role], comment=comment, reason="No.")


def test_comment_hide_by_facilitator_hides(people, group, passage):
    comment = post_comment(people["member"], group, passage)
    discussions.comment_hide(moderator=people["facilitator"], comment=comment, reason="Off topic.")
    stored = Comment.objects.get(pk=comment.pk)
    assert (stored.is_hidden, stored.hidden_reason, stored.hidden_by) == (
        True,
        "Off topic.",
        people["facilitator"],
    )


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_comment_unhide_by_non_facilitator_is_denied(people, group, passage, role):
    comment = post_comment(people["member"], group, passage)
    discussions.comment_hide(moderator=people["facilitator"], comment=comment, reason="Hidden.")
    assert_denied(discussions.comment_unhide, moderator=people[role], comment=comment)


def test_comment_unhide_by_facilitator_shows_it_again(people, group, passage):
    comment = post_comment(people["member"], group, passage)
    discussions.comment_hide(moderator=people["facilitator"], comment=comment, reason="Hidden.")
    discussions.comment_unhide(moderator=people["facilitator"], comment=comment)
    assert Comment.objects.get(pk=comment.pk).is_hidden is False


@pytest.mark.parametrize("role", NOT_FACILITATOR)
@pytest.mark.parametrize("pinned", (True, False))
def test_comment_pin_by_non_facilitator_is_denied(people, group, passage, role, pinned):
    comment = post_comment(people["member"], group, passage)
    if not pinned:
        discussions.comment_pin(moderator=people["facilitator"], comment=comment, pinned=True)
    assert_denied(discussions.comment_pin, moderator=people[role], comment=comment, pinned=pinned)


def test_comment_pin_by_facilitator_pins(people, group, passage):
    comment = post_comment(people["member"], group, passage)
    discussions.comment_pin(moderator=people["facilitator"], comment=comment, pinned=True)
    assert Comment.objects.get(pk=comment.pk).is_pinned is True


@pytest.mark.parametrize("role", NOT_IN_GROUP)
def test_helpful_set_by_non_member_is_denied(people, group, passage, role):
    comment = post_comment(people["member"], group, passage)
    assert_denied(discussions.helpful_set, user=people[role], comment=comment, helpful=True)


def test_helpful_set_on_own_comment_is_refused(people, group, passage):
    comment = post_comment(people["member"], group, passage)
    with pytest.raises(ValidationError):
        discussions.helpful_set(user=people["member"], comment=comment, helpful=True)
    assert list(HelpfulMark.objects.all()) == []


def test_helpful_set_by_member_marks_anothers_comment(people, group, passage):
    comment = post_comment(people["member"], group, passage)
    discussions.helpful_set(user=people["other_member"], comment=comment, helpful=True)
    assert list(HelpfulMark.objects.values_list("comment", "user")) == [
        (comment.pk, people["other_member"].pk)
    ]


# discussions.services: questions -----------------------------------------------------


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_question_create_by_non_facilitator_is_denied(people, group, role):
    assert_denied(
        discussions.question_create,
        facilitator=people[role],
        group=group,
        body="Whose question?",
        first_position=1,
        last_position=1,
    )


def test_question_create_in_own_notebook_is_denied(people, notebook):
    # A notebook has no questions, although its owner is its only facilitator.
    assert_denied(
        discussions.question_create,
        facilitator=people["notebook_owner"],
        group=notebook,
        body="A question to myself?",
        first_position=1,
        last_position=1,
    )


def test_question_create_by_facilitator_saves(people, group):
    question = make_question(group, people["facilitator"], answer_first=True)
    assert list(Question.objects.values_list("pk", "group", "body", "answer_first")) == [
        (question.pk, group.pk, "What makes a sect?", True)
    ]


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_question_update_by_non_facilitator_is_denied(people, group, role):
    question = make_question(group, people["facilitator"])
    question.body = "Rewritten by someone else."
    assert_denied(discussions.question_update, facilitator=people[role], question=question)


def test_question_update_in_own_notebook_is_denied(people, notebook):
    question = notebook_question(notebook)
    question.body = "Rewritten."
    assert_denied(
        discussions.question_update, facilitator=people["notebook_owner"], question=question
    )


def test_question_update_by_facilitator_saves(people, group):
    question = make_question(group, people["facilitator"])
    question.body = "What makes a *sect*?"
    discussions.question_update(facilitator=people["facilitator"], question=question)
    assert Question.objects.values_list("body", "body_html").get(pk=question.pk) == (
        "What makes a *sect*?",
        "<p>What makes a <em>sect</em>?</p>\n",
    )


@pytest.mark.parametrize("role", NOT_FACILITATOR)
@pytest.mark.parametrize("closed", (True, False))
def test_question_set_closed_by_non_facilitator_is_denied(people, group, role, closed):
    question = make_question(group, people["facilitator"])
    if not closed:
        discussions.question_set_closed(
            facilitator=people["facilitator"], question=question, closed=True
        )
    assert_denied(
        discussions.question_set_closed, facilitator=people[role], question=question, closed=closed
    )


def test_question_set_closed_in_own_notebook_is_denied(people, notebook):
    assert_denied(
        discussions.question_set_closed,
        facilitator=people["notebook_owner"],
        question=notebook_question(notebook),
        closed=True,
    )


def test_question_set_closed_by_facilitator_closes(people, group):
    question = make_question(group, people["facilitator"])
    discussions.question_set_closed(
        facilitator=people["facilitator"], question=question, closed=True
    )
    assert Question.objects.get(pk=question.pk).is_closed is True


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_question_delete_by_non_facilitator_is_denied(people, group, role):
    question = make_question(group, people["facilitator"])
    discussions.answer_save(author=people["member"], question=question, body="Kept.")
    assert_denied(discussions.question_delete, facilitator=people[role], question=question)


def test_question_delete_in_own_notebook_is_denied(people, notebook):
    assert_denied(
        discussions.question_delete,
        facilitator=people["notebook_owner"],
        question=notebook_question(notebook),
    )


def test_question_delete_by_facilitator_deletes(people, group):
    question = make_question(group, people["facilitator"])
    discussions.question_delete(facilitator=people["facilitator"], question=question)
    assert list(Question.objects.all()) == []


@pytest.mark.parametrize("role", NOT_FACILITATOR)
def test_question_move_by_non_facilitator_is_denied(people, group, role):
    make_question(group, people["facilitator"], body="First")
    second = make_question(group, people["facilitator"], body="Second")
    assert_denied(
        discussions.question_move, facilitator=people[role], question=second, direction=-1
    )


def test_question_move_in_own_notebook_is_denied(people, notebook):
    notebook_question(notebook)
    second = notebook_question(notebook)
    assert_denied(
        discussions.question_move,
        facilitator=people["notebook_owner"],
        question=second,
        direction=-1,
    )


def test_question_move_by_facilitator_reorders(people, group):
    make_question(group, people["facilitator"], body="First")
    second = make_question(group, people["facilitator"], body="Second")
    discussions.question_move(facilitator=people["facilitator"], question=second, direction=-1)
    assert list(Question.objects.filter(group=group).values_list("body", flat=True)) == [
        "Second",
        "First",
    ]


# discussions.services: answers -------------------------------------------------------


@pytest.mark.parametrize("role", NOT_IN_GROUP)
def test_answer_save_by_non_member_is_denied(people, group, role):
    question = make_question(group, people["facilitator"])
    assert_denied(discussions.answer_save, author=people[role], question=question, body="Me too.")


def test_answer_save_by_member_saves(people, group):
    question = make_question(group, people["facilitator"])
    answer = discussions.answer_save(author=people["member"], question=question, body="Mine.")
    assert list(Comment.objects.answers().values_list("pk", "author", "question", "body")) == [
        (answer.pk, people["member"].pk, question.pk, "Mine.")
    ]


@pytest.mark.parametrize("role", NOT_FACILITATOR)
@pytest.mark.parametrize("highlighted", (True, False))
def test_answer_set_highlighted_by_non_facilitator_is_denied(people, group, role, highlighted):
    question = make_question(group, people["facilitator"])
    answer = discussions.answer_save(author=people["member"], question=question, body="Mine.")
    if not highlighted:
        discussions.answer_set_highlighted(
            facilitator=people["facilitator"], answer=answer, highlighted=True
        )
    assert_denied(
        discussions.answer_set_highlighted,
        facilitator=people[role],
        answer=answer,
        highlighted=highlighted,
    )


def test_answer_set_highlighted_by_facilitator_highlights(people, group):
    question = make_question(group, people["facilitator"])
    answer = discussions.answer_save(author=people["member"], question=question, body="Mine.")
    discussions.answer_set_highlighted(
        facilitator=people["facilitator"], answer=answer, highlighted=True
    )
    assert Comment.objects.get(pk=answer.pk).highlighted_at is not None
