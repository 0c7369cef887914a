"""A policy's text as HTML: Markdown by markdown-it-py, sanitized by nh3.

Raw HTML in the text is shown as text, never as markup (markdown-it with `html` off), and
nh3 keeps only the tags listed here, without attributes, as a second line of defence.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

# The page's own title is the h1, so the text's "#" is an h2, "##" an h3, "###" an h4.
HEADING_SHIFT = 1
ALLOWED_TAGS = {"h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "em", "strong", "code",
                "br", "blockquote", "hr"}  # fmt: skip


def _softbreak(self, tokens, idx, options, env) -> str:
    return " "  # a line break inside a paragraph is a space, as people write prose


_markdown = MarkdownIt("commonmark", {"html": False}).disable(["code", "fence", "image"])
_markdown.add_render_rule("softbreak", _softbreak)


def _level(token) -> int:
    return int(token.tag[1])


def _kept(tokens: list, omit_heading: str, omit_section: str) -> list:
    kept, skipping, in_items = [], False, 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            level, title = _level(token), tokens[index + 1].content.strip()
            if level <= 2:
                skipping = bool(omit_section) and level == 2 and title == omit_section
            if skipping or (level == 1 and title == omit_heading):
                index += 3  # heading_open, inline, heading_close
                continue
            for part in tokens[index : index + 3 : 2]:
                part.tag = f"h{min(level + HEADING_SHIFT, 6)}"
        elif skipping:
            index += 1
            continue
        # Policy lists read as tight lists, blank lines between items or not.
        in_items += {"list_item_open": 1, "list_item_close": -1}.get(token.type, 0)
        if in_items and token.type in ("paragraph_open", "paragraph_close"):
            token.hidden = True
        kept.append(token)
        index += 1
    return kept


def policy_html(text: str, *, omit_heading: str = "", omit_section: str = "") -> SafeString:
    """Render a policy's text. A "#" heading equal to `omit_heading` is left out (the page
    already shows the title), and so is the "##" section titled `omit_section` (the worked
    examples, shown as tables instead)."""
    env: dict = {}
    tokens = _kept(_markdown.parse(text, env), omit_heading, omit_section)
    html = _markdown.renderer.render(tokens, _markdown.options, env).replace("\n", "")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={})
    # No tag keeps an attribute, so every quote left is text: write it as Django's escape does.
    return mark_safe(clean.replace('"', "&quot;"))  # noqa: S308 - sanitized by nh3 above
