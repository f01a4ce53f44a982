"""The daily digest (issue 11): a reader who chooses it gets no email per reply, mention
or question, but one email a day, after 07:00 in their own time zone, listing by group
what they have not opened, may still read and want emailed; once, whatever runs twice.

Times are fixed in January 2030: Auckland is UTC+13 (NZDT), Los Angeles UTC-8 (PST)."""

import smtplib
from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from discussions import selectors, services
from discussions.models import Notification, NotificationPreference, Question
from discussions.tasks import MAX_ATTEMPTS, send_daily_digest
from groups.models import Membership
from groups.services import reader_time_zone_set
from tests.discussions.helpers import create_url, post_comment
from tests.factories import make_group, make_user

SITE_URL = "https://sectstudy.example"
DAILY = NotificationPreference.Delivery.DAILY

# The day before, after both readers' mornings: their last digest.
LAST_DIGEST = datetime(2030, 1, 9, 19, 0, tzinfo=UTC)  # Auckland 10 Jan 08:00, LA 9 Jan 11:00
WRITTEN = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)  # Auckland 11 Jan 01:00, LA 10 Jan 04:00
AUCKLAND_0630 = datetime(2030, 1, 10, 17, 30, tzinfo=UTC)  # LA 10 Jan 09:30
AUCKLAND_0730 = datetime(2030, 1, 10, 18, 30, tzinfo=UTC)  # LA 10 Jan 10:30
LA_0730_NEXT_DAY = datetime(2030, 1, 11, 15, 30, tzinfo=UTC)  # Auckland 12 Jan 04:30


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def choose_digest(user, time_zone: str = "", sent_at=LAST_DIGEST, **settings) -> None:
    reader_time_zone_set(user=user, time_zone=time_zone)
    services.preference_update(user=user, email_replies=True, email_delivery=DAILY, **settings)
    NotificationPreference.objects.filter(user=user).update(digest_sent_at=sent_at)


def written_at(when=WRITTEN) -> None:
    """Every notification so far was made at `when`."""
    Notification.objects.update(created_at=when)


def run_digests(capture, now) -> int:
    with capture(execute=True):
        return services.daily_digests(now=now)


def digests_to(mailoutbox) -> list[str]:
    return [m.to[0] for m in mailoutbox if m.subject.startswith("Your daily digest")]


# When it is due -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_zone", "now", "due"),
    [
        ("Pacific/Auckland", AUCKLAND_0630, False),  # 06:30 on the 11th: not yet
        ("Pacific/Auckland", AUCKLAND_0730, True),  # 07:30 on the 11th
        ("America/Los_Angeles", AUCKLAND_0630, True),  # 09:30 on the 10th
        ("America/Los_Angeles", LAST_DIGEST + timedelta(hours=12), False),  # 23:00, same day
        ("", AUCKLAND_0630, True),  # the site's zone (UTC): 17:30 on the 10th
        ("", datetime(2030, 1, 10, 6, 59, tzinfo=UTC), False),
        ("Not/A_Zone", datetime(2030, 1, 10, 7, 0, tzinfo=UTC), True),  # the site's
    ],
)
def test_digest_is_due_after_seven_on_a_later_day_of_the_readers_zone(time_zone, now, due):
    assert selectors.digest_due(sent_at=LAST_DIGEST, time_zone=time_zone, now=now) is due


def test_digest_never_sent_is_due_after_seven():
    assert selectors.digest_due(sent_at=None, time_zone="Pacific/Auckland", now=AUCKLAND_0730)
    assert not selectors.digest_due(sent_at=None, time_zone="Pacific/Auckland", now=AUCKLAND_0630)


def test_digest_goes_out_in_each_readers_own_morning(
    essay, mailoutbox, django_capture_on_commit_callbacks
):
    writer, kiri, jo = make_user("writer"), make_user("kiri"), make_user("jo")
    group = make_group(essay, facilitator=writer, name="Circle", members=[kiri, jo])
    choose_digest(kiri, "Pacific/Auckland")
    choose_digest(jo, "America/Los_Angeles")
    passage = essay.passages.get(position=1)
    post_comment(writer, group, passage, "Hello @kiri and @jo")
    written_at()
    capture = django_capture_on_commit_callbacks

    assert run_digests(capture, AUCKLAND_0630) == 1
    assert digests_to(mailoutbox) == ["jo@example.com"]

    assert run_digests(capture, AUCKLAND_0730) == 1
    assert digests_to(mailoutbox) == ["jo@example.com", "kiri@example.com"]

    # Jo's next morning, with a new mention for each: only Jo's digest is due.
    post_comment(writer, group, passage, "Again, @kiri and @jo")
    Notification.objects.filter(comment__body__startswith="Again").update(
        created_at=LA_0730_NEXT_DAY - timedelta(hours=2)
    )
    assert run_digests(capture, LA_0730_NEXT_DAY) == 1
    assert digests_to(mailoutbox) == ["jo@example.com", "kiri@example.com", "jo@example.com"]
    assert "Again, @kiri and @jo" in mailoutbox[-1].body
    assert "Hello @kiri" not in mailoutbox[-1].body  # listed the day before


def test_digest_lists_by_group_with_links_and_times_in_the_readers_zone(
    essay, mailoutbox, django_capture_on_commit_callbacks
):
    writer, kiri = make_user("writer"), make_user("kiri")
    circle = make_group(essay, facilitator=writer, name="Circle", members=[kiri])
    book_club = make_group(essay, facilitator=writer, name="Book club", members=[kiri])
    choose_digest(kiri, "Pacific/Auckland")
    passage = essay.passages.get(position=1)
    top = post_comment(kiri, circle, passage, "My reading.")
    reply = post_comment(writer, circle, passage, "I read it\n\n*otherwise*.", parent=top)
    mention = post_comment(writer, book_club, passage, "Ask @kiri.")
    question = services.question_create(
        facilitator=writer,
        group=book_club,
        body="What holds a sect together?",
        first_position=1,
        last_position=2,
        due_at=datetime(2030, 1, 12, 6, 30, tzinfo=UTC),
    )
    written_at()
    Notification.objects.filter(kind="mention").update(created_at=WRITTEN + timedelta(hours=1))
    Notification.objects.filter(kind="question_assigned").update(
        created_at=WRITTEN + timedelta(hours=2)
    )
    ids = {n.kind: n.pk for n in Notification.objects.filter(recipient=kiri)}

    run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)

    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["kiri@example.com"], "Your daily digest: 3 new notifications")
    ]
    assert mailoutbox[0].body == (
        "Your notifications since Thursday 10 January, 08:00 NZDT, by group:\n"
        "\n"
        "Book club\n"
        "\n"
        "- Fri 02:00: writer mentioned you on passage 1:\n"
        "  Ask @kiri.\n"
        f"  {SITE_URL}/notifications/{ids['mention']}/\n"
        "\n"
        "- Fri 03:00: a new reading question on passages 1 to 2, "
        "due Saturday 12 January, 19:30 NZDT:\n"
        "  What holds a sect together?\n"
        f"  {SITE_URL}/notifications/{ids['question_assigned']}/\n"
        "\n"
        "Circle\n"
        "\n"
        "- Fri 01:00: writer replied to you on passage 1:\n"
        "  I read it otherwise.\n"
        f"  {SITE_URL}/notifications/{ids['reply']}/\n"
        "\n"
        f"All your notifications: {SITE_URL}/notifications/\n"
        "\n"
        "You receive this digest once a day, instead of an email for each reply, mention "
        "or question, because you chose it in your settings. It lists what you have not "
        "opened yet; on a day without anything new, nothing is sent. Change it: "
        f"{SITE_URL}/settings/notifications/\n\n"
    )
    assert set(Notification.objects.values_list("emailed_at", flat=True)) != {None}
    assert reply.pk and mention.pk and question.pk


def test_digest_link_opens_the_notification(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    reply = post_comment(facilitator, group, passage, "Yours.", parent=top)
    written_at()
    run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)
    link = next(
        line.strip() for line in mailoutbox[0].body.splitlines() if "/notifications/" in line
    )

    from tests.discussions.helpers import logged_in

    response = logged_in(member).get(link.removeprefix(SITE_URL))

    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{reply.pk}")
    assert Notification.objects.get().read_at is not None


# What it lists ---------------------------------------------------------------------------


def test_digest_with_nothing_new_sends_nothing_and_waits_for_the_next_morning(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    choose_digest(member)

    assert run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730) == 1
    assert mailoutbox == []
    assert NotificationPreference.objects.get(user=member).digest_sent_at == AUCKLAND_0730

    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    Notification.objects.update(created_at=AUCKLAND_0730 + timedelta(hours=1))
    assert run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730 + timedelta(hours=2)) == 0
    assert mailoutbox == []


def test_digest_leaves_out_what_the_reader_may_no_longer_read(
    essay, member, other_member, facilitator, group, passage, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """Hidden since, deleted since, in a group the reader left, an answer thread under
    "answer first" the reader may not see: none is listed; the one still readable is."""
    choose_digest(other_member)
    elsewhere = make_group(essay, facilitator=facilitator, name="Elsewhere", members=[other_member])
    hidden = post_comment(member, group, passage, "Rude, @other.")
    deleted = post_comment(member, group, passage, "Gone, @other.")
    post_comment(facilitator, group, passage, "Keeps the tombstone.", parent=deleted)
    post_comment(facilitator, elsewhere, passage, "Left behind, @other.")
    post_comment(member, group, passage, "Still here, @other.")
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    theirs = services.answer_save(author=other_member, question=question, body="Mine.")
    answer = services.answer_save(author=member, question=question, body="Its program.")
    their_reply = post_comment(other_member, group, passage, "Hm.", parent=answer)
    post_comment(member, group, passage, "Answer-first reply.", parent=their_reply)
    services.comment_hide(moderator=facilitator, comment=hidden, reason="Be kind.")
    services.comment_delete(user=member, comment=deleted)
    Membership.objects.filter(group=elsewhere, user=other_member).delete()
    Question.objects.filter(pk=question.pk).update(answer_first=True)
    services.comment_delete(user=other_member, comment=theirs)
    written_at()

    run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)

    body = mailoutbox[0].body
    assert "Still here, @other." in body
    assert "a new reading question on passage 1:\n  Why?" in body  # unanswered again
    for gone in ("Rude", "Gone", "Left behind", "Answer-first reply"):
        assert gone not in body
    assert mailoutbox[0].subject == "Your daily digest: 2 new notifications"


def test_digest_leaves_out_kinds_turned_off_opened_ones_and_answered_questions(
    member, other_member, facilitator, group, passage, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    choose_digest(other_member, email_mentions=False)
    post_comment(member, group, passage, "Mentioned, @other.")
    top = post_comment(other_member, group, passage, "Mine.")
    opened = post_comment(member, group, passage, "Opened already.", parent=top)
    post_comment(member, group, passage, "Not opened yet.", parent=top)
    answered = services.question_create(
        facilitator=facilitator, group=group, body="Answered since?", first_position=1,
        last_position=1,
    )  # fmt: skip
    services.answer_save(author=other_member, question=answered, body="Yes.")
    services.question_create(
        facilitator=facilitator, group=group, body="Still open?", first_position=1,
        last_position=1,
    )  # fmt: skip
    services.notification_open(
        user=other_member, notification=Notification.objects.get(comment=opened)
    )
    written_at()

    run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)

    body = mailoutbox[0].body
    assert "Not opened yet." in body and "Still open?" in body
    for left_out in ("Mentioned", "Opened already", "Answered since?"):
        assert left_out not in body


def test_digest_lists_nothing_written_before_its_window(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    """Notifications from before the last digest (less an hour's overlap) are not listed,
    even those never emailed; those from the overlap are, once."""
    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    old = post_comment(facilitator, group, passage, "Long ago.", parent=top)
    overlap = post_comment(facilitator, group, passage, "Just before.", parent=top)
    Notification.objects.filter(comment=old).update(created_at=LAST_DIGEST - timedelta(hours=2))
    Notification.objects.filter(comment=overlap).update(
        created_at=LAST_DIGEST - timedelta(minutes=30)
    )

    run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)

    assert "Just before." in mailoutbox[0].body
    assert "Long ago." not in mailoutbox[0].body


# Digest mode and the immediate emails ------------------------------------------------------


def test_digest_mode_stops_immediate_emails_and_the_digest_lists_them(
    member_client, member, other_member, facilitator, group, passage, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    choose_digest(other_member)
    top = post_comment(other_member, group, passage, "Mine.")

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(create_url(group), {"body": "Reply, @other.", "parent": top.pk})
        member_client.post(create_url(group), {"body": "Mention, @other."})
        services.question_create(
            facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
        )

    assert [m.to for m in mailoutbox] == [[member.email]]  # the question, to member only
    assert Notification.objects.filter(recipient=other_member, emailed_at__isnull=True).count() == 3

    written_at()
    run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)

    assert digests_to(mailoutbox) == [other_member.email]
    assert mailoutbox[-1].subject == "Your daily digest: 3 new notifications"


def test_what_was_emailed_right_away_is_not_in_the_digest(
    member, other_member, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(member, group, passage, "Emailed, @other.")
    services.preference_update(user=other_member, email_replies=True, email_delivery=DAILY)
    chosen_at = NotificationPreference.objects.get(user=other_member).digest_sent_at
    post_comment(member, group, passage, "Digested, @other.")
    written_at(chosen_at)

    run_digests(django_capture_on_commit_callbacks, chosen_at + timedelta(days=1, hours=8))

    assert [m.subject for m in mailoutbox] == [
        "member mentioned you in Reading circle",
        "Your daily digest: 1 new notification",
    ]
    assert "Digested, @other." in mailoutbox[1].body
    assert "Emailed" not in mailoutbox[1].body


def test_choosing_the_digest_starts_it_the_next_morning(other_member):
    services.preference_update(user=other_member, email_replies=True, email_delivery=DAILY)
    chosen_at = NotificationPreference.objects.get(user=other_member).digest_sent_at

    assert selectors.digest_readers_due(now=chosen_at) == []
    later = chosen_at + timedelta(days=1)
    assert selectors.digest_readers_due(now=later.replace(hour=7, minute=0)) == [
        selectors.DigestReader(user_id=other_member.pk, sent_at=chosen_at)
    ]

    # Saving the settings again does not move the start.
    services.preference_update(user=other_member, email_replies=False, email_delivery=DAILY)
    assert NotificationPreference.objects.get(user=other_member).digest_sent_at == chosen_at


# Once, whatever runs twice ------------------------------------------------------------------


def test_digest_run_twice_sends_once(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    written_at()

    assert run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730) == 1
    assert run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730) == 0
    assert run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730 + timedelta(hours=1)) == 0
    assert digests_to(mailoutbox) == [member.email]


def test_two_runs_at_once_start_one_digest(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    """Both runs saw the reader due; the second finds the mark moved and starts nothing."""
    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    written_at()
    seen_by_both = selectors.digest_readers_due(now=AUCKLAND_0730)

    assert run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730) == 1
    with mock.patch.object(selectors, "digest_readers_due", return_value=seen_by_both):
        assert run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730) == 0
    assert digests_to(mailoutbox) == [member.email]


def test_digest_task_run_twice_sends_once(member, facilitator, group, passage, mailoutbox):
    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    written_at()
    window = {
        "user_id": member.pk,
        "since": LAST_DIGEST.isoformat(),
        "until": AUCKLAND_0730.isoformat(),
    }

    assert (send_daily_digest.call(**window), send_daily_digest.call(**window)) == (1, 0)
    assert digests_to(mailoutbox) == [member.email]


@pytest.fixture
def database_task_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASKS_BACKEND = "database"


def test_failed_digest_is_retried_and_sent_once(
    database_task_queue, member, facilitator, group, passage, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from django_tasks_db.models import DBTaskResult

    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    written_at()
    DBTaskResult.objects.all().delete()
    run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)
    queued = DBTaskResult.objects.get()
    DBTaskResult.objects.all().delete()

    with mock.patch(
        "discussions.tasks.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")
    ):
        assert send_daily_digest.call(**queued.args_kwargs["kwargs"]) == 0

    retry = DBTaskResult.objects.get()
    assert retry.task_path == "discussions.tasks.send_daily_digest"
    assert retry.args_kwargs["kwargs"] == {**queued.args_kwargs["kwargs"], "attempt": 2}
    assert Notification.objects.get(recipient=member).emailed_at is None
    assert send_daily_digest.call(**retry.args_kwargs["kwargs"]) == 1
    assert send_daily_digest.call(**retry.args_kwargs["kwargs"]) == 0
    assert digests_to(mailoutbox) == [member.email]


def test_digest_fails_the_task_on_its_last_attempt(
    database_task_queue, member, facilitator, group, passage
):
    from django_tasks_db.models import DBTaskResult

    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    written_at()
    DBTaskResult.objects.all().delete()

    with (
        mock.patch(
            "discussions.tasks.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")
        ),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        send_daily_digest.call(
            user_id=member.pk,
            since=LAST_DIGEST.isoformat(),
            until=AUCKLAND_0730.isoformat(),
            attempt=MAX_ATTEMPTS,
        )

    assert DBTaskResult.objects.count() == 0
    assert Notification.objects.get(recipient=member).emailed_at is None


def test_digests_are_not_sent_while_emails_are_muted(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    choose_digest(member)
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    written_at()

    with services.emails_muted():
        run_digests(django_capture_on_commit_callbacks, AUCKLAND_0730)

    assert mailoutbox == []


def test_send_due_reminders_sends_the_digests_due(
    member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    choose_digest(member, sent_at=None)
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    output = StringIO()

    with (
        mock.patch("django.utils.timezone.now", return_value=AUCKLAND_0730),
        django_capture_on_commit_callbacks(execute=True),
    ):
        Notification.objects.update(created_at=AUCKLAND_0730 - timedelta(hours=3))
        call_command("send_due_reminders", stdout=output)

    assert output.getvalue() == (
        "0 question reminders sent; 0 meetings reminded; 1 daily digest due.\n"
    )
    assert digests_to(mailoutbox) == [member.email]


# The settings page ---------------------------------------------------------------------------


def test_settings_page_offers_the_digest_and_saves_the_choice(member_client, member):
    html = member_client.get("/settings/notifications/").content.decode()
    assert (
        '<input type="radio" name="email_delivery" value="immediate" '
        'id="id_email_delivery_0" checked>'
    ) in html
    assert "Once a day: one digest, each morning after 07:00 your local time" in html
    assert "Meeting reminders always come the day before, on their own." in html

    response = member_client.post(
        "/settings/notifications/", {"email_replies": "on", "email_delivery": "daily"}
    )

    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=member).email_delivery == DAILY
    html = member_client.get("/settings/notifications/").content.decode()
    assert (
        '<input type="radio" name="email_delivery" value="daily" id="id_email_delivery_1" checked>'
    ) in html


def test_settings_refuse_an_unknown_delivery_and_change_nothing(member_client, member):
    response = member_client.post(
        "/settings/notifications/", {"email_replies": "on", "email_delivery": "hourly"}
    )

    assert response.status_code == 200
    assert "Select a valid choice. hourly is not one of the available choices." in (
        response.content.decode()
    )
    assert NotificationPreference.objects.count() == 0


def test_settings_posted_without_a_delivery_keep_the_readers_choice(member_client, member):
    choose_digest(member)

    response = member_client.post("/settings/notifications/", {"email_replies": "on"})

    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=member).email_delivery == DAILY


def test_database_refuses_an_unknown_delivery(member):
    with pytest.raises(IntegrityError):
        NotificationPreference.objects.create(user=member, email_delivery="hourly")


# Queries ------------------------------------------------------------------------------------


def digest_queries(essay, readers: int, notifications: int, capture) -> int:
    """Queries of one hourly run sending `readers` digests of `notifications` each, over
    two groups, replies and mentions."""
    writer = make_user()
    users = [make_user() for _ in range(readers)]
    groups = [make_group(essay, facilitator=writer, members=users) for _ in range(2)]
    passage = essay.passages.get(position=1)
    for user in users:
        choose_digest(user)
        tops = [post_comment(user, group, passage, "Mine.") for group in groups]
        for n in range(notifications):
            group, top = groups[n % 2], tops[n % 2]
            if n % 3:
                post_comment(writer, group, passage, f"Reply {n}.", parent=top)
            else:
                post_comment(writer, group, passage, f"Hello @{user.username} {n}.")
    written_at()
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        assert services.daily_digests(now=AUCKLAND_0730) == readers
    return len(queries)


def test_digest_queries_do_not_grow_with_its_notifications(
    essay, mailoutbox, django_capture_on_commit_callbacks
):
    one = digest_queries(
        essay, readers=1, notifications=1, capture=django_capture_on_commit_callbacks
    )
    Notification.objects.all().delete()
    NotificationPreference.objects.all().delete()
    many = digest_queries(
        essay, readers=1, notifications=12, capture=django_capture_on_commit_callbacks
    )

    assert one == many
    assert [len(m.body.split("\n- ")) - 1 for m in mailoutbox] == [1, 12]


def test_digest_queries_grow_by_a_few_per_reader_not_per_notification(
    essay, mailoutbox, django_capture_on_commit_callbacks
):
    """Per reader: moving their mark, their settings, their notifications, the claim."""
    one = digest_queries(
        essay, readers=1, notifications=3, capture=django_capture_on_commit_callbacks
    )
    NotificationPreference.objects.all().delete()
    three = digest_queries(
        essay, readers=3, notifications=3, capture=django_capture_on_commit_callbacks
    )

    per_reader = (three - one) / 2
    assert per_reader == one - 1  # all but the one query finding the readers due
    assert per_reader <= 10
    assert len(mailoutbox) == 4
