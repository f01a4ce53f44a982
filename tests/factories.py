"""Plain factory functions for tests: explicit, no magic."""

import itertools
import threading

from django.contrib.auth import get_user_model
from django.db import connection
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


def at_once(*actions) -> list:
    """Run each action in its own thread, all released together (as concurrent requests
    reach the server); return what each returned, or the exception it raised, in order.
    Needs `django_db(transaction=True)`: each thread has its own connection."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except Exception as error:  # noqa: BLE001 - the test reads it from the results
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [thread.is_alive() for thread in threads] == [False] * len(actions)
    return results
