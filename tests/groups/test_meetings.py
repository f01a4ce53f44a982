"""A meeting's page, its handout, notes, calendar file and the members' calendar feed."""

import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar
from pytest_django.asserts import assertContains, assertNotContains

from discussions import services as discussions
from discussions.models import HandoutThread
from groups import services
from groups.models import CalendarFeed, Meeting, Membership
from reading.models import ReadingProgress
from tests.factories import logged_in, make_group, make_user


@pytest.fixture
def meeting(group):
    return Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=2),
        first_position=2,
        last_position=3,
        agenda="Start with the levers.",
    )


def url(meeting, action: str = "") -> str:
    return meeting.get_absolute_url() + action


def read(user, essay, *positions):
    for position in positions:
        ReadingProgress.objects.create(reader=user, passage=essay.passages.get(position=position))


def test_meeting_page_shows_passages_readiness_and_agenda(
    client, essay, group, member, facilitator, meeting
):
    read(member, essay, 2, 3)
    read(facilitator, essay, 2)
    client.force_login(member)

    response = client.get(url(meeting))

    assertContains(response, "Start with the levers.")
    assertContains(response, '">Passage 2: ')
    assertContains(response, '">Passage 3: ')
    assertNotContains(response, "Passage 4</a>:")
    assertContains(response, "1 of 2 members has read every passage.")
    rows = {
        row.username: (row.passages_read, row.ready) for row in response.context["page"].readiness
    }
    assert rows == {member.username: (2, True), facilitator.username: (1, False)}


def test_meeting_page_questions_and_threads_follow_the_page_rules(
    essay, group, member, facilitator, meeting
):
    other_member = make_user("other")
    Membership.objects.create(group=group, user=other_member, role=Membership.Role.MEMBER)
    passage = essay.passages.get(position=2)
    open_question = discussions.question_create(
        facilitator=facilitator, group=group, body="What are levers?", first_position=2,
        last_position=2,
    )  # fmt: skip
    first = discussions.question_create(
        facilitator=facilitator, group=group, body="Answer me first.", first_position=3,
        last_position=3, answer_first=True,
    )  # fmt: skip
    seen = discussions.answer_save(author=member, question=open_question, body="Pull them.")
    secret = discussions.answer_save(author=member, question=first, body="A secret answer.")
    for answer in (seen, secret):
        discussions.answer_set_highlighted(facilitator=facilitator, answer=answer, highlighted=True)
    busy = discussions.comment_create(author=member, group=group, passage=passage, body="Busy one")
    discussions.comment_create(
        author=facilitator, group=group, passage=passage, body="Reply.", parent=busy
    )
    discussions.comment_create(author=member, group=group, passage=passage, body="Lonely one")
    hidden = discussions.comment_create(
        author=facilitator, group=group, passage=passage, body="Hidden one"
    )
    discussions.comment_hide(moderator=facilitator, comment=hidden, reason="Off topic.")

    page = logged_in(other_member).get(url(meeting)).content.decode()

    assert "What are levers?" in page and "Answer me first." in page
    assert "Pull them." in page  # highlighted, and the question is open to all
    assert "A secret answer." not in page  # answer first: other_member has not answered
    active = page.index("Most active threads")
    waiting = page.index("Waiting for a reply")
    assert active < page.index("Busy one") < waiting < page.index("Lonely one")
    assert "Hidden one" not in page
    assert "Hidden one" in logged_in(facilitator).get(url(meeting)).content.decode()


def test_notes_saved_by_a_facilitator_are_shown_to_members_sanitized(
    group, member, facilitator, meeting
):
    response = logged_in(facilitator).post(
        url(meeting, "notes/"), {"notes": "We *agreed*. <script>alert(1)</script>"}
    )

    assert response.status_code == 302
    page = logged_in(member).get(url(meeting)).content.decode()
    assert "We <em>agreed</em>." in page
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize("notes", ["x" * 10_001, "nul \x00 byte"])
def test_bad_notes_are_refused_and_change_nothing(facilitator, meeting, notes):
    response = logged_in(facilitator).post(url(meeting, "notes/"), {"notes": notes})

    assert response.status_code == 422
    assert response.context["notes_form"].errors
    meeting.refresh_from_db()
    assert meeting.notes == ""


def test_members_cannot_write_notes(member, meeting):
    assert logged_in(member).post(url(meeting, "notes/"), {"notes": "Mine."}).status_code == 403


def test_handout_prints_the_text_questions_and_chosen_threads(
    essay, group, member, facilitator, meeting
):
    passage = essay.passages.get(position=3)
    chosen = discussions.comment_create(
        author=member, group=group, passage=passage, body="On the handout", quote="sections"
    )
    discussions.comment_create(
        author=facilitator, group=group, passage=passage, body="A reply kept", parent=chosen
    )
    hidden_reply = discussions.comment_create(
        author=member, group=group, passage=passage, body="A hidden reply", parent=chosen
    )
    discussions.comment_hide(moderator=facilitator, comment=hidden_reply, reason="No.")
    discussions.comment_create(author=member, group=group, passage=passage, body="Left off")
    elsewhere = make_group(essay, facilitator=make_user("stranger"))
    foreign = discussions.comment_create(
        author=elsewhere.memberships.get().user, group=elsewhere, passage=passage, body="Not ours"
    )

    response = logged_in(facilitator).post(
        url(meeting, "handout/threads/"), {"threads": [chosen.pk]}
    )
    refused = logged_in(facilitator).post(
        url(meeting, "handout/threads/"), {"threads": [foreign.pk]}
    )
    handout = logged_in(member).get(url(meeting, "handout/")).content.decode()

    assert response.status_code == refused.status_code == 302
    assert list(HandoutThread.objects.values_list("comment_id", flat=True)) == [chosen.pk]
    assert essay.passages.get(position=2).body[:40] in handout
    assert "On the handout" in handout and "A reply kept" in handout
    assert "A hidden reply" not in handout and "Left off" not in handout
    assert "Choose the threads to print" not in handout  # the chooser is for facilitators


def test_meeting_calendar_file_is_valid_and_in_utc(member, meeting):
    response = logged_in(member).get(url(meeting, "calendar.ics"))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["UID"]) == f"meeting-{meeting.pk}@sectstudy"
    assert event.decoded("DTSTART") == meeting.starts_at.replace(microsecond=0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)
    assert b"DTSTART:" in response.content and response.content.count(b"Z\r\n") >= 2
    assert str(event["STATUS"]) == "CONFIRMED"


def test_calendar_feed_lists_the_members_meetings_and_cancellations(
    client, essay, group, member, facilitator, meeting
):
    other = make_group(essay, facilitator=make_user("elsewhere"))
    Meeting.objects.create(
        group=other, starts_at=timezone.now() + timedelta(days=1), first_position=1,
        last_position=1,
    )  # fmt: skip
    logged_in(member).post("/settings/calendar/", {"action": "renew"})
    feed = CalendarFeed.objects.get(user=member)
    before = Calendar.from_ical(client.get(feed.get_absolute_url()).content).walk("VEVENT")
    sequence = before[0]["SEQUENCE"]

    services.meeting_cancel(facilitator=facilitator, meeting=meeting)
    events = Calendar.from_ical(client.get(feed.get_absolute_url()).content).walk("VEVENT")

    assert [str(e["UID"]) for e in events] == [f"meeting-{meeting.pk}@sectstudy"]
    assert str(events[0]["STATUS"]) == "CANCELLED"
    assert events[0]["SEQUENCE"] >= sequence


def test_calendar_files_of_a_meeting_restored_with_a_very_old_creation_date(
    client, member, meeting
):
    """SEQUENCE counts seconds since creation; past 68 years (a restored backup's dates)
    it would overflow RFC 5545's 32-bit integer and break every member's whole feed."""
    Meeting.objects.filter(pk=meeting.pk).update(created_at=meeting.created_at.replace(year=1900))
    logged_in(member).post("/settings/calendar/", {"action": "renew"})
    feed = CalendarFeed.objects.get(user=member)

    for response in (
        logged_in(member).get(url(meeting, "calendar.ics")),
        client.get(feed.get_absolute_url()),
    ):
        assert response.status_code == 200
        event = Calendar.from_ical(response.content).walk("VEVENT")[0]
        assert event["SEQUENCE"] == 2**31 - 1


def test_calendar_feed_address_is_replaced_or_turned_off(client, member, meeting):
    member_client = logged_in(member)
    member_client.post("/settings/calendar/", {"action": "renew"})
    old = CalendarFeed.objects.get(user=member).get_absolute_url()

    member_client.post("/settings/calendar/", {"action": "renew"})
    new = CalendarFeed.objects.get(user=member).get_absolute_url()
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assertContains(member_client.get("/settings/calendar/"), new)

    member_client.post("/settings/calendar/", {"action": "stop"})
    assert client.get(new).status_code == 404
    assert not CalendarFeed.objects.filter(user=member).exists()


@pytest.mark.parametrize("action", ["", "explode", "\x00"])
def test_calendar_settings_bad_action_changes_nothing(member, action):
    response = logged_in(member).post("/settings/calendar/", {"action": action}, follow=True)

    assertContains(response, "That request was not understood; nothing changed.")
    assert not CalendarFeed.objects.exists()


def test_removed_member_loses_the_meetings_from_the_feed(client, group, member, meeting):
    logged_in(member).post("/settings/calendar/", {"action": "renew"})
    Membership.objects.filter(group=group, user=member).delete()

    content = client.get(CalendarFeed.objects.get(user=member).get_absolute_url()).content

    assert Calendar.from_ical(content).walk("VEVENT") == []


@pytest.mark.parametrize("minutes", ["0", "4", "721", "99999999999999999999", "-5", "abc"])
def test_meeting_length_out_of_range_is_refused(facilitator, group, minutes):
    response = logged_in(facilitator).post(
        f"/groups/{group.slug}/meetings/new/",
        {
            "starts_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": minutes,
            "first_position": "1",
            "last_position": "2",
        },
    )

    assert response.status_code == 200
    assert "duration_minutes" in response.context["form"].errors
    assert not Meeting.objects.exists()


def test_meeting_page_and_handout_queries_do_not_grow_with_members_or_comments(
    essay, facilitator, meeting
):
    group = meeting.group
    passage = essay.passages.get(position=2)
    client = logged_in(facilitator)
    counts = []
    for size in (1, 10, 200):
        users = [make_user(f"m{size}-{n}") for n in range(size)]
        Membership.objects.bulk_create(
            Membership(group=group, user=user, role=Membership.Role.MEMBER) for user in users
        )
        for user in users:
            comment = discussions.comment_create(
                author=user, group=group, passage=passage, body="Hi"
            )
            discussions.comment_create(
                author=facilitator, group=group, passage=passage, body="Yes", parent=comment
            )
        HandoutThread.objects.get_or_create(meeting=meeting, comment=comment)
        with CaptureQueriesContext(connection) as queries:
            for page in ("", "handout/"):
                assert client.get(url(meeting, page)).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] == counts[2], counts


# Reminders a day before ------------------------------------------------------------


def test_meeting_reminder_lists_each_members_unread_passages(
    essay, group, member, facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(hours=20), first_position=2,
        last_position=4, agenda="Bring questions.",
    )  # fmt: skip
    read(member, essay, 2, 4)
    read(facilitator, essay, 2, 3, 4)
    quiet = make_user("quiet")
    Membership.objects.create(group=group, user=quiet, role=Membership.Role.MEMBER)
    discussions.preference_update(user=quiet, email_replies=True, email_meetings=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert discussions.meeting_reminders() == 1
        assert discussions.meeting_reminders() == 0  # once per meeting time

    mails = {mail.to[0]: mail for mail in mailoutbox}
    assert set(mails) == {member.email, facilitator.email}
    to_member = mails[member.email].body
    assert "read passages 2 to 4" in mails[member.email].subject
    assert "- passage 3: " in to_member and "- passage 2:" not in to_member
    assert f"{meeting.get_absolute_url()}" in to_member and "Bring questions." in to_member
    assert "You have read every passage for it." in mails[facilitator.email].body


def test_meeting_reminders_skip_cancelled_far_and_past_meetings_and_follow_a_move(
    group, member, facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    def meeting_in(hours, **extra):
        return Meeting.objects.create(
            group=group, starts_at=timezone.now() + timedelta(hours=hours), first_position=1,
            last_position=1, **extra,
        )  # fmt: skip

    meeting_in(30)
    meeting_in(-2)
    meeting_in(5, cancelled_at=timezone.now())
    moved = meeting_in(10)
    with django_capture_on_commit_callbacks(execute=True):
        assert discussions.meeting_reminders() == 1
    moved.starts_at += timedelta(hours=3)
    moved.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert discussions.meeting_reminders() == 1  # its new time is reminded again
    assert len(mailoutbox) == 4  # two members, twice


def test_meeting_reminder_task_sends_nothing_for_a_meeting_cancelled_since(
    group, member, facilitator, mailoutbox
):
    from discussions.tasks import send_meeting_reminders

    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(hours=5), first_position=1,
        last_position=1,
    )  # fmt: skip
    with discussions.emails_muted():
        discussions.meeting_reminders()
    services.meeting_cancel(facilitator=facilitator, meeting=meeting)

    result = send_meeting_reminders.call(meeting_id=meeting.pk, recipient_ids=[member.pk])

    assert result == 0 and mailoutbox == []


def test_meeting_reminder_gives_the_time_in_each_readers_time_zone(
    group, member, facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    from groups.services import reader_time_zone_set

    reader_time_zone_set(user=member, time_zone="Asia/Tokyo")
    starts = timezone.now().replace(microsecond=0) + timedelta(hours=6)
    Meeting.objects.create(group=group, starts_at=starts, first_position=1, last_position=1)

    with django_capture_on_commit_callbacks(execute=True):
        discussions.meeting_reminders()

    bodies = {mail.to[0]: mail.body for mail in mailoutbox}
    tokyo = starts.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M} JST" in bodies[member.email]
    assert f"{starts:%H:%M} UTC" in bodies[facilitator.email]


def test_handout_leaves_out_threads_off_the_meetings_passages_and_deleted_authors(
    essay, group, member, facilitator, meeting
):
    passage = essay.passages.get(position=3)
    chosen = discussions.comment_create(
        author=member, group=group, passage=passage, body="On the handout"
    )
    reply = discussions.comment_create(
        author=member, group=group, passage=passage, body="Then gone", parent=chosen
    )
    discussions.comment_create(
        author=facilitator, group=group, passage=passage, body="Under it", parent=reply
    )
    discussions.handout_threads_set(
        facilitator=facilitator, meeting=meeting, comment_ids=[chosen.pk]
    )
    discussions.comment_delete(user=member, comment=reply)
    leaf = discussions.comment_create(
        author=facilitator, group=group, passage=passage, body="Withdrawn", parent=chosen
    )
    discussions.comment_delete(user=facilitator, comment=leaf)

    handout = logged_in(facilitator).get(url(meeting, "handout/")).content.decode()
    # The deleted reply with a reply under it keeps its place; the one without goes.
    assert handout.count("A deleted reply") == 1
    assert "Then gone" not in handout and "Withdrawn" not in handout
    assert handout.count(f">{member.username}<") <= 1  # the root's author, not the tombstone's

    meeting.first_position = meeting.last_position = 1
    meeting.save()
    assert (
        "On the handout"
        not in logged_in(facilitator).get(url(meeting, "handout/")).content.decode()
    )


def test_admin_upload_larger_than_the_confirmation_can_carry_is_refused(client, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reading.forms import MAX_TEXT_FILE_BYTES

    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    data = b"Title\n\n" + b"word " * (MAX_TEXT_FILE_BYTES // 5)
    response = client.post(
        "/admin/reading/text/import/",
        {"file": SimpleUploadedFile("big.txt", data), "encoding": "utf-8"},
    )

    assert response.status_code == 200
    assert "import it with manage.py import_text" in response.content.decode()
