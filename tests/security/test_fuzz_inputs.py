"""Every URL answers hostile input with a 2xx, 3xx, 400, 403, 404, 405, 410, 422 or 429.

Property-based (Hypothesis): for every URL of the URLconf (the admin excepted), with
path parameters that are real, another group's, huge or junk, and form or query data
for every field the app reads (text with NUL bytes and lone surrogates, huge and
negative numbers, extreme dates, other groups' ids), sent as an anonymous visitor, a
member or a facilitator, with and without htmx. A 500 is a bug in the app.

Requests are encoded as a browser would send them: form bodies and query strings are
percent-encoded UTF-8, and lone surrogates travel as the bytes `surrogatepass` gives
(invalid UTF-8). Each example runs in a savepoint that is rolled back, so examples do
not depend on each other and the run is the same every time (derandomize).
"""

import functools
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import quote, quote_plus

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.text import slugify
from hypothesis import given, settings
from hypothesis import strategies as st

from discussions.services import answer_save, comment_create, question_create
from groups.models import Meeting, Membership
from reading.importing import parse_text
from reading.models import Passage, Text
from reading.services import SHIPPED_ESSAY, SHIPPED_ESSAY_AUTHOR
from tests.factories import PASSWORD, make_group, make_user

ACCEPTABLE = {400, 403, 404, 405, 410, 422, 429}
ROLES = ("member", "facilitator", "anonymous")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
EXAMPLES_PER_URL = 30

# Every field name a form or view of the app reads, and the query parameters.
FIELDS = (
    "body", "parent", "quote", "quote_start", "submission_id", "reason", "on", "read",
    "next", "text", "name", "description", "expires_at", "role", "starts_at",
    "first_position", "last_position", "agenda", "due_at", "meeting", "answer_first",
    "direction", "confirm", "email_replies", "email_mentions", "email_questions",
    "email_delivery", "group", "username", "email", "password", "password1", "password2",
    "old_password", "new_password1", "new_password2", "shown", "after", "part", "passage",
    "q", "kind", "author", "questions", "page",
)  # fmt: skip

EXTREME_VALUES = (
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\U0001f4a9", "\u202e", "\ufeff",
    "-1", "0", "1", "2", "10", "11", "-2147483649", "2147483648", "-9223372036854775809",
    "9223372036854775808", str(2**100), f"-{2**100}", "1e309", "-0", "NaN", "inf", "0x1F",
    "\u0661\u0662", "3.5", "1_000",
    "9999-12-31T23:59-14:00", "0001-01-01T00:30+01:00", "9999-12-31T23:59", "0001-01-01T00:00",
    "10000-01-01T00:00", "2024-02-30T10:00", "1970-01-01T00:00:00Z", "9999-12-31", "0001-01-01",
    "9999-12-31 23:59:59.999999", "0000-00-00T00:00", "-0001-01-01T00:00",
    "on", "off", "true", "false", "up", "down", "sideways", "member", "facilitator", "owner",
    "replies", "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "<script>alert(1)</script>", "@ada", "00000000-0000-0000-0000-000000000000",
    "5a0fbc1e-1f6a-4c5e-9e5b-3f1f0a9d2c77", "not-a-uuid", "x" * 11_000,
)  # fmt: skip

any_text = st.text(
    alphabet=st.characters(exclude_categories=()),  # surrogates included
    max_size=40,
)
any_number = st.integers(min_value=-(2**70), max_value=2**70).map(str)
junk_slug = st.from_regex(r"[-a-zA-Z0-9_]{1,80}", fullmatch=True) | st.just("a" * 300)
any_int = st.integers(min_value=0, max_value=2**80)
INT_PARAMETERS = {
    "position",
    "passage_pk",
    "comment_pk",
    "question_pk",
    "meeting_pk",
    "membership_pk",
}


# The URLconf (all of it but the admin) -------------------------------------------


def _walk(patterns, prefix="", converters=()):
    for entry in patterns:
        found = converters + tuple(entry.pattern.converters)
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), found)
        elif isinstance(entry, URLPattern):
            yield entry.name, prefix + str(entry.pattern), tuple(sorted(found))


URLS = sorted(set(_walk(get_resolver().url_patterns)))


def test_the_fuzzed_urls_are_the_urlconf():
    names = {name for name, _, _ in URLS}
    assert {"comment_create", "answer_save", "login", "signup", "group_join"} <= names
    assert not any(route.startswith("admin/") for _, route, _ in URLS)


# The world: a group with everything in it, and another group -------------------------


@dataclass
class World:
    own: dict  # path parameter -> this group's values (the member's first)
    other: dict  # path parameter -> another group's values, the notebook, edge positions
    extra_values: tuple  # real ids and slugs, also thrown at form fields
    clients: dict
    valid: dict  # URL name -> a valid form for it, so one bad field reaches deep


def valid_forms(essay, group) -> dict:
    """For each form, a valid submission: the fuzzer replaces or adds fields to it."""
    future = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    toggle = {"on": "1"}
    question = {"body": "Why?", "first_position": "1", "last_position": "2"}
    meeting = {"starts_at": future, "first_position": "1", "last_position": "2", "agenda": ""}
    submission = {"submission_id": "5a0fbc1e-1f6a-4c5e-9e5b-3f1f0a9d2c77"}
    return {
        "signup": {
            "username": "newreader",
            "email": "newreader@example.com",
            "password1": "a long passphrase 7",
            "password2": "a long passphrase 7",
        },
        "login": {"username": "member", "password": PASSWORD},
        "password_change": {
            "old_password": PASSWORD,
            "new_password1": "a long passphrase 7",
            "new_password2": "a long passphrase 7",
        },
        "password_reset": {"email": "member@example.com"},
        "progress_update": {"read": "1"},
        "group_choose": {"group": group.slug},
        "group_create": {"text": str(essay.pk), "name": "New circle", "description": ""},
        "group_edit": {"name": "Renamed circle", "description": ""},
        "invitation_regenerate": {"expires_at": future},
        "member_role": {"role": "facilitator"},
        "meeting_create": meeting,
        "meeting_edit": meeting,
        "comment_create": {"body": "A new thought.", **submission},
        "comment_edit": {"body": "An edited thought."},
        "quote_reattach": {"quote": "To sum up"},
        "comment_helpful": toggle,
        "comment_pin": toggle,
        "answer_highlight": toggle,
        "question_close": toggle,
        "comment_hide": {"reason": "Off topic."},
        "question_create": {**question, **submission},
        "question_edit": question,
        "answer_save": {"body": "My answer.", **submission},
        "question_move": {"direction": "up"},
        "question_delete": {"confirm": "on"},
        "notification_settings": {"email_replies": "on"},
        "passage_detail": {"group": group.slug},
        "comment_updates": {"after": "0"},
        "search": {"q": "sect organ", "kind": "", "group": group.slug, "author": "member"},
    }


@functools.cache
def _shipped_essay():
    parsed = parse_text(SHIPPED_ESSAY.read_text(encoding="utf-8"))
    return parsed.title, parsed.passages


def _essay():
    title, passages = _shipped_essay()
    text = Text.objects.create(title=title, author=SHIPPED_ESSAY_AUTHOR, slug=slugify(title))
    Passage.objects.bulk_create(
        Passage(text=text, position=n, body=body, word_count=len(body.split()))
        for n, body in enumerate(passages, start=1)
    )
    return text


def _group_content(group, facilitator, member):
    passage = group.text.passages.get(position=2)
    comment = comment_create(author=member, group=group, passage=passage, body="A thought.")
    reply = comment_create(
        author=facilitator, group=group, passage=passage, body="A reply.", parent=comment
    )
    question = question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=2, last_position=3
    )
    answer = answer_save(author=member, question=question, body="Because.")
    meeting = Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=3),
        first_position=1,
        last_position=3,
    )
    return {
        "comment_pk": [comment.pk, reply.pk, answer.pk],
        "question_pk": [question.pk],
        "meeting_pk": [meeting.pk],
        # the member's membership first: demoting the only facilitator is refused anyway
        "membership_pk": list(group.memberships.order_by("-user_id").values_list("pk", flat=True)),
        "invite_token": [group.invite_token],
        "group_slug": [group.slug],
    }


@pytest.fixture
def world(db):
    essay = _essay()
    facilitator, member = make_user("facilitator"), make_user("member")
    group = make_group(essay, facilitator=facilitator, name="Reading circle", members=[member])
    stranger, stranger_member = make_user("stranger"), make_user("stranger_member")
    elsewhere = make_group(
        essay, facilitator=stranger, name="Another circle", members=[stranger_member]
    )
    own = _group_content(group, facilitator, member)
    other = _group_content(elsewhere, stranger, stranger_member)
    notebook = Membership.objects.filter(user=member).exclude(group__in=[group, elsewhere]).first()
    if notebook is not None:
        other["group_slug"].append(notebook.group.slug)
    removed = Passage.objects.create(
        text=essay, position=None, removed_at=timezone.now(), body="Gone.", word_count=1
    )
    own |= {
        "text_slug": [essay.slug],
        "position": [2, 3, 1],
        "passage_pk": [removed.pk],
        "uidb64": ["MQ"],
        "token": ["x"],
    }
    other |= {
        "text_slug": [],
        "position": [10, 11],
        "passage_pk": [essay.passages.get(position=2).pk],
        "uidb64": ["Mg"],
        "token": ["set-password"],
    }
    extra = tuple(str(v) for values in (own, other) for vs in values.values() for v in vs)
    clients = {}
    for role, user in (("anonymous", None), ("member", member), ("facilitator", facilitator)):
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        clients[role] = client
    return World(
        own=own, other=other, extra_values=extra, clients=clients, valid=valid_forms(essay, group)
    )


# Requests ---------------------------------------------------------------------------


def encode(pairs) -> str:
    """Form or query encoding of (name, value) pairs, lone surrogates included."""
    return "&".join(
        f"{quote_plus(k.encode('utf-8', 'surrogatepass'))}="
        f"{quote_plus(v.encode('utf-8', 'surrogatepass'))}"
        for k, v in pairs
    )


def path_for(route: str, kwargs: dict) -> str:
    path = route
    for name, value in kwargs.items():
        for converter in ("int", "slug", "str", "path", ""):
            token = f"<{converter}:{name}>" if converter else f"<{name}>"
            path = path.replace(token, quote(str(value), safe=""))
    return "/" + path


def value_strategy(world: World):
    return st.one_of(
        st.sampled_from(EXTREME_VALUES + world.extra_values),
        any_text,
        any_number,
    )


def path_value(world: World, name: str):
    """Mostly this group's values (so requests get past the 404), else another group's,
    else junk."""
    choices = [
        st.sampled_from(values) for values in (world.own.get(name), world.other.get(name)) if values
    ]
    choices.append(any_int if name in INT_PARAMETERS or name.endswith("_pk") else junk_slug)
    return st.integers(0, 7).flatmap(lambda n: choices[min(max(n - 4, 0), len(choices) - 1)])


def allowed_methods(world: World, route: str, converters: tuple) -> tuple[str, ...]:
    """The methods the view takes, from the `Allow` header of an OPTIONS request."""
    path = path_for(route, {key: world.own.get(key, ["1"])[0] for key in converters})
    response = world.clients["facilitator"].options(path)
    allowed = [m.strip() for m in response.get("Allow", "").split(",")]
    return tuple(m for m in ("GET", "POST") if m in allowed) or ("GET", "POST")


@dataclass
class Probe:
    role: str
    method: str
    path: str
    body: str
    htmx: bool

    def __str__(self):
        htmx = " (htmx)" if self.htmx else ""
        body = f" body={self.body[:300]!r}" if self.body else ""
        return f"{self.method} {self.path[:300]!r} as {self.role}{htmx}{body}"


def draw_probe(data, world: World, name: str, route: str, converters: tuple, methods) -> Probe:
    kwargs = {key: data.draw(path_value(world, key), label=key) for key in converters}
    values = value_strategy(world)
    own_fields = sorted(world.valid.get(name, {}))
    fields = st.sampled_from(FIELDS)
    if own_fields:
        fields = st.sampled_from(own_fields) | fields
    pairs = data.draw(st.lists(st.tuples(fields, values), max_size=4), label="fields")
    if data.draw(st.integers(0, 3), label="not from a valid form") < 3:
        changed = {key for key, _ in pairs}
        valid = world.valid.get(name, {}).items()
        pairs = [(k, v) for k, v in valid if k not in changed] + pairs
    # Mostly what the view takes; now and then any method.
    method = data.draw(
        st.integers(0, 9).flatmap(
            lambda n: st.sampled_from(METHODS) if n == 9 else st.sampled_from(methods)
        ),
        label="method",
    )
    query = data.draw(
        st.lists(st.tuples(st.sampled_from(FIELDS), values), max_size=3), label="query"
    )
    path = path_for(route, kwargs)
    if query or method == "GET":
        query_string = encode(query + (pairs if method == "GET" else []))
        path = f"{path}?{query_string}" if query_string else path
    return Probe(
        role=data.draw(st.sampled_from(ROLES), label="role"),
        method=method,
        path=path,
        body=encode(pairs) if method != "GET" else "",
        htmx=data.draw(st.booleans(), label="htmx"),
    )


def send(world: World, probe: Probe):
    client = world.clients[probe.role]
    cookies = {key: morsel.value for key, morsel in client.cookies.items()}
    savepoint = transaction.savepoint_create()
    try:
        return client.generic(
            probe.method,
            probe.path,
            data=probe.body.encode("ascii"),
            content_type="application/x-www-form-urlencoded",
            headers={"HX-Request": "true"} if probe.htmx else {},
        )
    finally:
        transaction.savepoint_rollback(savepoint)
        client.cookies = SimpleCookie(cookies)  # a signup or logout does not carry over


def acceptable(status: int) -> bool:
    return 200 <= status < 400 or status in ACCEPTABLE


def explain(response) -> str:
    exc_info = getattr(response, "exc_info", None)
    if not exc_info:
        return ""
    return f": {exc_info[0].__name__}: {str(exc_info[1])[:300]}"


@pytest.mark.parametrize(
    ("name", "route", "converters"), URLS, ids=[name or route for name, route, _ in URLS]
)
def test_url_answers_any_input_without_a_server_error(world, name, route, converters):
    methods = allowed_methods(world, route, converters)

    @settings(
        max_examples=EXAMPLES_PER_URL,
        deadline=None,
        derandomize=True,
        database=None,
    )
    @given(data=st.data())
    def probe_url(data):
        probe = draw_probe(data, world, name, route, converters, methods)
        response = send(world, probe)
        assert acceptable(response.status_code), (
            f"{response.status_code} for {probe}{explain(response)}"
        )

    probe_url()
