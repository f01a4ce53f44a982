"""The passage's highlights alone (htmx, part=passage-text): what the page fetches when
others' quoted comments arrive live. Group-scoped, and no visit recorded."""

from discussions import services
from discussions.models import PassageVisit
from tests.factories import make_group, make_user

HTMX = {"HX-Request": "true"}


def test_passage_text_part_returns_the_highlighted_paragraph_without_recording_a_visit(
    client, essay
):
    amara, bruno = make_user("amara"), make_user("bruno")
    group = make_group(essay, facilitator=bruno, name="Circle", members=[amara])
    passage = essay.passages.get(position=3)
    comment = services.comment_create(
        author=bruno,
        group=group,
        passage=passage,
        body="Walls.",
        quote="organizational walls",
        quote_start=passage.body.index("organizational walls"),
    )
    client.force_login(amara)

    response = client.get(f"{group.passage_url(3)}&part=passage-text", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<p id="passage-text">')
    assert html.endswith("</p>")
    assert (
        f'<mark id="quote-{comment.pk}" data-comments="{comment.pk}">'
        f'<a href="#comment-{comment.pk}" class="quote-link">organizational walls</a></mark>'
    ) in html
    assert not PassageVisit.objects.filter(user=amara).exists()


def test_passage_text_part_of_another_groups_passage_shows_no_highlights(client, essay):
    bruno, outsider = make_user("bruno"), make_user("outsider")
    group = make_group(essay, facilitator=bruno, name="Circle")
    passage = essay.passages.get(position=3)
    services.comment_create(
        author=bruno,
        group=group,
        passage=passage,
        body="Walls.",
        quote="organizational walls",
        quote_start=passage.body.index("organizational walls"),
    )
    client.force_login(outsider)

    response = client.get(f"{group.passage_url(3)}&part=passage-text", headers=HTMX)

    # Not a member: the ordinary page, and no one's highlights.
    assert response.status_code == 200
    assert b"<mark" not in response.content
