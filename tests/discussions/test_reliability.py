"""Issue 12: throttling, idempotent posting, honest outage answers, health."""

import re
import smtplib
import uuid
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from discussions import services
from discussions.models import Comment, Question
from groups import throttling
from groups.models import ActionCount, StudyGroup
from tests.discussions.helpers import create_url, passage_url
from tests.factories import make_group, make_user

HTMX = {"HX-Request": "true"}


# Idempotent posting ----------------------------------------------------------------------


def test_comment_posted_twice_with_one_submission_id_is_stored_once(member_client, group):
    data = {"body": "Said once.", "submission_id": str(uuid.uuid4())}

    first = member_client.post(create_url(group), data)
    second = member_client.post(create_url(group), data)

    comment = Comment.objects.get()
    assert (first.status_code, second.status_code) == (302, 302)
    assert first["Location"] == second["Location"] == (f"{passage_url(group)}#comment-{comment.pk}")


def test_comment_repeated_with_htmx_answers_as_the_first_post_did(member_client, group):
    """A retry after a lost response shows the comment the first post made."""
    data = {"body": "Said once.", "submission_id": str(uuid.uuid4())}

    first = member_client.post(create_url(group), data, headers=HTMX)
    second = member_client.post(create_url(group), data, headers=HTMX)

    comment = Comment.objects.get()
    assert (first.status_code, second.status_code) == (200, 200)
    assert (
        first["HX-Trigger"]
        == second["HX-Trigger"]
        == f'{{"comment-posted": {{"id": {comment.pk}}}}}'
    )
    assert without_submission_ids(first) == without_submission_ids(second)
    assert f'id="comment-{comment.pk}"' in second.content.decode()
    # The page gets a fresh id for its next comment.
    assert 'name="submission_id"' in first.content.decode()
    assert data["submission_id"] not in first.content.decode()
    assert data["submission_id"] not in second.content.decode()


def test_reply_repeated_with_htmx_answers_as_the_first_post_did(
    member_client, facilitator, group, passage
):
    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    data = {"body": "A reply.", "parent": parent.pk, "submission_id": str(uuid.uuid4())}

    first = member_client.post(create_url(group), data, headers=HTMX)
    second = member_client.post(create_url(group), data, headers=HTMX)

    reply = Comment.objects.get(parent=parent)
    assert (first.status_code, second.status_code) == (200, 200)
    assert without_submission_ids(first) == without_submission_ids(second)
    assert f'id="reply-slot-{parent.pk}"' in second.content.decode()
    assert f'id="comment-{reply.pk}"' in second.content.decode()


def test_reply_to_an_answer_repeated_with_htmx_answers_as_the_first_post_did(
    member_client, member, facilitator, other_member, group, passage
):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    answer = services.answer_save(author=other_member, question=question, body="Because.")
    services.answer_save(author=member, question=question, body="Me.")
    data = {"body": "Agreed.", "parent": answer.pk, "submission_id": str(uuid.uuid4())}

    first = member_client.post(create_url(group), data, headers=HTMX)
    second = member_client.post(create_url(group), data, headers=HTMX)

    assert (first.status_code, second.status_code) == (200, 200)
    assert without_submission_ids(first) == without_submission_ids(second)
    assert Comment.objects.filter(parent=answer).count() == 1


def test_answer_repeated_with_htmx_answers_as_the_first_post_did(member_client, facilitator, group):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    url = reverse("answer_save", args=[group.slug, question.pk])

    first = member_client.post(url, {"body": "Because."}, headers=HTMX)
    second = member_client.post(url, {"body": "Because."}, headers=HTMX)

    assert (first.status_code, second.status_code) == (200, 200)
    assert without_submission_ids(first) == without_submission_ids(second)
    assert Comment.objects.answers().count() == 1


def test_question_repeated_answers_as_the_first_post_did(facilitator_client, group):
    data = {
        "body": "Why?",
        "first_position": 1,
        "last_position": 1,
        "submission_id": str(uuid.uuid4()),
    }
    url = reverse("question_create", args=[group.slug])

    first = facilitator_client.post(url, data)
    second = facilitator_client.post(url, data)

    question = Question.objects.get()
    assert (first.status_code, second.status_code) == (302, 302)
    assert first["Location"] == second["Location"] == question.get_absolute_url()


def without_submission_ids(response) -> str:
    """A response's HTML without the one-time ids and tokens it hands out fresh each time."""
    html = response.content.decode()
    html = re.sub(r'name="submission_id" value="[^"]*"', 'name="submission_id"', html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)


def test_comments_with_different_submission_ids_are_both_stored(member_client, group):
    for body in ("One.", "Two."):
        member_client.post(create_url(group), {"body": body, "submission_id": str(uuid.uuid4())})
    assert sorted(Comment.objects.values_list("body", flat=True)) == ["One.", "Two."]


def test_same_submission_id_from_two_members_makes_two_comments(member_client, other_client, group):
    data = {"body": "Same form id, two people.", "submission_id": str(uuid.uuid4())}
    member_client.post(create_url(group), data)
    other_client.post(create_url(group), data)
    assert Comment.objects.count() == 2


def test_comment_form_carries_a_fresh_submission_id(member_client, group):
    first = member_client.get(passage_url(group)).content.decode()
    second = member_client.get(passage_url(group)).content.decode()
    pattern = 'name="submission_id" value="'
    assert pattern in first
    assert first.split(pattern)[1][:36] != second.split(pattern)[1][:36]


def test_question_posted_twice_with_one_submission_id_is_stored_once(facilitator_client, group):
    data = {
        "body": "Why?",
        "first_position": 1,
        "last_position": 1,
        "submission_id": str(uuid.uuid4()),
    }
    url = reverse("question_create", args=[group.slug])
    facilitator_client.post(url, data)
    facilitator_client.post(url, data)
    assert Question.objects.count() == 1


def test_a_form_sent_again_with_other_words_is_a_new_comment(member_client, group):
    """A page restored by Back keeps its form's id: what is typed there is a new post,
    and a double click of that one posts it once."""
    submission_id = str(uuid.uuid4())
    member_client.post(create_url(group), {"body": "First.", "submission_id": submission_id})

    responses = [
        member_client.post(create_url(group), {"body": "Second.", "submission_id": submission_id})
        for _click in range(2)
    ]

    second = Comment.objects.get(body="Second.")
    for response in responses:
        assert response["Location"] == f"{passage_url(group)}#comment-{second.pk}"
    assert Comment.objects.count() == 2


def test_a_form_sent_again_after_its_comment_was_deleted_posts_anew(member, member_client, group):
    data = {"body": "Said again.", "submission_id": str(uuid.uuid4())}
    member_client.post(create_url(group), data)
    services.comment_delete(user=member, comment=Comment.objects.get())

    member_client.post(create_url(group), data)

    assert Comment.objects.filter(body="Said again.", deleted_at__isnull=True).count() == 1


def test_an_id_used_in_another_group_or_passage_posts_here(member, member_client, group):
    elsewhere = make_group(group.text, facilitator=make_user("host"), members=[member])
    submission_id = str(uuid.uuid4())
    member_client.post(create_url(elsewhere), {"body": "Same.", "submission_id": submission_id})
    member_client.post(create_url(group, 2), {"body": "Same.", "submission_id": submission_id})

    response = member_client.post(
        create_url(group), {"body": "Same.", "submission_id": submission_id}, headers=HTMX
    )

    assert response.status_code == 200
    here = Comment.objects.get(group=group, passage__position=1)
    assert f'id="comment-{here.pk}"' in response.content.decode()
    assert Comment.objects.filter(body="Same.").count() == 3


def test_a_question_form_sent_again_with_other_words_is_a_new_question(facilitator_client, group):
    url = reverse("question_create", args=[group.slug])
    data = {"first_position": 1, "last_position": 1, "submission_id": str(uuid.uuid4())}
    facilitator_client.post(url, {**data, "body": "Why?"})
    for _click in range(2):
        facilitator_client.post(
            url, {**data, "body": "And how?", "first_position": 3, "last_position": 3}
        )

    assert sorted(Question.objects.values_list("body", "first_position")) == [
        ("And how?", 3),
        ("Why?", 1),
    ]


def test_a_question_form_sent_again_after_its_question_was_edited_asks_it_anew(
    facilitator, facilitator_client, group
):
    url = reverse("question_create", args=[group.slug])
    data = {"body": "Why?", "first_position": 1, "last_position": 1}
    data["submission_id"] = str(uuid.uuid4())
    facilitator_client.post(url, data)
    question = Question.objects.get()
    question.body = "Why, really?"
    services.question_update(facilitator=facilitator, question=question)

    response = facilitator_client.post(url, data)

    assert response.status_code == 302
    assert sorted(Question.objects.values_list("body", flat=True)) == ["Why, really?", "Why?"]


# Throttling --------------------------------------------------------------------------------


def test_past_the_limit_without_javascript_the_words_come_back_in_a_form_that_posts_them(
    member_client, group
):
    for n in range(throttling.POSTING.count):
        member_client.post(create_url(group), {"body": f"Comment {n}."})
    typed = {
        "body": "    A code block & <b>words</b>\nworth keeping.",
        "submission_id": str(uuid.uuid4()),
        "quote": "",
    }

    response = member_client.post(create_url(group), typed)

    assert response.status_code == 429
    page = response.content.decode()
    resend = re.search(r'<form method="post" action="([^"]+)".*?</form>', page, re.S)
    assert resend and resend[1] == create_url(group)
    assert (
        '<textarea id="resend-body" name="body" rows="8" required>'
        "    A code block &amp; &lt;b&gt;words&lt;/b&gt;\nworth keeping.</textarea>"
    ) in resend[0]
    assert (
        f'<input type="hidden" name="submission_id" value="{typed["submission_id"]}">' in resend[0]
    )
    assert 'name="csrfmiddlewaretoken"' in resend[0]
    assert not Comment.objects.filter(body__startswith="    A code block").exists()


def test_a_refused_sign_up_does_not_echo_the_form_back(client, db):
    for n in range(throttling.SIGNUP.count):
        client.post("/accounts/signup/", {"username": f"new{n}", "password1": "x"})

    response = client.post(
        "/accounts/signup/", {"username": "late", "password1": "s3cret-enough", "body": "x"}
    )

    assert response.status_code == 429
    assert "s3cret-enough" not in response.content.decode()


def test_posting_past_the_limit_answers_429_with_a_message_and_saves_nothing(member_client, group):
    for n in range(throttling.POSTING.count):
        assert member_client.post(create_url(group), {"body": f"Comment {n}."}).status_code == 302

    response = member_client.post(create_url(group), {"body": "One too many."})

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert throttling.POSTING.message in response.content.decode()
    assert Comment.objects.count() == throttling.POSTING.count


def test_posting_limit_with_htmx_is_plain_text(member_client, member, group):
    ActionCount.objects.create(
        key=f"post:user:{member.pk}",
        window_start=throttling_window(throttling.POSTING),
        count=throttling.POSTING.count,
    )
    response = member_client.post(create_url(group), {"body": "Too fast."}, headers=HTMX)
    assert response.status_code == 429
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == throttling.POSTING.message
    assert Comment.objects.count() == 0


def throttling_window(limit):
    now = timezone.now()
    seconds = int(limit.per.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def test_throttle_counts_are_per_subject_and_window(db):
    limit = throttling.Limit("test", 2, throttling.POSTING.per, "slow")
    throttling.throttle(limit, "a")
    throttling.throttle(limit, "a")
    throttling.throttle(limit, "b")
    with pytest.raises(throttling.RateLimited):
        throttling.throttle(limit, "a")


@pytest.mark.django_db
def test_login_is_locked_after_repeated_wrong_passwords(client, reader, settings):
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "reader", "password": "wrong"})
        assert response.status_code == 200
    assert client.post(url, {"username": "reader", "password": "wrong"}).status_code == 429

    response = client.post(url, {"username": "reader", "password": "correct-horse-battery"})

    assert response.status_code == 429
    assert "logging in is paused for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def wrong_password(username: str, address: str) -> int:
    client = Client(REMOTE_ADDR=address)
    return client.post(reverse("login"), {"username": username, "password": "wrong"}).status_code


def logs_in(username: str, address: str) -> int:
    client = Client(REMOTE_ADDR=address)
    data = {"username": username, "password": "correct-horse-battery"}
    return client.post(reverse("login"), data).status_code


@pytest.mark.django_db
def test_wrong_passwords_from_one_address_do_not_lock_the_account_elsewhere(reader, settings):
    """Knowing a member's name is not enough to lock them out: the account is paused
    only for the address the wrong passwords came from."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password("reader", "203.0.113.7")

    assert logs_in("reader", "203.0.113.7") == 429
    assert logs_in("reader", "198.51.100.2") == 302


@pytest.mark.django_db
def test_many_accounts_tried_from_one_address_lock_that_address(reader, settings):
    """Spread over many names, wrong passwords from one address stop at a higher limit."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for n in range(7):
        assert wrong_password(f"guess{n}", "203.0.113.7") == 200
    assert logs_in("reader", "203.0.113.7") == 302

    wrong_password("guess7", "203.0.113.7")

    assert logs_in("reader", "203.0.113.7") == 429
    assert logs_in("reader", "198.51.100.2") == 302


def test_signup_from_one_address_is_limited(client, db):
    url = reverse("signup")
    for n in range(throttling.SIGNUP.count):
        client.post(url, {"username": f"user{n}"})  # invalid forms count too
    response = client.post(url, {"username": "one-more"})
    assert response.status_code == 429
    assert throttling.SIGNUP.message in response.content.decode()


def test_password_reset_emails_are_limited_per_address(client, reader, mailoutbox):
    url = reverse("password_reset")
    for _ in range(throttling.PASSWORD_RESET.count):
        assert client.post(url, {"email": reader.email}).status_code == 302
    response = client.post(url, {"email": reader.email})
    assert response.status_code == 429
    assert len(mailoutbox) == throttling.PASSWORD_RESET.count


# Outage and health -------------------------------------------------------------------------


def test_database_outage_answers_503_with_retry_after_and_an_honest_page(member, group, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(member)
    with mock.patch(
        "pages.views.page_selectors.passage_page",
        side_effect=OperationalError("connection refused"),
    ):
        response = client.get(passage_url(group))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "may not have been saved" in html
    assert "Nothing you wrote was lost" not in html


def test_other_errors_answer_500_without_promising_anything(member, group, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(member)
    with mock.patch("pages.views.page_selectors.passage_page", side_effect=RuntimeError("bug")):
        response = client.get(passage_url(group))
    assert response.status_code == 500
    assert "may not have been saved" in response.content.decode()


def test_healthz_reports_database_and_task_queue(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "task_queue": "immediate"}


def test_healthz_with_database_queue(client, db, settings):
    settings.TASKS_BACKEND = "database"
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        200,
        {"database": "ok", "task_queue": "ok"},
    )


def test_healthz_when_the_database_is_down_is_503(client, db):
    with mock.patch("sectstudy.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        503,
        {"database": "unreachable", "task_queue": "unknown"},
    )


# Emails out of the request, retried ---------------------------------------------------------


@pytest.fixture
def database_task_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASKS_BACKEND = "database"


def test_reply_email_is_queued_in_the_database_not_sent_in_the_request(
    database_task_queue,
    member,
    facilitator,
    group,
    passage,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    from django_tasks_db.models import DBTaskResult

    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(
            author=member, group=group, passage=passage, body="A reply", parent=parent
        )

    assert mailoutbox == []
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "discussions.tasks.send_reply_email"
    ]


def test_failed_reply_email_is_retried_later(
    database_task_queue, member, facilitator, group, passage, mailoutbox
):
    from django_tasks_db.models import DBTaskResult

    from discussions.tasks import send_reply_email

    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    reply = services.comment_create(
        author=member, group=group, passage=passage, body="A reply", parent=parent
    )
    DBTaskResult.objects.all().delete()
    with mock.patch(
        "discussions.tasks.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")
    ):
        sent = send_reply_email.call(comment_id=reply.pk, recipient_id=facilitator.pk)

    retry = DBTaskResult.objects.get()
    assert sent is False
    assert retry.args_kwargs["kwargs"] == {
        "attempt": 2,
        "comment_id": reply.pk,
        "recipient_id": facilitator.pk,
    }
    assert retry.run_after > timezone.now()

    # The next attempt, with the mail server back, sends it.
    assert send_reply_email.call(**retry.args_kwargs["kwargs"]) is True
    assert [m.to for m in mailoutbox] == [[facilitator.email]]


def test_a_reply_email_that_cannot_be_made_fails_and_is_not_recorded_as_sent(
    database_task_queue, member, facilitator, group, passage
):
    from discussions.models import Notification
    from discussions.tasks import send_reply_email

    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    reply = services.comment_create(
        author=member, group=group, passage=passage, body="A reply", parent=parent
    )
    with (
        mock.patch("discussions.tasks.send_mail", side_effect=ValueError("bad header")),
        pytest.raises(ValueError, match="bad header"),
    ):
        send_reply_email.call(comment_id=reply.pk, recipient_id=facilitator.pk)

    assert Notification.objects.get(comment=reply).emailed_at is None


def test_a_group_name_saved_with_a_line_break_still_gets_its_emails_out(
    member, facilitator, group, passage, mailoutbox
):
    """Names are checked now; one saved before (or by hand) must not stop the emails."""
    from discussions.tasks import send_reply_email

    StudyGroup.objects.filter(pk=group.pk).update(name="Night\u2028readers")
    group.refresh_from_db()
    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    reply = services.comment_create(
        author=member, group=group, passage=passage, body="A reply", parent=parent
    )

    assert send_reply_email.call(comment_id=reply.pk, recipient_id=facilitator.pk) is True
    assert [m.subject for m in mailoutbox] == ["member replied to you in Night readers"]


def test_reply_email_gives_up_after_the_last_attempt(
    database_task_queue, member, facilitator, group, passage
):
    from django_tasks_db.models import DBTaskResult

    from discussions.tasks import MAX_ATTEMPTS, send_reply_email

    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    reply = services.comment_create(
        author=member, group=group, passage=passage, body="A reply", parent=parent
    )
    DBTaskResult.objects.all().delete()
    with (
        mock.patch(
            "discussions.tasks.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")
        ),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        send_reply_email.call(
            comment_id=reply.pk, recipient_id=facilitator.pk, attempt=MAX_ATTEMPTS
        )
    assert DBTaskResult.objects.count() == 0


def test_question_email_gives_up_after_the_last_attempt_and_fails_the_task(
    database_task_queue, member, facilitator, group
):
    """As the reply email: the final failure is raised, so the queue records it FAILED."""
    from django_tasks_db.models import DBTaskResult

    from discussions.models import Notification
    from discussions.tasks import MAX_ATTEMPTS, send_question_emails

    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    DBTaskResult.objects.all().delete()
    send_question_emails.using(run_after=None).enqueue(
        question_id=question.pk,
        kind=Notification.Kind.QUESTION_ASSIGNED,
        recipient_ids=[member.pk],
        attempt=MAX_ATTEMPTS,
    )
    with mock.patch(
        "discussions.tasks.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")
    ):
        run_worker()

    result = DBTaskResult.objects.get()
    assert (result.status, result.exception_class_path) == (
        "FAILED",
        "smtplib.SMTPServerDisconnected",
    )


def test_reply_email_is_sent_once_when_its_task_runs_twice(
    member, facilitator, group, passage, mailoutbox
):
    """A task run again (its worker died after sending, before recording it) sends nothing."""
    from discussions.tasks import send_reply_email

    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    reply = services.comment_create(
        author=member, group=group, passage=passage, body="A reply", parent=parent
    )

    first = send_reply_email.call(comment_id=reply.pk, recipient_id=facilitator.pk)
    again = send_reply_email.call(comment_id=reply.pk, recipient_id=facilitator.pk)

    assert (first, again) == (True, False)
    assert len(mailoutbox) == 1


def test_question_email_is_sent_once_when_its_task_runs_twice(
    member, facilitator, group, mailoutbox
):
    from discussions.models import Notification
    from discussions.tasks import send_question_emails

    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    kwargs = {
        "question_id": question.pk,
        "kind": Notification.Kind.QUESTION_ASSIGNED,
        "recipient_ids": [member.pk],
    }

    assert (send_question_emails.call(**kwargs), send_question_emails.call(**kwargs)) == (1, 0)
    assert [m.to for m in mailoutbox] == [[member.email]]


def test_failed_reply_email_is_sent_by_its_retry(
    database_task_queue, member, facilitator, group, passage, mailoutbox
):
    """A failed send is not recorded as sent: the retry sends it."""
    from discussions.tasks import send_reply_email

    parent = services.comment_create(author=facilitator, group=group, passage=passage, body="Q")
    reply = services.comment_create(
        author=member, group=group, passage=passage, body="A reply", parent=parent
    )
    with mock.patch("discussions.tasks.send_mail", side_effect=smtplib.SMTPDataError(451, "")):
        assert send_reply_email.call(comment_id=reply.pk, recipient_id=facilitator.pk) is False

    assert send_reply_email.call(comment_id=reply.pk, recipient_id=facilitator.pk, attempt=2)
    assert len(mailoutbox) == 1


# A worker that died mid-task ------------------------------------------------------------


def run_worker(*args):
    """`manage.py db_worker --batch`: runs what is ready, then stops. (Inside the test's
    transaction, so the worker must not close the connection between tasks.)"""
    from django.core.management import call_command

    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", *args)


def running_task(worker_id: str, started_ago: timedelta):
    """A task a worker claimed and never finished (it died: a PostgreSQL restart, a kill)."""
    from django_tasks_db.models import DBTaskResult

    from discussions.tasks import send_question_emails

    result = send_question_emails.enqueue(question_id=0, kind="question_assigned", recipient_ids=[])
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=timezone.now() - started_ago)
    return row


def task_status(row) -> str:
    row.refresh_from_db()
    return row.status


def test_worker_restarting_runs_again_the_task_it_was_running(database_task_queue, db):
    stuck = running_task("worker-1", started_ago=timedelta(seconds=5))

    run_worker("--worker-id", "worker-1")

    assert task_status(stuck) == "SUCCESSFUL"
    assert stuck.worker_ids == ["worker-1", "worker-1"]


def test_worker_starting_leaves_another_workers_recent_task_alone(database_task_queue, db):
    busy = running_task("worker-2", started_ago=timedelta(seconds=5))

    run_worker("--worker-id", "worker-1")

    assert task_status(busy) == "RUNNING"


def test_worker_starting_runs_again_a_task_running_for_too_long(database_task_queue, db, settings):
    stuck = running_task("worker-2", started_ago=settings.TASKS_STALE_AFTER + timedelta(minutes=1))

    run_worker("--worker-id", "worker-1")

    assert task_status(stuck) == "SUCCESSFUL"
