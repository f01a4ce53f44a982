"""Every URL × {anonymous, outsider, member, facilitator, facilitator elsewhere} → status,
and every group URL of a private notebook × {anonymous, outsider, its owner} → status.

The matrix is generated from the URLconf: a URL without an entry in EXPECTATIONS
fails `test_every_url_has_access_expectations`, so nobody can add a page without
deciding who may see it. Excluded are the admin and Django's own auth views
(login, logout, password change and reset); `accounts/signup/` is ours and is in.
"""

import functools
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.text import slugify

from discussions.models import Notification, Question
from discussions.services import comment_create, question_create
from groups.models import CalendarFeed, Meeting, Membership
from groups.services import notebook_for
from reading.importing import parse_text
from reading.models import Passage, Text
from reading.services import SHIPPED_ESSAY, SHIPPED_ESSAY_AUTHOR, shipped_essay_import
from tests.factories import make_group, make_user

ROLES = ("anonymous", "outsider", "member", "facilitator", "facilitator_elsewhere")
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
LOGIN = "login"  # a 302 to the login page
LOGIN_PREFIX = "/accounts/login/"


def everyone(status):
    return dict.fromkeys(ROLES, status)


def signed_in(status, anonymous=LOGIN):
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], status)}


def in_group(member, facilitator=None):
    """Group-scoped: outsiders and other groups' facilitators get 404, never 403."""
    return {
        "anonymous": LOGIN,
        "outsider": 404,
        "member": member,
        "facilitator": member if facilitator is None else facilitator,
        "facilitator_elsewhere": 404,
    }


def facilitator_only(facilitator):
    return in_group(member=403, facilitator=facilitator)


@dataclass(frozen=True)
class Access:
    kwargs: tuple[str, ...] = ()
    # method -> role -> expected status (or LOGIN)
    statuses: dict[str, dict[str, int | str]] = field(default_factory=dict)
    # method -> function of the world giving the request body
    data: dict = field(default_factory=dict)
    # objects of the world that must exist although no kwarg names them
    needs: tuple[str, ...] = ()

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.statuses)


def meeting_post(world):
    return {
        "starts_at": timezone.localtime(timezone.now() + timedelta(days=7)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "first_position": "1",
        "last_position": "2",
        "agenda": "",
    }


def question_post(world):
    return {"body": "What makes a sect?", "first_position": "1", "last_position": "2"}


EXPECTATIONS: dict[str, Access] = {
    # Reading: public pages, and personal actions for any signed-in reader.
    "home": Access(statuses={"GET": everyone(200)}),
    "signup": Access(
        statuses={"GET": signed_in(302, anonymous=200), "POST": signed_in(302, anonymous=200)}
    ),
    "text_detail": Access(kwargs=("text_slug",), statuses={"GET": everyone(200)}),
    # The group switcher: remembers a choice among one's own groups (others: a message).
    "group_choose": Access(
        kwargs=("text_slug",),
        statuses={"POST": signed_in(302)},
        data={"POST": lambda world: {"group": world["group"].slug}},
    ),
    # For load balancers: no login, nothing private.
    "healthz": Access(statuses={"GET": everyone(200)}),
    # Django's password reset, throttled: the same answer for every email.
    "password_reset": Access(
        statuses={"GET": everyone(200), "POST": everyone(302)},
        data={"POST": lambda world: {"email": "member@example.com"}},
    ),
    "continue_reading": Access(kwargs=("text_slug",), statuses={"GET": everyone(302)}),
    # Opens the reader's notebook (made at sign-in; a POST makes one that is missing).
    "notebook": Access(
        kwargs=("text_slug",), statuses={"GET": signed_in(302), "POST": signed_in(302)}
    ),
    "passage_detail": Access(kwargs=("text_slug", "position"), statuses={"GET": everyone(200)}),
    # The reader's own notebook notes on a text: nobody else's are ever listed.
    "notebook_notes": Access(kwargs=("text_slug",), statuses={"GET": signed_in(200)}),
    # Texts are public; a passage a revision removed keeps its page (its discussion is
    # shown to the group's members only, as on any passage page).
    "removed_passage_detail": Access(
        kwargs=("text_slug", "passage_pk"), statuses={"GET": everyone(200)}
    ),
    "progress_update": Access(
        kwargs=("text_slug", "position"),
        statuses={"POST": signed_in(302)},
        data={"POST": lambda world: {"read": "1"}},
    ),
    # Groups.
    "group_create": Access(
        statuses={"GET": signed_in(200), "POST": signed_in(302)},
        data={"POST": lambda world: {"text": world["essay"].pk, "name": "Another group"}},
    ),
    "group_detail": Access(kwargs=("group_slug",), statuses={"GET": in_group(200)}),
    "group_edit": Access(
        kwargs=("group_slug",),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
        data={"POST": lambda world: {"name": "Renamed circle", "description": ""}},
    ),
    # Destructive actions: GET is the confirmation page, POST does it. The member
    # leaves; the group's only facilitator is sent back with a message, not asked.
    "group_leave": Access(
        kwargs=("group_slug",),
        statuses={"GET": in_group(200, facilitator=302), "POST": in_group(302)},
    ),
    "invitation_regenerate": Access(
        kwargs=("group_slug",),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
    ),
    "member_role": Access(
        kwargs=("group_slug", "membership_pk"),
        statuses={"POST": facilitator_only(302)},
        data={"POST": lambda world: {"role": "facilitator"}},
    ),
    "member_remove": Access(
        kwargs=("group_slug", "membership_pk"),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
    ),
    "meeting_create": Access(
        kwargs=("group_slug",),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
        data={"POST": meeting_post},
    ),
    "meeting_edit": Access(
        kwargs=("group_slug", "meeting_pk"),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
        data={"POST": meeting_post},
    ),
    "meeting_cancel": Access(
        kwargs=("group_slug", "meeting_pk"),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
    ),
    # The meeting's page, handout and calendar file: for members; notes and the
    # handout's threads: facilitators.
    "meeting_detail": Access(kwargs=("group_slug", "meeting_pk"), statuses={"GET": in_group(200)}),
    "meeting_handout": Access(kwargs=("group_slug", "meeting_pk"), statuses={"GET": in_group(200)}),
    "meeting_calendar": Access(
        kwargs=("group_slug", "meeting_pk"), statuses={"GET": in_group(200)}
    ),
    "meeting_notes": Access(
        kwargs=("group_slug", "meeting_pk"),
        statuses={"POST": facilitator_only(302)},
        data={"POST": lambda world: {"notes": "We read closely."}},
    ),
    "handout_threads": Access(
        kwargs=("group_slug", "meeting_pk"),
        statuses={"POST": facilitator_only(302)},
        data={"POST": lambda world: {"threads": [world["comment"].pk]}},
    ),
    # The group at a glance (grid of who read, commented and answered what; activity
    # per week): facilitators only.
    "group_progress": Access(kwargs=("group_slug",), statuses={"GET": facilitator_only(200)}),
    # Each reader's own calendar address; the feed's secret address is its only key.
    "calendar_settings": Access(
        statuses={"GET": signed_in(200), "POST": signed_in(302)},
        data={"POST": lambda world: {"action": "renew"}},
    ),
    "calendar_feed": Access(kwargs=("token",), statuses={"GET": everyone(200)}),
    "meeting_restore": Access(
        kwargs=("group_slug", "meeting_pk"), statuses={"POST": facilitator_only(302)}
    ),
    # The invitation link is the one group URL an outsider may open: anonymous
    # visitors see the confirmation page, members are sent to the group.
    "group_join": Access(
        kwargs=("invite_token",),
        statuses={
            "GET": {
                "anonymous": 200,
                "outsider": 200,
                "member": 302,
                "facilitator": 302,
                "facilitator_elsewhere": 200,
            },
            "POST": {
                "anonymous": 200,
                "outsider": 302,
                "member": 302,
                "facilitator": 302,
                "facilitator_elsewhere": 302,
            },
        },
    ),
    # Discussions: all group-scoped. The comment in the world is the member's,
    # so author-only actions (edit, delete) are 403 for the facilitator.
    "comment_create": Access(
        kwargs=("group_slug", "position"),
        statuses={"POST": in_group(302)},
        data={"POST": lambda world: {"body": "A new thought."}},
    ),
    # Without htmx, "more threads" falls back to the passage page.
    "thread_more": Access(kwargs=("group_slug", "position"), statuses={"GET": in_group(302)}),
    # Polling: for the comment's author only the poller, moved past it; for others the
    # new comment too (200 both).
    "comment_updates": Access(
        kwargs=("group_slug", "position"),
        statuses={"GET": in_group(200)},
        needs=("comment",),
    ),
    "comment_thread": Access(kwargs=("group_slug", "comment_pk"), statuses={"GET": in_group(200)}),
    "comment_reply": Access(kwargs=("group_slug", "comment_pk"), statuses={"GET": in_group(200)}),
    "comment_edit": Access(
        kwargs=("group_slug", "comment_pk"),
        statuses={"GET": in_group(200, facilitator=403), "POST": in_group(302, facilitator=403)},
        data={"POST": lambda world: {"body": "An edited thought."}},
    ),
    # Only a detached quote is re-attached; the world's comment is attached, so even its
    # author is refused (the tests in test_quote_reattach cover the allowed cases).
    "quote_reattach": Access(
        kwargs=("group_slug", "comment_pk"),
        statuses={"GET": in_group(403), "POST": in_group(403)},
        data={"POST": lambda world: {"quote": "To sum up"}},
    ),
    "comment_delete": Access(
        kwargs=("group_slug", "comment_pk"),
        statuses={"GET": in_group(200, facilitator=403), "POST": in_group(302, facilitator=403)},
    ),
    "comment_helpful": Access(
        kwargs=("group_slug", "comment_pk"),
        statuses={"POST": in_group(302)},
        data={"POST": lambda world: {"on": "1"}},
    ),
    "comment_hide": Access(
        kwargs=("group_slug", "comment_pk"),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
        data={"POST": lambda world: {"reason": "Off topic."}},
    ),
    "comment_unhide": Access(
        kwargs=("group_slug", "comment_pk"), statuses={"POST": facilitator_only(302)}
    ),
    "comment_pin": Access(
        kwargs=("group_slug", "comment_pk"),
        statuses={"POST": facilitator_only(302)},
        data={"POST": lambda world: {"on": "1"}},
    ),
    # Only answers can be highlighted: for the world's plain comment the
    # facilitator is sent back with a message, but access is what counts here.
    "answer_highlight": Access(
        kwargs=("group_slug", "comment_pk"),
        statuses={"POST": facilitator_only(302)},
        data={"POST": lambda world: {"on": "1"}},
    ),
    # Questions: members read and answer, facilitators manage.
    "question_list": Access(kwargs=("group_slug",), statuses={"GET": in_group(200)}),
    "question_create": Access(
        kwargs=("group_slug",),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
        data={"POST": question_post},
    ),
    "question_detail": Access(
        kwargs=("group_slug", "question_pk"), statuses={"GET": in_group(200)}
    ),
    "question_edit": Access(
        kwargs=("group_slug", "question_pk"),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
        data={"POST": question_post},
    ),
    "answer_save": Access(
        kwargs=("group_slug", "question_pk"),
        statuses={"POST": in_group(302)},
        data={"POST": lambda world: {"body": "My answer."}},
    ),
    "question_close": Access(
        kwargs=("group_slug", "question_pk"),
        statuses={"POST": facilitator_only(302)},
        data={"POST": lambda world: {"on": "1"}},
    ),
    "question_move": Access(
        kwargs=("group_slug", "question_pk"),
        statuses={"POST": facilitator_only(302)},
        data={"POST": lambda world: {"direction": "up"}},
    ),
    "question_delete": Access(
        kwargs=("group_slug", "question_pk"),
        statuses={"GET": facilitator_only(200), "POST": facilitator_only(302)},
        data={"POST": lambda world: {"confirm": "on"}},
    ),
    # Exports: members download the discussion as they see it; the whole group (a
    # backup with everyone's writing) is for facilitators.
    "export_discussion_markdown": Access(
        kwargs=("group_slug",), statuses={"GET": in_group(200)}, needs=("comment",)
    ),
    "export_discussion_csv": Access(
        kwargs=("group_slug",), statuses={"GET": in_group(200)}, needs=("comment",)
    ),
    "export_group_json": Access(
        kwargs=("group_slug",), statuses={"GET": facilitator_only(200)}, needs=("comment",)
    ),
    # Search: passages for everyone, and only the reader's own groups' discussions
    # (tests/search prove the privacy of the results).
    "search": Access(statuses={"GET": everyone(200)}),
    # Personal pages, not group-scoped.
    "my_page": Access(statuses={"GET": signed_in(200)}),
    "my_questions": Access(statuses={"GET": signed_in(200)}),
    "notification_list": Access(statuses={"GET": signed_in(200)}),
    "notifications_read": Access(statuses={"POST": signed_in(302)}),
    # The member's own notification (a reply from the facilitator): everyone else 404s.
    "notification_open": Access(
        kwargs=("notification_pk",),
        statuses={
            "GET": {
                "anonymous": LOGIN,
                "outsider": 404,
                "member": 302,
                "facilitator": 404,
                "facilitator_elsewhere": 404,
            }
        },
    ),
    "notification_settings": Access(
        statuses={"GET": signed_in(200), "POST": signed_in(302)},
        data={"POST": lambda world: {"email_replies": "on"}},
    ),
}

KWARGS = {
    "text_slug": lambda world: world["essay"].slug,
    "position": lambda world: 2,
    "group_slug": lambda world: world["group"].slug,
    "membership_pk": lambda world: world["member_membership"].pk,
    "meeting_pk": lambda world: world["meeting"].pk,
    "invite_token": lambda world: world["group"].invite_token,
    "comment_pk": lambda world: world["comment"].pk,
    "question_pk": lambda world: world["question"].pk,
    "passage_pk": lambda world: world["removed_passage"].pk,
    "token": lambda world: world["calendar_feed"].token,
    "notification_pk": lambda world: world["notification"].pk,
}


# The URLconf ---------------------------------------------------------------


def _is_excluded(resolver: URLResolver) -> bool:
    module = resolver.urlconf_module
    module_name = getattr(module, "__name__", resolver.urlconf_name)
    return resolver.namespace == "admin" or module_name == "django.contrib.auth.urls"


def _walk(patterns, prefix="", namespace="", converters=()):
    for entry in patterns:
        found = converters + tuple(entry.pattern.converters)
        if isinstance(entry, URLResolver):
            if _is_excluded(entry):
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner, found)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield name, prefix + str(entry.pattern), tuple(sorted(found))


def project_urls():
    """(name, route, URL kwargs) for every URL the matrix must cover."""
    return list(_walk(get_resolver().url_patterns))


URLS = project_urls()


def test_every_url_has_a_name():
    assert [route for name, route, _ in URLS if name is None] == []


def test_every_url_has_access_expectations():
    missing = sorted({name for name, _, _ in URLS if name} - set(EXPECTATIONS))
    assert missing == []


def test_every_expectation_matches_a_url():
    names = {name for name, _, _ in URLS}
    assert sorted(set(EXPECTATIONS) - names) == []
    kwargs = {name: converters for name, _, converters in URLS}
    assert {
        name: tuple(sorted(access.kwargs))
        for name, access in EXPECTATIONS.items()
        if name in kwargs and tuple(sorted(access.kwargs)) != kwargs[name]
    } == {}


def test_every_expectation_covers_every_role():
    incomplete = [
        f"{name}-{method}"
        for name, access in EXPECTATIONS.items()
        for method, statuses in access.statuses.items()
        if set(statuses) != set(ROLES)
    ]
    assert incomplete == []


def test_excluded_urls_are_only_admin_and_django_auth():
    covered = {name for name, _, _ in URLS}
    assert "signup" in covered
    # password_reset is the project's own (throttled) view, so the matrix covers it.
    assert covered.isdisjoint({"login", "logout", "password_change", "password_reset_confirm"})
    assert not any(route.startswith("admin/") for _, route, _ in URLS)


# The world every request runs in -----------------------------------------------


def _removed_passage(text):
    passage = Passage.objects.get(text=text, position=10)
    passage.position, passage.removed_at = None, timezone.now()
    passage.save(update_fields=["position", "removed_at"])
    return passage


class World(dict):
    """The objects requests run against; the costlier ones are made on first use."""

    builders = {
        "meeting": lambda world: Meeting.objects.create(
            group=world["group"],
            starts_at=timezone.now() + timedelta(days=3),
            first_position=1,
            last_position=3,
        ),
        "calendar_feed": lambda world: CalendarFeed.objects.create(user=world["users"]["member"]),
        "member_membership": lambda world: Membership.objects.get(
            group=world["group"], user=world["users"]["member"]
        ),
        # The member's comment on passage 2.
        "comment": lambda world: comment_create(
            author=world["users"]["member"],
            group=world["group"],
            passage=world["essay"].passages.get(position=2),
            body="A first thought.",
        ),
        # The facilitator's reply to the member's comment notifies the member.
        "notification": lambda world: Notification.objects.get(
            recipient=world["users"]["member"],
            comment=comment_create(
                author=world["users"]["facilitator"],
                group=world["group"],
                passage=world["essay"].passages.get(position=2),
                body="A reply.",
                parent=world["comment"],
            ),
        ),
        # Passage 10, taken out of the text by a revision (as text_revise does).
        "removed_passage": lambda world: _removed_passage(world["essay"]),
        "question": lambda world: question_create(
            facilitator=world["users"]["facilitator"],
            group=world["group"],
            body="What is a sect?",
            first_position=2,
            last_position=2,
        ),
        # The owner's private notebook on the essay, and what is in it.
        "notebook": lambda world: notebook_for(
            reader=world["users"]["notebook_owner"], text=world["essay"]
        ),
        "notebook_membership": lambda world: Membership.objects.get(
            group=world["notebook"], user=world["users"]["notebook_owner"]
        ),
        "notebook_comment": lambda world: comment_create(
            author=world["users"]["notebook_owner"],
            group=world["notebook"],
            passage=world["essay"].passages.get(position=2),
            body="A note to myself.",
        ),
        # No service makes a meeting or a question in a notebook; they are made
        # here so that a 404 for them comes from the rule, not from a missing row.
        "notebook_meeting": lambda world: Meeting.objects.create(
            group=world["notebook"],
            starts_at=timezone.now() + timedelta(days=3),
            first_position=1,
            last_position=3,
        ),
        "notebook_question": lambda world: Question.objects.create(
            group=world["notebook"],
            created_by=world["users"]["notebook_owner"],
            body="Am I a sect?",
            body_html="<p>Am I a sect?</p>",
            first_position=2,
            last_position=2,
        ),
    }

    def __missing__(self, key):
        value = self[key] = self.builders[key](self)
        return value


@functools.cache
def _shipped_essay():
    parsed = parse_text(SHIPPED_ESSAY.read_text(encoding="utf-8"))
    return parsed.title, parsed.passages


@pytest.fixture
def essay(db):
    """conftest's essay, made with one INSERT for its passages: the matrix needs it ~300 times."""
    title, passages = _shipped_essay()
    text = Text.objects.create(title=title, author=SHIPPED_ESSAY_AUTHOR, slug=slugify(title))
    Passage.objects.bulk_create(
        Passage(text=text, position=n, body=body, word_count=len(body.split()))
        for n, body in enumerate(passages, start=1)
    )
    return text


def test_fast_essay_is_the_shipped_essay(essay):
    result = shipped_essay_import()
    assert (result.text.pk, result.created, result.updated, result.unchanged) == (
        essay.pk,
        0,
        0,
        essay.passages.count(),
    )


@pytest.fixture
def world(essay, facilitator, member, outsider, group, reader):
    elsewhere = make_user("facilitator_elsewhere")
    make_group(essay, facilitator=elsewhere, name="Another circle")
    return World(
        essay=essay,
        group=group,
        users={
            "anonymous": None,
            "outsider": outsider,
            "member": member,
            "facilitator": facilitator,
            "facilitator_elsewhere": elsewhere,
            "notebook_owner": reader,
        },
    )


def client_for(world, role) -> Client:
    client = Client()
    if world["users"][role] is not None:
        client.force_login(world["users"][role])
    return client


def request(world, client, name, method):
    access = EXPECTATIONS[name]
    for need in access.needs:
        world[need]  # noqa: B018 - made before the request
    url = reverse(name, kwargs={key: KWARGS[key](world) for key in access.kwargs})
    data = access.data.get(method, lambda world: {})(world)
    if method in ("GET", "POST"):
        return getattr(client, method.lower())(url, data)
    return getattr(client, method.lower())(url)


def _cases():
    return [
        pytest.param(name, method, role, expected, id=f"{name}-{method}-{role}")
        for name, access in EXPECTATIONS.items()
        for method, statuses in access.statuses.items()
        for role, expected in statuses.items()
    ]


@pytest.mark.parametrize(("name", "method", "role", "expected"), _cases())
def test_access(world, name, method, role, expected):
    response = request(world, client_for(world, role), name, method)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN_PREFIX}?next=")
        return
    assert response.status_code == expected
    if expected == 302:
        # A redirect for someone allowed in is never a disguised trip to the login page.
        assert not response["Location"].startswith(LOGIN_PREFIX)


def _disallowed_cases():
    return [
        pytest.param(name, id=f"{name}-405-facilitator")
        for name, access in EXPECTATIONS.items()
        if set(ALL_METHODS) - set(access.methods)
    ]


@pytest.mark.parametrize("name", _disallowed_cases())
def test_disallowed_methods_are_405(world, name):
    # As the group's facilitator: nothing else (login, 404, 403) can mask the 405.
    client = client_for(world, "facilitator")
    disallowed = [m for m in ALL_METHODS if m not in EXPECTATIONS[name].methods]
    statuses = {method: request(world, client, name, method).status_code for method in disallowed}
    assert statuses == dict.fromkeys(disallowed, 405)


# Reaching into another group through one's own -------------------------------


def test_member_role_on_other_groups_membership_is_404(world):
    # A facilitator elsewhere names their own group but this group's membership.
    elsewhere = world["users"]["facilitator_elsewhere"]
    own = Membership.objects.get(user=elsewhere).group
    client = client_for(world, "facilitator_elsewhere")
    url = reverse("member_role", args=[own.slug, world["member_membership"].pk])
    assert client.post(url, {"role": "facilitator"}).status_code == 404
    assert (
        client.post(
            reverse("member_remove", args=[own.slug, world["member_membership"].pk])
        ).status_code
        == 404
    )
    world["member_membership"].refresh_from_db()
    assert world["member_membership"].role == "member"


def test_meeting_of_other_group_is_404(world):
    elsewhere = world["users"]["facilitator_elsewhere"]
    own = Membership.objects.get(user=elsewhere).group
    client = client_for(world, "facilitator_elsewhere")
    meeting = world["meeting"]
    assert client.get(reverse("meeting_edit", args=[own.slug, meeting.pk])).status_code == 404
    assert client.post(reverse("meeting_cancel", args=[own.slug, meeting.pk])).status_code == 404
    meeting.refresh_from_db()
    assert meeting.cancelled_at is None


def test_member_cannot_change_anything_facilitators_do(world):
    member_client = client_for(world, "member")
    group = world["group"]
    token = group.invite_token
    own = world["member_membership"]
    assert (
        member_client.post(
            reverse("member_role", args=[group.slug, own.pk]), {"role": "facilitator"}
        ).status_code
        == 403
    )
    assert (
        member_client.post(reverse("invitation_regenerate", args=[group.slug])).status_code == 403
    )
    own.refresh_from_db()
    group.refresh_from_db()
    assert (own.role, group.invite_token) == ("member", token)


# A private notebook -------------------------------------------------------------
#
# Its owner requests the group URLs of their own notebook; an outsider requests
# the same URLs. The owner reads and discusses as in any group (as its only
# facilitator, and author of the notebook's comment), but a notebook has no
# management pages: no editing, invitation, members, meetings or questions, and
# nobody leaves it. Those answer 404, as a page that does not exist. Every
# group-scoped URL of EXPECTATIONS must have a row here.

NOTEBOOK_ROLES = ("anonymous", "outsider", "notebook_owner")
# The world as seen from the notebook: its group, comment, meeting, question, membership.
NOTEBOOK_SCOPE = {
    "group": "notebook",
    "comment": "notebook_comment",
    "meeting": "notebook_meeting",
    "question": "notebook_question",
    "member_membership": "notebook_membership",
}


def own_notebook(owner):
    return {"anonymous": LOGIN, "outsider": 404, "notebook_owner": owner}


NO_SUCH_PAGE = own_notebook(404)

NOTEBOOK_EXPECTATIONS: dict[str, dict[str, dict[str, int | str]]] = {
    # Groups: the notebook's page, and none of the pages that manage a group.
    "group_detail": {"GET": own_notebook(200)},
    "group_edit": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "group_leave": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "invitation_regenerate": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "member_role": {"POST": NO_SUCH_PAGE},
    "member_remove": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "meeting_create": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "meeting_edit": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "meeting_cancel": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    # The owner's own reading, commenting and answering, and their activity per week.
    "group_progress": {"GET": own_notebook(200)},
    "meeting_detail": {"GET": own_notebook(200)},
    "meeting_handout": {"GET": own_notebook(200)},
    "meeting_calendar": {"GET": own_notebook(200)},
    "meeting_notes": {"POST": NO_SUCH_PAGE},
    "handout_threads": {"POST": NO_SUCH_PAGE},
    "meeting_restore": {"POST": NO_SUCH_PAGE},
    # A notebook invites nobody: its token is no invitation, for anyone.
    "group_join": {
        "GET": dict.fromkeys(NOTEBOOK_ROLES, 404),
        "POST": dict.fromkeys(NOTEBOOK_ROLES, 404),
    },
    # Discussions: as in a group, on the owner's own comment.
    "comment_create": {"POST": own_notebook(302)},
    "thread_more": {"GET": own_notebook(302)},
    "comment_updates": {"GET": own_notebook(200)},  # the poller moved past one's own
    "comment_thread": {"GET": own_notebook(200)},
    "comment_reply": {"GET": own_notebook(200)},
    "comment_edit": {"GET": own_notebook(200), "POST": own_notebook(302)},
    "quote_reattach": {"GET": own_notebook(403), "POST": own_notebook(403)},
    "comment_delete": {"GET": own_notebook(200), "POST": own_notebook(302)},
    "comment_helpful": {"POST": own_notebook(302)},  # one's own: sent back with a message
    "comment_hide": {"GET": own_notebook(200), "POST": own_notebook(302)},
    "comment_unhide": {"POST": own_notebook(302)},
    "comment_pin": {"POST": own_notebook(302)},
    "answer_highlight": {"POST": own_notebook(302)},
    # Questions: read as in a group; none of the pages that manage them.
    "question_list": {"GET": own_notebook(200)},
    "question_detail": {"GET": own_notebook(200)},
    "answer_save": {"POST": own_notebook(302)},
    "question_create": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "question_edit": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    "question_close": {"POST": NO_SUCH_PAGE},
    "question_move": {"POST": NO_SUCH_PAGE},
    "question_delete": {"GET": NO_SUCH_PAGE, "POST": NO_SUCH_PAGE},
    # Exports: the owner's notes as Markdown or CSV; a notebook is no group to back up.
    "export_discussion_markdown": {"GET": own_notebook(200)},
    "export_discussion_csv": {"GET": own_notebook(200)},
    "export_group_json": {"GET": NO_SUCH_PAGE},
}

GROUP_KWARGS = {"group_slug", "invite_token"}


def test_every_group_url_has_notebook_expectations():
    group_urls = {
        name for name, access in EXPECTATIONS.items() if GROUP_KWARGS & set(access.kwargs)
    }
    assert sorted(group_urls ^ set(NOTEBOOK_EXPECTATIONS)) == []


def test_notebook_expectations_cover_every_method_and_role():
    assert {
        name: (tuple(statuses), sorted(role for s in statuses.values() for role in s))
        for name, statuses in NOTEBOOK_EXPECTATIONS.items()
    } == {
        name: (EXPECTATIONS[name].methods, sorted(NOTEBOOK_ROLES * len(statuses)))
        for name, statuses in NOTEBOOK_EXPECTATIONS.items()
    }


class Scoped:
    """The world with the notebook's objects in place of the group's."""

    def __init__(self, world, scope):
        self.world, self.scope = world, scope

    def __getitem__(self, key):
        return self.world[self.scope.get(key, key)]


def _notebook_cases():
    return [
        pytest.param(name, method, role, expected, id=f"notebook-{name}-{method}-{role}")
        for name, methods in NOTEBOOK_EXPECTATIONS.items()
        for method, statuses in methods.items()
        for role, expected in statuses.items()
    ]


@pytest.mark.parametrize(("name", "method", "role", "expected"), _notebook_cases())
def test_notebook_access(world, name, method, role, expected):
    notebook = Scoped(world, NOTEBOOK_SCOPE)
    assert notebook["group"].notebook_owner == world["users"]["notebook_owner"]
    response = request(notebook, client_for(world, role), name, method)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN_PREFIX}?next=")
        return
    assert response.status_code == expected
    if expected == 302:
        assert not response["Location"].startswith(LOGIN_PREFIX)


def test_notebook_management_pages_change_nothing(world):
    notebook = Scoped(world, NOTEBOOK_SCOPE)
    client = client_for(world, "notebook_owner")
    group, meeting, question = notebook["group"], notebook["meeting"], notebook["question"]
    before = (group.name, group.invite_token, meeting.cancelled_at, question.closed_at)
    for name in ("group_edit", "invitation_regenerate", "meeting_cancel", "question_close"):
        request(notebook, client, name, "POST")
    request(notebook, client, "group_leave", "POST")
    request(notebook, client, "question_delete", "POST")
    group.refresh_from_db()
    meeting.refresh_from_db()
    question.refresh_from_db()
    assert (group.name, group.invite_token, meeting.cancelled_at, question.closed_at) == before
    assert list(group.memberships.values_list("user__username", flat=True)) == ["reader"]


# HEAD: every page a GET reaches answers HEAD the same way, with no body ------------

# The live poll is only ever requested by htmx, with GET.
HEAD_EXEMPT = {"comment_updates"}


def _head_cases():
    return [
        pytest.param(name, role, expected, id=f"{name}-HEAD-{role}")
        for name, access in EXPECTATIONS.items()
        if "GET" in access.statuses and name not in HEAD_EXEMPT
        for role, expected in access.statuses["GET"].items()
    ]


@pytest.mark.parametrize(("name", "role", "expected"), _head_cases())
def test_head_answers_as_get_does(world, name, role, expected):
    response = request(world, client_for(world, role), name, "HEAD")
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN_PREFIX}?next=")
        return
    assert response.status_code == expected
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == b""


def test_head_on_a_delete_page_deletes_nothing(world):
    comment = world["comment"]
    client = client_for(world, "member")

    response = request(world, client, "comment_delete", "HEAD")

    assert response.status_code == 200
    comment.refresh_from_db()
    assert comment.deleted_at is None
