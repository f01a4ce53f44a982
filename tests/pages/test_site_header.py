"""The site header: a member's is rendered once per worker and change (base.html's
`{% cache %}`, keyed by who they are and their unread count), so it must follow each
change and hold nothing secret; Log out still works without JavaScript."""

import re

import pytest
from django.test import Client

from discussions.models import Notification
from tests.discussions.helpers import post_comment
from tests.factories import make_user


def header(client, path="/") -> str:
    html = client.get(path).content.decode()
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def badge(client) -> str | None:
    found = re.findall(
        r'<span class="badge">(\d+)<span class="visually-hidden"> unread', header(client)
    )
    # The wide row and the phone row each show it.
    assert len(set(found)) <= 1
    return found[0] if found else None


def whoami(client) -> str:
    return re.search(r'<a class="whoami" href="/me/">([^<]+)<', header(client)).group(1)


def logged_in_client(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def test_site_header_follows_the_unread_count(member, facilitator, group, essay):
    member_client = logged_in_client(member)
    parent = post_comment(member, group, essay.passages.get(position=1), "Top.")
    assert badge(member_client) is None

    post_comment(facilitator, group, parent.passage, "A reply.", parent=parent)
    assert badge(member_client) == "1"

    Notification.objects.filter(recipient=member).update(read_at=parent.created_at)
    assert badge(member_client) is None


def test_site_header_is_each_members_own(member, facilitator, group):
    member_client, facilitator_client = logged_in_client(member), logged_in_client(facilitator)
    # The same unread count (none): only who they are tells the two headers apart.
    assert (badge(member_client), badge(facilitator_client)) == (None, None)

    assert (whoami(member_client), whoami(facilitator_client)) == ("member", "facilitator")


def test_site_header_holds_no_csrf_token(member):
    assert "csrfmiddlewaretoken" not in header(logged_in_client(member))


def test_site_header_for_visitors_returns_them_where_they_were(client, essay):
    for path in ("/texts/anatomy-of-the-sect/2/", "/texts/anatomy-of-the-sect/3/"):
        logins = re.findall(r'href="(/accounts/login/[^"]*)"', header(client, path))

        assert logins == [f"/accounts/login/?next={path}"]


@pytest.mark.django_db
def test_site_header_logs_out_without_javascript():
    """Log out submits the page's post-action form (with its CSRF token) to its own
    formaction, as a browser does without JavaScript."""
    client = logged_in_client(make_user("leaving"), enforce_csrf_checks=True)
    html = client.get("/").content.decode()
    button = re.search(r'<button type="submit" form="post-action" formaction="([^"]+)"', html)
    token = re.search(
        r'<form id="post-action" method="post" hidden><input type="hidden" '
        r'name="csrfmiddlewaretoken" value="([^"]+)"',
        html,
    )

    response = client.post(button.group(1), {"csrfmiddlewaretoken": token.group(1)})

    assert (response.status_code, response["Location"]) == (302, "/")
    assert "_auth_user_id" not in client.session
