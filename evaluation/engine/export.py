"""An executed report notebook as self-contained HTML: nbconvert's page, without its slow pass.

nbconvert's ``HTMLExporter``, after rendering its template, makes outputs (and inputs)
focusable and gives every image without one an alternative text. nbconvert 7 parses and
re-serialises the whole page with BeautifulSoup for these two edits: 2.5 s of the 2.6 s it
took to export an 800 KB report, and 6 s of a 30 s build (issue 17). :func:`accessible` makes
the same two edits to the template's output directly.
"""

from __future__ import annotations

import bisect
import re
from html.parser import HTMLParser
from pathlib import Path

#: The package's nbconvert templates (``em_report``: the lab template without any script
#: fetched from the network).
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

#: Classes of the ``div`` start tags nbconvert's exporter makes focusable (``tabindex="0"``):
#: the output areas (a wide table scrolls) and input wrappers.
_FOCUSABLE = {"jp-OutputArea-output", "jp-Cell-inputWrapper"}
_NO_ALT = "No description has been provided for this image"

# Markup that the tokenizer reads as plain tags and text when it meets it between tags, and
# leaves it there, and in which the pass edits nothing: start and end tags of table, text and
# SVG elements (never div, img, script, style, title, textarea or any other element whose
# content the tokenizer reads as raw text), separated by ASCII white space only (the tokenizer
# ends a tag name at no other: "<span\xa0title" is one name), their attribute values quoted
# and free of < and >, and text with complete character references only (no comment,
# declaration or bare "<"). ASCII case only ("ſ" is not "s").
_PLAIN_NAMES = (r"(?:t[dhr]|thead|tbody|tfoot|table|caption|colgroup|col|p|span|em|strong|b|i"
                r"|a|abbr|sup|sub|small|code|br|ul|ol|li|dl|dt|dd|h[1-6]|section|figure"
                r"|figcaption|svg|g|path|defs|clippath|use|text|tspan|rect|circle|ellipse"
                r"|line|polyline|polygon|image|lineargradient|radialgradient|stop|mask"
                r"|pattern|marker|symbol)")
_SPACE = r"[ \t\n\r\f]"
_ATTR = rf"""{_SPACE}+[a-z_:][-a-z0-9_:.]*(?:{_SPACE}*={_SPACE}*(?:"[^"<>]*"|'[^'<>]*'))?"""
_TAG = rf"<(?:{_PLAIN_NAMES}(?:{_ATTR})*{_SPACE}*/?|/(?:{_PLAIN_NAMES}|div){_SPACE}*)>"
_TEXT = r"(?:[^<&]++|&(?:[a-z][a-z0-9]*|#[0-9]+|#x[0-9a-f]+);)*+"
_PLAIN = re.compile(rf"(?:{_TAG}{_TEXT})+", re.IGNORECASE | re.ASCII)
#: A start tag the tokenizer ends where it ends however much text follows: names and
#: unquoted values without quotes, every quote closed. In another ("<a b= "x>"), a quote may
#: be closed only after the text read so far, and the tokenizer then ends the tag elsewhere.
_REGULAR_START_TAG = re.compile(
    rf"""<[a-z][^\t\n\r\f />\x00"']*(?:{_SPACE}+[^\t\n\r\f "'<>/=]+(?:{_SPACE}*={_SPACE}*"""
    rf"""(?:"[^"]*"|'[^']*'|[^\t\n\r\f "'<>=`]+))?)*{_SPACE}*/?>""", re.IGNORECASE | re.ASCII)
#: White space to html.parser's start-tag pattern (Unicode) but not to the one above: in a tag
#: with it ("<a \xa0="=">"), the tokenizer may split names and values elsewhere.
_OTHER_SPACE = re.compile(r"(?![ \t\n\r\f])\s")
#: Plain markup shorter than this is read by the tokenizer (a skip costs a new tokenizer).
_SKIP_AT_LEAST = 2000
#: "&#" not starting a character reference: the tokenizer stops there and reads the rest of
#: what it was given only when closed, so the page is then read in one piece, as nbconvert does
_BAD_CHARREF = re.compile(r"&#(?![0-9]+[^0-9a-fA-F]|[xX][0-9a-fA-F]+[^0-9a-fA-F])")


def accessible(page: str) -> str:
    """Make outputs focusable and give images a text, as nbconvert does, without BeautifulSoup.

    The start tags are found by the tokenizer BeautifulSoup used for it (the standard
    library's ``html.parser``: nothing in a comment, script, style or attribute value is a
    tag; names in any case), and the same attributes inserted into them; the page is otherwise
    left as the template wrote it (SVG's ``viewBox`` keeps its capital, which BeautifulSoup
    lowered). Long runs of plain markup (a report's tables and charts: nine tenths of its
    tags) are not tokenized: where the tokenizer stands between tags (none left open, no
    raw-text element), such a run leaves it there and holds nothing to edit; where it does
    not (inside a comment or a script), it reads on in pieces at least as long as what it
    holds. A page with a malformed character reference, or with a start tag whose end could
    depend on the text after it (a quote left open), is tokenized whole, as by nbconvert.

    Examples
    --------
    >>> accessible('<div class="jp-RenderedHTML jp-OutputArea-output x"><p>')
    '<div tabindex="0" class="jp-RenderedHTML jp-OutputArea-output x"><p>'
    >>> accessible('<img src="a.png"> <img alt="" src="b.png">').split(" src")[0]
    '<img alt="No description has been provided for this image"'
    >>> accessible('<IMG src="a" ALT="Gaps"><span title="<img src=x>">')
    '<IMG src="a" ALT="Gaps"><span title="<img src=x>">'
    """
    newlines = [m.start() for m in re.finditer("\n", page)]
    edits = None if _BAD_CHARREF.search(page) else _edits_skipping_runs(page, newlines)
    if edits is None:               # read in one piece, as nbconvert reads it
        tags = _StartTags()
        tags.feed(page)
        tags.close()
        edits = _offsets(tags.edits, 0, newlines)
    if not edits:
        return page
    out, last = [], 0
    for at, text in edits:
        out += [page[last:at], text]
        last = at
    return "".join([*out, page[last:]])


def _edits_skipping_runs(page: str, newlines: list[int]) -> list[tuple[int, str]] | None:
    """Return the edits, long plain runs skipped (None: read the page in one piece).

    None where a start tag's end could depend on the text after it (a quote left open, or
    another irregular tag): cut into pieces, the page could be read otherwise.
    """
    edits: list[tuple[int, str]] = []
    start = fed = 0                 # where the current tokenizer began, and has read up to
    tags = _StartTags()
    for run in _PLAIN.finditer(page):
        if run.end() - run.start() < _SKIP_AT_LEAST:
            continue
        if len(tags.rawdata) > run.start() - fed:
            # the tokenizer holds text it could not read yet (inside a comment or a script,
            # say), which each feed reads again: it is fed at least as much again, or a page
            # of many runs inside one script would be read in quadratic time
            continue
        tags.feed(page[fed:run.start()])
        fed = run.start()
        if tags.irregular:
            return None
        if tags.between_tags():     # the run is skipped; a new tokenizer reads what follows
            tags.close()
            edits += _offsets(tags.edits, start, newlines)
            start = fed = run.end()
            tags = _StartTags()
    tags.feed(page[fed:])
    tags.close()
    return None if tags.irregular else edits + _offsets(tags.edits, start, newlines)


def _offsets(edits, start: int, newlines: list[int]) -> list[tuple[int, str]]:
    """Edits at the tokenizer's (line, column) as offsets in the page; it began at ``start``."""
    first = bisect.bisect_left(newlines, start)     # the first newline at or after start
    return [((start if line == 1 else newlines[first + line - 2] + 1) + column + after_name,
             text) for (line, column), after_name, text in edits]


class _StartTags(HTMLParser):
    """Where :func:`accessible` inserts an attribute: ``((line, column), offset, text)``."""

    def __init__(self):
        self.raw_text = False           # inside a script, style ... (set before reset())
        super().__init__(convert_charrefs=False)
        self.edits: list = []
        self.irregular = False          # a start tag whose end could depend on what follows

    def set_cdata_mode(self, *args, **kwargs):
        self.raw_text = True
        super().set_cdata_mode(*args, **kwargs)

    def clear_cdata_mode(self, *args, **kwargs):
        self.raw_text = False
        super().clear_cdata_mode(*args, **kwargs)

    def between_tags(self) -> bool:
        """Whether all that was fed is read (nothing held back) outside a raw-text element."""
        return not self.rawdata and not self.raw_text

    def handle_starttag(self, tag, attrs):
        source = self.get_starttag_text()
        if not self.irregular and (not _REGULAR_START_TAG.fullmatch(source)
                                   or _OTHER_SPACE.search(source)):
            self.irregular = True
        names = {name for name, _ in attrs}          # the parser lowers them
        if tag == "img" and "alt" not in names:
            text = f' alt="{_NO_ALT}"'
        elif (tag == "div" and "tabindex" not in names
              and _FOCUSABLE & set((dict(attrs).get("class") or "").split())):
            text = ' tabindex="0"'
        else:
            return
        self.edits.append((self.getpos(), 1 + len(tag), text))   # after "<" and the name

    handle_startendtag = handle_starttag


_EXPORTER: list = []


def exporter():
    """Return the HTML exporter, made once per process (its templates load once).

    nbconvert's ``HTMLExporter`` with ``exclude_input``, the package's ``em_report`` template
    and its closing BeautifulSoup pass done by :func:`accessible`; cells tagged
    ``remove_cell`` (notes for notebook users) are dropped; the notebook is validated once,
    after its preprocessors (``optimistic_validation``).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    >>> page, _ = exporter().from_notebook_node(nb)
    >>> "<h1" in page and "<script src=" not in page
    True
    """
    if _EXPORTER:
        return _EXPORTER[0]
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from nbconvert.preprocessors import TagRemovePreprocessor

    class ReportExporter(HTMLExporter):
        """nbconvert's HTML exporter, its closing BeautifulSoup pass done by :func:`accessible`."""

        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node's filters, then the template itself
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return accessible(page), resources

    made = ReportExporter(
        template_name="em_report",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # the notebook is validated once, after the preprocessors, not after each of them
        # (13 validations a report): the same check of the same notebook
        optimistic_validation=True,
    )
    made.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"remove_cell"}, enabled=True), enabled=True
    )
    _EXPORTER.append(made)
    return made
