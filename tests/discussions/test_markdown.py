"""User Markdown: hostile input never becomes active HTML; ordinary Markdown renders exactly.

Comments are created through discussions.services.comment_create, so what is checked
is the stored body_html that templates mark safe.
"""

from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError

from discussions import services
from discussions.forms import AnswerForm, CommentEditForm, CommentForm, QuestionForm
from discussions.markdown import ALLOWED_TAGS, sanitize_html
from discussions.models import Comment
from groups.forms import MeetingForm, MeetingNotesForm
from tests.discussions.helpers import post_comment

REL = "nofollow noopener ugc"
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
FORBIDDEN_TAG_TEXT = ("<script", "<iframe", "<svg", "<img", "<style", "<object", "<embed")

HOSTILE = {
    "script-tag": "<script>alert(1)</script>",
    "script-src-uppercase": "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "script-split": "<<script>script>alert(1)<</script>/script>",
    "img-onerror": '<img src=x onerror="alert(1)">',
    "svg-onload": "<svg onload=alert(1)>",
    "svg-slash-onload-in-blockquote": "> <svg/onload=alert(1)>",
    "javascript-link": "[click](javascript:alert(1))",
    "javascript-mixed-case-link": "[click](JaVaScRiPt:alert(1))",
    "javascript-link-padded": "[click](  javascript:alert(1)  )",
    "vbscript-link": "[click](vbscript:msgbox(1))",
    "data-link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "javascript-autolink": "<javascript:alert(1)>",
    "javascript-autolink-uppercase": "<JAVASCRIPT:alert(1)>",
    "vbscript-autolink": "<vbscript:msgbox(1)>",
    "data-autolink": "<data:text/html,<script>alert(1)</script>>",
    "javascript-reference-link": "[ref]\n\n[ref]: javascript:alert(1)",
    "vbscript-reference-link-with-title": '[ref][x]\n\n[x]: vbscript:alert(1) "title"',
    "data-reference-link": "[ref]\n\n[ref]: data:text/html,<b>x</b>",
    "entity-colon-javascript": "[click](javascript&#58;alert(1))",
    "entity-letter-javascript": "[click](&#106;avascript:alert(1))",
    "entity-tab-javascript": "[click](jav&#x09;ascript:alert(1))",
    "entity-hex-colon-javascript": "[click](javascript&#x3A;alert(1))",
    "newline-in-scheme": "[x](java\nscript:alert(1))",
    "style-attribute": '<p style="color:red">styled</p>',
    "style-tag": "<style>body{display:none}</style>",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "a-onclick": '<a href="https://example.com" onclick="alert(1)">x</a>',
    "a-javascript-href": '<a href="javascript:alert(1)">x</a>',
    "a-data-href": '<a href="data:text/html,x">d</a>',
    "unclosed-tags": "<b><i>unclosed <script>alert(1)",
    "nested-misclosed-tags": "<div><span onmouseover=alert(1)>nested</div></span>",
    "title-double-quote-breakout": '[t](https://example.com "title\\" onmouseover=\\"alert(1)")',
    "title-single-quoted-breakout": "[t](https://example.com 'a\" onclick=\"alert(1)')",
    "autolink-quote-breakout": '<https://example.com/" onmouseover="alert(1)>',
    "image-tracking-pixel": "![img](https://evil.example/track.png)",
    "image-javascript": "![x](javascript:alert(1))",
    "object-embed": '<object data="x"></object><embed src="x">',
    "form-action": "<form action=javascript:alert(1)><button>x</button></form>",
    "mathml-xlink": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "code-span-script": "`<script>alert(1)</script>`",
    "fenced-code-img": "```\n<img src=x onerror=alert(1)>\n```",
    "html-comment": "<!-- <script>alert(1)</script> -->",
}


class _Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def normalized_url(url: str) -> str:
    # Browsers drop leading spaces and control characters and ignore tabs and
    # line breaks anywhere in a URL before they look at its scheme.
    url = url.lstrip("".join(chr(c) for c in range(0x21)))
    return url.replace("\t", "").replace("\n", "").replace("\r", "").lower()


def assert_inert(html: str) -> None:
    lowered = html.lower()
    for forbidden in FORBIDDEN_TAG_TEXT:
        assert forbidden not in lowered, forbidden
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, tag
        assert [name for name in attrs if name.startswith("on")] == []
        assert "style" not in attrs
        if tag == "a":
            assert attrs["rel"] == REL
            href = normalized_url(attrs.get("href") or "")
            assert not href.startswith(DANGEROUS_SCHEMES), href


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_comment_create_hostile_markdown_is_stored_inert(member, group, passage, body):
    comment = post_comment(member, group, passage, body)

    comment.refresh_from_db()
    assert comment.body == body
    assert_inert(comment.body_html)


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_comment_edit_hostile_markdown_is_stored_inert(member, group, passage, body):
    comment = post_comment(member, group, passage, "Harmless at first.")

    services.comment_edit(editor=member, comment=comment, body=body)

    comment.refresh_from_db()
    assert_inert(comment.body_html)


def test_hostile_input_list_is_long_enough():
    assert len(HOSTILE) >= 25


# Exactly what some hostile input becomes ------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ('<img src=x onerror="alert(1)">', '<p>&lt;img src=x onerror="alert(1)"&gt;</p>\n'),
        ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>\n"),
        ("[click](JaVaScRiPt:alert(1))", "<p>[click](JaVaScRiPt:alert(1))</p>\n"),
        ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>\n"),
        ("[click](javascript&#58;alert(1))", "<p>[click](javascript:alert(1))</p>\n"),
        (
            "[ref]\n\n[ref]: javascript:alert(1)",
            "<p>[ref]</p>\n<p>[ref]: javascript:alert(1)</p>\n",
        ),
        ('<p style="color:red">styled</p>', '<p>&lt;p style="color:red"&gt;styled&lt;/p&gt;</p>\n'),
        (
            "[t](https://example.com 'a\" onclick=\"alert(1)')",
            '<p><a href="https://example.com" title="a&quot; onclick=&quot;alert(1)" '
            'rel="nofollow noopener ugc">t</a></p>\n',
        ),
        (
            "![img](https://evil.example/track.png)",
            '<p>!<a href="https://evil.example/track.png" rel="nofollow noopener ugc">'
            "img</a></p>\n",
        ),
    ],
    ids=[
        "script-as-text",
        "img-as-text",
        "javascript-link-as-text",
        "mixed-case-javascript-link-as-text",
        "javascript-autolink-as-text",
        "entity-javascript-link-as-text",
        "javascript-reference-as-text",
        "styled-html-as-text",
        "title-breakout-stays-in-title",
        "image-becomes-plain-link",
    ],
)
def test_comment_create_hostile_markdown_renders_exactly(member, group, passage, body, expected):
    comment = post_comment(member, group, passage, body)

    assert comment.body_html == expected


def test_comment_body_markup_on_page_is_the_sanitized_html(member_client, member, group, passage):
    post_comment(member, group, passage, '<script>alert("pwned")</script> [x](javascript:alert(1))')

    page = member_client.get(f"/texts/anatomy-of-the-sect/1/?group={group.slug}").content.decode()

    assert '<script>alert("pwned")' not in page
    assert (
        '<div class="comment-body"><p>&lt;script&gt;alert("pwned")&lt;/script&gt; '
        "[x](javascript:alert(1))</p>\n</div>"
    ) in page


# The sanitizer alone: the second line of defence for raw HTML -----------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<a href="javascript:alert(1)" onclick="x()">x</a>',
            '<a rel="nofollow noopener ugc">x</a>',
        ),
        ('<a href=" JaVaScRiPt:x">j</a>', '<a rel="nofollow noopener ugc">j</a>'),
        ('<a href="vbscript:x">v</a>', '<a rel="nofollow noopener ugc">v</a>'),
        ('<a href="data:text/html,x">d</a>', '<a rel="nofollow noopener ugc">d</a>'),
        ("<script>alert(1)</script>ok", "ok"),
        ("<img src=x onerror=alert(1)>", ""),
        ('<p style="color:red" onmouseover="x">s</p>', "<p>s</p>"),
        ('<iframe src="https://e.example"></iframe><svg onload=x></svg><style>p{}</style>', ""),
        (
            '<a href="https://ok.example" rel="opener" target="_blank">ok</a>',
            '<a href="https://ok.example" rel="nofollow noopener ugc">ok</a>',
        ),
    ],
    ids=[
        "javascript-href-and-onclick",
        "padded-mixed-case-javascript",
        "vbscript",
        "data",
        "script",
        "img-onerror",
        "style-and-handler",
        "iframe-svg-style",
        "rel-and-target-replaced",
    ],
)
def test_sanitize_html_raw_html_keeps_only_the_allowlist(html, expected):
    assert sanitize_html(html) == expected


# Ordinary Markdown ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "**bold** and *italic* and _em_",
            "<p><strong>bold</strong> and <em>italic</em> and <em>em</em></p>\n",
        ),
        (
            "- one\n- two\n\n1. first\n2. second",
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n",
        ),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n'),
        ("> quoted\n> words", "<blockquote>\n<p>quoted\nwords</p>\n</blockquote>\n"),
        ("Use `code` here", "<p>Use <code>code</code> here</p>\n"),
        ("```\nx = 1 < 2\n```", "<pre><code>x = 1 &lt; 2\n</code></pre>\n"),
        (
            "[site](https://example.com/a?b=1&c=2)",
            '<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener ugc">'
            "site</a></p>\n",
        ),
        (
            '[t](http://example.com "Title")',
            '<p><a href="http://example.com" title="Title" rel="nofollow noopener ugc">t</a></p>\n',
        ),
        (
            "<https://example.com>",
            '<p><a href="https://example.com" rel="nofollow noopener ugc">https://example.com</a></p>\n',
        ),
        (
            "[mail](mailto:a@example.com)",
            '<p><a href="mailto:a@example.com" rel="nofollow noopener ugc">mail</a></p>\n',
        ),
        ("line one  \nline two", "<p>line one<br>\nline two</p>\n"),
        ("# Heading", "<h1>Heading</h1>\n"),
        ("<b>bold</b> stays text", "<p>&lt;b&gt;bold&lt;/b&gt; stays text</p>\n"),
    ],
    ids=[
        "emphasis",
        "lists",
        "ordered-list-start",
        "blockquote",
        "code-span",
        "code-block",
        "https-link",
        "http-link-with-title",
        "autolink",
        "mailto-link",
        "hard-break",
        "heading",
        "typed-html-is-text",
    ],
)
def test_comment_create_markdown_renders_expected_html(member, group, passage, body, expected):
    comment = post_comment(member, group, passage, body)

    comment.refresh_from_db()
    assert comment.body_html == expected


# What is typed is kept: indentation is Markdown ------------------------------------


CODE = "    def f():\n        return 1\n\nThat is my code."


def test_a_posted_comment_keeps_the_indentation_of_its_code_block(member_client, group):
    member_client.post(
        f"/groups/{group.slug}/passages/1/comments/", {"body": f"\n  \n{CODE}\n\n  "}
    )

    comment = Comment.objects.get()
    assert comment.body == CODE  # only the blank lines before and the blanks after go
    assert comment.body_html.startswith("<pre><code>def f():\n    return 1\n</code></pre>")


@pytest.mark.parametrize(
    ("form_class", "field"),
    [
        (CommentForm, "body"),
        (CommentEditForm, "body"),
        (AnswerForm, "body"),
        (QuestionForm, "body"),
        (MeetingForm, "agenda"),
        (MeetingNotesForm, "notes"),
    ],
)
def test_every_markdown_field_keeps_indentation_and_refuses_blanks_alone(group, form_class, field):
    form_field = form_class.base_fields[field]

    assert form_field.clean(f"\n{CODE}\n ") == CODE
    if form_field.required:
        with pytest.raises(ValidationError):
            form_field.clean(" \n\t\n ")
    else:
        assert form_field.clean(" \n\t\n ") == ""
