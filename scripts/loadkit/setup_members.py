"""Run inside `manage.py shell -c` with the load test's environment: load the demo data
and make the members.

Reads LOADTEST_MEMBERS, LOADTEST_FORM_LOGINS and LOADTEST_PASSWORD; prints one line,
`LOADTEST-SETUP <json>`, describing the group, passages, questions, comments and members.
Members after the first LOADTEST_FORM_LOGINS get a session made here (force_login), so
50 members do not cost 50 password hashes of production strength at the start.
"""

import io
import json
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db.models import Max
from django.test import Client
from django.test.utils import override_settings

from discussions.models import Comment, Question
from groups.demo import DEMO_GROUP_SLUG
from groups.models import Membership, StudyGroup


def load_demo() -> None:
    """The essay, the demo group and its discussion (`manage.py load_demo`). The demo
    readers never log in during the load test, so their passwords are hashed cheaply."""
    cheap = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=cheap):
        call_command("load_demo", stdout=io.StringIO())


def make_members() -> dict:
    count = int(os.environ["LOADTEST_MEMBERS"])
    form_logins = int(os.environ["LOADTEST_FORM_LOGINS"])
    group = StudyGroup.objects.select_related("text").get(slug=DEMO_GROUP_SLUG)
    User = get_user_model()
    encoded = make_password(os.environ["LOADTEST_PASSWORD"])  # one hash for all: same password
    users = User.objects.bulk_create(
        User(username=f"member{n:03d}", email=f"member{n:03d}@example.com", password=encoded)
        for n in range(1, count + 1)
    )
    Membership.objects.bulk_create(
        Membership(group=group, user=user, role=Membership.Role.MEMBER) for user in users
    )
    members = []
    for index, user in enumerate(users):
        session = None
        if index >= form_logins:
            client = Client()
            client.force_login(user)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
        members.append({"username": user.username, "id": user.pk, "session": session})
    passages = dict(group.text.passages.values_list("position", "id"))
    comments = [
        {
            "id": comment.pk,
            "position": comment.passage.position,
            "author": comment.author.username if comment.author else "",
            "top": comment.parent_id is None,
        }
        for comment in Comment.objects.filter(
            group=group, question__isnull=True, deleted_at__isnull=True, hidden_at__isnull=True
        ).select_related("passage", "author")
    ]
    questions = [
        {"id": q.pk, "first_position": q.first_position, "closed": q.closed_at is not None}
        for q in Question.objects.filter(group=group)
    ]
    return {
        "group": group.slug,
        "group_id": group.pk,
        "text": group.text.slug,
        "passages": passages,
        "comments": comments,
        "questions": questions,
        "members": members,
        "max_comment_id": Comment.objects.aggregate(last=Max("pk"))["last"] or 0,
        "tasks": {name: config.get("BACKEND", "") for name, config in settings.TASKS.items()},
        "installed_apps": list(settings.INSTALLED_APPS),
    }


load_demo()
print("LOADTEST-SETUP " + json.dumps(make_members()))
