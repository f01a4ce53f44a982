"""After the runs: every write wrk saw acknowledged (2xx) is in the database exactly once.

Straight SQL (psycopg), independent of the app's code. `writes[name]` holds wrk's
(token, target index, status) triples; the target is `plan["writes"][name][index]`.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

BODY_PREFIX = {"post": "Bench post ", "reply": "Bench reply "}


@dataclass
class WriteCheck:
    name: str
    sent: int = 0
    acked: int = 0
    found_once: int = 0
    lost: int = 0
    duplicated: int = 0
    statuses: Counter = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "acked": self.acked,
            "found_once": self.found_once,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "statuses": dict(self.statuses),
            "details": self.details[:20],
        }


def acked(status: str) -> bool:
    return status.isdigit() and 200 <= int(status) < 300


def verify_writes(db, plan: dict, writes: dict[str, list]) -> dict[str, WriteCheck]:
    checks = {}
    for name, lines in writes.items():
        check = WriteCheck(name)
        targets = plan["writes"][name]
        for _token, _index, status in lines:
            check.sent += 1
            check.statuses[status] += 1
            check.acked += acked(status)
        if name in BODY_PREFIX:
            _check_new_comments(db, check, name, lines, targets, plan)
        elif name == "edit":
            _check_replaced(
                db,
                check,
                lines,
                targets,
                "Bench edit ",
                lambda t: t["comment"],
                lambda wanted: dict(
                    db.execute(
                        "SELECT id, body FROM discussions_comment WHERE id = ANY(%s)", [wanted]
                    ).fetchall()
                ),
            )
        elif name == "answer":
            rows = db.execute(
                "SELECT author_id, question_id, count(*) FROM discussions_comment"
                " WHERE question_id IS NOT NULL AND parent_id IS NULL AND deleted_at IS NULL"
                " GROUP BY author_id, question_id HAVING count(*) > 1"
            ).fetchall()
            for author, question, count in rows:
                check.duplicated += 1
                check.details.append(f"DUPLICATED answer by {author} to {question} x{count}")
            _check_replaced(
                db,
                check,
                lines,
                targets,
                "Bench answer ",
                lambda t: (t["user"], t["question"]),
                lambda wanted: {
                    (author, question): body
                    for author, question, body in db.execute(
                        "SELECT author_id, question_id, body FROM discussions_comment"
                        " WHERE question_id = ANY(%s) AND parent_id IS NULL"
                        " AND deleted_at IS NULL",
                        [sorted({q for _a, q in wanted})],
                    ).fetchall()
                },
            )
        elif name == "read":
            _check_pairs(
                db,
                check,
                lines,
                targets,
                "SELECT reader_id, passage_id, count(*) FROM reading_readingprogress"
                " GROUP BY reader_id, passage_id",
                ("user", "passage"),
            )
        elif name.startswith("helpful"):
            _check_pairs(
                db,
                check,
                lines,
                targets,
                "SELECT user_id, comment_id, count(*) FROM discussions_helpfulmark"
                " GROUP BY user_id, comment_id",
                ("user", "comment"),
            )
        checks[name] = check
    return checks


def _check_new_comments(db, check, name, lines, targets, plan) -> None:
    prefix = BODY_PREFIX[name]
    rows = db.execute(
        "SELECT body, count(*), min(author_id), min(parent_id), min(question_id)"
        " FROM discussions_comment WHERE body LIKE %s GROUP BY body",
        [prefix.replace("_", r"\_") + "%"],
    ).fetchall()
    stored = {
        body: (count, author, parent, question) for body, count, author, parent, question in rows
    }
    sent_bodies = set()
    for token, index, status in lines:
        body = prefix + token
        sent_bodies.add(body)
        count, author, parent, question = stored.get(body, (0, None, None, None))
        if count > 1:
            check.duplicated += 1
            check.details.append(f"DUPLICATED {name} {token}: {count} rows")
        if not acked(status):
            continue
        if count == 0:
            check.lost += 1
            check.details.append(f"LOST {name} {token} (status {status})")
            continue
        if count == 1:
            check.found_once += 1
        target = targets[int(index)]
        wrong = []
        if author != target["user"]:
            wrong.append(f"author {author} instead of {target['user']}")
        if name == "reply" and parent != plan["deep_tip"]["id"]:
            wrong.append(f"parent {parent}")
        if name == "answer" and question != target["question"]:
            wrong.append(f"question {question}")
        if wrong:
            check.details.append(f"WRONG {name} {token}: {', '.join(wrong)}")
            check.lost += 1
    for body, (count, *_rest) in stored.items():
        if body not in sent_bodies:
            check.details.append(f"a {name} nobody sent: {body!r} x{count}")
            check.duplicated += 1


def _check_replaced(db, check, lines, targets, prefix, key, stored) -> None:
    """Writes that replace a body (an edit; an answer, which a second answer edits): each
    target holds a body it was sent. Several writes to one target can race (the last to
    commit wins, acknowledged or not), so any body sent to it counts; an acknowledged
    write whose target holds something else was lost, and no body is on two rows."""
    sent, acked_on = defaultdict(set), defaultdict(int)
    for token, index, status in lines:
        target = key(targets[int(index)])
        sent[target].add(prefix + token)
        acked_on[target] += acked(status)
    wanted = [t for t, n in acked_on.items() if n]
    if not wanted:
        return
    holds = stored(wanted)
    for target in wanted:
        if holds.get(target) in sent[target]:
            check.found_once += acked_on[target]
        else:
            check.lost += acked_on[target]
            check.details.append(f"LOST {check.name} of {target}: holds {holds.get(target)!r:.60}")
    duplicates = db.execute(
        "SELECT body, count(*) FROM discussions_comment WHERE body LIKE %s"
        " GROUP BY body HAVING count(*) > 1",
        [prefix + "%"],
    ).fetchall()
    for body, count in duplicates:
        check.duplicated += 1
        check.details.append(f"DUPLICATED {check.name} body {body!r} x{count}")


def _check_pairs(db, check, lines, targets, sql, keys) -> None:
    """An acknowledged (user, object) write is one row; the unique constraint makes a
    second impossible, so a count above one means the constraint is gone."""
    counts = {(a, b): n for a, b, n in db.execute(sql).fetchall()}
    seen = set()
    for _token, index, status in lines:
        if not acked(status):
            continue
        target = targets[int(index)]
        pair = (target[keys[0]], target[keys[1]])
        if pair in seen:
            check.found_once += 1  # the same target again (the list wrapped round)
            continue
        seen.add(pair)
        count = counts.get(pair, 0)
        if count == 1:
            check.found_once += 1
        elif count == 0:
            check.lost += 1
            check.details.append(f"LOST {check.name} {pair}")
        else:
            check.duplicated += 1
            check.details.append(f"DUPLICATED {check.name} {pair} x{count}")
