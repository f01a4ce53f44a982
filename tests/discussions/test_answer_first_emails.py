"""Replies in answer threads reach only those who may read them (issue 12, finding 1).

A reply notification quotes the reply, so it follows the page's rule: under "answer
first" a member who has not answered may not read the others' answer threads. The
rule is checked when the notification is made and again when the email is sent.
"""

import pytest

from discussions import services
from discussions.models import Notification, Question
from discussions.tasks import send_reply_email
from groups.models import Membership
from tests.discussions.helpers import post_comment
from tests.factories import make_user


@pytest.fixture
def question(group, facilitator):
    return services.question_create(
        facilitator=facilitator,
        group=group,
        body="What holds a sect together?",
        first_position=1,
        last_position=1,
    )


def reply_notifications(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind=Notification.Kind.REPLY).values_list(
            "comment__body", flat=True
        )
    )


def switch_to_answer_first(question):
    Question.objects.filter(pk=question.pk).update(answer_first=True)
    question.refresh_from_db()


def test_reply_after_switch_to_answer_first_is_not_sent_to_a_member_who_has_not_answered(
    member, other_member, question, mailoutbox, django_capture_on_commit_callbacks
):
    answer = services.answer_save(author=member, question=question, body="Its program.")
    their_reply = post_comment(other_member, question.group, answer.passage, parent=answer)
    switch_to_answer_first(question)

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, question.group, answer.passage, "Only members.", parent=their_reply)

    assert reply_notifications(other_member) == []
    assert mailoutbox == []


def test_reply_to_a_demoted_facilitator_who_has_not_answered_is_not_sent(
    member, group, question, mailoutbox, django_capture_on_commit_callbacks
):
    helper = make_user("cofacilitator")
    co_facilitator = Membership.objects.create(group=group, user=helper, role="facilitator")
    switch_to_answer_first(question)
    answer = services.answer_save(author=member, question=question, body="Discipline.")
    their_reply = post_comment(helper, group, answer.passage, parent=answer)
    co_facilitator.role = Membership.Role.MEMBER
    co_facilitator.save(update_fields=["role"])

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, answer.passage, "Thanks.", parent=their_reply)

    assert reply_notifications(helper) == []
    assert mailoutbox == []


def test_reply_to_a_member_who_deleted_their_own_answer_is_not_sent(
    member, other_member, question, mailoutbox, django_capture_on_commit_callbacks
):
    switch_to_answer_first(question)
    theirs = services.answer_save(author=other_member, question=question, body="Mine first.")
    answer = services.answer_save(author=member, question=question, body="Its program.")
    their_reply = post_comment(other_member, question.group, answer.passage, parent=answer)
    services.comment_delete(user=other_member, comment=theirs)

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, question.group, answer.passage, "Still here?", parent=their_reply)

    assert reply_notifications(other_member) == []
    assert mailoutbox == []


def test_reply_email_checks_the_rule_again_when_it_is_sent(
    member, other_member, question, mailoutbox, django_capture_on_commit_callbacks
):
    theirs = services.answer_save(author=other_member, question=question, body="Mine.")
    answer = services.answer_save(author=member, question=question, body="Its program.")
    their_reply = post_comment(other_member, question.group, answer.passage, parent=answer)
    with django_capture_on_commit_callbacks(execute=False):
        reply = post_comment(member, question.group, answer.passage, "Yes.", parent=their_reply)
    # Between queueing and sending, the question turns "answer first" and the
    # recipient's own answer goes: the email must not quote the reply any more.
    switch_to_answer_first(question)
    services.comment_delete(user=other_member, comment=theirs)

    assert send_reply_email.call(comment_id=reply.pk, recipient_id=other_member.pk) is False
    assert mailoutbox == []


def test_reply_in_answer_thread_is_sent_to_a_member_who_may_read_it(
    member, other_member, question, mailoutbox, django_capture_on_commit_callbacks
):
    switch_to_answer_first(question)
    services.answer_save(author=other_member, question=question, body="Mine.")
    answer = services.answer_save(author=member, question=question, body="Its program.")
    their_reply = post_comment(other_member, question.group, answer.passage, parent=answer)

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, question.group, answer.passage, "Agreed.", parent=their_reply)

    assert reply_notifications(other_member) == ["Agreed."]
    assert [m.to for m in mailoutbox] == [[other_member.email]]
