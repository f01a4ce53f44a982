"""Mentions are emailed as replies are (issue 11): once, after the transaction commits,
only to members who may read the comment, unless they turned mention emails off."""

import importlib
import smtplib
from unittest import mock

import pytest
from django.apps import apps

from discussions import services
from discussions.models import Notification, NotificationPreference, Question
from discussions.tasks import MAX_ATTEMPTS, send_mention_email
from groups.models import Membership
from tests.discussions.helpers import ESSAY_URL, create_url, post_comment
from tests.factories import make_user

SITE_URL = "https://sectstudy.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def sent(mailoutbox) -> list[tuple[str, str]]:
    return [(m.to[0], m.subject) for m in mailoutbox]


def test_mention_is_emailed_once_after_commit(
    member_client, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_client.post(create_url(group), {"body": "What do you think, @other?"})
    assert mailoutbox == []  # nothing before the commit

    for callback in callbacks:
        callback()

    comment = Notification.objects.get(kind="mention").comment
    assert sent(mailoutbox) == [("other@example.com", "member mentioned you in Reading circle")]
    assert mailoutbox[0].body == (
        'member mentioned you in a comment on passage 1 of "Anatomy of the Sect" in '
        "Reading circle:\n"
        "\n"
        "What do you think, @other?\n"
        "\n"
        f"Read it in its thread: {SITE_URL}{ESSAY_URL}1/?group={group.slug}#comment-{comment.pk}\n"
        "\n"
        "You receive this because you allowed email notifications for mentions. "
        f"Turn them off: {SITE_URL}/settings/notifications/\n\n"
    )


def test_mention_email_task_run_twice_sends_once(member, other_member, group, passage, mailoutbox):
    with services.emails_muted():
        comment = post_comment(member, group, passage, "Hello @other")

    first = send_mention_email.call(comment_id=comment.pk, recipient_id=other_member.pk)
    again = send_mention_email.call(comment_id=comment.pk, recipient_id=other_member.pk)

    assert (first, again) == (True, False)
    assert sent(mailoutbox) == [("other@example.com", "member mentioned you in Reading circle")]


def test_mention_of_oneself_is_not_emailed(
    member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, passage, "Note to self, @member.")

    assert mailoutbox == []


def test_mention_of_someone_outside_the_group_is_not_emailed(
    member, outsider, other_group, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, passage, "Ask @outsider about it.")

    assert mailoutbox == []
    assert Notification.objects.count() == 0


def test_mention_email_is_not_sent_to_a_member_who_left_before_it_went_out(
    member, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_comment(member, group, passage, "Hello @other")
    Membership.objects.filter(group=group, user=other_member).delete()

    for callback in callbacks:
        callback()

    assert mailoutbox == []


def test_mention_email_is_not_sent_for_a_comment_hidden_before_it_went_out(
    member,
    other_member,
    facilitator,
    group,
    passage,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comment = post_comment(member, group, passage, "Hello @other, you fool.")
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    for callback in callbacks:
        callback()

    assert mailoutbox == []
    assert Notification.objects.get(kind="mention").emailed_at is None


def test_mention_email_is_not_sent_for_a_comment_deleted_before_it_went_out(
    member, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comment = post_comment(member, group, passage, "Hello @other")
    post_comment(other_member, group, passage, "Hi.", parent=comment)  # so it stays, a tombstone
    services.comment_delete(user=member, comment=comment)

    for callback in callbacks:
        callback()

    assert mailoutbox == []


def test_mention_in_an_answer_first_answer_is_not_emailed_to_a_member_who_has_not_answered(
    member, other_member, facilitator, group, mailoutbox, django_capture_on_commit_callbacks
):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    Question.objects.filter(pk=question.pk).update(answer_first=True)
    question.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_save(author=member, question=question, body="As @other said, because.")

    assert [m.to for m in mailoutbox if "mentioned" in m.subject] == []
    assert Notification.objects.filter(kind="mention").count() == 0


def test_mention_in_an_answer_is_emailed_to_a_member_who_may_read_it(
    member, other_member, facilitator, group, mailoutbox, django_capture_on_commit_callbacks
):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_save(author=member, question=question, body="As @other said.")

    mention = [m for m in mailoutbox if "mentioned" in m.subject]
    assert [m.to for m in mention] == [["other@example.com"]]
    assert mention[0].body.startswith("member mentioned you in an answer on passage 1")


def test_mention_email_is_not_sent_when_mention_emails_are_off(
    member, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    services.preference_update(user=other_member, email_replies=True, email_mentions=False)

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, passage, "Hello @other")

    assert mailoutbox == []
    assert Notification.objects.filter(recipient=other_member, kind="mention").count() == 1


def test_mention_email_is_sent_when_only_reply_emails_are_off(
    member, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    services.preference_update(user=other_member, email_replies=False, email_mentions=True)

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, passage, "Hello @other")

    assert sent(mailoutbox) == [("other@example.com", "member mentioned you in Reading circle")]


def test_settings_page_turns_mention_emails_off_and_on(other_client, other_member):
    html = other_client.get("/settings/notifications/").content.decode()
    assert (
        '<input type="checkbox" name="email_mentions" aria-describedby="id_email_mentions_helptext"'
        ' id="id_email_mentions" checked>'
    ) in html
    assert "A mention in a reply to you comes as the reply&#x27;s email, not twice." in html

    other_client.post("/settings/notifications/", {"email_replies": "on"})
    assert NotificationPreference.objects.get(user=other_member).email_mentions is False

    other_client.post("/settings/notifications/", {"email_mentions": "on"})
    preference = NotificationPreference.objects.get(user=other_member)
    assert (preference.email_mentions, preference.email_replies) == (True, False)


def test_reply_that_mentions_the_parent_author_is_emailed_once_as_a_reply(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(facilitator, group, passage, "Top.")

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, passage, "Yes, @facilitator.", parent=parent)

    assert sent(mailoutbox) == [
        ("facilitator@example.com", "member replied to you in Reading circle")
    ]


def test_reply_that_mentions_someone_else_emails_each_their_own(
    member,
    facilitator,
    other_member,
    group,
    passage,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    parent = post_comment(facilitator, group, passage, "Top.")

    with django_capture_on_commit_callbacks(execute=True):
        reply = post_comment(member, group, passage, "Ask @other.", parent=parent)

    assert sorted(sent(mailoutbox)) == [
        ("facilitator@example.com", "member replied to you in Reading circle"),
        ("other@example.com", "member mentioned you in Reading circle"),
    ]
    assert "mentioned you in a reply on passage 1" in mailoutbox[1].body
    assert f"#comment-{reply.pk}" in mailoutbox[1].body


def test_edit_that_adds_a_mention_emails_only_the_newly_mentioned(
    essay, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.factories import make_group

    author, first, second = make_user("writer"), make_user("first"), make_user("second")
    group = make_group(essay, facilitator=author, members=[first, second])
    passage = essay.passages.get(position=1)
    with django_capture_on_commit_callbacks(execute=True):
        comment = post_comment(author, group, passage, "Hello @first")
    assert [m.to for m in mailoutbox] == [["first@example.com"]]

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_edit(editor=author, comment=comment, body="Hello @first and @second")
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_edit(editor=author, comment=comment, body="Hello @first, @second!")

    assert [m.to for m in mailoutbox] == [["first@example.com"], ["second@example.com"]]


def test_mentions_are_not_emailed_while_emails_are_muted(
    member, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with services.emails_muted(), django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, passage, "Hello @other")

    assert mailoutbox == []


@pytest.fixture
def database_task_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASKS_BACKEND = "database"


def test_failed_mention_email_is_retried_and_sent_once(
    database_task_queue, member, other_member, group, passage, mailoutbox
):
    from django_tasks_db.models import DBTaskResult

    comment = post_comment(member, group, passage, "Hello @other")
    DBTaskResult.objects.all().delete()
    with mock.patch(
        "discussions.tasks.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")
    ):
        assert send_mention_email.call(comment_id=comment.pk, recipient_id=other_member.pk) is False

    retry = DBTaskResult.objects.get()
    assert retry.task_path == "discussions.tasks.send_mention_email"
    assert retry.args_kwargs["kwargs"] == {
        "attempt": 2,
        "comment_id": comment.pk,
        "recipient_id": other_member.pk,
    }
    assert send_mention_email.call(**retry.args_kwargs["kwargs"]) is True
    assert send_mention_email.call(**retry.args_kwargs["kwargs"]) is False
    assert [m.to for m in mailoutbox] == [["other@example.com"]]


def test_mention_email_fails_the_task_on_its_last_attempt(
    database_task_queue, member, other_member, group, passage
):
    from django_tasks_db.models import DBTaskResult

    comment = post_comment(member, group, passage, "Hello @other")
    DBTaskResult.objects.all().delete()
    with (
        mock.patch(
            "discussions.tasks.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")
        ),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        send_mention_email.call(
            comment_id=comment.pk, recipient_id=other_member.pk, attempt=MAX_ATTEMPTS
        )

    assert DBTaskResult.objects.count() == 0
    assert Notification.objects.get(kind="mention").emailed_at is None


def test_migration_starts_mention_emails_as_the_readers_reply_emails(member, other_member):
    services.preference_update(user=member, email_replies=False, email_mentions=True)
    services.preference_update(user=other_member, email_replies=True, email_mentions=False)
    migration = importlib.import_module("discussions.migrations.0010_email_mentions")

    migration.mentions_follow_replies(apps, None)

    assert dict(NotificationPreference.objects.values_list("user__username", "email_mentions")) == {
        "member": False,
        "other": True,
    }
