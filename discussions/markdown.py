"""User Markdown: rendered once at write time, then sanitized with an allowlist.

CommonMark via markdown-it-py with raw HTML disabled (typed HTML shows as
text), then nh3 as a second line of defence: only the tags below survive, only
http(s) and mailto links, and every link gets rel="nofollow noopener ugc".
"""

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

# Images are off: remote images would let any member track who reads the thread.
_markdown = MarkdownIt("commonmark", {"html": False}).disable("image")


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    return sanitize_html(_markdown.render(source))
