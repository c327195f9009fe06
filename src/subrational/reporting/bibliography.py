"""The report's bibliography: every work a page cites, numbered by first use, and as BibTeX.

Citations in the studies' ``human.json`` and in findings are free text. :meth:`Bibliography.cite`
splits a text at ``;`` and finds the works each part names (:mod:`.works`); a part that names a
year but no known work becomes an entry of its own, holding the text as written, so the human
reference of a study of one's own is listed too. A part with no year ("computed", "HUMAN_DATA.md
bands ...") cites nothing. The page calls ``cite`` where a source is shown and gets the numbers
to link; ``references.bib`` holds the same entries.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from .works import WORKS, Work

__all__ = ["Bibliography", "Entry"]

_YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")
_BIBTEX_SPECIAL = str.maketrans({"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_"})


@dataclass(frozen=True)
class Entry:
    """One numbered work of a bibliography.

    Attributes:
        number: Its number on the page (1, 2, ... in order of first use).
        work: The work (a known one, or one made from a citation text).
    """

    number: int
    work: Work

    @property
    def anchor(self) -> str:
        """The element id of its line in the page's bibliography."""
        return f"ref-{self.work.key}"

    def text(self) -> str:
        """One reference line: authors (year). Title. Venue volume(number), pages."""
        f = self.work.fields
        if "author" not in f:
            return f.get("note", self.work.short)
        venue = f.get("journal") or f.get("publisher") or (
            f"arXiv:{f['eprint']}" if "eprint" in f else "")
        issue = "".join([f" {f['volume']}" if "volume" in f else "",
                         f"({f['number']})" if "number" in f else "",
                         f", {f['pages'].replace('--', '–')}" if "pages" in f else ""])
        authors = f["author"].replace(" and others", " et al.").replace(" and ", "; ")
        return f"{authors} ({f['year']}). {f['title'].replace('{', '').replace('}', '')}. " \
               f"{venue}{issue}."


def _own(part: str, year: str) -> Work:
    """An entry for a citation no known work matches: its text as written."""
    head = re.sub(r"[^a-z]", "", part.split()[0].lower()) or "ref"
    return Work(f"{head}{year}-{zlib.crc32(part.strip().encode()) % 10_000:04d}", "misc",
                {"note": part.strip(), "year": year}, (), part.strip())


class Bibliography:
    """Works cited so far, in order of first use."""

    def __init__(self, works: Iterable[Work] = WORKS) -> None:
        self._works = tuple(works)
        self._entries: dict[str, Entry] = {}

    @property
    def entries(self) -> list[Entry]:
        """Every cited work, numbered."""
        return list(self._entries.values())

    def add(self, work: Work) -> Entry:
        """Cite ``work`` (numbered on first use); return its entry."""
        if work.key not in self._entries:
            self._entries[work.key] = Entry(len(self._entries) + 1, work)
        return self._entries[work.key]

    def cite(self, text: str | None) -> list[Entry]:
        """The entries ``text`` cites, added on first use (in the order the text names them)."""
        found: list[Entry] = []
        for part in (text or "").split(";"):
            works = [w for w in self._works if any(re.search(p, part) for p in w.match)]
            if not works and (year := _YEAR.search(part)):
                works = [_own(part, year.group(1))]
            for work in works:
                entry = self.add(work)
                if entry not in found:
                    found.append(entry)
        return found

    def link(self, text: str | None) -> Markup:
        """``text`` escaped, followed by links to the entries it cites (``[2, 5]``)."""
        entries = self.cite(text)
        if not entries:
            return escape(text or "")
        links = Markup(", ").join(Markup('<a href="#{}">{}</a>').format(e.anchor, e.number)
                                  for e in entries)
        return escape(text or "") + Markup(' <span class="cite">[{}]</span>').format(links)

    def bibtex(self) -> str:
        """Every entry as BibTeX (``references.bib``)."""
        blocks = []
        for entry in self.entries:
            work = entry.work
            fields = ",\n".join(f"  {name} = {{{_bibtex_value(name, value)}}}"
                                for name, value in work.fields.items())
            blocks.append(f"@{work.kind}{{{work.key},\n{fields}\n}}\n")
        header = "% Works cited in this subrational report, numbered as on the page.\n"
        return header + "\n".join(blocks)


def _bibtex_value(name: str, value: str) -> str:
    if name in ("url", "eprint"):
        return value
    return value.translate(_BIBTEX_SPECIAL)
