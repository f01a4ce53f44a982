"""Plain factory functions for tests: explicit, no magic."""

import itertools

from django.contrib.auth import get_user_model
from django.test import Client

from groups import services as group_services
from groups.models import Membership, StudyGroup
from reading import services
from reading.models import Text

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def make_user(username: str | None = None, **extra):
    username = username or f"reader{next(_counter)}"
    extra.setdefault("email", f"{username}@example.com")
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


def make_text(passages: int = 3, title: str | None = None) -> Text:
    title = title or f"Essay {next(_counter)}"
    body = "\n\n".join(
        f"Passage number {n} of the essay ends here." for n in range(1, passages + 1)
    )
    return services.text_import(source=f"{title}\n\n{body}\n", author="Test Author").text


def make_group(text: Text, facilitator=None, name: str | None = None, members=()) -> StudyGroup:
    facilitator = facilitator or make_user()
    group = group_services.group_create(
        creator=facilitator, text=text, name=name or f"Group {next(_counter)}"
    )
    for member in members:
        Membership.objects.create(group=group, user=member, role=Membership.Role.MEMBER)
    return group


def logged_in(user) -> Client:
    """A test client with `user` logged in."""
    client = Client()
    client.force_login(user)
    return client
