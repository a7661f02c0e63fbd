"""A document's language: py3langid (its model ships inside the package) on the clean text, weighed
against the language the page declares. Pure (CPU; the model is read once per process)."""

from __future__ import annotations

import functools
import re
from typing import Any

from pipeline.records import PageMeta

DETECT_CHARS = 1000  # text read by the detector: ~2.5 ms a page; a longer prefix changes almost nothing
MIN_DETECT_LETTERS = 40  # below this the detector's answer is noise ("ok" comes out Serbian)
CONFIDENT = 0.9  # detector probability that beats what the page declares
PLAUSIBLE = 0.05  # a declared language the detector gives at least this keeps its place (no/nb/da)
_LETTER = re.compile(r"[^\W\d_]")
_NOT_LANGUAGES = {"zxx", "und"}
# languages the detector cannot tell apart reliably: a declaration of one is plausible for all of them
_CLOSE = [{"no", "nb", "nn", "da"}, {"hr", "sr", "bs"}, {"ms", "id"}, {"cs", "sk"}]


@functools.cache
def _identifier() -> Any:
    """The packaged model with probabilities normalised to 0..1 (~1 s to read, once per process)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_model() -> None:
    """Read the model now (the worker processes' fork server does, once for all of them)."""
    _identifier()


def detect(text: str) -> dict[str, float]:
    """Probability of each language for the start of `text`; {} when it has too few letters."""
    sample = text[:DETECT_CHARS]
    if len(_LETTER.findall(sample)) < MIN_DETECT_LETTERS:
        return {}
    return {lang: p for lang, p in _identifier().rank(sample) if lang not in _NOT_LANGUAGES}


def _support(probs: dict[str, float], code: str) -> float:
    """The detector's probability of a language or of one it cannot tell it apart from."""
    close = next((group for group in _CLOSE if code in group), {code})
    return sum(probs.get(c, 0.0) for c in close)


def choose_language(meta: PageMeta, text: str) -> tuple[str | None, str | None]:
    """(language, source). What the page declares wins unless the detector is confident of another
    language that it finds the declared one implausible for: templates declare one language for a
    site whose pages are in several, while the detector mixes up close languages (no, nb, da) that a
    declaration settles. With no declaration, a confident detection; else None."""
    probs = detect(text)
    best = max(probs, key=probs.__getitem__, default=None)
    declared = meta.declared_language
    if declared is not None and (best is None or _support(probs, declared) >= PLAUSIBLE):
        return declared, meta.declared_language_source
    if best is not None and probs[best] >= CONFIDENT:
        return best, "langid"
    if declared is not None:
        return declared, meta.declared_language_source
    return None, None
