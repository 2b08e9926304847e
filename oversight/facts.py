"""Named facts: the one way a document's record-dependent sentence is made.

A `Fact` (oversight.sentences) is a statement computed from the record: its kind (the name of
its one template), its values and the ids of the records it rests on. `Say` collects the facts
of one document in the order they are printed and returns the text each renders to; the
document exposes `say.listed()` (kind, text, values, ids) so tests can check every sentence
against the record. The brief, the notice and the review use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oversight.sentences import Fact

__all__ = ["Chat", "Fact", "Say", "evidence_ids"]


class Say:
    """A document's facts in the order they are printed: each call records one fact (its kind,
    values and the ids it rests on) and returns the paragraph the template gets.

    `ids` maps a noun (see oversight.sentences.NOUNS) to the ids cited, or to
    {"ids": [...], "n": total} when only the first few of `n` are cited."""

    def __init__(self, templates: Mapping[str, str], labels: Mapping[str, Mapping[int, str]] | None = None) -> None:
        """`labels`: noun -> id -> how the document names that record where the reader has no
        numbered list of it (a brief's rights by name, its reports by unit and day); a citation
        uses them when it has a label for every id it cites, else the record numbers."""
        self.templates = templates
        self.labels = labels or {}
        self.facts: list[Fact] = []

    def fact(self, kind: str, ids: Mapping[str, Any] | None = None, **values: Any) -> Fact:
        id_map: dict[str, list[int]] = {}
        totals: dict[str, int] = {}
        for noun, c in (ids or {}).items():
            if isinstance(c, dict):
                id_map[noun], totals[noun] = [int(i) for i in c["ids"]], int(c["n"])
            else:
                id_map[noun] = [int(i) for i in c]
        labels = {
            noun: [self.labels[noun][i] for i in ids]
            for noun, ids in id_map.items()
            if noun in self.labels and all(i in self.labels[noun] for i in ids)
        }
        fact = Fact(kind, {**values, "_totals": totals} if totals else values, id_map, labels)
        self.facts.append(fact)
        return fact

    def text(self, kind: str, ids: Mapping[str, Any] | None = None, **values: Any) -> str:
        """Record the fact and return its sentence alone (no citation note)."""
        return self.fact(kind, ids, **values).render(self.templates)

    def __call__(self, kind: str, ids: Mapping[str, Any] | None = None, **values: Any) -> dict[str, Any] | str:
        fact = self.fact(kind, ids, **values)
        text, note = fact.render(self.templates), fact.note()
        return {"text": text, "note": note} if note else text

    def listed(self) -> list[dict[str, Any]]:
        """Every fact recorded, in order: kind, text, values (without private keys), ids."""
        return [f.to_dict(self.templates) for f in self.facts]


class Chat(Say):
    """A chat summary's facts (/todo, /progress, the daily digest, a notice draft's overview): one
    line each, in sections; the message is each section's lines with a blank line between sections,
    so the message is exactly its facts' texts (`listed()` gives each fact's section)."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        super().__init__(templates)
        self._starts: list[int] = [0]

    def section(self) -> None:
        """Begin a new section: the next fact follows a blank line (nothing if the current one is empty)."""
        if len(self.facts) > self._starts[-1]:
            self._starts.append(len(self.facts))

    def sections(self) -> list[list[Fact]]:
        ends = [*self._starts[1:], len(self.facts)]
        return [self.facts[a:b] for a, b in zip(self._starts, ends, strict=True) if b > a]

    def message(self) -> str:
        """The chat message: the facts' texts, one a line, a blank line between sections."""
        return "\n\n".join("\n".join(f.render(self.templates) for f in part) for part in self.sections())

    def listed(self) -> list[dict[str, Any]]:
        """Every fact in order (kind, text, values, ids) with the number of its section."""
        return [{**f.to_dict(self.templates), "section": n} for n, part in enumerate(self.sections()) for f in part]


# The ids an evidence item (oversight.sentences.EVIDENCE) cites, by noun: the tables a fact resting
# on that evidence cites.
_EVIDENCE_IDS: dict[str, str] = {
    "problem_id": "problem",
    "decision_id": "decision",
    "event_id": "event",
    "next_event_id": "event",
    "task_id": "task",
    "item_id": "item",
    "confirmed_event_id": "event",
    "reopened_event_id": "event",
}
_EVIDENCE_ID_LISTS: dict[str, str] = {"event_ids": "event", "other_item_ids": "item"}


def evidence_ids(items: Iterable[Any]) -> dict[str, list[int]]:
    """Every record id the evidence items cite, by noun, in first-seen order."""
    out: dict[str, list[int]] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        for key, noun in _EVIDENCE_IDS.items():
            if isinstance(item.get(key), int):
                out.setdefault(noun, []).append(int(item[key]))
        for key, noun in _EVIDENCE_ID_LISTS.items():
            out.setdefault(noun, []).extend(int(i) for i in item.get(key) or [] if isinstance(i, int))
    return {noun: list(dict.fromkeys(ids)) for noun, ids in out.items() if ids}
