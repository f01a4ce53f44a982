"""The benchmark's data set, made with bulk inserts from a fixed seed (issue 13).

The essay; GROUPS study groups sharing MEMBERS members (the first group, the one the
measured pages show, has a fifth of them); COMMENTS discussion comments, of which
BIG sit on one passage of the first group in threads up to 30 deep; reading questions
with answers; reading progress, passage visits, helpful marks and reply notifications
for everyone; a database session per member. Rows are built in Python with explicit
ids and written with bulk_create (one INSERT per few thousand rows), never through the
services one by one: the full set takes well under two minutes.

The first group's passages are laid out for the measured pages:

    position 2   BIG comments ("passage, 5,000 comments"), with deep chains
    position 3   50 comments ("passage, 50 comments")
    position 4   no comments ("passage, 0 comments")
    position 5   one comment (single-comment actions at 1 comment)
    others       an even share of what is left; posting goes to these, and the first
                 group's questions are on these only
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from discussions.context import poll_since
from discussions.markdown import render_markdown
from discussions.models import Comment, HelpfulMark, Notification, PassageVisit, Question
from discussions.selectors import thread_version
from groups.models import Membership, StudyGroup
from reading.models import ReadingProgress
from reading.services import shipped_essay_import

BIG_POSITION = 2
FIFTY_POSITION = 3
EMPTY_POSITION = 4
ONE_POSITION = 5
MEASURED = (BIG_POSITION, FIFTY_POSITION, EMPTY_POSITION, ONE_POSITION)
DEEP_CHAINS = 5
MAX_DEPTH = 30
QUESTIONS_PER_GROUP = 8
WORDS = [
    *("sect", "class", "movement", "party", "vanguard", "lever", "program", "workers"),
    *("organization", "approach", "centre", "masses", "militants", "orientation"),
    *("aspiration", "essay", "political", "tendency", "critical"),
]


@dataclass(frozen=True)
class Size:
    groups: int = 20
    members: int = 500
    comments: int = 50_000
    big: int = 5_000
    fifty: int = 50

    @classmethod
    def small(cls) -> "Size":
        return cls(groups=3, members=45, comments=3_000, big=500, fifty=50)


class Ids:
    """Explicit primary keys, so parents and roots are known before anything is written."""

    def __init__(self, model):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {model._meta.db_table}")  # noqa: S608
            (self.last,) = cursor.fetchone()

    def next(self) -> int:
        self.last += 1
        return self.last


def bodies(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """A pool of Markdown bodies, each rendered once (as the services do at write time)."""
    pool = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60)))
        source = f"Comment {n}: the *{rng.choice(WORDS)}* question. {words}."
        if n % 7 == 0:
            source += "\n\n> a quoted line\n\nand a [link](https://example.org/)."
        pool.append((source, render_markdown(source)))
    return pool


def spread(total: int, slots: int) -> list[int]:
    base, extra = divmod(total, slots)
    return [base + (1 if n < extra else 0) for n in range(slots)]


def seed(size: Size, seed_value: int = 13) -> dict:
    rng = random.Random(seed_value)
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=60)
    with transaction.atomic():
        text = shipped_essay_import().text
        passages = dict(text.passages.values_list("position", "id"))
        positions = sorted(passages)
        User = get_user_model()
        password = make_password(None)  # unusable: members log in through sessions made here
        users = User.objects.bulk_create(
            User(username=f"m{n:03d}", email=f"m{n:03d}@example.com", password=password)
            for n in range(1, size.members + 1)
        )
        big_group_size = max(size.members // 5, 10)
        group_sizes = [big_group_size, *spread(size.members - big_group_size, size.groups - 1)]
        groups = StudyGroup.objects.bulk_create(
            StudyGroup(text=text, name=f"Bench group {g + 1:02d}", slug=f"bench-group-{g + 1:02d}")
            for g in range(size.groups)
        )
        members_of: dict[int, list] = {}
        memberships = []
        cursor_at = 0
        for group, count in zip(groups, group_sizes, strict=True):
            chosen = users[cursor_at : cursor_at + count]
            cursor_at += count
            members_of[group.pk] = chosen
            memberships += [
                Membership(
                    group=group,
                    user=user,
                    role=Membership.Role.FACILITATOR if n == 0 else Membership.Role.MEMBER,
                )
                for n, user in enumerate(chosen)
            ]
        Membership.objects.bulk_create(memberships)

        # Comments -------------------------------------------------------------
        pool = bodies(rng, 400)
        ids = Ids(Comment)
        comments: list[Comment] = []
        depth_of: dict[int, int] = {}

        def add(group, position, parent: Comment | None, author=None, question=None):
            source, html = pool[rng.randrange(len(pool))]
            comment = Comment(
                id=ids.next(),
                group=group,
                passage_id=passages[position],
                author=author or rng.choice(members_of[group.pk]),
                parent=parent,
                root_id=(parent.root_id or parent.pk) if parent else None,
                depth=depth_of[parent.pk] + 1 if parent else 0,
                question=question,
                body=source,
                body_html=html,
            )
            depth_of[comment.pk] = comment.depth
            comments.append(comment)
            return comment

        def discussion(group, position, count, roots_share=0.3, deep_chains=0):
            made: list[Comment] = []
            for _chain in range(deep_chains):  # threads MAX_DEPTH deep
                parent = add(group, position, None)
                made.append(parent)
                for _level in range(MAX_DEPTH - 1):
                    parent = add(group, position, parent)
                    made.append(parent)
            while len(made) < count:
                parent = None
                if made and rng.random() > roots_share:
                    parent = rng.choice(made)
                    if depth_of[parent.pk] >= MAX_DEPTH - 1:
                        parent = parent.parent
                made.append(add(group, position, parent))
            return made

        big_group = groups[0]
        layout = {BIG_POSITION: size.big, FIFTY_POSITION: size.fifty, ONE_POSITION: 1}
        layout[EMPTY_POSITION] = 0
        others = [p for p in positions if p not in MEASURED]
        remaining = size.comments - sum(layout.values())
        # The first group's other passages: about as busy as the other groups' passages.
        slots = len(others) + (size.groups - 1) * len(positions)
        shares = spread(remaining, slots)
        for position in others:
            layout[position] = shares.pop()
        big_made = discussion(
            big_group, BIG_POSITION, layout[BIG_POSITION], roots_share=0.05, deep_chains=DEEP_CHAINS
        )
        deep_tip = next(c for c in big_made if depth_of[c.pk] == MAX_DEPTH - 1)
        for position in positions:
            if position != BIG_POSITION and layout[position]:
                discussion(big_group, position, layout[position])
        for group in groups[1:]:
            for position in positions:
                discussion(group, position, shares.pop())
        one_comment = next(
            c
            for c in comments
            if c.group_id == big_group.pk and c.passage_id == passages[ONE_POSITION]
        )

        # Questions and answers ---------------------------------------------------
        question_ids = Ids(Question)
        questions = []
        for group in groups:
            # In the first group, none on the measured passages: their pages differ by
            # the size of the discussion alone.
            free = positions if group != groups[0] else [p for p in positions if p not in MEASURED]
            for n in range(QUESTIONS_PER_GROUP):
                first = free[n % len(free)]
                last = min(first + n % 2, positions[-1]) if group != groups[0] else first
                source = (
                    f"Question {n + 1}: what does the passage say about the {rng.choice(WORDS)}?"
                )
                questions.append(
                    Question(
                        id=question_ids.next(),
                        group=group,
                        first_position=first,
                        last_position=last,
                        body=source,
                        body_html=render_markdown(source),
                        order=n,
                        created_by=members_of[group.pk][0],
                        due_at=now + timedelta(days=n - 2),
                    )
                )
        Question.objects.bulk_create(questions)
        answered: set[tuple[int, int]] = set()
        for question in questions:
            group = question.group
            for member in members_of[group.pk][1:]:
                if rng.random() < 0.5:
                    answer = add(group, question.first_position, None, member, question)
                    answered.add((member.pk, question.pk))
                    if rng.random() < 0.2:
                        add(group, question.first_position, answer, question=question)

        # Timestamps: in id order over the last 60 days, so replies follow parents.
        step = (now - timedelta(days=1) - start) / max(len(comments), 1)
        for n, comment in enumerate(comments):
            comment.created_at = start + step * n
        Comment.objects.bulk_create(comments, batch_size=5_000)
        with connection.cursor() as cursor:  # auto_now_add stamped them all "now"
            cursor.execute(
                "UPDATE discussions_comment SET created_at = %s + (id - %s) * %s",
                [start, comments[0].pk, step],
            )
            for statement in connection.ops.sequence_reset_sql(no_style(), [Comment, Question]):
                cursor.execute(statement)

        # Progress, visits, helpful marks, notifications ---------------------------
        progress, visits, read_positions = [], [], {}
        for group in groups:
            for member in members_of[group.pk]:
                read_up_to = rng.randint(0, len(positions))
                read_positions[member.pk] = positions[:read_up_to]
                for position in positions[:read_up_to]:
                    progress.append(ReadingProgress(reader=member, passage_id=passages[position]))
                    visits.append(
                        PassageVisit(
                            user=member,
                            group=group,
                            passage_id=passages[position],
                            last_seen_at=now - timedelta(days=rng.randint(1, 20)),
                        )
                    )
        ReadingProgress.objects.bulk_create(progress, batch_size=5_000)
        PassageVisit.objects.bulk_create(visits, batch_size=5_000)
        marks, marked = [], set()
        for comment in rng.sample(comments, len(comments) // 6):
            for member in rng.sample(members_of[comment.group_id], 2):
                if member.pk != comment.author_id and (comment.pk, member.pk) not in marked:
                    marked.add((comment.pk, member.pk))
                    marks.append(HelpfulMark(comment=comment, user=member))
        HelpfulMark.objects.bulk_create(marks, batch_size=5_000)
        by_id = {c.pk: c for c in comments}
        notifications = [
            Notification(
                recipient_id=by_id[c.parent_id].author_id,
                actor_id=c.author_id,
                kind=Notification.Kind.REPLY,
                comment=c,
                read_at=None if rng.random() < 0.1 else now,
            )
            for c in comments
            if c.parent_id and by_id[c.parent_id].author_id != c.author_id
        ]
        Notification.objects.bulk_create(notifications, batch_size=5_000)

        # Sessions: one per member, as django.contrib.auth.login() would store it.
        backend = settings.AUTHENTICATION_BACKENDS[-1]
        store = SessionStore()
        sessions = {}
        rows = []
        for user in users:
            key = store._get_new_session_key()
            data = {
                "_auth_user_id": str(user.pk),
                "_auth_user_backend": backend,
                "_auth_user_hash": user.get_session_auth_hash(),
            }
            rows.append(
                Session(
                    session_key=key,
                    session_data=store.encode(data),
                    expire_date=now + timedelta(days=14),
                )
            )
            sessions[user.pk] = key
        Session.objects.bulk_create(rows, batch_size=5_000)

    return plan(
        rng=rng,
        text=text,
        passages=passages,
        groups=groups,
        members_of=members_of,
        sessions=sessions,
        comments=comments,
        questions=questions,
        answered=answered,
        marked=marked,
        read_positions=read_positions,
        deep_tip=deep_tip,
        one_comment=one_comment,
        counts={
            "groups": len(groups),
            "members": len(users),
            "discussion comments": size.comments,
            "answers and their replies": len(comments) - size.comments,
            "questions": len(questions),
            "reading progress rows": len(progress),
            "helpful marks": len(marks),
            "notifications": len(notifications),
        },
    )


def plan(
    *,
    rng,
    text,
    passages,
    groups,
    members_of,
    sessions,
    comments,
    questions,
    answered,
    marked,
    read_positions,
    deep_tip,
    one_comment,
    counts,
) -> dict:
    """What the load generator needs: sessions and, per write, a list of targets."""
    big_group = groups[0]
    big_members = members_of[big_group.pk]
    reader = big_members[1]
    big_passage = passages[BIG_POSITION]
    last_in_fifty = max(
        c.pk
        for c in comments
        if c.group_id == big_group.pk
        and c.passage_id == passages[FIFTY_POSITION]
        and c.question_id is None
    )

    def session(user) -> str:
        return sessions[user.pk]

    readers = [session(m) for m in big_members]
    writes: dict[str, list[dict]] = {}
    # Post a comment: every member, on a passage of their group the pages do not measure.
    group_of = {m.pk: g for g in groups for m in members_of[g.pk]}
    others = [p for p in sorted(passages) if p not in MEASURED]
    all_members = [m for g in groups for m in members_of[g.pk]]
    rng.shuffle(all_members)
    writes["post"] = [
        {
            "session": session(m),
            "path": f"/groups/{group_of[m.pk].slug}/passages/{rng.choice(others)}/comments/",
            "form": "body=Bench+post+{TOKEN}&submission_id={UUID}",
            "user": m.pk,
        }
        for m in all_members
    ]
    writes["reply"] = [
        {
            "session": session(m),
            "path": f"/groups/{big_group.slug}/passages/{BIG_POSITION}/comments/",
            "form": f"body=Bench+reply+{{TOKEN}}&submission_id={{UUID}}&parent={deep_tip.pk}",
            "user": m.pk,
        }
        for m in big_members
    ]
    writes["read"] = [
        {
            "session": session(m),
            "path": f"/texts/{text.slug}/{position}/progress/",
            "form": "read=1",
            "user": m.pk,
            "passage": passages[position],
        }
        for m in all_members
        for position in sorted(passages)
        if position not in read_positions[m.pk]
    ]
    rng.shuffle(writes["read"])

    def helpful_targets(candidates, limit):
        targets = []
        for n, comment in enumerate(candidates):
            for member in big_members[n % len(big_members) :] + big_members:
                if member.pk != comment.author_id and (comment.pk, member.pk) not in marked:
                    targets.append(
                        {
                            "session": session(member),
                            "path": f"/groups/{big_group.slug}/comments/{comment.pk}/helpful/",
                            "form": "on=1",
                            "user": member.pk,
                            "comment": comment.pk,
                        }
                    )
                    break
            if len(targets) >= limit:
                break
        return targets

    on_big = [c for c in comments if c.passage_id == big_passage and c.group_id == big_group.pk]
    rng.shuffle(on_big)
    writes["helpful"] = helpful_targets(on_big, 5_000)
    writes["helpful-1"] = [
        {
            "session": session(m),
            "path": f"/groups/{big_group.slug}/comments/{one_comment.pk}/helpful/",
            "form": "on=1",
            "user": m.pk,
            "comment": one_comment.pk,
        }
        for m in big_members
        if m.pk != one_comment.author_id
    ]
    writes["edit"] = [
        {
            "session": sessions[c.author_id],
            "path": f"/groups/{big_group.slug}/comments/{c.pk}/edit/",
            "form": "body=Bench+edit+{TOKEN}",
            "user": c.author_id,
            "comment": c.pk,
        }
        for c in on_big
    ]
    writes["answer"] = [
        {
            "session": session(m),
            "path": f"/groups/{group_of[m.pk].slug}/questions/{q.pk}/answer/",
            "form": "body=Bench+answer+{TOKEN}",
            "user": m.pk,
            "question": q.pk,
        }
        for q in questions
        for m in members_of[q.group_id]
        if (m.pk, q.pk) not in answered
    ]
    rng.shuffle(writes["answer"])
    g = big_group.slug
    # What the 50-comment page's poller asks: after its newest comment, changes since then.
    fifty_version = thread_version(group_id=big_group.pk, passage_id=passages[FIFTY_POSITION])
    fifty_since = poll_since(fifty_version)
    reads = {
        "home": "/",
        "contents": f"/texts/{text.slug}/",
        "passage, 0 comments": f"/texts/{text.slug}/{EMPTY_POSITION}/?group={g}",
        "passage, 50 comments": f"/texts/{text.slug}/{FIFTY_POSITION}/?group={g}",
        "passage, 5,000 comments": f"/texts/{text.slug}/{BIG_POSITION}/?group={g}",
        "group page": f"/groups/{g}/",
        "my questions": "/questions/",
        "poll, nothing new": (
            f"/groups/{g}/passages/{FIFTY_POSITION}/comments/updates/"
            f"?after={last_in_fifty}&since={fifty_since}"
        ),
        "anonymous passage": f"/texts/{text.slug}/{FIFTY_POSITION}/",
        # What the stack costs before a page does anything (benchkit.urls).
        "Django alone": "/bench/django-alone",
        "empty page": "/bench/empty-page",
    }
    return {
        "text": text.slug,
        "group": g,
        "reader": {"id": reader.pk, "session": session(reader)},
        "readers": readers,
        "reads": reads,
        "htmx_reads": ["poll, nothing new"],
        "anonymous_reads": ["anonymous passage"],
        "floor_source": reads["passage, 50 comments"],
        "writes": writes,
        "counts": counts,
        "deep_tip": {"id": deep_tip.pk, "depth": MAX_DEPTH - 1},
    }
