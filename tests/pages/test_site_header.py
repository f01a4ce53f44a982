"""The site header: a member's is rendered once per worker and change (base.html's
`{% cache %}`, keyed by who they are and their unread count), so it must follow each
change and hold nothing secret; Log out still works without JavaScript."""

import re

import pytest
from django.test import Client

from discussions.models import Notification
from tests.discussions.helpers import post_comment
from tests.factories import make_user


def header(client) -> str:
    html = client.get("/").content.decode()
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def logged_in_client(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def test_site_header_follows_the_unread_count(member, facilitator, group, essay):
    member_client = logged_in_client(member)
    parent = post_comment(member, group, essay.passages.get(position=1), "Top.")
    assert "badge" not in header(member_client)

    post_comment(facilitator, group, parent.passage, "A reply.", parent=parent)
    assert '<span class="badge">1<span class="visually-hidden"> unread</span>' in header(
        member_client
    )

    Notification.objects.filter(recipient=member).update(read_at=parent.created_at)
    assert "badge" not in header(member_client)


def test_site_header_is_each_members_own(member, facilitator, group):
    assert ">member<" in header(logged_in_client(member))

    other = header(logged_in_client(facilitator))

    assert ">facilitator<" in other
    assert ">member<" not in other


def test_site_header_holds_no_csrf_token(member):
    assert "csrfmiddlewaretoken" not in header(logged_in_client(member))


def test_site_header_for_visitors_returns_them_where_they_were(client, essay):
    html = client.get("/texts/anatomy-of-the-sect/2/").content.decode()

    assert 'href="/accounts/login/?next=/texts/anatomy-of-the-sect/2/"' in html


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
