"""The JSON group backup and `manage.py import_group`: a round trip loses nothing, and a
bad file is refused with a clear message and changes nothing."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from discussions import services
from discussions.models import Comment, HandoutThread, HelpfulMark, Question
from exports.services import GroupImportError, group_import
from groups.models import Meeting, Membership, StudyGroup
from reading.models import Passage, ReadingProgress
from reading.services import progress_set
from tests.factories import at_once, logged_in


def download(user, name, group) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse(name, args=[group.slug]))
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def without_export_time(backup: str) -> dict:
    data = json.loads(backup)
    data.pop("exported_at")
    return data


def markdown_body(text: str) -> str:
    # Everything after the "Exported by ... on <time>" line.
    return text.split("\n\n", 2)[2]


@pytest.fixture
def full_group(discussion, essay, facilitator, member, other):
    """The discussion fixture and everything else a group holds."""
    group = discussion["group"]
    meeting = Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=3),
        first_position=1,
        last_position=3,
        duration_minutes=45,
        agenda="Bring *questions*.",
    )
    services.meeting_notes_save(facilitator=facilitator, meeting=meeting, notes="We *agreed*.")
    Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=10),
        first_position=4,
        last_position=5,
        cancelled_at=timezone.now(),
    )
    closed = services.question_create(
        facilitator=facilitator,
        group=group,
        body="Closed, for the meeting.",
        first_position=3,
        last_position=3,
        meeting=meeting,
        due_at=timezone.now() + timedelta(days=2),
    )
    services.answer_save(author=member, question=closed, body="Before it closed.")
    services.question_set_closed(facilitator=facilitator, question=closed, closed=True)
    pinned = services.comment_create(
        author=facilitator,
        group=group,
        passage=essay.passages.get(position=4),
        body="Pinned, and edited.",
        quote=essay.passages.get(position=4).body.split()[1],
    )
    services.comment_pin(moderator=facilitator, comment=pinned, pinned=True)
    services.comment_edit(editor=facilitator, comment=pinned, body="Pinned, and edited. Twice.")
    services.helpful_set(user=other, comment=pinned, helpful=True)
    for_handout = Comment.objects.filter(
        group=group,
        parent=None,
        question=None,
        hidden_at=None,
        deleted_at=None,
        passage__position__lte=3,
    ).first()
    services.handout_threads_set(
        facilitator=facilitator, meeting=meeting, comment_ids=[for_handout.pk]
    )
    for reader, positions in ((member, (1, 2, 3)), (other, (1,)), (facilitator, (1, 2))):
        for position in positions:
            progress_set(reader=reader, passage=essay.passages.get(position=position), read=True)
    return group


def test_backup_round_trip_loses_nothing(full_group, facilitator, member, tmp_path):
    backup = download(facilitator, "export_group_json", full_group)
    markdown = download(facilitator, "export_discussion_markdown", full_group)
    member_csv = download(member, "export_discussion_csv", full_group)
    data = json.loads(backup)
    assert (data["format"], data["version"]) == ("sectstudy-group", 1)
    assert [len(data[k]) for k in ("members", "meetings", "questions", "helpful_marks")] == [
        3, 2, 3, 2,
    ]  # fmt: skip
    # 13 comments and the tombstone of one deleted with nothing under it.
    assert len(data["comments"]) == Comment.objects.filter(group=full_group).count() == 14
    assert len(data["progress"]) == 6
    assert data["meetings"][0]["duration_minutes"] == 45
    assert data["meetings"][0]["notes"] == "We *agreed*."
    assert len(data["handout_threads"]) == 1
    assert "SECRET-ELSEWHERE" not in backup  # another group's, on the same text
    assert "email" not in backup and "invite" not in backup

    # An empty database, but for the text: the group and its readers are gone.
    slug = full_group.slug
    names = [m.user.username for m in full_group.memberships.select_related("user")]
    full_group.delete()
    get_user_model().objects.filter(username__in=names).delete()
    assert not Comment.objects.filter(body__contains="quoted").exists()
    assert not ReadingProgress.objects.filter(reader__username__in=names).exists()

    path = tmp_path / "backup.json"
    path.write_text(backup, encoding="utf-8")
    call_command("import_group", str(path), stdout=(out := _Out()))
    assert f"/groups/{slug}/" in out.text
    assert "Created 3 readers without a usable password" in out.text

    restored = StudyGroup.objects.get(slug=slug)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    assert sorted(users) == sorted(names)
    assert not any(u.has_usable_password() for u in users.values())
    again = download(users["facilitator"], "export_group_json", restored)
    assert without_export_time(again) == without_export_time(backup)
    # What the readers see is the same too.
    assert markdown_body(
        download(users["facilitator"], "export_discussion_markdown", restored)
    ) == markdown_body(markdown)
    assert download(users["member"], "export_discussion_csv", restored).count("\n") == (
        member_csv.count("\n")
    )
    assert restored.invite_token and restored.invite_token not in backup
    restored_meeting = restored.meetings.order_by("pk").first()
    assert restored_meeting.notes_html == "<p>We <em>agreed</em>.</p>\n"
    assert HandoutThread.objects.filter(meeting=restored_meeting).count() == 1


@pytest.mark.django_db(transaction=True)
def test_backup_streamed_while_the_group_changes_is_the_group_as_it_began(
    essay, group, facilitator, member
):
    first = services.comment_create(
        author=member, group=group, passage=essay.passages.get(position=1), body="For a handout."
    )
    response = logged_in(facilitator).get(reverse("export_group_json", args=[group.slug]))
    chunks = iter(response.streaming_content)
    head = next(chunks)

    def meanwhile():  # another request, on its own connection, while the file streams
        meeting = Meeting.objects.create(
            group=group,
            starts_at=timezone.now() + timedelta(days=1),
            first_position=1,
            last_position=3,
        )
        services.handout_threads_set(
            facilitator=facilitator, meeting=meeting, comment_ids=[first.pk]
        )
        services.comment_create(
            author=member, group=group, passage=essay.passages.get(position=3), body="Later."
        )

    assert at_once(meanwhile) == [None]
    backup = json.loads(head + b"".join(chunks))
    response.close()

    assert (backup["meetings"], backup["handout_threads"]) == ([], [])
    assert [comment["body"] for comment in backup["comments"]] == ["For a handout."]
    assert [passage["position"] for passage in backup["passages"]] == [1]


@pytest.mark.django_db(transaction=True)
def test_a_backup_download_broken_off_ends_its_snapshot(group, facilitator):
    response = logged_in(facilitator).get(reverse("export_group_json", args=[group.slug]))
    next(iter(response.streaming_content))
    assert connection.in_atomic_block  # the snapshot, while the file streams

    response.close()  # what the server does when the reader cancels the download

    assert not connection.in_atomic_block


def test_restore_beside_the_original_with_another_slug(full_group, facilitator):
    backup = download(facilitator, "export_group_json", full_group)
    with pytest.raises(GroupImportError, match="exists already; pass --slug"):
        group_import(data=backup)
    result = group_import(data=backup, slug="restored-circle")
    assert result.users_created == []
    assert result.counts == {
        "members": 3,
        "meetings": 2,
        "questions": 3,
        "comments": 14,  # with the tombstone of a comment deleted with nothing under it
        "helpful_marks": 2,
        "progress": 0,  # the readers' own progress is there already
    }
    assert Comment.objects.filter(group=result.group, body_html__contains="<em>").count() == 1


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, value):
        self.text += value

    def flush(self):
        pass


# Bad files change nothing ----------------------------------------------------------------


def _counts():
    return [
        model.objects.count()
        for model in (
            get_user_model(),
            StudyGroup,
            Membership,
            Meeting,
            Question,
            Comment,
            HelpfulMark,
            ReadingProgress,
        )
    ]


def _edited(backup: str, change) -> str:
    data = json.loads(backup)
    change(data)
    return json.dumps(data)


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BAD_FILES = {
    "malformed": (lambda b: b[:-20], "not valid JSON"),
    "nul byte": (lambda b: b.replace("Reading circle", "Reading\x00circle"), "NUL bytes"),
    "escaped nul": (lambda b: b.replace("Reading circle", "Reading\\u0000circle"), "NUL byte"),
    "not utf-8": (lambda b: b.encode("utf-8").replace(b"Reading", b"R\xe9ading"), "not UTF-8"),
    "wrong format": (lambda b: _edited(b, _set(["format"], "other")), "Not a sectstudy"),
    "wrong version": (lambda b: _edited(b, _set(["version"], 2)), "version 2 is not supported"),
    "missing text": (lambda b: _edited(b, _set(["text", "slug"], "missing")), "import it first"),
    "a list": (lambda b: "[]", "Not a sectstudy group backup"),
    "bad reference": (
        lambda b: _edited(b, _set(["comments", 1, "parent"], 999)),
        "comments[1].parent: no comment 999",
    ),
    "bad date": (
        lambda b: _edited(b, _set(["comments", 0, "created_at"], "yesterday")),
        "comments[0].created_at: not a date",
    ),
    "naive date": (
        lambda b: _edited(b, _set(["meetings", 0, "starts_at"], "2030-01-01T10:00:00")),
        "needs its UTC offset",
    ),
    "bad username": (
        lambda b: _edited(b, _set(["members", 1, "username"], "two words")),
        "members[1].username: 'two words' is not a valid username",
    ),
    "bad role": (lambda b: _edited(b, _set(["members", 0, "role"], "owner")), "unknown role"),
    "name on two lines": (
        lambda b: _edited(b, _set(["group", "name"], "Night\u2028readers")),
        "group.name: contains a line break or a tab",
    ),
    "huge number": (
        lambda b: _edited(b, _set(["questions", 0, "order"], 2**80)),
        "questions[0].order: out of range",
    ),
    "range beyond the text": (
        lambda b: _edited(b, _set(["questions", 0, "last_position"], 99)),
        "not a range of the text",
    ),
    "text revised": (
        lambda b: _edited(b, _set(["passages", 0, "sha256"], "0" * 64)),
        "other words here than in the backup",
    ),
    "reply to itself": (
        lambda b: _edited(b, _set(["comments", 0, "parent"], 1)),
        "cannot reply to itself",
    ),
    "two answers": (
        lambda b: _edited(
            b, lambda d: d["comments"].append({**d["comments"][8], "id": 99})
        ),  # comment 9 is an answer: the same member answers twice
        "contradicts a rule of the database",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_backup_is_refused_and_changes_nothing(full_group, facilitator, tmp_path, case):
    backup = download(facilitator, "export_group_json", full_group)
    corrupt, message = BAD_FILES[case]
    full_group.slug = "the-original"  # so that the file's slug is free
    full_group.save(update_fields=["slug"])
    bad = corrupt(backup)
    path = tmp_path / "bad.json"
    path.write_bytes(bad if isinstance(bad, bytes) else bad.encode("utf-8"))
    before = _counts()
    with pytest.raises(CommandError, match="Nothing was changed") as error:
        call_command("import_group", str(path))
    assert message in str(error.value)
    assert _counts() == before


def _first(data, section, test):
    return next(item for item in data[section] if test(item))


def _deleted_with_words(data):
    _first(data, "comments", lambda c: c["deleted_at"])["body"] = "Words kept by hand."


def _reply_elsewhere(data):
    reply = _first(data, "comments", lambda c: c["parent"] and not c["question"])
    reply["passage"] = next(p["id"] for p in data["passages"] if p["id"] != reply["passage"])


def _answer_elsewhere(data):
    question = _first(data, "questions", lambda q: q["last_position"] < 4)
    answer = _first(data, "comments", lambda c: c["question"] == question["id"] and not c["parent"])
    answer["passage"] = _first(data, "passages", lambda p: p["position"] == 4)["id"]


def _own_helpful_mark(data):
    mark = data["helpful_marks"][0]
    mark["user"] = _first(data, "comments", lambda c: c["id"] == mark["comment"])["author"]


def _names_differing_in_case(data):
    data["members"].append(
        {**data["members"][-1], "username": data["members"][-1]["username"].upper()}
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_reply_elsewhere, "a reply is on the same passage as its parent"),
        (_answer_elsewhere, "an answer is on a passage of its question"),
        (_own_helpful_mark, "nobody marks their own comment helpful"),
        (_names_differing_in_case, "differ only in case"),
    ],
    ids=["reply elsewhere", "answer elsewhere", "own mark", "case"],
)
def test_a_backup_the_site_could_not_have_made_is_refused(full_group, facilitator, change, message):
    """Edited by hand into what the services never allow: refused, nothing changed."""
    data = json.loads(download(facilitator, "export_group_json", full_group))
    change(data)
    before = _counts()

    with pytest.raises(GroupImportError, match=message):
        group_import(data=json.dumps(data), slug="restored")

    assert _counts() == before


def test_a_deleted_comment_is_restored_without_words_the_file_still_has(full_group, facilitator):
    """Older versions kept a tombstone's quote; a file edited by hand may hold anything."""
    data = json.loads(download(facilitator, "export_group_json", full_group))
    _deleted_with_words(data)
    for comment in data["comments"]:
        if comment["deleted_at"]:
            comment["quote"]["exact"] = "Quoted words."

    result = group_import(data=json.dumps(data), slug="restored")

    tombstones = Comment.objects.filter(group=result.group, deleted_at__isnull=False)
    assert tombstones.exists()
    assert set(tombstones.values_list("body", "body_html", "quote_exact")) == {("", "", "")}


def test_an_answer_on_a_passage_a_revision_took_out_is_restored(full_group, facilitator, essay):
    answer = Comment.objects.filter(group=full_group, question__isnull=False, parent=None).first()
    Passage.everything.filter(pk=answer.passage_id).update(position=None, removed_at=timezone.now())
    data = download(facilitator, "export_group_json", full_group)

    result = group_import(data=data, slug="restored")

    restored = Comment.objects.get(group=result.group, body=answer.body, parent=None)
    assert (restored.passage_id, restored.question.body) == (
        answer.passage_id,
        answer.question.body,
    )


def test_a_reader_named_in_another_case_is_the_existing_account(full_group, facilitator, member):
    data = json.loads(download(facilitator, "export_group_json", full_group))
    for section in ("members", "questions", "comments", "helpful_marks", "progress"):
        for item in data[section]:
            for key in ("username", "author", "user", "created_by", "hidden_by"):
                if item.get(key) == member.username:
                    item[key] = member.username.upper()
    accounts = get_user_model().objects.count()

    result = group_import(data=json.dumps(data), slug="restored")

    assert get_user_model().objects.count() == accounts
    assert result.users_created == []
    assert Membership.objects.filter(group=result.group, user=member).exists()
    assert Comment.objects.filter(group=result.group, author=member).exists()


def test_a_reply_chain_thousands_deep_restores_with_every_depth_and_root(full_group, facilitator):
    data = json.loads(download(facilitator, "export_group_json", full_group))
    top = _first(data, "comments", lambda c: not c["parent"] and not c["question"])
    start = max(c["id"] for c in data["comments"]) + 1
    chain = [
        {**top, "id": start + k, "parent": start + k - 1 if k else top["id"], "body": f"r{k}"}
        for k in range(3000)
    ]
    for reply in chain:
        reply["quote"] = {**top["quote"], "exact": "", "start": None, "end": None}
    data["comments"] += chain

    result = group_import(data=json.dumps(data), slug="restored")

    deepest = Comment.objects.get(group=result.group, body="r2999")
    root = Comment.objects.get(group=result.group, body=top["body"], parent=None)
    assert (deepest.depth, deepest.root_id) == (root.depth + 3000, root.pk)


def test_unrevised_text_is_the_one_restored_into(full_group, facilitator, essay):
    """The passages are found by position and checked by their words."""
    backup = download(facilitator, "export_group_json", full_group)
    passage = Passage.objects.get(text=essay, position=2)
    passage.body += " Corrected."
    passage.save(update_fields=["body"])
    with pytest.raises(GroupImportError, match="passage 2 of 'anatomy-of-the-sect' has other"):
        group_import(data=backup, slug="elsewhere")


def test_member_may_not_download_the_backup(full_group, member):
    client = Client()
    client.force_login(member)
    response = client.get(reverse("export_group_json", args=[full_group.slug]))
    assert response.status_code == 403
