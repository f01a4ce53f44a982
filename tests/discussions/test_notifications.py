"""Notifications: replies and mentions, the header count, the notifications page,
mark-all-read, and reply emails sent as a Django task after the transaction commits."""

import re

import pytest
from django.tasks import Task, TaskResultStatus

from discussions import services
from discussions.models import Notification, NotificationPreference
from discussions.tasks import send_reply_email
from groups.models import Membership, ReaderSettings
from tests.discussions.helpers import ESSAY_URL, HTMX, create_url, post_comment, updates_url

SITE_URL = "https://sectstudy.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def notifications_of(user) -> list[tuple[str, str, int]]:
    return [
        (n.kind, n.actor.username, n.comment_id)
        for n in Notification.objects.filter(recipient=user).order_by("pk")
    ]


def header_badge(client) -> str | None:
    html = client.get("/").content.decode()
    match = re.search(
        r'Notifications <span class="badge">(\d+)'
        r'<span class="visually-hidden"> unread</span></span>',
        html,
    )
    return match.group(1) if match else None


# Who is notified --------------------------------------------------------------------


def test_comment_reply_notifies_the_parent_author(member, facilitator, group, passage):
    parent = post_comment(facilitator, group, passage, "Top.")

    reply = post_comment(member, group, passage, "Reply.", parent=parent)

    assert notifications_of(facilitator) == [("reply", "member", reply.pk)]
    assert notifications_of(member) == []


def test_comment_reply_to_oneself_notifies_nobody(member, group, passage):
    parent = post_comment(member, group, passage, "Top.")

    post_comment(member, group, passage, "Adding to myself.", parent=parent)

    assert Notification.objects.count() == 0


def test_comment_mention_of_a_group_member_notifies_them(member, other_member, group, passage):
    comment = post_comment(member, group, passage, "What do you think, @other?")

    assert notifications_of(other_member) == [("mention", "member", comment.pk)]


@pytest.mark.parametrize(
    "body",
    ["@other.", "(@other)", "@other, and @other again", "Ask @other: now", "**@other**"],
    ids=["trailing-period", "parentheses", "twice", "colon", "bold"],
)
def test_comment_mention_forms_notify_once(member, other_member, group, passage, body):
    comment = post_comment(member, group, passage, body)

    assert notifications_of(other_member) == [("mention", "member", comment.pk)]


def test_comment_mention_inside_an_email_address_is_not_a_mention(
    member, other_member, group, passage
):
    post_comment(member, group, passage, "Write to someone@other or me@example.com")

    assert Notification.objects.count() == 0


def test_comment_mention_of_a_non_member_notifies_nobody(
    member, outsider, other_group, group, passage
):
    post_comment(member, group, passage, "Hello @outsider and @nobody.")

    assert Notification.objects.count() == 0


def test_comment_mention_of_oneself_notifies_nobody(member, group, passage):
    post_comment(member, group, passage, "Note to @member: reread this.")

    assert Notification.objects.count() == 0


def test_comment_reply_mentioning_the_parent_author_notifies_once(
    member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    reply = post_comment(member, group, passage, "@facilitator I disagree.", parent=parent)

    assert notifications_of(facilitator) == [("reply", "member", reply.pk)]


def test_comment_reply_mentioning_another_member_notifies_both(
    member, facilitator, other_member, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    reply = post_comment(member, group, passage, "Agreed with @other.", parent=parent)

    assert notifications_of(facilitator) == [("reply", "member", reply.pk)]
    assert notifications_of(other_member) == [("mention", "member", reply.pk)]


def test_comment_reply_to_a_former_member_notifies_nobody(
    member, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(member, group, passage, "Before I left.")
    Membership.objects.filter(group=group, user=member).delete()

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(other_member, group, passage, "Group-only words.", parent=parent)

    assert notifications_of(member) == []
    assert mailoutbox == []


def test_comment_posted_through_the_view_notifies(
    member_client, facilitator, other_member, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    member_client.post(create_url(group), {"body": "Yes, @other.", "parent": parent.pk})

    assert [kind for kind, _, _ in notifications_of(facilitator)] == ["reply"]
    assert [kind for kind, _, _ in notifications_of(other_member)] == ["mention"]


# Header count, page, mark-all-read ------------------------------------------------------


def test_header_shows_unread_notification_count(
    facilitator_client, member, other_member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")
    post_comment(member, group, passage, "One.", parent=parent)
    post_comment(other_member, group, passage, "Two, @facilitator.")

    assert header_badge(facilitator_client) == "2"


def test_header_count_leaves_out_what_the_list_hides(
    member_client, member, other_member, facilitator, group, passage
):
    """A reply hidden since it was written leaves the list, and the count with it."""
    parent = post_comment(member, group, passage, "Top.")
    hidden = post_comment(other_member, group, passage, "Rude.", parent=parent)
    post_comment(other_member, group, passage, "Kind.", parent=parent)
    services.comment_hide(moderator=facilitator, comment=hidden, reason="Be kind.")

    html = member_client.get("/notifications/").content.decode()

    assert html.count('<li class="notification is-unread">') == 1
    assert header_badge(member_client) == "1"


def test_header_count_leaves_out_answers_under_answer_first(
    member_client, member, other_member, facilitator, group, passage
):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    services.answer_save(author=other_member, question=question, body="Ask @member.")
    Notification.objects.filter(kind=Notification.Kind.QUESTION_ASSIGNED).delete()
    question.__class__.objects.filter(pk=question.pk).update(answer_first=True)

    assert "No notifications yet." in member_client.get("/notifications/").content.decode()
    assert header_badge(member_client) is None


def test_header_without_notifications_shows_no_badge(member_client):
    assert header_badge(member_client) is None


def test_notification_list_shows_replies_and_mentions(
    facilitator_client, member, other_member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")
    reply = post_comment(member, group, passage, "One.", parent=parent)
    mention = post_comment(other_member, group, passage, "Two, @facilitator.")

    response = facilitator_client.get("/notifications/")

    html = response.content.decode()
    assert response.status_code == 200
    link = '<a href="/notifications/{}/">passage 1 of Anatomy of the Sect</a>'
    by_comment = {n.comment_id: n.pk for n in Notification.objects.filter(recipient=facilitator)}
    assert html.count('<li class="notification is-unread">') == 2
    assert "<strong>other</strong> mentioned you" in html
    assert "<strong>member</strong> replied to you" in html
    assert link.format(by_comment[reply.pk]) in html
    assert link.format(by_comment[mention.pk]) in html
    # Newest first.
    assert html.index("<strong>other</strong>") < html.index("<strong>member</strong>")


def test_notification_list_shows_only_own_notifications(
    member_client, member, facilitator, other_member, group, passage
):
    parent = post_comment(other_member, group, passage, "Top.")
    post_comment(facilitator, group, passage, "Private reply.", parent=parent)

    html = member_client.get("/notifications/").content.decode()

    assert "No notifications yet." in html
    assert "replied to you" not in html


def test_notifications_read_marks_all_read(
    facilitator_client, member, other_member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")
    post_comment(member, group, passage, "One.", parent=parent)
    post_comment(other_member, group, passage, "Two, @facilitator.")
    post_comment(facilitator, group, passage, "Hi @other.")

    response = facilitator_client.post("/notifications/read/")

    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert Notification.objects.filter(recipient=facilitator, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=other_member, read_at__isnull=True).count() == 1
    assert header_badge(facilitator_client) is None
    assert "is-unread" not in facilitator_client.get("/notifications/").content.decode()


def test_notification_open_marks_it_read_and_lands_on_the_comment(
    facilitator_client, member, other_member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")
    reply = post_comment(member, group, passage, "One.", parent=parent)
    post_comment(other_member, group, passage, "Two, @facilitator.")
    opened = Notification.objects.get(recipient=facilitator, comment=reply)

    response = facilitator_client.get(f"/notifications/{opened.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{reply.pk}"
    opened.refresh_from_db()
    assert opened.read_at is not None
    # Only that one: the mention stays unread, and the header says so.
    assert header_badge(facilitator_client) == "1"


def test_notification_open_twice_keeps_the_first_reading_time(
    facilitator_client, member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")
    reply = post_comment(member, group, passage, "One.", parent=parent)
    opened = Notification.objects.get(recipient=facilitator, comment=reply)
    facilitator_client.get(f"/notifications/{opened.pk}/")
    opened.refresh_from_db()
    first_read = opened.read_at

    response = facilitator_client.get(f"/notifications/{opened.pk}/")

    assert response.status_code == 302
    opened.refresh_from_db()
    assert opened.read_at == first_read


def test_notification_open_of_someone_elses_notification_is_404_and_changes_nothing(
    member_client, other_member, facilitator, group, passage
):
    parent = post_comment(other_member, group, passage, "Top.")
    reply = post_comment(facilitator, group, passage, "Private reply.", parent=parent)
    theirs = Notification.objects.get(recipient=other_member, comment=reply)

    response = member_client.get(f"/notifications/{theirs.pk}/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_notification_open_after_leaving_the_group_is_404(
    facilitator_client, member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")
    reply = post_comment(member, group, passage, "One.", parent=parent)
    opened = Notification.objects.get(recipient=facilitator, comment=reply)
    Membership.objects.filter(group=group, user=facilitator).delete()

    assert facilitator_client.get(f"/notifications/{opened.pk}/").status_code == 404


def test_notification_open_of_a_question_goes_to_the_question(
    member_client, member, facilitator, group
):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    assigned = Notification.objects.get(recipient=member, question=question)

    response = member_client.get(f"/notifications/{assigned.pk}/")

    assert response.status_code == 302
    assert response["Location"] == question.get_absolute_url()
    assigned.refresh_from_db()
    assert assigned.read_at is not None


def test_poll_with_a_new_reply_brings_the_header_count_along(
    member_client, member, facilitator, group, passage
):
    mine = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "A reply.", parent=mine)

    html = member_client.get(updates_url(group, after=mine.pk), headers=HTMX).content.decode()

    badge = '<span class="badge">1<span class="visually-hidden"> unread</span></span>'
    for element_id in ("notifications-link", "notifications-link-compact"):
        assert (
            f'<a href="/notifications/" class="notifications-link" id="{element_id}" '
            f'data-hx-swap-oob="true">Notifications {badge}</a>'
        ) in html


def test_notification_open_post_is_not_allowed(member_client):
    assert member_client.post("/notifications/1/").status_code == 405


def test_notifications_read_get_is_not_allowed(member_client):
    assert member_client.get("/notifications/read/").status_code == 405


# Reply emails ---------------------------------------------------------------------------


def test_reply_email_is_not_sent_before_commit(
    member_client, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(facilitator, group, passage, "Top.")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_client.post(create_url(group), {"body": "Reply.", "parent": parent.pk})

    assert len(callbacks) == 1
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=facilitator).count() == 1


def test_reply_email_is_sent_once_after_commit(
    member_client, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(facilitator, group, passage, "Top.")

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(create_url(group), {"body": "I *think* not.", "parent": parent.pk})

    reply = parent.replies.get()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["facilitator@example.com"]
    assert email.subject == "member replied to you in Reading circle"
    assert email.body == (
        'member replied to your comment on passage 1 of "Anatomy of the Sect" in Reading circle:\n'
        "\n"
        "I *think* not.\n"
        "\n"
        f"Read the thread: {SITE_URL}{ESSAY_URL}1/?group={group.slug}#comment-{reply.pk}\n"
        "\n"
        "You receive this because you allowed email notifications for replies. "
        f"Turn them off: {SITE_URL}/settings/notifications/\n\n"
    )


def test_reply_email_is_not_sent_for_mentions(
    member_client, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(create_url(group), {"body": "Hello @other."})

    # The mention's own email (tests/discussions/test_mention_emails.py), not a reply's.
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["other@example.com"], "member mentioned you in Reading circle")
    ]


def test_reply_email_is_not_sent_for_replies_to_oneself(
    member_client, member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(member, group, passage, "Top.")

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(create_url(group), {"body": "More.", "parent": parent.pk})

    assert mailoutbox == []


def test_notification_settings_page_shows_email_on_by_default(facilitator_client):
    response = facilitator_client.get("/settings/notifications/")

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(
        r'<input type="checkbox" name="email_replies" id="id_email_replies" checked>', html
    )
    assert 'action="/settings/notifications/"' in html


def test_notification_settings_page_writes_nothing(facilitator_client):
    facilitator_client.get("/settings/notifications/")

    assert NotificationPreference.objects.count() == 0


def test_notification_settings_post_turns_email_off(facilitator_client, facilitator):
    response = facilitator_client.post("/settings/notifications/", {})

    assert response.status_code == 302
    assert response["Location"] == "/settings/notifications/"
    assert NotificationPreference.objects.get(user=facilitator).email_replies is False
    html = facilitator_client.get("/settings/notifications/").content.decode()
    assert '<input type="checkbox" name="email_replies" id="id_email_replies">' in html


def test_reply_email_is_not_sent_when_recipient_turned_email_off(
    facilitator_client,
    member_client,
    facilitator,
    group,
    passage,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    facilitator_client.post("/settings/notifications/", {})
    parent = post_comment(facilitator, group, passage, "Top.")

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(create_url(group), {"body": "Reply.", "parent": parent.pk})

    assert mailoutbox == []
    assert [kind for kind, _, _ in notifications_of(facilitator)] == ["reply"]


def test_reply_email_is_sent_again_when_recipient_turns_email_back_on(
    facilitator_client,
    member_client,
    facilitator,
    group,
    passage,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    facilitator_client.post("/settings/notifications/", {})
    facilitator_client.post("/settings/notifications/", {"email_replies": "on"})
    parent = post_comment(facilitator, group, passage, "Top.")

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(create_url(group), {"body": "Reply.", "parent": parent.pk})

    assert [email.to for email in mailoutbox] == [["facilitator@example.com"]]


def test_send_reply_email_is_a_django_task():
    assert isinstance(send_reply_email, Task)
    assert send_reply_email.name == "send_reply_email"


def test_send_reply_email_enqueued_sends_the_email(member, facilitator, group, passage, mailoutbox):
    parent = post_comment(facilitator, group, passage, "Top.")
    reply = post_comment(member, group, passage, "Reply.", parent=parent)

    result = send_reply_email.enqueue(comment_id=reply.pk, recipient_id=facilitator.pk)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value is True
    assert len(mailoutbox) == 1


def test_send_reply_email_for_a_deleted_comment_sends_nothing(
    member, facilitator, group, passage, mailoutbox
):
    parent = post_comment(facilitator, group, passage, "Top.")
    reply = post_comment(member, group, passage, "Reply.", parent=parent)
    services.comment_delete(user=member, comment=reply)

    result = send_reply_email.enqueue(comment_id=reply.pk, recipient_id=facilitator.pk)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value is False
    assert mailoutbox == []


def test_send_reply_email_to_a_recipient_without_address_sends_nothing(
    member, facilitator, group, passage, mailoutbox
):
    facilitator.email = ""
    facilitator.save(update_fields=["email"])
    parent = post_comment(facilitator, group, passage, "Top.")
    reply = post_comment(member, group, passage, "Reply.", parent=parent)

    result = send_reply_email.enqueue(comment_id=reply.pk, recipient_id=facilitator.pk)

    assert result.return_value is False
    assert mailoutbox == []


def test_editing_a_comment_notifies_only_newly_mentioned_members(essay):
    from discussions import services as discussion_services
    from discussions.models import Notification
    from tests.factories import make_group, make_user

    author, first, second = make_user("writer"), make_user("first"), make_user("second")
    group = make_group(essay, facilitator=author, members=[first, second])
    passage = essay.passages.get(position=1)
    comment = discussion_services.comment_create(
        author=author, group=group, passage=passage, body="Hello @first"
    )

    discussion_services.comment_edit(
        editor=author, comment=comment, body="Hello @first and @second"
    )

    assert sorted(
        Notification.objects.filter(kind="mention").values_list("recipient__username", flat=True)
    ) == ["first", "second"]


def test_notifications_page_links_assigned_and_due_questions(
    client, essay, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from discussions import services as discussion_services
    from tests.factories import make_group, make_user

    lead, reader = make_user("lead"), make_user("reader9")
    group = make_group(essay, facilitator=lead, members=[reader], name="Circle")
    for n in range(1, 4):
        discussion_services.question_create(
            facilitator=lead,
            group=group,
            first_position=n,
            last_position=n,
            body=f"Question **{n}**",
            due_at=timezone.now() + timedelta(hours=20),
            meeting=None,
            answer_first=False,
        )
    discussion_services.question_due_reminders()
    client.force_login(reader)

    with django_assert_max_num_queries(6):
        html = client.get("/notifications/").content.decode()

    assert html.count("assigned a question in Circle:") == 3
    assert html.count("Due soon in Circle:") == 3
    question = group.questions.get(first_position=2)
    for notification in Notification.objects.filter(recipient=reader, question=question):
        # Through the notification, which is marked read on the way to the question.
        assert f'<a href="/notifications/{notification.pk}/">Question 2</a>' in html


def test_notifications_page_leaves_out_groups_the_reader_left(client, essay):
    from discussions import services as discussion_services
    from tests.factories import make_group, make_user

    lead, reader = make_user("lead"), make_user("leaver")
    group = make_group(essay, facilitator=lead, members=[reader], name="Left behind")
    discussion_services.question_create(
        facilitator=lead,
        group=group,
        first_position=1,
        last_position=1,
        body="Secret question",
        due_at=None,
        meeting=None,
        answer_first=False,
    )
    group.memberships.filter(user=reader).delete()
    client.force_login(reader)

    html = client.get("/notifications/").content.decode()

    assert "Secret question" not in html
    assert "No notifications yet." in html


def test_notification_of_a_reply_deleted_since_leaves_the_list_and_the_count(
    member, facilitator, group, passage
):
    from discussions.selectors import readable_notifications, unread_notification_count

    top = post_comment(member, group, passage, "Top.")
    reply = post_comment(facilitator, group, passage, "Reply, regretted.", parent=top)
    assert unread_notification_count(member) == 1

    services.comment_delete(user=facilitator, comment=reply)

    assert list(readable_notifications(member)) == []
    assert unread_notification_count(member) == 0


def test_notification_settings_post_without_a_time_zone_keeps_the_reader_s(
    facilitator_client, facilitator
):
    facilitator_client.post("/settings/notifications/", {"time_zone": "Europe/Paris"})

    response = facilitator_client.post("/settings/notifications/", {})

    assert response.status_code == 302
    assert ReaderSettings.objects.get(user=facilitator).time_zone == "Europe/Paris"
