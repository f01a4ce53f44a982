"""The named rules of groups.permissions, as truth tables over who is asking, and
their SQL twins checked against them on real rows.

The truth tables use unsaved objects: a rule reads only fields of the membership
and of the thing it is about, so no database is needed to decide it.
"""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied

from discussions import selectors, services
from discussions.models import Comment, Notification, Question
from discussions.selectors import may_read
from groups import permissions
from groups.models import Membership, StudyGroup
from reading.models import Passage
from tests.discussions.helpers import post_comment
from tests.factories import make_user

FACILITATOR, MEMBER = Membership.Role.FACILITATOR, Membership.Role.MEMBER
WHEN = datetime(2025, 1, 1, tzinfo=UTC)

# Users 1-4 and 9; group 1 is shared, group 2 is user 3's notebook, group 9 is elsewhere.
SHARED = StudyGroup(pk=1, name="Reading circle")
NOTEBOOK = StudyGroup(pk=2, name="My notebook", notebook_owner_id=3)
ELSEWHERE = StudyGroup(pk=9, name="Another circle")

MEMBERSHIPS = {
    "outsider": None,
    "member": Membership(pk=11, group=SHARED, user_id=1, role=MEMBER),
    "other_member": Membership(pk=12, group=SHARED, user_id=2, role=MEMBER),
    "facilitator": Membership(pk=13, group=SHARED, user_id=4, role=FACILITATOR),
    "notebook_owner": Membership(pk=21, group=NOTEBOOK, user_id=3, role=FACILITATOR),
}
ROLES = ("outsider", "member", "facilitator", "notebook_owner")


def by_role(outsider, member, facilitator, notebook_owner) -> dict[str, bool]:
    return dict(zip(ROLES, (outsider, member, facilitator, notebook_owner), strict=True))


def cases(table: dict[str, dict[str, bool]]):
    return [
        pytest.param(name, role, expected, id=f"{name}-{role}")
        for name, expectations in table.items()
        for role, expected in expectations.items()
    ]


# Rules about the group as a whole ---------------------------------------------------

GROUP_RULES = {
    #                                          outsider member facilitator notebook_owner
    "may_view_group": by_role(False, True, True, True),
    "is_facilitator": by_role(False, False, True, True),
    "may_manage_group": by_role(False, False, True, False),
    "may_leave_group": by_role(False, True, True, False),
    "may_see_progress_of_members": by_role(False, False, True, True),
    "may_comment": by_role(False, True, True, True),
    "may_moderate": by_role(False, False, True, True),
    "may_manage_questions": by_role(False, False, True, False),
    "may_export_discussion": by_role(False, True, True, True),
    "may_export_group": by_role(False, False, True, False),
}


@pytest.mark.parametrize(("name", "role", "expected"), cases(GROUP_RULES))
def test_group_rule_by_role(name, role, expected):
    assert getattr(permissions, name)(MEMBERSHIPS[role]) is expected


# Removing a member --------------------------------------------------------------------

TARGETS = {
    "self": None,  # the acting member's own membership
    "member": MEMBERSHIPS["other_member"],
    "facilitator": Membership(pk=14, group=SHARED, user_id=5, role=FACILITATOR),
    "elsewhere": Membership(pk=91, group=ELSEWHERE, user_id=6, role=MEMBER),
}


@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        ("outsider", "member", False),
        ("outsider", "facilitator", False),
        ("member", "self", True),
        ("member", "member", False),
        ("member", "facilitator", False),
        ("member", "elsewhere", False),
        ("facilitator", "self", True),
        ("facilitator", "member", True),
        ("facilitator", "facilitator", True),
        ("facilitator", "elsewhere", False),
        ("notebook_owner", "self", False),
        ("notebook_owner", "member", False),
    ],
)
def test_may_remove_member_by_role_and_target(role, target, expected):
    membership = MEMBERSHIPS[role]
    assert permissions.may_remove_member(membership, TARGETS[target] or membership) is expected


# Rules about a comment ----------------------------------------------------------------


def comment(author_id=1, deleted=False, hidden=False, detached=False, group=SHARED) -> Comment:
    return Comment(
        pk=100,
        group=group,
        author_id=author_id,
        deleted_at=WHEN if deleted else None,
        hidden_at=WHEN if hidden else None,
        quote_exact="words" if detached else "",
        quote_detached_at=WHEN if detached else None,
        passage=Passage(position=1),
    )


MEMBERS_COMMENT = {"author_id": 1}
OTHERS_COMMENT = {"author_id": 2}
COMMENT_ROLES = ("outsider", "member", "other_member", "facilitator")


def by_reader(outsider, member, other_member, facilitator) -> dict[str, bool]:
    return dict(zip(COMMENT_ROLES, (outsider, member, other_member, facilitator), strict=True))


# The comment is the member's (user 1); its state varies.
COMMENT_RULES = {
    #                                                       outsider member other facilitator
    ("may_see_hidden_comment", "hidden"): by_reader(False, True, False, True),
    ("may_edit_comment", "live"): by_reader(False, True, False, False),
    ("may_edit_comment", "deleted"): by_reader(False, False, False, False),
    ("may_reply", "live"): by_reader(False, True, True, True),
    ("may_reply", "deleted"): by_reader(False, False, False, False),
    ("may_mark_helpful", "live"): by_reader(False, False, True, True),
    ("may_mark_helpful", "deleted"): by_reader(False, False, False, False),
    ("may_reattach_quote", "live"): by_reader(False, False, False, False),
    ("may_reattach_quote", "detached"): by_reader(False, True, False, True),
    ("may_reattach_quote", "deleted_detached"): by_reader(False, False, False, False),
}
COMMENT_STATES = {
    "live": {},
    "deleted": {"deleted": True},
    "hidden": {"hidden": True},
    "detached": {"detached": True},
    "deleted_detached": {"deleted": True, "detached": True},
}


@pytest.mark.parametrize(
    ("name", "state", "role", "expected"),
    [
        pytest.param(name, state, role, expected, id=f"{name}-{state}-{role}")
        for (name, state), expectations in COMMENT_RULES.items()
        for role, expected in expectations.items()
    ],
)
def test_comment_rule_by_role(name, state, role, expected):
    subject = comment(**MEMBERS_COMMENT, **COMMENT_STATES[state])
    assert getattr(permissions, name)(MEMBERSHIPS[role], subject) is expected


def test_comment_rules_of_notebook_owner_on_own_notes():
    owner = MEMBERSHIPS["notebook_owner"]
    note = comment(author_id=3, group=NOTEBOOK, hidden=True)
    assert {
        name: permissions.permitted(name, owner, note)
        for name in ("may_see_hidden_comment", "may_edit_comment", "may_reply", "may_mark_helpful")
    } == {
        "may_see_hidden_comment": True,
        "may_edit_comment": True,
        "may_reply": True,
        "may_mark_helpful": False,
    }


# Rules about questions and answers ---------------------------------------------------


def question(answer_first=False, closed=False, group=SHARED) -> Question:
    return Question(
        pk=200, group=group, answer_first=answer_first, closed_at=WHEN if closed else None
    )


@pytest.mark.parametrize(
    ("role", "subject", "expected"),
    [
        ("outsider", question(), False),
        ("member", question(), True),
        ("member", question(closed=True), False),
        ("member", question(group=ELSEWHERE), False),
        ("facilitator", question(), True),
        ("facilitator", question(closed=True), False),
        ("notebook_owner", question(group=NOTEBOOK), True),
        ("notebook_owner", question(), False),
    ],
)
def test_may_answer_by_role_and_question(role, subject, expected):
    assert permissions.may_answer(MEMBERSHIPS[role], subject) is expected


@pytest.mark.parametrize(
    ("role", "answer_first", "answered", "expected"),
    [
        ("outsider", False, False, False),
        ("outsider", True, True, False),
        ("member", False, False, True),
        ("member", True, False, False),
        ("member", True, True, True),
        ("facilitator", True, False, True),
        ("notebook_owner", True, False, True),
    ],
)
def test_may_see_answers_by_role_and_answering(role, answer_first, answered, expected):
    subject = question(answer_first=answer_first)
    assert permissions.may_see_answers(MEMBERSHIPS[role], subject, answered=answered) is expected


def test_every_rule_has_a_truth_table():
    tested = {
        *GROUP_RULES,
        *(name for name, _ in COMMENT_RULES),
        "may_remove_member",
        "may_answer",
        "may_see_answers",
    }
    assert sorted(permissions.RULES) == sorted(tested)


# Asking a rule by name ------------------------------------------------------------------


def test_permitted_dispatches_by_name():
    assert [permissions.permitted("may_manage_group", MEMBERSHIPS[role]) for role in ROLES] == [
        False,
        False,
        True,
        False,
    ]


def test_permitted_passes_the_subject_and_keywords():
    answer_first = question(answer_first=True)
    member = MEMBERSHIPS["member"]
    assert (
        permissions.permitted("may_edit_comment", member, comment(**MEMBERS_COMMENT)),
        permissions.permitted("may_edit_comment", member, comment(**OTHERS_COMMENT)),
        permissions.permitted("may_see_answers", member, answer_first, answered=False),
        permissions.permitted("may_see_answers", member, answer_first, answered=True),
    ) == (True, False, False, True)


def test_permitted_with_an_unknown_name_fails_loudly():
    with pytest.raises(KeyError):
        permissions.permitted("may_do_anything", MEMBERSHIPS["facilitator"])


def test_require_raises_permission_denied_when_the_rule_refuses():
    with pytest.raises(PermissionDenied) as raised:
        permissions.require(permissions.may_manage_group, MEMBERSHIPS["member"])
    assert str(raised.value) == "You may not do this in this group."


def test_require_raises_with_the_given_message():
    with pytest.raises(PermissionDenied) as raised:
        permissions.require(
            permissions.may_edit_comment,
            MEMBERSHIPS["facilitator"],
            comment(**MEMBERS_COMMENT),
            message="Only the author can change this comment.",
        )
    assert str(raised.value) == "Only the author can change this comment."


def test_require_returns_quietly_when_the_rule_allows():
    assert permissions.require(permissions.may_manage_group, MEMBERSHIPS["facilitator"]) is None


# The SQL twins agree with their predicates ----------------------------------------------


@pytest.fixture
def discussion(essay, group, facilitator, member):
    """A group's comments of every kind the two filters tell apart.

    The member has answered `answered` (answer first), not `unanswered` (answer first:
    their answer there is deleted but kept as a tombstone), nor `open_question`, which
    nobody need answer first."""
    other = make_user("other")
    Membership.objects.create(group=group, user=other, role=MEMBER)
    passage = essay.passages.get(position=1)

    def hide(comment):
        services.comment_hide(moderator=facilitator, comment=comment, reason="Hidden.")

    def ask(body, answer_first):
        return services.question_create(
            facilitator=facilitator,
            group=group,
            body=body,
            first_position=1,
            last_position=1,
            answer_first=answer_first,
        )

    def reply(author, parent):
        return post_comment(author, group, passage, body="A reply.", parent=parent)

    # The discussion: own and others' comments, hidden or not, replies.
    own = post_comment(member, group, passage, body="Mine.")
    hide(post_comment(member, group, passage, body="Mine, hidden."))
    others = post_comment(other, group, passage, body="Theirs.")
    hide(post_comment(other, group, passage, body="Theirs, hidden."))
    hide(post_comment(facilitator, group, passage, body="The facilitator's, hidden."))
    reply(other, own)
    hide(reply(other, others))

    answered = ask("Answered?", answer_first=True)
    unanswered = ask("Unanswered?", answer_first=True)
    open_question = ask("Open?", answer_first=False)
    for subject in (answered, unanswered, open_question):
        theirs = services.answer_save(author=other, question=subject, body="Their answer.")
        reply(other, theirs)
        hide(reply(other, theirs))
    hide(services.answer_save(author=facilitator, question=answered, body="Hidden answer."))
    reply(member, services.answer_save(author=member, question=answered, body="My answer."))
    tombstone = services.answer_save(author=member, question=unanswered, body="Withdrawn.")
    reply(other, tombstone)
    services.comment_delete(user=member, comment=tombstone)

    comments = list(Comment.objects.filter(group=group).select_related("question", "group"))
    return {
        "group": group,
        "comments": comments,
        "answered_by": {
            member.pk: {answered.pk},
            other.pk: {answered.pk, unanswered.pk, open_question.pk},
            facilitator.pk: {answered.pk},
        },
        "memberships": {
            role: Membership.objects.select_related("group").get(group=group, user=user)
            for role, user in (
                ("member", member),
                ("other_member", other),
                ("facilitator", facilitator),
            )
        },
    }


def selected(group, condition) -> set[int]:
    return set(Comment.objects.filter(group=group).filter(condition).values_list("pk", flat=True))


def answered_question_ids(user_id):
    return Comment.objects.filter(
        author_id=user_id, parent__isnull=True, deleted_at__isnull=True, question__isnull=False
    ).values("question_id")


def test_discussion_has_every_kind_of_comment(discussion):
    kinds = {
        (c.is_hidden, c.is_deleted, c.parent_id is not None, c.in_answer_thread)
        for c in discussion["comments"]
    }
    # (hidden, deleted, reply, in an answer thread)
    assert (len(discussion["comments"]), kinds) == (
        21,
        {
            (False, False, False, False),
            (True, False, False, False),
            (False, False, True, False),
            (True, False, True, False),
            (False, False, False, True),
            (True, False, False, True),
            (False, True, False, True),
            (False, False, True, True),
            (True, False, True, True),
        },
    )


@pytest.mark.parametrize("role", ("member", "other_member", "facilitator"))
def test_hidden_comment_filter_agrees_with_may_see_hidden_comment(discussion, role):
    membership = discussion["memberships"][role]
    expected = {
        c.pk
        for c in discussion["comments"]
        if not c.is_hidden or permissions.may_see_hidden_comment(membership, c)
    }
    condition = permissions.hidden_comment_filter(membership)
    assert selected(discussion["group"], condition) == expected
    # Not vacuous: some hidden comments are left out for members, none for facilitators.
    assert (
        len(discussion["comments"]) - len(expected)
        == {
            "member": 7,
            "other_member": 3,
            "facilitator": 0,
        }[role]
    )


@pytest.mark.parametrize("role", ("member", "other_member", "facilitator"))
def test_answers_filter_agrees_with_may_see_answers(discussion, role):
    membership = discussion["memberships"][role]
    answered = discussion["answered_by"].get(membership.user_id, set())
    expected = {
        c.pk
        for c in discussion["comments"]
        if c.question_id is None
        or permissions.may_see_answers(membership, c.question, answered=c.question_id in answered)
    }
    condition = permissions.answers_filter(membership, answered_question_ids(membership.user_id))
    assert selected(discussion["group"], condition) == expected
    # Not vacuous: the unanswered question's answer threads are left out for the member.
    assert (
        len(discussion["comments"]) - len(expected)
        == {
            "member": 5,
            "other_member": 0,
            "facilitator": 0,
        }[role]
    )


@pytest.mark.parametrize("role", ("member", "other_member", "facilitator"))
def test_visible_to_agrees_with_may_read(discussion, role):
    membership = discussion["memberships"][role]
    expected = {c.pk for c in discussion["comments"] if may_read(membership, c)}
    visible = Comment.objects.filter(group=discussion["group"]).visible_to(membership)
    assert set(visible.values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("role", ("member", "other_member", "facilitator"))
def test_readable_notifications_agree_with_may_read(discussion, role):
    """The notifications list and the header's count read one selector; it keeps exactly
    the notifications about comments the reader may read, less those deleted since (a
    tombstone is readable in its thread, but there is nothing left to be told of)."""
    membership = discussion["memberships"][role]
    Notification.objects.all().delete()
    Notification.objects.bulk_create(
        Notification(recipient_id=membership.user_id, kind=Notification.Kind.MENTION, comment=c)
        for c in discussion["comments"]
    )
    expected = {
        c.pk for c in discussion["comments"] if may_read(membership, c) and not c.is_deleted
    }

    readable = selectors.readable_notifications(membership.user)

    assert set(readable.values_list("comment_id", flat=True)) == expected
    assert selectors.unread_notification_count(membership.user) == len(expected)
    assert {n.comment_id for n in selectors.notifications_for(user=membership.user)} == expected
