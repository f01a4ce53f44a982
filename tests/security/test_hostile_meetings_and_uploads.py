"""Hostile requests against meetings, handouts, calendars, quote re-attaching, the
admin upload, contents paging, exports and the time zone cookie: none may answer
500, leak another group's or a hidden thing, or change data when refused."""

import base64
import copy
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from discussions import services as discussions
from discussions.models import Comment, HandoutThread
from groups import services
from groups.models import CalendarFeed, Meeting, Membership, StudyGroup
from reading.models import Passage, Revision, Text
from reading.services import SHIPPED_ESSAY, text_revise
from tests.factories import logged_in, make_group, make_user

BEYOND_BIGINT = 10**20
IMPORT_URL = "/admin/reading/text/import/"


def messages_of(response) -> list[str]:
    return [message.message for message in get_messages(response.wsgi_request)]


@pytest.fixture
def meeting(group):
    return Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=2),
        first_position=2,
        last_position=3,
        agenda="Start with the levers.",
    )


@pytest.fixture
def other_group(essay, outsider):
    return make_group(essay, facilitator=outsider, name="Other circle")


@pytest.fixture
def other_meeting(other_group):
    return Meeting.objects.create(
        group=other_group,
        starts_at=timezone.now() + timedelta(days=3),
        first_position=1,
        last_position=2,
        agenda="Their secret agenda.",
    )


def meeting_urls(slug: str, pk: int) -> dict[str, str]:
    base = f"/groups/{slug}/meetings/{pk}/"
    return {
        "detail": base,
        "handout": f"{base}handout/",
        "calendar": f"{base}calendar.ics",
        "edit": f"{base}edit/",
    }


def post_urls(slug: str, pk: int) -> list[str]:
    base = f"/groups/{slug}/meetings/{pk}/"
    return [f"{base}notes/", f"{base}handout/threads/", f"{base}cancel/", f"{base}edit/"]


def snapshot_meetings():
    return list(
        Meeting.objects.order_by("pk").values_list(
            "pk", "notes", "agenda", "cancelled_at", "duration_minutes", "starts_at"
        )
    ), list(HandoutThread.objects.order_by("pk").values_list("meeting_id", "comment_id"))


# Ids: huge, foreign, missing ------------------------------------------------------------


def test_meeting_ids_beyond_bigint_or_missing_are_404(facilitator, group, meeting):
    client = logged_in(facilitator)
    before = snapshot_meetings()
    for pk in (BEYOND_BIGINT, 2**63, 0, 999_999):
        for url in meeting_urls(group.slug, pk).values():
            assert client.get(url).status_code == 404, url
        for url in post_urls(group.slug, pk):
            assert client.post(url, {"notes": "x", "threads": ["1"]}).status_code == 404, url
    assert snapshot_meetings() == before


def test_another_groups_meeting_under_my_slug_is_404_and_unchanged(
    facilitator, group, meeting, other_meeting
):
    client = logged_in(facilitator)
    before = snapshot_meetings()
    for url in meeting_urls(group.slug, other_meeting.pk).values():
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Their secret agenda." not in response.content
    for url in post_urls(group.slug, other_meeting.pk):
        assert client.post(url, {"notes": "Mine now."}).status_code == 404, url
    assert snapshot_meetings() == before


def test_outsider_and_removed_member_get_404_on_meeting_pages_and_exports(
    facilitator, member, outsider, group, meeting
):
    discussions.meeting_notes_save(facilitator=facilitator, meeting=meeting, notes="Secret notes")
    services.membership_remove(
        acting_user=facilitator, membership=group.memberships.get(user=member)
    )
    urls = [
        *meeting_urls(group.slug, meeting.pk).values(),
        f"/groups/{group.slug}/export/discussion.md",
        f"/groups/{group.slug}/export/discussion.csv",
        f"/groups/{group.slug}/export/group.json",
    ]
    for user in (outsider, member):
        client = logged_in(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 404, (user, url)
        assert (
            client.post(f"{meeting_urls(group.slug, meeting.pk)['detail']}notes/").status_code
            == 404
        )


def test_anonymous_is_sent_to_log_in_from_meeting_pages(client, group, meeting):
    for url in meeting_urls(group.slug, meeting.pk).values():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_wrong_methods_are_405(facilitator, group, meeting):
    client = logged_in(facilitator)
    urls = meeting_urls(group.slug, meeting.pk)
    assert client.get(f"{urls['detail']}notes/").status_code == 405
    assert client.get(f"{urls['detail']}handout/threads/").status_code == 405
    for name in ("detail", "handout", "calendar"):
        assert client.post(urls[name]).status_code == 405
        assert client.put(urls[name]).status_code == 405
    assert client.delete("/settings/calendar/").status_code == 405


# Notes and agenda: injection, NUL, surrogates, doubles ----------------------------------

HOSTILE_MARKUP = (
    '<script>alert(1)</script><img src=x onerror="alert(2)">'
    "[click](javascript:alert(3)) <iframe src=//evil></iframe>"
    '<a href="data:text/html,x" onclick="alert(4)">data</a>'
)


class _MarkupAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("iframe", "img", "object", "embed") or (
            tag == "script" and not dict(attrs).get("src", "").startswith("/static/")
        ):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (
                name in ("href", "src")
                and (value or "").strip().lower().startswith(("javascript:", "data:"))
            ):
                self.found.append(f"{tag} {name}={value}")


def unsafe_markup(page: str) -> list[str]:
    audit = _MarkupAudit()
    audit.feed(page)
    return audit.found


def test_notes_with_markup_are_sanitized_on_the_meeting_page(facilitator, member, meeting):
    response = logged_in(facilitator).post(
        f"{meeting.get_absolute_url()}notes/", {"notes": HOSTILE_MARKUP}
    )
    assert response.status_code == 302

    page = logged_in(member).get(meeting.get_absolute_url()).content.decode()
    # The words may stay, escaped; no tag, handler or link of theirs runs.
    assert unsafe_markup(page) == []
    assert "alert(2)" in page  # the notes are there, as text


def test_agenda_markup_is_escaped_on_page_handout_calendar_and_email(
    facilitator, member, group, meeting, mailoutbox, django_capture_on_commit_callbacks
):
    meeting.agenda = '<b>bold</b> <script>alert("x")</script> **stars**'
    meeting.starts_at = timezone.now() + timedelta(hours=20)
    meeting.save()
    client = logged_in(member)

    for url in (meeting.get_absolute_url(), f"{meeting.get_absolute_url()}handout/"):
        page = client.get(url).content.decode()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page, url
        assert "<script>alert" not in page and "<b>bold</b>" not in page, url
    with django_capture_on_commit_callbacks(execute=True):
        assert discussions.meeting_reminders() == 1
    body = {mail.to[0]: mail.body for mail in mailoutbox}[member.email]
    assert '<b>bold</b> <script>alert("x")</script> **stars**' in body  # plain text, as typed
    assert all(not mail.alternatives for mail in mailoutbox)  # no HTML part trusts it


@pytest.mark.parametrize(
    "agenda",
    [
        "Line one\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT",
        "Lone CR\rATTENDEE:mailto:evil@example.com",
        "Lone LF\nBEGIN:VALARM\nACTION:AUDIO",
        "semi; colon, comma \\ backslash",
    ],
)
def test_agenda_cannot_inject_calendar_properties(facilitator, member, group, meeting, agenda):
    response = logged_in(facilitator).post(
        f"{meeting.get_absolute_url()}edit/",
        {
            "starts_at": "2030-05-01T19:00",
            "duration_minutes": "60",
            "first_position": "1",
            "last_position": "2",
            "agenda": agenda,
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()

    content = logged_in(member).get(f"{meeting.get_absolute_url()}calendar.ics").content
    lines = re.split(rb"\r\n(?! )", content)
    assert not any(line.startswith((b"ATTENDEE", b"BEGIN:VALARM", b"ACTION")) for line in lines)
    assert b"\rATTENDEE" not in content.replace(b"\r\n", b"")
    events = Calendar.from_ical(content).walk("VEVENT")
    assert len(events) == 1
    typed = meeting.agenda.replace("\r\n", "\n").replace("\r", "\n")
    assert f"Agenda:\n{typed}\n" in str(events[0]["DESCRIPTION"])
    assert "ATTENDEE" not in events[0]


def test_notes_with_a_lone_surrogate_or_bad_utf8_do_not_500(facilitator, meeting):
    client = logged_in(facilitator)
    for raw in (b"notes=%ED%A0%80+lone", b"notes=%FF%FE+bad", b"notes=%C0%80"):
        response = client.post(
            f"{meeting.get_absolute_url()}notes/",
            raw,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code in (200, 302), raw
    meeting.refresh_from_db()
    meeting.notes.encode("utf-8")  # whatever was stored is valid text


def test_double_submitted_notes_store_once(facilitator, member, meeting):
    client = logged_in(facilitator)
    for _ in range(2):
        client.post(f"{meeting.get_absolute_url()}notes/", {"notes": "Agreed."})
    meeting.refresh_from_db()
    assert meeting.notes == "Agreed."
    assert logged_in(member).get(meeting.get_absolute_url()).content.decode().count("Agreed.") == 1


def test_empty_posts_to_meeting_forms_are_form_errors(facilitator, group, meeting):
    client = logged_in(facilitator)
    before = snapshot_meetings()
    for url in (f"/groups/{group.slug}/meetings/new/", f"{meeting.get_absolute_url()}edit/"):
        response = client.post(url, {})
        assert response.status_code == 200, url
        assert set(response.context["form"].errors) == {
            "starts_at",
            "first_position",
            "last_position",
        }, url
    # No notes field at all: an error, not the notes cleared.
    assert client.post(f"{meeting.get_absolute_url()}notes/", {}).status_code == 422
    assert snapshot_meetings() == before


# Duration and dates ---------------------------------------------------------------------


DURATIONS = [str(10**30), "-5", "0", "4", "721", "1e3", "NaN", "inf", "9" * 5000, "12.5", "\x00"]


def test_meeting_duration_hostile_values_are_form_errors(facilitator, group):
    client = logged_in(facilitator)
    for minutes in DURATIONS:
        response = client.post(
            f"/groups/{group.slug}/meetings/new/",
            {
                "starts_at": "2030-05-01T19:00",
                "duration_minutes": minutes,
                "first_position": "1",
                "last_position": "1",
            },
        )
        assert response.status_code == 200, minutes
        assert "duration_minutes" in response.context["form"].errors, minutes
    assert Meeting.objects.count() == 0


HOSTILE_MEETING_FIELDS = [
    ("first_position", str(10**30)),
    ("first_position", "-1"),
    ("last_position", str(BEYOND_BIGINT)),
    ("starts_at", "99999-01-01T00:00"),
    ("agenda", "x" * 2001),
    ("agenda", "nul\x00"),
]


def test_meeting_form_hostile_fields_are_form_errors(facilitator, group):
    client = logged_in(facilitator)
    data = {"starts_at": "2030-05-01T19:00", "first_position": "1", "last_position": "1"}
    for field, value in HOSTILE_MEETING_FIELDS:
        response = client.post(f"/groups/{group.slug}/meetings/new/", {**data, field: value})
        assert response.status_code == 200, field
        assert field in response.context["form"].errors, field
    assert Meeting.objects.count() == 0


def test_meeting_at_the_end_of_the_range_in_a_far_west_zone_is_refused(facilitator, group):
    from groups.services import reader_time_zone_set

    # UTC-12: 2199-12-31 23:59 there is 2200 in UTC.
    reader_time_zone_set(user=facilitator, time_zone="Etc/GMT+12")
    client = logged_in(facilitator)
    response = client.post(
        f"/groups/{group.slug}/meetings/new/",
        {"starts_at": "2199-12-31T23:59", "first_position": "1", "last_position": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "starts_at": ["Choose a date between the years 1900 and 2199."]
    }


def test_meetings_at_the_edges_of_the_range_show_everywhere(member, group):
    early = Meeting.objects.create(
        group=group, starts_at=datetime(1900, 1, 1, tzinfo=UTC), first_position=1, last_position=1
    )
    late = Meeting.objects.create(
        group=group,
        starts_at=datetime(2199, 12, 31, 23, 59, tzinfo=UTC),
        duration_minutes=720,
        first_position=1,
        last_position=1,
    )
    feed = services.calendar_feed_renew(user=member)
    from groups.services import reader_time_zone_set

    for zone in ("Pacific/Kiritimati", "Etc/GMT+12", "America/St_Johns"):
        reader_time_zone_set(user=member, time_zone=zone)
        client = logged_in(member)
        for meeting in (early, late):
            for url in (
                meeting.get_absolute_url(),
                f"{meeting.get_absolute_url()}handout/",
                f"{meeting.get_absolute_url()}calendar.ics",
            ):
                assert client.get(url).status_code == 200, (zone, url)
        assert client.get(group.get_absolute_url()).status_code == 200
        assert client.get(feed.get_absolute_url()).status_code == 200


# The reader's time zone setting ------------------------------------------------------------


ODD_TIME_ZONES = [
    "",
    "Mars/Olympus_Mons",
    "../../../../etc/passwd",
    "/etc/localtime",
    "localtime",
    "posixrules",
    "Europe/Paris\x00",
    "Europe/Paris; other=1",
    "x" * 5000,
    "\u00e9t\u00e9",
    "UTC ",
    "Factory",
    "right/UTC",
    "EST5EDT",
]


def test_odd_time_zones_are_refused_and_pages_still_answer(member, group, meeting):
    from django.urls import reverse

    from groups.models import ReaderSettings

    client = logged_in(member)
    for value in ODD_TIME_ZONES:
        response = client.post(reverse("notification_settings"), {"time_zone": value})
        assert response.status_code in (200, 302), value
        saved = ReaderSettings.objects.filter(user=member).values_list("time_zone", flat=True)
        assert set(saved) <= {"", "EST5EDT"}, value  # refused, or a real zone
        for url in (
            meeting.get_absolute_url(),
            f"/groups/{group.slug}/export/discussion.csv",
        ):
            response = client.get(url)
            assert response.status_code == 200, (value, url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)


def test_gzip_on_calendar_and_exports_keeps_content(member, group, meeting):
    client = logged_in(member)
    plain = client.get(f"{meeting.get_absolute_url()}calendar.ics").content
    zipped = client.get(f"{meeting.get_absolute_url()}calendar.ics", HTTP_ACCEPT_ENCODING="gzip")
    import gzip

    body = zipped.content
    if zipped.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert Calendar.from_ical(body)["PRODID"] == Calendar.from_ical(plain)["PRODID"]


# Calendar feed ---------------------------------------------------------------------------


def test_calendar_feed_wrong_revoked_and_odd_tokens_are_404(client, member, meeting):
    old = services.calendar_feed_renew(user=member).token
    new = services.calendar_feed_renew(user=member).token
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    for token in (old, new[:-1], new + "x", new.upper(), "x" * 64, "x" * 5000, "-", "_"):
        response = client.get(f"/calendar/{token}.ics")
        assert response.status_code == 404, token
        assert b"Start with the levers." not in response.content
    for raw in (f"/calendar/{new}%00.ics", "/calendar/%ED%A0%80.ics", f"/calendar/{new}.ics/"):
        assert client.get(raw).status_code == 404, raw
    services.calendar_feed_stop(user=member)
    assert client.get(f"/calendar/{new}.ics").status_code == 404


def test_calendar_feed_of_removed_member_leaves_out_the_group(facilitator, member, group, meeting):
    feed = services.calendar_feed_renew(user=member)
    services.membership_remove(
        acting_user=facilitator, membership=group.memberships.get(user=member)
    )
    content = Client().get(feed.get_absolute_url()).content
    assert Calendar.from_ical(content).walk("VEVENT") == []
    assert b"levers" not in content


@pytest.mark.parametrize("action", ["", "RENEW", "renew\x00", "x" * 10_000, "stop "])
def test_calendar_settings_hostile_actions_change_nothing(member, action):
    feed = services.calendar_feed_renew(user=member)
    response = logged_in(member).post("/settings/calendar/", {"action": action})
    assert response.status_code == 302
    assert list(CalendarFeed.objects.values_list("token", flat=True)) == [feed.token]


# Handout threads ---------------------------------------------------------------------------


@pytest.fixture
def threads(essay, group, member, facilitator, other_group, outsider):
    passage = essay.passages.get(position=2)
    mine = discussions.comment_create(author=member, group=group, passage=passage, body="Ours")
    foreign = discussions.comment_create(
        author=outsider, group=other_group, passage=passage, body="Theirs, private"
    )
    return mine, foreign


HANDOUT_CHOICES = [
    ["FOREIGN"],
    ["MINE", "FOREIGN"],
    ["abc"],
    [str(BEYOND_BIGINT)],
    ["-1"],
    ["MINE\x00"],
    ["1e3"],
]


def test_handout_threads_hostile_choices_change_nothing(facilitator, group, meeting, threads):
    mine, foreign = threads
    HandoutThread.objects.create(meeting=meeting, comment=mine)
    before = snapshot_meetings()
    mapping = {"MINE": str(mine.pk), "FOREIGN": str(foreign.pk)}
    for choice in HANDOUT_CHOICES:
        values = [
            mapping.get(v.rstrip("\x00"), v) + ("\x00" if v.endswith("\x00") else "")
            for v in choice
        ]
        client = logged_in(facilitator)  # messages of the last choice only
        response = client.post(f"{meeting.get_absolute_url()}handout/threads/", {"threads": values})
        assert response.status_code == 302, choice
        assert messages_of(response) == [
            "Some of those threads are no longer there; nothing changed."
        ], choice
    assert snapshot_meetings() == before


def test_handout_threads_double_submit_and_members_refused(
    facilitator, member, group, meeting, threads
):
    mine, _ = threads
    url = f"{meeting.get_absolute_url()}handout/threads/"
    for _ in range(2):
        assert logged_in(facilitator).post(url, {"threads": [mine.pk, mine.pk]}).status_code == 302
    assert list(HandoutThread.objects.values_list("comment_id", flat=True)) == [mine.pk]
    assert logged_in(member).post(url, {"threads": []}).status_code == 403
    assert HandoutThread.objects.count() == 1


def test_hidden_comments_never_reach_the_handout(essay, facilitator, member, group, meeting):
    passage = essay.passages.get(position=2)
    root = discussions.comment_create(author=member, group=group, passage=passage, body="Rooted")
    reply = discussions.comment_create(
        author=member, group=group, passage=passage, body="Hidden reply", parent=root
    )
    discussions.comment_create(
        author=facilitator, group=group, passage=passage, body="Under hidden", parent=reply
    )
    question = discussions.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=2, last_position=2
    )
    answer = discussions.answer_save(author=member, question=question, body="Hidden answer")
    discussions.answer_set_highlighted(facilitator=facilitator, answer=answer, highlighted=True)
    discussions.handout_threads_set(facilitator=facilitator, meeting=meeting, comment_ids=[root.pk])
    discussions.comment_hide(moderator=facilitator, comment=reply, reason="No.")
    discussions.comment_hide(moderator=facilitator, comment=answer, reason="No.")

    for user in (facilitator, member):
        handout = logged_in(user).get(f"{meeting.get_absolute_url()}handout/").content.decode()
        assert "Rooted" in handout
        assert "Hidden reply" not in handout and "Under hidden" not in handout, user
        assert "Hidden answer" not in handout, user

    discussions.comment_hide(moderator=facilitator, comment=root, reason="No.")
    handout = logged_in(facilitator).get(f"{meeting.get_absolute_url()}handout/").content.decode()
    assert "Rooted" not in handout


def test_answer_first_answers_stay_hidden_from_a_member_who_has_not_answered(
    essay, facilitator, member, group, meeting
):
    other = make_user("other")
    Membership.objects.create(group=group, user=other, role=Membership.Role.MEMBER)
    question = discussions.question_create(
        facilitator=facilitator, group=group, body="First?", first_position=2, last_position=2,
        answer_first=True, meeting=meeting,
    )  # fmt: skip
    answer = discussions.answer_save(author=member, question=question, body="My secret answer")
    discussions.answer_set_highlighted(facilitator=facilitator, answer=answer, highlighted=True)
    discussions.comment_create(
        author=facilitator, group=group, passage=answer.passage, body="Reply to secret",
        parent=answer,
    )  # fmt: skip

    client = logged_in(other)
    for url in (
        meeting.get_absolute_url(),
        f"{meeting.get_absolute_url()}handout/",
        f"/groups/{group.slug}/export/discussion.md",
        f"/groups/{group.slug}/export/discussion.csv",
    ):
        response = client.get(url)
        assert response.status_code == 200
        body = (
            b"".join(response.streaming_content)
            if hasattr(response, "streaming_content")
            else response.content
        ).decode()
        assert "My secret answer" not in body, url
        assert "Reply to secret" not in body, url
    # Once answered, they see it.
    discussions.answer_save(author=other, question=question, body="Mine too")
    assert "My secret answer" in client.get(meeting.get_absolute_url()).content.decode()


# Exports ----------------------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def test_csv_export_defuses_formulas_in_every_cell(essay, facilitator, member, group):
    passage = essay.passages.get(position=1)
    for body in FORMULAS:
        discussions.comment_create(author=member, group=group, passage=passage, body=body)
    discussions.comment_create(
        author=member, group=group, passage=passage, body="-quoted", quote="To sum up"
    )
    evil = make_user("-evil")
    Membership.objects.create(group=group, user=evil, role=Membership.Role.MEMBER)
    discussions.comment_create(author=evil, group=group, passage=passage, body="@me")

    response = logged_in(member).get(f"/groups/{group.slug}/export/discussion.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert len(rows) == 1 + len(FORMULAS) + 2
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK("http://evil","x")' in cells
    assert "'-evil" in cells


def test_exports_leave_out_hidden_comments_for_members(essay, facilitator, member, group):
    passage = essay.passages.get(position=1)
    hidden = discussions.comment_create(
        author=facilitator, group=group, passage=passage, body="Hidden words"
    )
    discussions.comment_hide(moderator=facilitator, comment=hidden, reason="Hush.")
    client = logged_in(member)
    for fmt in ("md", "csv"):
        response = client.get(f"/groups/{group.slug}/export/discussion.{fmt}")
        assert b"Hidden words" not in b"".join(response.streaming_content)
    assert client.get(f"/groups/{group.slug}/export/group.json").status_code == 403


# import_group with tampered backups ------------------------------------------------------


@pytest.fixture
def backup(essay, facilitator, member, group, meeting):
    passage = essay.passages.get(position=2)
    discussions.comment_create(author=member, group=group, passage=passage, body="Saved")
    response = logged_in(facilitator).get(f"/groups/{group.slug}/export/group.json")
    data = json.loads(b"".join(response.streaming_content))
    data["group"]["slug"] = "restored"
    return data


def run_import(tmp_path, data) -> None:
    path = tmp_path / "backup.json"
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    call_command("import_group", str(path), stdout=io.StringIO())


TAMPERS = [
    lambda d: d["meetings"][0].update(duration_minutes=10**30),
    lambda d: d["meetings"][0].update(duration_minutes=-5),
    lambda d: d["meetings"][0].update(id=10**30),
    lambda d: d["meetings"][0].update(starts_at="9999-12-31T23:59:00-14:00"),
    lambda d: d["meetings"][0].update(starts_at="0001-01-01T00:00:00+14:00"),
    lambda d: d["comments"][0].update(created_at="0001-01-01T00:00:00+01:00"),
    lambda d: d["comments"][0].update(created_at="9999-12-31T23:59:59-12:00"),
    lambda d: d["members"][0].update(joined_at="0001-01-01T00:30:00+01:00"),
    lambda d: d["comments"][0].update(body="lone \ud800 surrogate"),
    lambda d: d["meetings"][0].update(agenda="lone \udfff surrogate"),
    lambda d: d["group"].update(name="lone \ud800"),
    lambda d: d.update(version=10**30),
    lambda d: d["comments"][0].update(passage=10**30),
    lambda d: d["group"].update(slug="not a slug/../x"),
    lambda d: d["group"].update(slug="x" * 200),
    lambda d: d["group"].update(name="Circle\nBcc: everyone@example.com"),
    lambda d: d["group"].update(name="Tab\there"),
]


def test_import_group_refuses_tampered_backups_and_changes_nothing(tmp_path, backup):
    groups_before = StudyGroup.objects.count()
    for number, tamper in enumerate(TAMPERS):
        tampered = copy.deepcopy(backup)
        tamper(tampered)
        with pytest.raises(CommandError):
            run_import(tmp_path, tampered)
        assert StudyGroup.objects.count() == groups_before, number
    assert not StudyGroup.objects.filter(slug="restored").exists()


@pytest.mark.parametrize("slug", ["a/b", "bad slug", "../x", "x" * 101, "\u00e9t\u00e9"])
def test_import_group_refuses_a_slug_that_is_not_one(tmp_path, backup, slug):
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(backup))
    groups_before = StudyGroup.objects.count()
    with pytest.raises(CommandError):
        call_command("import_group", str(path), "--slug", slug, stdout=io.StringIO())
    assert StudyGroup.objects.count() == groups_before
    backup["group"]["slug"] = slug
    with pytest.raises(CommandError):
        run_import(tmp_path, backup)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"[]", b'{"format": "sectstudy-group"}', b"\xff\xfe{", b"[" * 100_000],
)
def test_import_group_refuses_malformed_files(tmp_path, db, data):
    with pytest.raises(CommandError):
        run_import(tmp_path, data)


# Quote re-attaching -----------------------------------------------------------------------

QUOTED = "we have seen three approaches so far"


@pytest.fixture
def detached(essay, group, member):
    comment = discussions.comment_create(
        author=member,
        group=group,
        passage=essay.passages.get(position=1),
        body="Which three?",
        quote=QUOTED,
    )
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    text_revise(text=essay, source=source.replace(QUOTED, "nothing is worth a name in all this"))
    comment.refresh_from_db()
    assert comment.quote_detached_at is not None
    return comment


def quote_state(comment):
    return Comment.objects.filter(pk=comment.pk).values_list(
        "quote_exact", "quote_start", "quote_end", "quote_detached_at"
    )[0]


REFUSED_QUOTES = [
    {},
    {"quote": ""},
    {"quote": "   "},
    {"quote": "worth\x00 a name"},
    {"quote": "not in the passage"},
    {"quote": "x" * 100_000},
    {"quote": "worth a name", "quote_start": "-1"},
    {"quote": "worth a name", "quote_start": "abc"},
    {"quote": "worth a name", "quote_start": "\x00"},
]


def test_quote_reattach_hostile_input_is_a_form_error(member, group, detached):
    before = quote_state(detached)
    client = logged_in(member)
    url = f"/groups/{group.slug}/comments/{detached.pk}/quote/"
    for data in REFUSED_QUOTES:
        response = client.post(url, data)
        assert response.status_code == 200, data
        assert response.context["form"].errors, data
        assert quote_state(detached) == before, data

    # A start beyond any passage (or bigint) is only a hint: the words decide.
    response = client.post(url, {"quote": "worth a name", "quote_start": str(10**30)})
    assert response.status_code == 302
    comment = Comment.objects.get(pk=detached.pk)
    assert comment.passage.body[comment.quote_start : comment.quote_end] == "worth a name"


def test_quote_reattach_lone_surrogate_does_not_500(member, group, detached):
    response = logged_in(member).post(
        f"/groups/{group.slug}/comments/{detached.pk}/quote/",
        b"quote=%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200


def test_quote_reattach_foreign_huge_and_other_users_ids(
    member, outsider, group, other_group, detached, essay
):
    foreign = discussions.comment_create(
        author=outsider, group=other_group, passage=essay.passages.get(position=1), body="Theirs"
    )
    client = logged_in(member)
    for pk in (foreign.pk, BEYOND_BIGINT, 0):
        for method in (client.get, client.post):
            assert method(f"/groups/{group.slug}/comments/{pk}/quote/").status_code == 404
    assert (
        logged_in(outsider).get(f"/groups/{group.slug}/comments/{detached.pk}/quote/").status_code
        == 404
    )
    other = make_user("other")
    Membership.objects.create(group=group, user=other, role=Membership.Role.MEMBER)
    before = quote_state(detached)
    response = logged_in(other).post(
        f"/groups/{group.slug}/comments/{detached.pk}/quote/", {"quote": "worth a name"}
    )
    assert response.status_code == 403
    assert quote_state(detached) == before


# Contents paging -------------------------------------------------------------------------


PAGE_NUMBERS = ["0", "-1", str(10**30), "abc", "\x00", "9" * 5000, "1.5", "1e3", "last", "", "NaN"]


def test_contents_paging_with_hostile_page_numbers(client, member, essay):
    for page in PAGE_NUMBERS:
        for c in (client, logged_in(member)):
            response = c.get("/texts/anatomy-of-the-sect/", {"page": page})
            assert response.status_code == 200, page


def test_corrected_passage_page_with_hostile_query(essay, member):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    text_revise(text=essay, source=source.replace("To sum up", "To sum it up"))
    client = logged_in(member)
    for query in (
        {"group": "\x00"},
        {"group": "x" * 5000},
        {"shown": str(10**30)},
        {"shown": "-1"},
    ):
        assert client.get("/texts/anatomy-of-the-sect/1/", query).status_code == 200, query
    assert client.get(f"/texts/anatomy-of-the-sect/{BEYOND_BIGINT}/").status_code == 404
    assert client.get(f"/texts/anatomy-of-the-sect/removed/{BEYOND_BIGINT}/").status_code == 404


# Admin upload ----------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return logged_in(make_user("editor", is_staff=True, is_superuser=True))


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("essay.txt", data, content_type="text/plain")


def confirm_fields(response) -> dict:
    html = response.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    fields.pop("csrfmiddlewaretoken", None)
    return {**fields, "confirm": "Confirm"}


def text_snapshot():
    return (
        list(Text.objects.values_list("pk", "title", "slug").order_by("pk")),
        list(Passage.everything.values_list("pk", "position", "body").order_by("pk")),
        Revision.objects.count(),
    )


NEW_TEXT = b"A Short Essay\n\nThe first passage.\n\nThe second passage.\n"


CONFIRMATION_TAMPERS = [
    {"data": "!!!not base64!!!"},
    {"data": ""},
    {"data": "\x00"},
    {"data": "QQ"},  # bad padding
    {"data": base64.b64encode(b"\x00\x01binary").decode()},
    {"data": base64.b64encode(b"\xff\xfe\xfd").decode()},
    {"encoding": "rot13"},
    {"encoding": "utf-8\x00"},
    {"plan_digest": "0" * 64},
    {"plan_digest": "x" * 65},
    {"plan_digest": ""},
    {"slug": "not a slug/../x"},
    {"slug": "x" * 500},
    {"title": "\x00"},
    {"title": "t" * 10_000},
    {"title": "Another title"},
    {"encoding": "utf-16"},
]


def test_admin_import_confirmation_tampered_changes_nothing(staff, essay):
    preview = staff.post(IMPORT_URL, {"file": upload(NEW_TEXT), "encoding": "utf-8"})
    assert preview.status_code == 200
    fields = confirm_fields(preview)
    before = text_snapshot()
    for changes in CONFIRMATION_TAMPERS:
        response = staff.post(IMPORT_URL, {**fields, **changes})
        assert response.status_code in (200, 302), changes
        assert text_snapshot() == before, changes


def test_admin_confirmation_with_another_plans_digest_shows_the_plan_again(staff, essay):
    url = f"/admin/reading/text/{essay.pk}/revise/"
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    one = staff.post(
        url, {"file": upload((source + "\nOne coda.\n").encode()), "encoding": "utf-8"}
    )
    shorter = source.rsplit("\n\n", 1)[0] + "\n"  # the last passage removed: another plan
    two = staff.post(url, {"file": upload(shorter.encode()), "encoding": "utf-8"})
    before = text_snapshot()

    assert confirm_fields(one)["plan_digest"] != confirm_fields(two)["plan_digest"]
    mixed = {**confirm_fields(one), "plan_digest": confirm_fields(two)["plan_digest"]}
    response = staff.post(url, mixed)

    assert response.status_code == 200
    assert "check this plan again" in " ".join(messages_of(response))
    assert text_snapshot() == before


def test_admin_revise_of_a_missing_or_huge_text_id_is_404(staff, essay):
    for pk in (999_999, BEYOND_BIGINT):
        assert staff.get(f"/admin/reading/text/{pk}/revise/").status_code == 404


def test_admin_upload_refused_to_members(member, essay):
    client = logged_in(member)
    before = text_snapshot()
    for url in (IMPORT_URL, f"/admin/reading/text/{essay.pk}/revise/"):
        assert client.get(url).status_code == 302
        response = client.post(url, {"file": upload(NEW_TEXT), "encoding": "utf-8"})
        assert response.status_code == 302
    assert text_snapshot() == before


BAD_FILES = [
    (b"Title\n\n" + "caf\u00e9".encode("latin-1"), {"encoding": "utf-8"}),
    (b"\xff\xfeT\x00", {"encoding": "utf-8"}),
    (b"Title\n\nBody\n", {"encoding": "nope"}),
    (b"Title\n\nBody\n", {"encoding": "utf-8", "slug": "bad slug!"}),
    (b"Title\n\nBody\n", {"encoding": "utf-8", "title": "nul\x00"}),
    (b"Title\n\nBody \xed\xa0\x80 surrogate\n", {"encoding": "utf-8"}),
    (b"Title\n\n" + "x\u2028y".encode(), {"encoding": "utf-16"}),
]


def test_admin_upload_bad_files_are_messages(staff, essay):
    for data, extra in BAD_FILES:
        before = text_snapshot()
        response = staff.post(IMPORT_URL, {"file": upload(data), **extra})
        assert response.status_code == 200, (data, extra)
        assert text_snapshot() == before


def test_notes_markdown_bombs_are_saved_or_refused_quickly(facilitator, member, meeting):
    client = logged_in(facilitator)
    for notes in (">" * 10_000, "[](" * 3_000, "\u202e" * 5_000):
        response = client.post(f"{meeting.get_absolute_url()}notes/", {"notes": notes})
        assert response.status_code in (200, 302)
        assert logged_in(member).get(meeting.get_absolute_url()).status_code == 200
        assert logged_in(member).get(f"{meeting.get_absolute_url()}handout/").status_code == 200


def test_uploaded_text_with_markup_is_shown_as_text(staff, essay, member):
    data = (
        b'<script>alert(1)</script> Title\n\n<img src=x onerror="alert(2)"> first passage '
        b"with <b>tags</b>.\n\nSecond [link](javascript:alert(3)) passage.\n"
    )
    preview = staff.post(IMPORT_URL, {"file": upload(data), "encoding": "utf-8", "slug": "marked"})
    assert unsafe_markup(preview.content.decode()) == []
    assert staff.post(IMPORT_URL, confirm_fields(preview)).status_code == 302
    text = Text.objects.get(slug="marked")
    group = make_group(text, facilitator=member)
    discussions.comment_create(
        author=member, group=group, passage=text.passages.get(position=1), body="On it",
        quote='onerror="alert(2)"',
    )  # fmt: skip
    client = logged_in(member)
    for url in ("/texts/marked/", "/texts/marked/1/", "/texts/marked/2/", "/"):
        page = client.get(url).content.decode()
        assert unsafe_markup(page) == [], url


def test_a_notes_post_without_the_field_erases_nothing_and_says_so(facilitator, meeting):
    discussions.meeting_notes_save(facilitator=facilitator, meeting=meeting, notes="Kept.")

    response = logged_in(facilitator).post(f"{meeting.get_absolute_url()}notes/", {})

    assert response.status_code == 422
    assert "The notes did not arrive; nothing was changed." in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.notes == "Kept."


def test_notes_posted_empty_are_cleared(facilitator, meeting):
    discussions.meeting_notes_save(facilitator=facilitator, meeting=meeting, notes="Gone.")

    logged_in(facilitator).post(f"{meeting.get_absolute_url()}notes/", {"notes": ""})

    meeting.refresh_from_db()
    assert meeting.notes == ""
