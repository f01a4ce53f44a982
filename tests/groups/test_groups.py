"""Study groups: creation, invitations, facilitator rules, meetings, progress, notebooks."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from groups import services as group_services
from groups.models import Meeting, Membership, StudyGroup
from reading import services
from reading.models import ReadingProgress
from tests.factories import PASSWORD, at_once, logged_in, make_group, make_text, make_user

LAST_FACILITATOR = "A group needs at least one facilitator: appoint another facilitator first."
NO_LONGER_WORKS = "This invitation no longer works"


def messages_of(response) -> list[str]:
    return [message.message for message in get_messages(response.wsgi_request)]


def join_url(group: StudyGroup) -> str:
    return reverse("group_join", kwargs={"invite_token": group.invite_token})


def role_of(group: StudyGroup, user) -> str | None:
    membership = Membership.objects.filter(group=group, user=user).first()
    return membership.role if membership else None


def membership_of(group: StudyGroup, user) -> Membership:
    return Membership.objects.get(group=group, user=user)


def local_input(moment) -> str:
    """A datetime as a datetime-local form input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def read_passages(user, text, positions):
    for passage in text.passages.filter(position__in=positions):
        services.progress_set(reader=user, passage=passage, read=True)


# Creating a group ----------------------------------------------------------


def test_group_create_makes_creator_facilitator(client, essay, reader):
    client.force_login(reader)
    response = client.post(
        reverse("group_create"),
        {"text": essay.pk, "name": "Tuesday readers", "description": "We meet on Tuesdays."},
    )
    group = StudyGroup.objects.get(name="Tuesday readers")
    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()
    assert group.text == essay
    assert group.description == "We meet on Tuesdays."
    assert group.notebook_owner is None
    assert list(group.memberships.values_list("user__username", "role")) == [
        ("reader", "facilitator")
    ]


def test_group_create_form_offers_the_only_text(client, essay, reader):
    client.force_login(reader)
    response = client.get(reverse("group_create"))
    assert response.status_code == 200
    assert response.context["form"].initial == {"text": essay}


def test_group_create_without_name_shows_error(client, essay, reader):
    client.force_login(reader)
    response = client.post(reverse("group_create"), {"text": essay.pk, "name": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["Give the group a name."]}
    assert StudyGroup.objects.shared().count() == 0


def test_group_create_name_over_80_characters_shows_error(client, essay, reader):
    client.force_login(reader)
    response = client.post(reverse("group_create"), {"text": essay.pk, "name": "n" * 81})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["Ensure this value has at most 80 characters (it has 81)."]
    }
    assert StudyGroup.objects.shared().count() == 0


def test_group_create_name_of_80_characters_is_accepted(client, essay, reader):
    client.force_login(reader)
    response = client.post(reverse("group_create"), {"text": essay.pk, "name": "n" * 80})
    assert response.status_code == 302
    assert list(StudyGroup.objects.shared().values_list("name", flat=True)) == ["n" * 80]


def test_group_create_description_over_1000_characters_shows_error(client, essay, reader):
    client.force_login(reader)
    response = client.post(
        reverse("group_create"), {"text": essay.pk, "name": "Readers", "description": "d" * 1001}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "description": ["Ensure this value has at most 1000 characters (it has 1001)."]
    }
    assert StudyGroup.objects.shared().count() == 0


def test_group_create_escapes_html_in_name_and_description(client, essay, reader):
    client.force_login(reader)
    response = client.post(
        reverse("group_create"),
        {
            "text": essay.pk,
            "name": '<script>alert("name")</script>',
            "description": "<img src=x onerror=alert(1)>\nsecond line",
        },
        follow=True,
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in content
    assert "<img src=x" not in content
    assert "<h1>&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</h1>" in content
    assert '<p class="description">&lt;img src=x onerror=alert(1)&gt;<br>second line</p>' in content
    # The success message quotes the name, escaped as well.
    assert "“&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;” is ready." in content


def test_meeting_agenda_html_is_escaped_on_group_page(client, group, facilitator):
    Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=3),
        first_position=1,
        last_position=2,
        agenda='<script>alert("agenda")</script>\n<b>bold</b>',
    )
    client.force_login(facilitator)
    content = client.get(group.get_absolute_url()).content.decode()
    assert "<script>alert" not in content
    assert "<b>bold</b>" not in content
    assert (
        '<p class="agenda">&lt;script&gt;alert(&quot;agenda&quot;)&lt;/script&gt;<br>'
        "&lt;b&gt;bold&lt;/b&gt;</p>"
    ) in content


def test_home_page_lists_groups_with_member_count_and_role(client, essay, group, member):
    evening = make_group(essay, name="Evening readers", members=[member, make_user()])
    client.force_login(member)
    response = client.get(reverse("home"))
    content = response.content.decode()
    assert [(g.group.name, g.member_count, g.my_role) for g in response.context["groups"]] == [
        ("Evening readers", 3, "member"),
        ("Reading circle", 2, "member"),
    ]
    assert f'<a href="{group.get_absolute_url()}">Reading circle</a>' in content
    assert f'<a href="{evening.get_absolute_url()}">Evening readers</a>' in content
    assert "· 2 members ·" in content
    assert "· 3 members ·" in content


def test_home_page_escapes_group_name(client, essay, reader):
    make_group(essay, facilitator=reader, name="<i>Italic</i> readers")
    client.force_login(reader)
    content = client.get(reverse("home")).content.decode()
    assert "<i>Italic</i>" not in content
    assert "&lt;i&gt;Italic&lt;/i&gt; readers</a></h3>" in content


# Invitations ---------------------------------------------------------------


def test_invitation_get_shows_confirmation_without_joining(client, group, outsider):
    client.force_login(outsider)
    response = client.get(join_url(group))
    content = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Join “Reading circle”</h1>" in content
    assert f'<form method="post" action="{join_url(group)}">' in content
    assert role_of(group, outsider) is None


def test_invitation_post_joins_as_member(client, group, outsider):
    client.force_login(outsider)
    response = client.post(join_url(group))
    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()
    assert messages_of(response) == ["You joined “Reading circle”."]
    assert role_of(group, outsider) == "member"


def test_invitation_old_token_after_regenerate_no_longer_works(
    client, group, facilitator, outsider
):
    old_url = join_url(group)
    client.force_login(facilitator)
    response = client.post(reverse("invitation_regenerate", args=[group.slug]))
    assert response.status_code == 302
    assert messages_of(response) == ["A new invitation link is ready; the old one no longer works."]
    group.refresh_from_db()
    assert join_url(group) != old_url

    client.force_login(outsider)
    for method in (client.get, client.post):
        response = method(old_url)
        assert response.status_code == 404
        assert NO_LONGER_WORKS in response.content.decode()
        assert response.templates[0].name == "groups/invitation_invalid.html"
    assert role_of(group, outsider) is None

    response = client.post(join_url(group))
    assert response.status_code == 302
    assert role_of(group, outsider) == "member"


def test_invitation_unknown_token_no_longer_works_for_anonymous(client, group):
    response = client.get(reverse("group_join", kwargs={"invite_token": "not-a-token"}))
    assert response.status_code == 404
    assert NO_LONGER_WORKS in response.content.decode()


def test_invitation_expired_no_longer_works(client, group, outsider):
    group.invite_expires_at = timezone.now() - timedelta(minutes=1)
    group.save()
    client.force_login(outsider)
    for method in (client.get, client.post):
        response = method(join_url(group))
        assert response.status_code == 410
        assert NO_LONGER_WORKS in response.content.decode()
    assert role_of(group, outsider) is None


def test_invitation_expired_shows_warning_to_facilitator(client, group, facilitator):
    group.invite_expires_at = timezone.now() - timedelta(minutes=1)
    group.save()
    client.force_login(facilitator)
    content = client.get(group.get_absolute_url()).content.decode()
    assert "The invitation link has expired. Make a new one to invite more people." in content
    assert join_url(group) not in content


def test_invitation_not_yet_expired_works(client, group, outsider):
    group.invite_expires_at = timezone.now() + timedelta(days=1)
    group.save()
    client.force_login(outsider)
    response = client.post(join_url(group))
    assert response.status_code == 302
    assert role_of(group, outsider) == "member"


def test_invitation_regenerate_with_past_expiry_is_rejected(client, group, facilitator):
    old_token = group.invite_token
    client.force_login(facilitator)
    response = client.post(
        reverse("invitation_regenerate", args=[group.slug]),
        {"expires_at": local_input(timezone.now() - timedelta(hours=1))},
    )
    # The confirmation page again, with the error beside the field.
    assertContains(response, "Choose a time in the future.", status_code=422)
    assertContains(response, "Make a new invitation link?", status_code=422)
    group.refresh_from_db()
    assert group.invite_token == old_token
    assert group.invite_expires_at is None


def test_invitation_regenerate_with_future_expiry_sets_it(client, group, facilitator):
    old_token = group.invite_token
    expires = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    client.force_login(facilitator)
    response = client.post(
        reverse("invitation_regenerate", args=[group.slug]), {"expires_at": local_input(expires)}
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.invite_token != old_token
    assert group.invite_expires_at == expires


@pytest.mark.parametrize("method", ["get", "post"])
def test_invitation_already_member_redirects_to_group(client, group, member, method):
    client.force_login(member)
    response = getattr(client, method)(join_url(group))
    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()
    assert messages_of(response) == ["You are already a member of “Reading circle”."]
    assert Membership.objects.filter(group=group, user=member).count() == 1
    assert role_of(group, member) == "member"


def test_invitation_followed_by_facilitator_keeps_facilitator_role(client, group, facilitator):
    client.force_login(facilitator)
    response = client.post(join_url(group))
    assert response.status_code == 302
    assert Membership.objects.filter(group=group, user=facilitator).count() == 1
    assert role_of(group, facilitator) == "facilitator"


def test_invitation_anonymous_offers_login_and_signup_coming_back(client, group):
    url = join_url(group)
    response = client.get(url)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Join “Reading circle”</h1>" in content
    assert f'<a href="/accounts/login/?next={url}">log in</a>' in content
    assert f'<a href="/accounts/signup/?next={url}">create an account</a>' in content
    assert '<form method="post" action="/join/' not in content


def test_invitation_anonymous_post_does_not_join(client, group):
    response = client.post(join_url(group))
    assert response.status_code == 200
    assert Membership.objects.filter(group=group).count() == 2


def test_invitation_anonymous_login_lands_back_on_link(client, group, outsider):
    url = join_url(group)
    response = client.post(
        reverse("login"), {"username": "outsider", "password": PASSWORD, "next": url}
    )
    assert response.status_code == 302
    assert response["Location"] == url

    response = client.get(url)
    assert response.status_code == 200
    assert f'<form method="post" action="{url}">' in response.content.decode()

    response = client.post(url)
    assert response.status_code == 302
    assert role_of(group, outsider) == "member"


def test_invitation_anonymous_signup_lands_back_on_link(client, group):
    url = join_url(group)
    response = client.post(
        reverse("signup"),
        {
            "username": "newcomer",
            "email": "newcomer@example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
            "next": url,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url
    response = client.post(url)
    assert response.status_code == 302
    assert list(group.memberships.values_list("user__username", "role").order_by("pk")) == [
        ("facilitator", "facilitator"),
        ("member", "member"),
        ("newcomer", "member"),
    ]


def test_invitation_joining_twice_makes_one_membership(client, group, outsider):
    client.force_login(outsider)
    assert client.post(join_url(group)).status_code == 302
    assert client.post(join_url(group)).status_code == 302
    assert Membership.objects.filter(group=group, user=outsider).count() == 1


def test_group_join_service_twice_returns_existing_membership(group, outsider):
    first, created_first = group_services.group_join(user=outsider, invite_token=group.invite_token)
    second, created_second = group_services.group_join(
        user=outsider, invite_token=group.invite_token
    )
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk


@pytest.mark.django_db(transaction=True)
def test_invitation_concurrent_joins_make_one_membership(group, outsider):
    url = join_url(group)
    clients = [logged_in(outsider) for _ in range(4)]
    results = at_once(*[lambda c=c: c.post(url).status_code for c in clients])
    assert results == [302] * 4
    assert Membership.objects.filter(group=group, user=outsider).count() == 1
    assert role_of(group, outsider) == "member"


@pytest.mark.django_db(transaction=True)
def test_invitation_concurrent_joins_by_different_users_each_join_once(group):
    users = [make_user(f"joiner{n}") for n in range(4)]
    clients = [logged_in(user) for user in users]
    url = join_url(group)
    results = at_once(*[lambda c=c: c.post(url).status_code for c in clients])
    assert results == [302] * 4
    assert sorted(
        group.memberships.filter(role="member").values_list("user__username", flat=True)
    ) == ["joiner0", "joiner1", "joiner2", "joiner3", "member"]


# Facilitator rules ----------------------------------------------------------


def demotion(*, acting_user, membership):
    def demote():
        return group_services.membership_set_role(
            acting_user=acting_user, membership=membership, role="member"
        ).role

    return demote


def test_member_role_promotes_member_and_back(client, group, facilitator, member):
    client.force_login(facilitator)
    url = reverse("member_role", args=[group.slug, membership_of(group, member).pk])

    response = client.post(url, {"role": "facilitator"})
    assert response.status_code == 302
    assert messages_of(response) == ["member is now a facilitator."]
    assert role_of(group, member) == "facilitator"

    response = client.post(url, {"role": "member"})
    assert response.status_code == 302
    assert role_of(group, member) == "member"
    assert role_of(group, facilitator) == "facilitator"


def test_member_role_promoted_member_can_demote_the_first_facilitator(
    client, group, facilitator, member
):
    Membership.objects.filter(group=group, user=member).update(role="facilitator")
    client.force_login(member)
    response = client.post(
        reverse("member_role", args=[group.slug, membership_of(group, facilitator).pk]),
        {"role": "member"},
    )
    assert response.status_code == 302
    assert role_of(group, facilitator) == "member"
    assert role_of(group, member) == "facilitator"


def test_member_role_unknown_role_changes_nothing(client, group, facilitator, member):
    client.force_login(facilitator)
    response = client.post(
        reverse("member_role", args=[group.slug, membership_of(group, member).pk]),
        {"role": "owner"},
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Choose a role: facilitator or member."]
    assert role_of(group, member) == "member"


def test_member_role_last_facilitator_cannot_step_down(client, group, facilitator):
    client.force_login(facilitator)
    response = client.post(
        reverse("member_role", args=[group.slug, membership_of(group, facilitator).pk]),
        {"role": "member"},
    )
    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()
    assert messages_of(response) == [LAST_FACILITATOR]
    assert role_of(group, facilitator) == "facilitator"


def test_member_remove_by_facilitator_removes_member(client, group, facilitator, member):
    client.force_login(facilitator)
    response = client.post(
        reverse("member_remove", args=[group.slug, membership_of(group, member).pk])
    )
    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()
    assert messages_of(response) == ["member was removed from the group."]
    assert role_of(group, member) is None
    assert role_of(group, facilitator) == "facilitator"


def test_member_remove_last_facilitator_removing_self_is_refused(client, group, facilitator):
    client.force_login(facilitator)
    response = client.post(
        reverse("member_remove", args=[group.slug, membership_of(group, facilitator).pk])
    )
    assert response.status_code == 302
    assert messages_of(response) == [LAST_FACILITATOR]
    assert group.memberships.count() == 2


def test_group_leave_by_member_removes_membership(client, group, member):
    client.force_login(member)
    response = client.post(reverse("group_leave", args=[group.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert messages_of(response) == ["You left “Reading circle”."]
    assert role_of(group, member) is None
    assert client.get(group.get_absolute_url()).status_code == 404


def test_group_leave_by_last_facilitator_is_refused(client, group, facilitator):
    client.force_login(facilitator)
    response = client.post(reverse("group_leave", args=[group.slug]))
    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()
    assert messages_of(response) == [LAST_FACILITATOR]
    assert role_of(group, facilitator) == "facilitator"
    assert group.memberships.count() == 2


def test_group_page_tells_last_facilitator_why_they_cannot_leave(client, group, facilitator):
    client.force_login(facilitator)
    content = client.get(group.get_absolute_url()).content.decode()
    assert (
        "You are the group's only facilitator. Make someone else a facilitator before you leave."
        in content
    )
    assert reverse("group_leave", args=[group.slug]) not in content


def test_group_leave_by_one_of_two_facilitators_succeeds(client, group, facilitator, member):
    Membership.objects.filter(group=group, user=member).update(role="facilitator")
    client.force_login(facilitator)
    response = client.post(reverse("group_leave", args=[group.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert list(group.memberships.values_list("user__username", "role")) == [
        ("member", "facilitator")
    ]


@pytest.mark.django_db(transaction=True)
def test_membership_set_role_concurrent_self_demotions_keep_a_facilitator(
    group, facilitator, member
):
    # Several rounds so that a missing lock would be caught by at least one race.
    for _ in range(5):
        Membership.objects.filter(group=group).update(role="facilitator")
        mine = Membership.objects.select_related("group").get(group=group, user=facilitator)
        theirs = Membership.objects.select_related("group").get(group=group, user=member)
        results = at_once(
            demotion(acting_user=facilitator, membership=mine),
            demotion(acting_user=member, membership=theirs),
        )
        outcomes = sorted(type(r).__name__ if isinstance(r, Exception) else r for r in results)
        assert outcomes == ["LastFacilitatorError", "member"]
        assert group.memberships.filter(role="facilitator").count() == 1


@pytest.mark.django_db(transaction=True)
def test_membership_set_role_concurrent_mutual_demotions_keep_a_facilitator(
    group, facilitator, member
):
    for _ in range(5):
        Membership.objects.filter(group=group).update(role="facilitator")
        mine = Membership.objects.select_related("group").get(group=group, user=facilitator)
        theirs = Membership.objects.select_related("group").get(group=group, user=member)
        results = at_once(
            demotion(acting_user=facilitator, membership=theirs),
            demotion(acting_user=member, membership=mine),
        )
        # Whoever comes second has just been demoted and may no longer change roles.
        errors = [result for result in results if isinstance(result, Exception)]
        assert [type(error) for error in errors] == [PermissionDenied]
        assert len(results) - len(errors) == 1
        assert group.memberships.filter(role="facilitator").count() == 1


@pytest.mark.django_db(transaction=True)
def test_group_leave_concurrent_by_both_facilitators_keeps_a_facilitator(
    group, facilitator, member
):
    Membership.objects.filter(group=group, user=member).update(role="facilitator")
    clients = [logged_in(facilitator), logged_in(member)]
    url = reverse("group_leave", args=[group.slug])
    results = at_once(*[lambda c=c: c.post(url)["Location"] for c in clients])
    assert sorted(results) == sorted([reverse("home"), group.get_absolute_url()])
    assert list(group.memberships.values_list("role", flat=True)) == ["facilitator"]


# Meetings ------------------------------------------------------------------


def meeting_data(first=3, last=5, starts_at=None, agenda=""):
    starts_at = starts_at or timezone.now() + timedelta(days=7)
    return {
        "starts_at": local_input(starts_at),
        "first_position": str(first),
        "last_position": str(last),
        "agenda": agenda,
    }


def test_meeting_create_by_facilitator_saves_meeting(client, group, facilitator):
    starts_at = (timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0)
    client.force_login(facilitator)
    assert client.get(reverse("meeting_create", args=[group.slug])).status_code == 200
    response = client.post(
        reverse("meeting_create", args=[group.slug]),
        meeting_data(starts_at=starts_at, agenda="Chapter one"),
    )
    assert response.status_code == 302
    assert response["Location"] == Meeting.objects.get(group=group).get_absolute_url()
    assert messages_of(response) == ["Meeting saved: read passages 3 to 5 by then."]
    assert list(
        group.meetings.values_list("starts_at", "first_position", "last_position", "agenda")
    ) == [(starts_at, 3, 5, "Chapter one")]


def test_meeting_edit_by_facilitator_updates_meeting(client, group, facilitator):
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=2), first_position=1, last_position=2
    )
    client.force_login(facilitator)
    url = reverse("meeting_edit", args=[group.slug, meeting.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["form"].instance == meeting
    response = client.post(url, meeting_data(first=4, last=4))
    assert response.status_code == 302
    assert messages_of(response) == ["Meeting saved: read passage 4 by then."]
    meeting.refresh_from_db()
    assert (meeting.first_position, meeting.last_position) == (4, 4)
    assert group.meetings.count() == 1


def test_meeting_cancel_by_facilitator_marks_cancelled(client, group, facilitator):
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=2), first_position=1, last_position=2
    )
    client.force_login(facilitator)
    response = client.post(reverse("meeting_cancel", args=[group.slug, meeting.pk]))
    assert response.status_code == 302
    assert messages_of(response) == ["The meeting is cancelled."]
    meeting.refresh_from_db()
    assert meeting.cancelled_at is not None


def test_meeting_restore_by_facilitator_puts_a_cancelled_meeting_back(client, group, facilitator):
    meeting = Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=2),
        first_position=1,
        last_position=2,
        cancelled_at=timezone.now(),
    )
    client.force_login(facilitator)
    assert "Restore<span" in client.get(group.get_absolute_url()).content.decode()

    response = client.post(reverse("meeting_restore", args=[group.slug, meeting.pk]))

    assert response.status_code == 302
    assert messages_of(response) == ["The meeting is on again."]
    meeting.refresh_from_db()
    assert meeting.cancelled_at is None


@pytest.mark.parametrize(
    ("first", "last", "errors"),
    [
        (5, 3, {"last_position": ["The last passage cannot come before the first."]}),
        (0, 3, {"first_position": ["Choose a passage between 1 and 10."]}),
        (3, 11, {"last_position": ["Choose a passage between 1 and 10."]}),
        (
            0,
            11,
            {
                "first_position": ["Choose a passage between 1 and 10."],
                "last_position": ["Choose a passage between 1 and 10."],
            },
        ),
    ],
    ids=["last-before-first", "position-0", "position-11", "both-out-of-range"],
)
def test_meeting_form_invalid_range_shows_errors(client, group, facilitator, first, last, errors):
    client.force_login(facilitator)
    response = client.post(
        reverse("meeting_create", args=[group.slug]), meeting_data(first=first, last=last)
    )
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert group.meetings.count() == 0


def test_meeting_form_states_passage_count(client, group, facilitator):
    client.force_login(facilitator)
    content = client.get(reverse("meeting_create", args=[group.slug])).content.decode()
    assert "has 10 passages." in content


def test_next_meeting_shown_on_group_and_home_page(client, group, member):
    Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=5), first_position=3, last_position=5
    )
    client.force_login(member)
    group_page = client.get(group.get_absolute_url()).content.decode()
    home_page = client.get(reverse("home")).content.decode()
    assert '<p class="next-meeting">Next meeting: read passages 3 to 5 by <time' in group_page
    assert '<p class="next-meeting">Next meeting: read passages 3 to 5 by <time' in home_page


def test_next_meeting_is_the_earliest_upcoming(client, group, member):
    now = timezone.now()
    Meeting.objects.create(
        group=group, starts_at=now + timedelta(days=14), first_position=6, last_position=8
    )
    Meeting.objects.create(
        group=group, starts_at=now + timedelta(days=7), first_position=3, last_position=5
    )
    Meeting.objects.create(
        group=group, starts_at=now - timedelta(hours=2), first_position=1, last_position=2
    )
    client.force_login(member)
    response = client.get(group.get_absolute_url())
    next_meeting = response.context["page"].next_meeting
    assert (next_meeting.first_position, next_meeting.last_position) == (3, 5)


def test_cancelled_meeting_is_not_shown_as_next(client, group, member):
    now = timezone.now()
    Meeting.objects.create(
        group=group,
        starts_at=now + timedelta(days=2),
        first_position=1,
        last_position=2,
        cancelled_at=now,
    )
    client.force_login(member)
    group_page = client.get(group.get_absolute_url()).content.decode()
    home_page = client.get(reverse("home")).content.decode()
    assert "Next meeting:" not in group_page
    assert "<strong>(cancelled)</strong>" in group_page
    assert "Next meeting:" not in home_page
    assert "No meeting scheduled." in home_page

    Meeting.objects.create(
        group=group, starts_at=now + timedelta(days=9), first_position=6, last_position=7
    )
    group_page = client.get(group.get_absolute_url()).content.decode()
    home_page = client.get(reverse("home")).content.decode()
    assert "Next meeting: read passages 6 to 7 by" in group_page
    assert "Next meeting: read passages 6 to 7 by" in home_page


# Group page: progress and readiness ------------------------------------------


def test_group_page_shows_each_members_progress_and_readiness(
    client, essay, group, facilitator, member
):
    Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=5), first_position=3, last_position=5
    )
    read_passages(member, essay, [1, 3, 4, 5])
    read_passages(facilitator, essay, [3, 4])
    other_text_group = make_group(make_text(passages=3), facilitator=member)
    read_passages(member, other_text_group.text, [1, 2])

    client.force_login(member)
    response = client.get(group.get_absolute_url())
    content = response.content.decode()
    assert [
        (m.username, m.progress.read, m.progress.total, readiness.ready)
        for m, readiness in response.context["members"].rows
    ] == [("facilitator", 2, 10, False), ("member", 4, 10, True)]
    assert "Ready for next meeting" in content
    assert (
        '<label for="member-progress-member" class="progress-label">'
        "member: 4 of 10 passages read</label>"
    ) in content
    assert '<progress id="member-progress-member" max="10" value="4">40%</progress>' in content
    assert '<progress id="member-progress-facilitator" max="10" value="2">20%</progress>' in content
    # Readiness says why: how many of the meeting's passages each has read.
    assert (
        content.count(
            '<span class="ready">Yes</span><span class="ready-why">: 3 of 3 passages read</span>'
        )
        == 1
    )
    assert (
        content.count(
            '<span class="not-ready">Not yet</span><span class="ready-why">: 2 of 3 passages read</span>'
        )
        == 1
    )


def test_group_page_without_meeting_has_no_readiness_column(client, group, member):
    client.force_login(member)
    content = client.get(group.get_absolute_url()).content.decode()
    assert "Ready for next meeting" not in content
    assert "No meetings scheduled." in content


def test_group_page_member_sees_no_invitation_or_management(client, group, member):
    client.force_login(member)
    content = client.get(group.get_absolute_url()).content.decode()
    assert group.invite_token not in content
    assert "Make facilitator" not in content
    assert "Schedule a meeting" not in content
    assert "you are a member" in content


def test_group_page_facilitator_sees_invitation_link(client, group, facilitator):
    client.force_login(facilitator)
    content = client.get(group.get_absolute_url()).content.decode()
    assert f'value="http://testserver{join_url(group)}"' in content
    assert "you are a facilitator" in content


def test_group_page_query_count_does_not_grow_with_members(client, essay, group, facilitator):
    Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=5), first_position=3, last_position=5
    )
    Membership.objects.filter(group=group).exclude(user=facilitator).delete()
    client.force_login(facilitator)
    url = group.get_absolute_url()
    client.get(url)  # warm up the session and caches

    with CaptureQueriesContext(connection) as one_member:
        assert client.get(url).status_code == 200
    for n in range(14):
        user = make_user(f"extra{n}")
        Membership.objects.create(group=group, user=user)
        read_passages(user, essay, [1, 2, 3])
    with CaptureQueriesContext(connection) as fifteen_members:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].members) == 15
    assert len(fifteen_members) == len(one_member)


def test_home_page_query_count_does_not_grow_with_groups(client, essay, reader):
    def add_group(n):
        group = make_group(essay, facilitator=reader, name=f"Circle {n:02d}", members=[make_user()])
        Meeting.objects.create(
            group=group,
            starts_at=timezone.now() + timedelta(days=n + 1),
            first_position=1,
            last_position=2,
        )

    add_group(0)
    client.force_login(reader)
    url = reverse("home")
    client.get(url)  # warm up the session and caches

    with CaptureQueriesContext(connection) as one_group:
        assert client.get(url).status_code == 200
    for n in range(1, 8):
        add_group(n)
    with CaptureQueriesContext(connection) as eight_groups:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["groups"]) == 8
    assert len(eight_groups) == len(one_group)


# Switching groups on the passage page -----------------------------------------


def test_passage_page_switches_group_by_query(client, essay, group, member):
    evening = make_group(essay, name="Evening readers", members=[member])
    client.force_login(member)
    passage_url = reverse("passage_detail", args=[essay.slug, 3])

    response = client.get(passage_url)
    assert response.context["group"] == group
    assert '<h2 id="group-heading">Reading circle</h2>' in response.content.decode()

    response = client.get(f"{passage_url}?group={evening.slug}")
    content = response.content.decode()
    assert response.context["group"] == evening
    assert '<h2 id="group-heading">Evening readers</h2>' in content
    assert f'<option value="{evening.slug}" selected>Evening readers</option>' in content

    # A link with ?group= shows that group and keeps it on the pager, but remembers nothing.
    assert (
        f'href="{reverse("passage_detail", args=[essay.slug, 4])}?group={evening.slug}"' in content
    )
    response = client.get(reverse("passage_detail", args=[essay.slug, 4]))
    assert response.context["group"] == group

    # The switcher (a POST) remembers the choice for the text.
    response = client.post(
        reverse("group_choose", args=[essay.slug]),
        {"group": evening.slug, "next": passage_url},
    )
    assert (response.status_code, response["Location"]) == (302, passage_url)
    response = client.get(reverse("passage_detail", args=[essay.slug, 4]))
    assert response.context["group"] == evening


def test_group_choose_refuses_a_group_the_reader_is_not_in(client, essay, group, member):
    secret = make_group(essay, name="Secret society")
    client.force_login(member)
    passage_url = reverse("passage_detail", args=[essay.slug, 3])
    response = client.post(
        reverse("group_choose", args=[essay.slug]), {"group": secret.slug, "next": passage_url}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Choose one of your groups reading this text."]
    assert client.get(passage_url).context["group"] == group


def test_passage_page_get_writes_nothing(client, essay, group, member):
    """Showing a page changes nothing: no notebook made, no session key set."""
    client.force_login(member)
    session_before = dict(client.session.items())
    groups_before = StudyGroup.objects.count()
    client.get(reverse("passage_detail", args=[essay.slug, 3]) + f"?group={group.slug}")
    client.get(reverse("text_detail", args=[essay.slug]))
    assert dict(client.session.items()) == session_before
    assert StudyGroup.objects.count() == groups_before


def test_notebooks_are_made_at_sign_in_and_for_new_texts(client, essay, reader, outsider):
    client.force_login(reader)
    assert StudyGroup.objects.filter(notebook_owner=reader, text=essay).count() == 1
    text = make_text(passages=2)
    owners = set(
        StudyGroup.objects.filter(text=text).values_list("notebook_owner__username", flat=True)
    )
    assert {"reader", "outsider"} <= owners
    assert Membership.objects.filter(group__text=text, user=reader).count() == 1


def test_passage_page_ignores_group_the_reader_is_not_in(client, essay, group, member):
    secret = make_group(essay, name="Secret society")
    client.force_login(member)
    response = client.get(f"{reverse('passage_detail', args=[essay.slug, 1])}?group={secret.slug}")
    assert response.status_code == 200
    assert response.context["group"] == group
    assert "Secret society" not in response.content.decode()


# Private notebooks -----------------------------------------------------------


def test_notebook_get_creates_one_notebook_per_reader_and_text(client, essay, reader):
    client.force_login(reader)
    first = client.get(reverse("notebook", args=[essay.slug]))
    second = client.get(reverse("notebook", args=[essay.slug]))
    notebook = StudyGroup.objects.get(notebook_owner=reader, text=essay)
    expected = f"{reverse('passage_detail', args=[essay.slug, 1])}?group={notebook.slug}"
    assert (first.status_code, first["Location"]) == (302, expected)
    assert (second.status_code, second["Location"]) == (302, expected)
    assert list(notebook.memberships.values_list("user__username", "role")) == [
        ("reader", "facilitator")
    ]
    assert StudyGroup.objects.filter(notebook_owner=reader).count() == 1


@pytest.mark.django_db(transaction=True)
def test_notebook_concurrent_first_visits_make_one_notebook(essay, reader):
    clients = [logged_in(reader) for _ in range(4)]
    url = reverse("notebook", args=[essay.slug])
    results = at_once(*[lambda c=c: c.get(url).status_code for c in clients])
    assert results == [302] * 4
    assert StudyGroup.objects.filter(notebook_owner=reader, text=essay).count() == 1
    assert Membership.objects.filter(user=reader).count() == 1


def test_notebook_redirects_to_first_unread_passage(client, essay, reader):
    read_passages(reader, essay, [1, 2])
    client.force_login(reader)
    response = client.get(reverse("notebook", args=[essay.slug]))
    assert response["Location"].startswith(reverse("passage_detail", args=[essay.slug, 3]) + "?")


def test_notebook_is_separate_for_each_reader(client, essay, reader, outsider):
    mine = group_services.notebook_for(reader=reader, text=essay)
    theirs = group_services.notebook_for(reader=outsider, text=essay)
    assert mine.pk != theirs.pk
    assert group_services.notebook_for(reader=reader, text=essay).pk == mine.pk


def test_notebook_shows_on_passage_page_for_reader_without_group(client, essay, reader):
    client.force_login(reader)
    response = client.get(reverse("passage_detail", args=[essay.slug, 1]))
    content = response.content.decode()
    assert response.context["group"] == StudyGroup.objects.get(notebook_owner=reader)
    assert '<h2 id="group-heading">My notebook</h2>' in content
    assert "Only you can see what you write here." in content


def test_notebook_group_page_is_404_for_others(client, essay, reader, outsider, facilitator):
    notebook = group_services.notebook_for(reader=reader, text=essay)
    client.force_login(reader)
    assert client.get(notebook.get_absolute_url()).status_code == 200
    for other in (outsider, facilitator):
        client.force_login(other)
        assert client.get(notebook.get_absolute_url()).status_code == 404
        response = client.get(
            f"{reverse('passage_detail', args=[essay.slug, 1])}?group={notebook.slug}"
        )
        assert response.context["group"] != notebook


def test_notebook_not_listed_among_groups_on_home_page(client, essay, reader):
    group_services.notebook_for(reader=reader, text=essay)
    client.force_login(reader)
    response = client.get(reverse("home"))
    assert response.context["groups"] == []
    assert "You are not in a study group yet." in response.content.decode()


def test_notebook_has_no_invitation_link(client, essay, reader, outsider):
    notebook = group_services.notebook_for(reader=reader, text=essay)
    token = notebook.invite_token
    client.force_login(reader)
    content = client.get(notebook.get_absolute_url()).content.decode()
    assert token not in content
    assert "Invite people" not in content
    assert "Leave this group" not in content

    # A notebook has no invitation link at all: the action does not exist there.
    response = client.post(reverse("invitation_regenerate", args=[notebook.slug]))
    assert response.status_code == 404
    notebook.refresh_from_db()
    assert notebook.invite_token == token

    client.force_login(outsider)
    for method in (client.get, client.post):
        response = method(reverse("group_join", kwargs={"invite_token": token}))
        assert response.status_code == 404  # as an unknown token: nothing leaks
        assert NO_LONGER_WORKS in response.content.decode()
    assert list(notebook.memberships.values_list("user__username", flat=True)) == ["reader"]


def test_notebook_cannot_be_left(client, essay, reader):
    notebook = group_services.notebook_for(reader=reader, text=essay)
    client.force_login(reader)
    response = client.post(reverse("group_leave", args=[notebook.slug]))
    assert response.status_code == 404
    assert notebook.memberships.count() == 1


def test_progress_is_kept_when_member_leaves(client, essay, group, member):
    read_passages(member, essay, [1])
    client.force_login(member)
    client.post(reverse("group_leave", args=[group.slug]))
    assert ReadingProgress.objects.filter(reader=member).count() == 1


def test_passage_page_shows_the_groups_next_meeting_and_whether_this_passage_is_due(
    client, essay, facilitator, member, group
):
    from datetime import timedelta

    from django.utils import timezone

    from groups.models import Meeting

    Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=2),
        first_position=3,
        last_position=5,
    )
    client.force_login(member)

    on_list = client.get(f"/texts/{essay.slug}/4/?group={group.slug}").content.decode()
    off_list = client.get(f"/texts/{essay.slug}/7/?group={group.slug}").content.decode()

    assert "Next meeting: read passages 3 to 5 by" in on_list
    assert "(this passage is on the list)" in on_list
    assert "Next meeting: read passages 3 to 5 by" in off_list
    assert "(this passage is on the list)" not in off_list


def test_invitation_url_with_a_nul_byte_is_404_not_500(client, reader_client):
    assert client.get("/join/%00/").status_code == 404
    assert reader_client.post("/join/x%00y/").status_code == 404


@pytest.mark.parametrize(
    "line_break", ["\r\n", "\t", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c"]
)
def test_group_name_with_a_line_break_of_any_kind_is_refused(
    reader_client, facilitator_client, group, essay, line_break
):
    """Python's email policy refuses all of them in the subject line that holds the name:
    accepted, they would stop every email of the group."""
    name = f"Evil{line_break}Bcc: victim@example.org"
    responses = (
        reader_client.post("/groups/new/", {"text": essay.pk, "name": name, "description": ""}),
        facilitator_client.post(f"/groups/{group.slug}/edit/", {"name": name, "description": ""}),
    )

    for response in responses:
        assert response.status_code == 200
        assert response.context["form"].errors == {"name": ["Write the name on one line."]}
    assert not StudyGroup.objects.filter(name=name).exists()


def test_pages_vary_on_the_htmx_request_header(client, essay):
    response = client.get(f"/texts/{essay.slug}/")

    assert "HX-Request" in response["Vary"]


def test_facilitator_edits_the_groups_name_and_description(client, facilitator, group):
    client.force_login(facilitator)

    response = client.post(
        f"/groups/{group.slug}/edit/", {"name": "Renamed", "description": "<b>New</b> plan"}
    )

    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.description) == ("Renamed", "<b>New</b> plan")
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "&lt;b&gt;New&lt;/b&gt; plan" in page


def test_group_edit_with_an_empty_name_rerenders_with_the_error(client, facilitator, group):
    client.force_login(facilitator)

    response = client.post(f"/groups/{group.slug}/edit/", {"name": "", "description": ""})

    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["Give the group a name."]}
    group.refresh_from_db()
    assert group.name == "Reading circle"


def test_notebook_has_no_group_settings(client, reader_client, reader, essay):
    from groups.services import notebook_for

    notebook = notebook_for(reader=reader, text=essay)

    assert reader_client.get(f"/groups/{notebook.slug}/edit/").status_code == 404


def test_group_leave_page_for_the_only_facilitator_says_why_instead_of_asking(
    client, group, facilitator
):
    client.force_login(facilitator)

    response = client.get(reverse("group_leave", args=[group.slug]), follow=True)

    assert response.redirect_chain == [(group.get_absolute_url(), 302)]
    assert "A group needs at least one facilitator" in response.content.decode()
    assert Membership.objects.filter(group=group, user=facilitator).exists()
