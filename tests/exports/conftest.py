import pytest

from discussions import services
from groups.models import Membership
from tests.factories import make_group, make_user


@pytest.fixture
def other(group):
    user = make_user("other")
    Membership.objects.create(group=group, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def discussion(essay, group, facilitator, member, other):
    """A group's discussion with every kind of writing in it, and another group's.

    Passage 1: the member's quoted comment with a reply by `other`; other's comment
    hidden by the facilitator (with a reply, so a tombstone stays); other's hidden
    comment without replies (gone for members); the member's deleted comment with a
    reply (a tombstone) and one without (gone). Passage 2: an "answer first" question
    answered by `other` only, and an open question answered by both, with a reply.
    Another group on the same text says something nobody here may read."""
    p1, p2 = essay.passages.get(position=1), essay.passages.get(position=2)

    def post(author, passage, body, **kwargs):
        return services.comment_create(
            author=author, group=group, passage=passage, body=body, **kwargs
        )

    quoted = post(member, p1, "A *quoted* thought.", quote=p1.body.split()[0])
    post(other, p1, "A reply to the thought.", parent=quoted)
    hidden = post(other, p1, "SECRET-HIDDEN with a reply.")
    post(member, p1, "A reply under a hidden comment.", parent=hidden)
    services.comment_hide(moderator=facilitator, comment=hidden, reason="Off topic.")
    lone_hidden = post(other, p1, "SECRET-LONE-HIDDEN.")
    services.comment_hide(moderator=facilitator, comment=lone_hidden, reason="Off topic.")
    withdrawn = post(member, p1, "SECRET-DELETED with a reply.")
    post(other, p1, "A reply under a deleted comment.", parent=withdrawn)
    services.comment_delete(user=member, comment=withdrawn)
    gone = post(member, p1, "SECRET-DELETED-ALONE.")
    services.comment_delete(user=member, comment=gone)

    first = services.question_create(
        facilitator=facilitator,
        group=group,
        body="Answer first: what is a sect?",
        first_position=2,
        last_position=3,
        answer_first=True,
    )
    services.answer_save(author=other, question=first, body="SECRET-ANSWER-FIRST.")
    open_question = services.question_create(
        facilitator=facilitator,
        group=group,
        body="Open: who reads?",
        first_position=2,
        last_position=2,
    )
    answer = services.answer_save(author=other, question=open_question, body="Their open answer.")
    services.answer_save(author=member, question=open_question, body="My open answer.")
    post(member, p2, "A reply to their answer.", parent=answer)
    services.helpful_set(user=member, comment=answer, helpful=True)
    services.answer_set_highlighted(facilitator=facilitator, answer=answer, highlighted=True)

    stranger = make_user("stranger")
    elsewhere = make_group(essay, facilitator=stranger, name="Another circle")
    services.comment_create(author=stranger, group=elsewhere, passage=p1, body="SECRET-ELSEWHERE.")
    return {"group": group, "elsewhere": elsewhere, "first": first, "open": open_question}
