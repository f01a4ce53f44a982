"""Calendar files (RFC 5545) of meetings, written with the icalendar library.

Times are written in UTC, which every calendar app shows in its reader's own time
zone. A cancelled meeting stays in the feed with STATUS:CANCELLED, so that apps
that already have it take it off; SEQUENCE grows with every change."""

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from groups.models import Meeting

PRODID = "-//sectstudy//meetings//EN"
# How often calendar apps are asked to fetch a feed again.
REFRESH = timedelta(hours=1)
# A feed keeps past meetings this long, so recent ones stay in members' calendars.
FEED_HISTORY = timedelta(days=90)
# SEQUENCE is a 32-bit integer (RFC 5545); seconds since creation pass it after 68 years,
# which only a restored backup's dates can reach.
LARGEST_SEQUENCE = 2**31 - 1


def meeting_event(meeting: Meeting, *, url: str) -> Event:
    description = f"Read {meeting.passage_range_label} of “{meeting.group.text.title}”."
    if meeting.agenda:
        description += f"\n\nAgenda:\n{meeting.agenda}"
    description += f"\n\n{url}"
    return Event.new(
        uid=f"meeting-{meeting.pk}@sectstudy",
        summary=f"{meeting.group.name}: read {meeting.passage_range_label}",
        description=description,
        start=meeting.starts_at.astimezone(timezone.UTC),
        end=meeting.ends_at.astimezone(timezone.UTC),
        stamp=meeting.updated_at.astimezone(timezone.UTC),
        last_modified=meeting.updated_at.astimezone(timezone.UTC),
        sequence=min(
            LARGEST_SEQUENCE,
            max(0, int(meeting.updated_at.timestamp() - meeting.created_at.timestamp())),
        ),
        status="CANCELLED" if meeting.is_cancelled else "CONFIRMED",
        url=url,
    )


def calendar_file(
    meetings: Iterable[Meeting], *, name: str, url_for: Callable[[Meeting], str]
) -> bytes:
    calendar = Calendar.new(
        prodid=PRODID,
        name=name,
        refresh_interval=REFRESH,
        subcomponents=[meeting_event(meeting, url=url_for(meeting)) for meeting in meetings],
    )
    return calendar.to_ical()
