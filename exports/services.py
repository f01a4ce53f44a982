"""Restoring a group from its JSON backup (exports.selectors.group_backup).

`group_import` checks the whole file first (format and version, every field's type,
every reference, the text by its slug and each referenced passage by its words) and
then writes everything in one transaction: a bad file changes nothing. Readers are
matched by username; those missing are created without a usable password (they set
one through "Forgot your password?" once an administrator gives them an email).
Markdown is rendered and sanitized again from its source: the file holds no HTML.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.functions import Upper

from discussions.markdown import render_markdown
from discussions.models import (
    COMMENT_MAX_LENGTH,
    HIDE_REASON_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    QUOTE_MAX_LENGTH,
    Comment,
    HandoutThread,
    HelpfulMark,
    Question,
)
from exports.selectors import BACKUP_FORMAT, BACKUP_VERSION, body_digest
from groups.models import (
    MEETING_MINUTES_MAX,
    MEETING_MINUTES_MIN,
    MEETING_NOTES_MAX_LENGTH,
    Meeting,
    Membership,
    StudyGroup,
    new_invite_token,
    validate_one_line,
)
from reading.models import Passage, ReadingProgress, Text
from sectstudy.dates import EARLIEST, LATEST

MAX_INT = 2**31 - 1


class GroupImportError(Exception):
    """The file cannot be restored; the message says why and where."""


@dataclass(frozen=True)
class ImportResult:
    group: StudyGroup
    users_created: list[str]
    counts: dict[str, int]


# Reading the file ------------------------------------------------------------------------


def _fail(path: str, message: str):
    raise GroupImportError(f"{path}: {message}" if path else message)


class _Object:
    """A JSON object read field by field, each checked, with its path for messages."""

    def __init__(self, value, path: str):
        if not isinstance(value, dict):
            _fail(path, "expected an object")
        self.value, self.path = value, path

    def _get(self, key, required=True):
        if key not in self.value:
            if required:
                _fail(f"{self.path}.{key}", "missing")
            return None
        return self.value[key]

    def text(self, key, *, max_length=None, optional=False, blank=True) -> str | None:
        value = self._get(key, required=not optional)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            _fail(f"{self.path}.{key}", "expected a string")
        if "\x00" in value:
            _fail(f"{self.path}.{key}", "contains a NUL byte")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                _fail(f"{self.path}.{key}", "contains a lone surrogate (\\ud800-\\udfff)")
        if max_length is not None and len(value) > max_length:
            _fail(f"{self.path}.{key}", f"longer than {max_length} characters")
        if not blank and not value.strip():
            _fail(f"{self.path}.{key}", "empty")
        return value

    def integer(self, key, *, optional=False, minimum=0) -> int | None:
        value = self._get(key, required=not optional)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(f"{self.path}.{key}", "expected a whole number")
        if not minimum <= value <= MAX_INT:
            _fail(f"{self.path}.{key}", f"out of range ({minimum} to {MAX_INT})")
        return value

    def boolean(self, key) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            _fail(f"{self.path}.{key}", "expected true or false")
        return value

    def moment(self, key, *, optional=True) -> datetime | None:
        value = self.text(key, optional=True) if optional else self.text(key)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            _fail(f"{self.path}.{key}", f"not a date and time: {value[:40]!r}")
        if moment.tzinfo is None:
            _fail(f"{self.path}.{key}", "a date and time needs its UTC offset")
        try:
            in_range = EARLIEST <= moment < LATEST
        except OverflowError:
            in_range = False
        if not in_range:
            _fail(f"{self.path}.{key}", "not between the years 1900 and 2199")
        return moment

    def obj(self, key) -> "_Object":
        return _Object(self._get(key), f"{self.path}.{key}")

    def items(self, key) -> list["_Object"]:
        value = self._get(key)
        if not isinstance(value, list):
            _fail(f"{self.path}.{key}", "expected a list")
        return [_Object(item, f"{self.path}.{key}[{n}]") for n, item in enumerate(value)]


def _parse(data: bytes | str) -> _Object:
    if isinstance(data, bytes):
        if b"\x00" in data:
            _fail("", "The file contains NUL bytes: it is not a sectstudy group backup.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            _fail("", f"The file is not UTF-8 text ({error.reason} at byte {error.start}).")
    if "\x00" in data:
        _fail("", "The file contains NUL bytes: it is not a sectstudy group backup.")
    try:
        value = json.loads(data)
    except json.JSONDecodeError as error:
        _fail(
            "",
            f"The file is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).",
        )
    except RecursionError:
        _fail("", "The file is not valid JSON: nested too deeply.")
    if not isinstance(value, dict) or value.get("format") != BACKUP_FORMAT:
        _fail("", f'Not a sectstudy group backup (no "format": "{BACKUP_FORMAT}").')
    version = value.get("version")
    if version != BACKUP_VERSION:
        _fail(
            "",
            f"Backup format version {version!r} is not supported: this sectstudy reads "
            f"version {BACKUP_VERSION}.",
        )
    return _Object(value, "")


def _numbered(items: list[_Object], what: str) -> dict[int, _Object]:
    numbered = {}
    for item in items:
        number = item.integer("id", minimum=1)
        if number in numbered:
            _fail(f"{item.path}.id", f"{what} {number} appears twice")
        numbered[number] = item
    return numbered


def _duration(item: _Object) -> int:
    minutes = item.integer("duration_minutes", optional=True)
    if minutes is None:
        return Meeting._meta.get_field("duration_minutes").default
    if not MEETING_MINUTES_MIN <= minutes <= MEETING_MINUTES_MAX:
        _fail(
            f"{item.path}.duration_minutes",
            f"out of range ({MEETING_MINUTES_MIN} to {MEETING_MINUTES_MAX} minutes)",
        )
    return minutes


def _reference(item: _Object, key: str, known: dict, what: str, optional=True):
    number = item.integer(key, optional=optional, minimum=1)
    if number is not None and number not in known:
        _fail(f"{item.path}.{key}", f"no {what} {number} in the file")
    return number


# Writing ----------------------------------------------------------------------------------


def _set_times(objects: list, fields: list[str]) -> None:
    """Timestamps Django sets on insert (auto_now_add) get the backup's own, in one
    UPDATE from arrays: linear in the rows, where bulk_update's CASE grows with the
    square of its batch (most of a large restore's time)."""
    if not objects:
        return
    meta = type(objects[0])._meta
    quote = connection.ops.quote_name
    key = quote(meta.pk.column)
    columns = [quote(meta.get_field(name).column) for name in fields]
    arrays = ", ".join(["%s::bigint[]", *["%s::timestamptz[]"] * len(fields)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS target SET "  # noqa: S608 - the model's names
            + ", ".join(f"{column} = source.{column}" for column in columns)
            + f" FROM unnest({arrays}) AS source({key}, {', '.join(columns)})"
            + f" WHERE target.{key} = source.{key}",
            [[o.pk for o in objects], *[[getattr(o, name) for o in objects] for name in fields]],
        )


def group_import(*, data: bytes | str, slug: str = "") -> ImportResult:
    """Restore a group from its backup into a database that has its text. The group
    keeps the slug it had (or takes `slug`); a group already there is never touched."""
    root = _parse(data)
    text_slug = root.obj("text").text("slug", max_length=100, blank=False)
    text = Text.objects.filter(slug=text_slug).first()
    if text is None:
        _fail(
            "",
            f"The text {text_slug!r} is not in this database: import it first "
            "(manage.py import_text), then restore the group.",
        )
    group_info = root.obj("group")
    slug = slug or group_info.text("slug", max_length=100, blank=False)
    try:
        validate_slug(slug)
    except ValidationError:
        _fail("group.slug", f"{slug[:40]!r} is not a slug (letters, digits, - and _)")
    name = group_info.text("name", max_length=80, blank=False)
    try:
        validate_one_line(name)
    except ValidationError:
        _fail("group.name", "contains a line break or a tab: write the name on one line")
    if StudyGroup.objects.filter(slug=slug).exists():
        _fail(
            "", f"A group with the slug {slug!r} exists already; pass --slug to restore beside it."
        )

    members = root.items("members")
    passages = _numbered(root.items("passages"), "passage")
    meetings = _numbered(root.items("meetings"), "meeting")
    questions = _numbered(root.items("questions"), "question")
    comments = _numbered(root.items("comments"), "comment")
    helpful = root.items("helpful_marks")
    handout = root.items("handout_threads") if "handout_threads" in root.value else []
    progress = root.items("progress")

    # The passages: in the text by position, removed ones by their words; same words.
    in_text = dict(Passage.objects.filter(text=text).values_list("position", "pk"))
    digests = {
        pk: body_digest(body)
        for pk, body in Passage.everything.filter(text=text).values_list("pk", "body")
    }
    removed = {digest: pk for pk, digest in digests.items() if pk not in set(in_text.values())}
    passage_pks: dict[int, int] = {}
    positions: dict[int, int | None] = {}  # by passage number; None for a removed passage
    for number, item in passages.items():
        position = item.integer("position", optional=True, minimum=1)
        digest = item.text("sha256", max_length=64, blank=False)
        pk = in_text.get(position) if position is not None else removed.get(digest)
        if pk is None:
            where = f"passage {position}" if position is not None else "a removed passage"
            _fail(item.path, f"{where} of {text_slug!r} is not in this database")
        if digests[pk] != digest:
            _fail(
                item.path,
                f"passage {position} of {text_slug!r} has other words here than in the "
                "backup: the text was revised since; restore into a database with the "
                "text as it was",
            )
        passage_pks[number] = pk
        positions[number] = position
    passage_count = len(in_text)

    def in_range(item: _Object) -> tuple[int, int]:
        first = item.integer("first_position", minimum=1)
        last = item.integer("last_position", minimum=1)
        if not first <= last <= passage_count:
            _fail(item.path, f"passages {first} to {last} are not a range of the text")
        return first, last

    usernames: set[str] = set()
    names_in_any_case: dict[str, str] = {}  # as sign-up compares them (iexact: UPPER)

    username_validator = get_user_model().username_validator

    def user_ref(item: _Object, key: str, optional=True) -> str | None:
        name = item.text(key, max_length=150, optional=optional, blank=False)
        if name is not None and name not in usernames:
            try:
                username_validator(name)
            except ValidationError:
                _fail(f"{item.path}.{key}", f"{name[:40]!r} is not a valid username")
            if name.upper() in names_in_any_case:
                _fail(
                    f"{item.path}.{key}",
                    f"{name[:40]!r} and {names_in_any_case[name.upper()][:40]!r} differ only "
                    "in case: sign-up takes them for one reader",
                )
            usernames.add(name)
            names_in_any_case[name.upper()] = name
        return name

    # Check everything before writing anything.
    member_rows = []
    for item in members:
        role = item.text("role")
        if role not in Membership.Role.values:
            _fail(f"{item.path}.role", f"unknown role {role!r}")
        member_rows.append(
            (user_ref(item, "username", optional=False), role, item.moment("joined_at"))
        )
    if len({name for name, _, _ in member_rows}) != len(member_rows):
        _fail(f"{root.path}.members", "a reader is listed twice")
    if not any(role == Membership.Role.FACILITATOR for _, role, _ in member_rows):
        _fail(f"{root.path}.members", "a group needs at least one facilitator")

    meeting_objects = {}
    for number, item in meetings.items():
        first, last = in_range(item)
        meeting_objects[number] = (
            Meeting(
                starts_at=item.moment("starts_at", optional=False),
                first_position=first,
                last_position=last,
                duration_minutes=_duration(item),
                agenda=item.text("agenda", max_length=2000),
                notes=(notes := item.text("notes", max_length=MEETING_NOTES_MAX_LENGTH) or ""),
                notes_html=render_markdown(notes) if notes.strip() else "",
                cancelled_at=item.moment("cancelled_at"),
            ),
            item.moment("created_at"),
        )

    question_objects = {}
    for number, item in questions.items():
        first, last = in_range(item)
        body = item.text("body", max_length=QUESTION_MAX_LENGTH, blank=False)
        question_objects[number] = (
            Question(
                body=body,
                body_html=render_markdown(body),
                first_position=first,
                last_position=last,
                due_at=item.moment("due_at"),
                answer_first=item.boolean("answer_first"),
                order=item.integer("order"),
                closed_at=item.moment("closed_at"),
                due_reminder_sent_at=item.moment("due_reminder_sent_at"),
            ),
            _reference(item, "meeting", meetings, "meeting"),
            user_ref(item, "created_by"),
            item.moment("created_at"),
        )

    comment_objects = {}
    comment_passages: dict[int, int] = {}  # comment number: passage number
    for number, item in comments.items():
        quote = item.obj("quote")
        body = item.text("body", max_length=COMMENT_MAX_LENGTH)
        parent = _reference(item, "parent", comments, "comment")
        if parent == number:
            _fail(f"{item.path}.parent", "a comment cannot reply to itself")
        passage = _reference(item, "passage", passages, "passage", optional=False)
        comment_passages[number] = passage
        entry = comment_objects[number] = (
            Comment(
                passage_id=passage_pks[passage],
                body=body,
                body_html=render_markdown(body),
                quote_exact=quote.text("exact", max_length=QUOTE_MAX_LENGTH),
                quote_prefix=quote.text("prefix", max_length=64),
                quote_suffix=quote.text("suffix", max_length=64),
                quote_start=quote.integer("start", optional=True),
                quote_end=quote.integer("end", optional=True),
                quote_original=quote.text("original", max_length=QUOTE_MAX_LENGTH),
                quote_detached_at=quote.moment("detached_at"),
                quote_reattached_at=quote.moment("reattached_at"),
                edited_at=item.moment("edited_at"),
                deleted_at=item.moment("deleted_at"),
                hidden_at=item.moment("hidden_at"),
                hidden_reason=item.text("hidden_reason", max_length=HIDE_REASON_MAX_LENGTH),
                pinned_at=item.moment("pinned_at"),
                highlighted_at=item.moment("highlighted_at"),
            ),
            parent,
            _reference(item, "question", questions, "question"),
            user_ref(item, "author"),
            user_ref(item, "hidden_by"),
            item.moment("created_at", optional=False),
        )
        if entry[0].is_deleted:
            # As the site keeps it (older backups may still hold a tombstone's quote).
            entry[0].forget_words()
    roots, depths = _threads({n: entry[1] for n, entry in comment_objects.items()})
    for number, (_, parent, question, *_rest) in comment_objects.items():
        if parent is not None and comment_objects[parent][2] != question:
            _fail(comments[number].path, "a reply belongs to the same question as its parent")
        if parent is not None and comment_passages[parent] != comment_passages[number]:
            _fail(comments[number].path, "a reply is on the same passage as its parent")
        if parent is None and question is not None:
            asked = question_objects[question][0]
            position = positions[comment_passages[number]]
            # An answer on a passage a revision took out stays there, as on the site.
            if position is not None and not asked.first_position <= position <= asked.last_position:
                _fail(comments[number].path, "an answer is on a passage of its question")

    helpful_rows = []
    for item in helpful:
        comment = _reference(item, "comment", comments, "comment", optional=False)
        user = user_ref(item, "user", optional=False)
        if user == comment_objects[comment][3]:
            _fail(item.path, "nobody marks their own comment helpful")
        helpful_rows.append((comment, user, item.moment("created_at", optional=False)))
    handout_rows = []
    for item in handout:
        meeting = _reference(item, "meeting", meetings, "meeting", optional=False)
        comment = _reference(item, "comment", comments, "comment", optional=False)
        _, parent, question, *_rest = comment_objects[comment]
        if parent is not None or question is not None:
            _fail(item.path, "only a top-level comment goes on a handout")
        handout_rows.append((meeting, comment))
    progress_rows = []
    for item in progress:
        progress_rows.append(
            (
                user_ref(item, "user", optional=False),
                passage_pks[_reference(item, "passage", passages, "passage", optional=False)],
                item.moment("read_at", optional=False),
            )
        )

    try:
        with transaction.atomic():
            return _write(
                text=text,
                slug=slug,
                group_info=group_info,
                usernames=usernames,
                member_rows=member_rows,
                meeting_objects=meeting_objects,
                question_objects=question_objects,
                comment_objects=comment_objects,
                roots=roots,
                depths=depths,
                helpful_rows=helpful_rows,
                handout_rows=handout_rows,
                progress_rows=progress_rows,
            )
    except IntegrityError as error:
        raise GroupImportError(
            f"The backup contradicts a rule of the database, nothing was restored: {error}"
        ) from error
    except DatabaseError as error:
        raise GroupImportError(f"The backup could not be restored, nothing was: {error}") from error


def _threads(parents: dict[int, int | None]) -> tuple[dict, dict]:
    """Each comment's thread root (None at the top) and depth, refusing cycles: each
    comment is walked up once, to the first one already known, so a chain of any length
    costs its length."""
    roots: dict[int, int | None] = {}
    depths: dict[int, int] = {}
    for number in parents:
        path: list[int] = []
        on_path: set[int] = set()
        current = number
        while current not in depths and parents[current] is not None:
            if current in on_path:
                _fail("", f"comment {number}'s replies go round in a circle")
            on_path.add(current)
            path.append(current)
            current = parents[current]
        if current not in depths:  # a top
            roots[current], depths[current] = None, 0
        root = roots[current] if roots[current] is not None else current
        depth = depths[current]
        for reply in reversed(path):
            depth += 1
            roots[reply], depths[reply] = root, depth
    return roots, depths


def _write(
    *,
    text,
    slug,
    group_info,
    usernames,
    member_rows,
    meeting_objects,
    question_objects,
    comment_objects,
    roots,
    depths,
    helpful_rows,
    handout_rows,
    progress_rows,
) -> ImportResult:
    User = get_user_model()
    # A reader is found by their name in any case, as sign-up takes "Ben" and "ben" for
    # one: a restore never adds a look-alike account beside an existing one.
    in_file = {name.upper(): name for name in usernames}
    users: dict[str, int] = {}
    for pk, name in (
        User.objects.annotate(in_any_case=Upper("username"))
        .filter(in_any_case__in=in_file)
        .order_by("pk")
        .values_list("pk", "username")
    ):
        wanted = in_file.get(name.upper())
        if wanted is not None and (wanted not in users or name == wanted):
            users[wanted] = pk  # the very name first, if it is there
    created = sorted(usernames - users.keys())
    User.objects.bulk_create(
        [User(username=name, password=make_password(None)) for name in created]
    )
    users.update(User.objects.filter(username__in=created).values_list("username", "pk"))

    group = StudyGroup.objects.create(
        text=text,
        name=group_info.text("name", max_length=80, blank=False),
        slug=slug,
        description=group_info.text("description", max_length=1000),
        invite_token=new_invite_token(),
    )
    group.created_at = group_info.moment("created_at") or group.created_at
    group.save(update_fields=["created_at"])

    memberships = Membership.objects.bulk_create(
        [Membership(group=group, user_id=users[name], role=role) for name, role, _ in member_rows]
    )
    for membership, (_, _, joined_at) in zip(memberships, member_rows, strict=True):
        membership.joined_at = joined_at or membership.joined_at
    _set_times(memberships, ["joined_at"])

    meetings = {}
    for number, (meeting, _) in sorted(meeting_objects.items()):
        meeting.group = group
        meetings[number] = meeting
    Meeting.objects.bulk_create(meetings.values())
    for number, meeting in meetings.items():
        meeting.created_at = meeting_objects[number][1] or meeting.created_at
    _set_times(list(meetings.values()), ["created_at"])

    questions = {}
    for number, (question, meeting, created_by, _) in sorted(question_objects.items()):
        question.group = group
        question.meeting = meetings.get(meeting)
        question.created_by_id = users.get(created_by)
        questions[number] = question
    Question.objects.bulk_create(questions.values())
    for number, question in questions.items():
        question.created_at = question_objects[number][3] or question.created_at
    _set_times(list(questions.values()), ["created_at"])

    # Comments in the backup's order, which is the order they were written in (so
    # they keep it), with ids taken ahead from the table's sequence: each is written
    # with its parent, thread root and depth at once (foreign keys are checked at
    # commit, so a reply may come before its parent in the file).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Comment._meta.db_table, Comment._meta.pk.column, len(comment_objects)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    comments = {}
    for (number, entry), pk in zip(sorted(comment_objects.items()), ids, strict=True):
        entry[0].pk = pk
        comments[number] = entry[0]
    for number, comment in comments.items():
        _, parent, question, author, hidden_by, _ = comment_objects[number]
        comment.group = group
        # Ids, not objects: a chain of thousands of replies linked object to object is
        # too deep for Python to free.
        comment.parent_id = comments[parent].pk if parent is not None else None
        comment.root_id = comments[roots[number]].pk if roots[number] is not None else None
        comment.depth = depths[number]
        comment.question_id = questions[question].pk if question is not None else None
        comment.author_id = users.get(author)
        comment.hidden_by_id = users.get(hidden_by)
    Comment.objects.bulk_create(comments.values(), batch_size=1000)
    for number, comment in comments.items():
        comment.created_at = comment_objects[number][-1]
    _set_times(list(comments.values()), ["created_at"])

    marks = [
        HelpfulMark(comment=comments[comment], user_id=users[user], created_at=created_at)
        for comment, user, created_at in helpful_rows
    ]
    HelpfulMark.objects.bulk_create(marks, batch_size=1000)
    HandoutThread.objects.bulk_create(
        HandoutThread(meeting=meetings[meeting], comment=comments[comment])
        for meeting, comment in handout_rows
    )
    for mark, (_, _, created_at) in zip(marks, helpful_rows, strict=True):
        mark.created_at = created_at
    _set_times(marks, ["created_at"])

    # Progress is the reader's own, kept across groups: what they read since stays.
    already = set(
        ReadingProgress.objects.filter(
            reader_id__in=users.values(), passage__text=text
        ).values_list("reader_id", "passage_id")
    )
    readings = []
    for user, passage, read_at in progress_rows:
        key = (users[user], passage)
        if key not in already:
            already.add(key)
            readings.append((ReadingProgress(reader_id=key[0], passage_id=passage), read_at))
    ReadingProgress.objects.bulk_create([r for r, _ in readings], batch_size=1000)
    for reading, read_at in readings:
        reading.read_at = read_at
    _set_times([r for r, _ in readings], ["read_at"])

    return ImportResult(
        group=group,
        users_created=created,
        counts={
            "members": len(memberships),
            "meetings": len(meetings),
            "questions": len(questions),
            "comments": len(comments),
            "helpful_marks": len(marks),
            "progress": len(readings),
        },
    )
