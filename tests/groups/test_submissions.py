"""A group or a meeting form sent twice (a double click, a retry after a lost answer)
makes one; the same form sent again for another group or meeting makes that one."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Meeting, StudyGroup
from tests.factories import at_once, logged_in


def _starts(days: int) -> str:
    return f"{timezone.localtime() + timedelta(days=days):%Y-%m-%dT%H:%M}"


def meeting_form(**fields) -> dict:
    """A meeting form as a page sends it: in a week, passages 1 to 2, a fresh id."""
    return {
        "starts_at": _starts(7),
        "first_position": "1",
        "last_position": "2",
        "submission_id": str(uuid.uuid4()),
        **fields,
    }


def test_group_form_sent_twice_makes_one_group(member_client, essay):
    data = {"text": essay.pk, "name": "Night readers", "submission_id": str(uuid.uuid4())}

    first = member_client.post(reverse("group_create"), data)
    second = member_client.post(reverse("group_create"), data)

    group = StudyGroup.objects.shared().get(name="Night readers")
    assert first["Location"] == second["Location"] == group.get_absolute_url()


def test_group_form_sent_again_for_another_group_makes_it(member_client, essay):
    data = {"text": essay.pk, "submission_id": str(uuid.uuid4())}

    member_client.post(reverse("group_create"), {**data, "name": "Night readers"})
    for _click in range(2):  # and that one double-clicked
        member_client.post(reverse("group_create"), {**data, "name": "Day readers"})

    names = list(StudyGroup.objects.shared().values_list("name", flat=True))
    assert names.count("Night readers") == names.count("Day readers") == 1


def test_group_form_carries_a_fresh_submission_id(member_client):
    html = member_client.get(reverse("group_create")).content.decode()
    again = member_client.get(reverse("group_create")).content.decode()

    marker = 'name="submission_id" value="'
    assert marker in html
    assert html.split(marker)[1][:36] != again.split(marker)[1][:36]


def test_meeting_form_sent_twice_makes_one_meeting(facilitator_client, group):
    url = reverse("meeting_create", args=[group.slug])
    data = meeting_form()

    first = facilitator_client.post(url, data)
    second = facilitator_client.post(url, data)

    meeting = Meeting.objects.get(group=group)
    assert first["Location"] == second["Location"] == meeting.get_absolute_url()


def test_meeting_form_sent_again_for_another_meeting_makes_it(facilitator_client, group):
    url = reverse("meeting_create", args=[group.slug])
    data = meeting_form()

    facilitator_client.post(url, data)
    for _click in range(2):  # and that one double-clicked
        facilitator_client.post(url, {**data, "starts_at": _starts(14)})

    assert Meeting.objects.filter(group=group).count() == 2


def test_editing_a_meeting_ignores_the_submission_id(facilitator_client, group):
    url = reverse("meeting_create", args=[group.slug])
    data = meeting_form()
    facilitator_client.post(url, data)
    meeting = Meeting.objects.get(group=group)

    facilitator_client.post(
        reverse("meeting_edit", args=[group.slug, meeting.pk]), {**data, "last_position": "3"}
    )

    meeting.refresh_from_db()
    assert (Meeting.objects.filter(group=group).count(), meeting.last_position) == (1, 3)


def test_meeting_form_sent_again_after_its_meeting_was_cancelled_schedules_anew(
    facilitator_client, group
):
    url = reverse("meeting_create", args=[group.slug])
    data = meeting_form()
    facilitator_client.post(url, data)
    Meeting.objects.update(cancelled_at=timezone.now())

    facilitator_client.post(url, data)

    assert Meeting.objects.filter(group=group, cancelled_at__isnull=True).count() == 1
    assert Meeting.objects.filter(group=group).count() == 2


@pytest.mark.django_db(transaction=True)
def test_group_form_sent_four_times_at_once_makes_one_group(member, essay):
    data = {"text": essay.pk, "name": "Night readers", "submission_id": str(uuid.uuid4())}
    clients = [logged_in(member) for _ in range(4)]

    locations = at_once(
        *[lambda c=c: c.post(reverse("group_create"), data)["Location"] for c in clients]
    )

    group = StudyGroup.objects.shared().get(name="Night readers")
    assert locations == [group.get_absolute_url()] * 4
    assert group.memberships.get().user == member


@pytest.mark.django_db(transaction=True)
def test_meeting_form_sent_four_times_at_once_makes_one_meeting(facilitator, group):
    url = reverse("meeting_create", args=[group.slug])
    data = meeting_form()
    clients = [logged_in(facilitator) for _ in range(4)]

    locations = at_once(*[lambda c=c: c.post(url, data)["Location"] for c in clients])

    meeting = Meeting.objects.get(group=group)
    assert locations == [meeting.get_absolute_url()] * 4
