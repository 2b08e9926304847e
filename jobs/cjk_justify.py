"""Justification between characters for Chinese lines (GB/T 9704's lines run edge to edge).

WeasyPrint 70 justifies a line only at its spaces (`weasyprint.layout.inline.justify_line`
widens each space by the line's missing width, a space the line ends on too). A Chinese line
has no spaces, so a line whose break moved a number, a Latin word or a bracketed citation down
ended up to two characters short of the right edge (or all its missing width went into the
unseen space at its end). Here a line with no space to widen but at its end gets the missing
width as extra letter spacing, spread evenly between its characters, as the layout's own letter spacing
(the 28-characters-a-line grid) is applied: the characters stay the same characters, so text
copied from the PDF is unchanged, and a line with spaces is justified by WeasyPrint as before.

`install()` replaces the two WeasyPrint functions involved, once per process; it refuses any
other WeasyPrint major version, whose internals it has not been checked against.
"""

from __future__ import annotations

from typing import Any

import weasyprint
from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.text import line_break
from weasyprint.text.ffi import TO_UNITS, ffi, pango, unicode_to_char_p

CHECKED_MAJOR = "70"
_installed = False
_justify_at_spaces = inline.justify_line
_set_text = line_break.Layout.set_text


def _gaps(box: Any) -> int:
    """The gaps between characters that letter spacing widens: Pango adds it between the
    graphemes of a text box, not after its last one, so n - 1 for a box of n characters."""
    if isinstance(box, boxes.TextBox):
        return max(len(box.text) - 1, 0)
    if isinstance(box, boxes.LineBox | boxes.InlineBox):
        return sum(_gaps(child) for child in box.children if child.is_in_normal_flow())
    return 0


def _spread(context: Any, box: Any, per_gap: float, x_advance: float) -> float:
    """Widen each gap between a text box's characters by `per_gap` and move what follows; as
    WeasyPrint's add_word_spacing does for spaces."""
    if isinstance(box, boxes.TextBox):
        box.position_x += x_advance
        if len(box.text) > 1:
            layout = line_break.create_layout(
                box.text, box.style, context, max_width=None, justification_spacing=box.justification_spacing
            )
            layout.letter_justification = per_gap  # applied when the box is drawn (set_text below)
            layout.deactivate()
            box.pango_layout = layout
            extra = per_gap * (len(box.text) - 1)
            box.width += extra
            x_advance += extra
    elif isinstance(box, boxes.LineBox | boxes.InlineBox):
        box.position_x += x_advance
        before = x_advance
        children = box.children[::-1] if box.style["direction"] == "rtl" else box.children
        for child in children:
            if child.is_in_normal_flow():
                x_advance = _spread(context, child, per_gap, x_advance)
        box.width += x_advance - before
    else:  # an atomic inline box (an image, an inline block): moved, not widened
        box.translate(x_advance, 0)
    return x_advance


def _trailing_spaces(box: Any) -> int:
    """Spaces at the end of the line (its last text box's), which justifying would widen unseen."""
    if isinstance(box, boxes.TextBox):
        return len(box.text) - len(box.text.rstrip(" \u00a0"))
    if isinstance(box, boxes.LineBox | boxes.InlineBox):
        flowing = [child for child in box.children if child.is_in_normal_flow()]
        return _trailing_spaces(flowing[-1]) if flowing else 0
    return 0


def justify_line(context: Any, line: Any, extra_width: float) -> None:
    if inline.count_expandable_spaces(line) > _trailing_spaces(line):
        _justify_at_spaces(context, line, extra_width)
        return
    if gaps := _gaps(line):
        _spread(context, line, extra_width / gaps, 0)


def set_text(self: Any, text: str, justify: bool = False) -> None:
    _set_text(self, text, justify)
    extra = getattr(self, "letter_justification", 0.0)
    if not (justify and extra and self.text):
        return
    letter_spacing = self.style["letter_spacing"]
    if letter_spacing == "normal":
        letter_spacing = 0
    _, bytestring = unicode_to_char_p(self.text)
    attrs = pango.pango_layout_get_attributes(self.layout)
    if attrs == ffi.NULL:
        attrs = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    attr = pango.pango_attr_letter_spacing_new(int((letter_spacing + extra) * TO_UNITS))
    attr.start_index, attr.end_index = 0, len(bytestring)
    pango.pango_attr_list_change(attrs, attr)
    pango.pango_layout_set_attributes(self.layout, attrs)


def install() -> None:
    """Justify Chinese lines between characters from now on in this process."""
    global _installed
    if _installed:
        return
    if weasyprint.__version__.split(".")[0] != CHECKED_MAJOR:
        raise RuntimeError(
            f"jobs.cjk_justify was checked against WeasyPrint {CHECKED_MAJOR}, not {weasyprint.__version__}"
        )
    inline.justify_line = justify_line
    line_break.Layout.set_text = set_text
    _installed = True
