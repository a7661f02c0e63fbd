"""A generated multi-site HTML corpus for benchmarks, shaped like real pages (PERF-NOTES: ~38 KB per
page, most of it template): per site a template with a large menu, breadcrumbs, sidebar, footer,
inline script and style, and a promo line inside the article, with small drift from page to page;
unique articles drawn from a Zipf-like vocabulary. Deterministic for a given seed."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

_SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ka",
    "ke",
    "ki",
    "ko",
    "ku",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "va",
    "ve",
    "vi",
    "vo",
    "vu",
    "za",
    "ze",
    "zi",
    "zo",
    "zu",
    "an",
    "en",
    "in",
    "on",
    "un",
    "ar",
    "er",
    "ir",
    "or",
    "ur",
]
_VOCAB_RNG = random.Random(42)
VOCAB = sorted(
    {"".join(_VOCAB_RNG.choice(_SYLLABLES) for _ in range(_VOCAB_RNG.randint(1, 4))) for _ in range(6000)}
)
_WEIGHTS = [1.0 / (rank + 50) for rank in range(len(VOCAB))]  # Zipf-Mandelbrot: no "an an an" titles


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(VOCAB, weights=_WEIGHTS, k=n)).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng, rng.randint(8, 22)) for _ in range(rng.randint(2, 6)))


def _template(site: str) -> dict[str, str]:
    rng = random.Random(f"template-{site}")
    menu = "".join(
        f'<li class="menu-item"><a href="/section/{k}">{sentence(rng, 2)[:-1]}</a>'
        f'<ul class="sub">'
        + "".join(f'<li><a href="/section/{k}/{j}">{sentence(rng, 3)[:-1]}</a></li>' for j in range(5))
        + "</ul></li>"
        for k in range(10)
    )
    footer = "".join(f'<li><a href="/info/{k}">{sentence(rng, 2)[:-1]}</a></li>' for k in range(30))
    sidebar = "".join(f'<li><a href="/popular/{k}">{sentence(rng, 7)[:-1]}</a></li>' for k in range(12))
    script = "var cfg = {" + ", ".join(f'"k{k}": {k * 7}' for k in range(300)) + "};"
    style = " ".join(f".c{k} {{ margin: {k}px; padding: {k % 7}px; color: #{k:03x}; }}" for k in range(300))
    return {
        "menu": menu,
        "footer": footer,
        "sidebar": sidebar,
        "script": script,
        "style": style,
        "about": paragraph(rng),
        "promo": sentence(rng, 12),
    }


_TEMPLATES: dict[str, dict[str, str]] = {}


def page_html(site: str, i: int, rng: random.Random) -> str:
    t = _TEMPLATES.setdefault(site, _template(site))
    promo = t["promo"] if rng.random() > 0.3 else t["promo"][:-1] + "!"  # drift
    title = sentence(rng, rng.randint(4, 9))[:-1]
    paras = "".join(f"<p>{paragraph(rng)}</p>" for _ in range(rng.randint(3, 8)))
    day, month = 1 + i % 28, 1 + i % 12
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>'
        f'<meta property="article:published_time" content="2024-{month:02d}-{day:02d}T09:00:00Z">'
        f'<meta name="viewport" content="width=device-width"><style>{t["style"]}</style>'
        f"<script>{t['script']}</script></head><body>"
        f'<header><div class="logo"><a href="/">{site}</a></div><nav class="main"><ul>{t["menu"]}</ul></nav></header>'
        f'<div class="crumbs"><a href="/">Home</a> › <a href="/news">News</a> › {title}</div>'
        f'<main><article><h1>{title}</h1><div class="byline">By staff writer</div>{paras}'
        f'<p class="promo">{promo}</p></article>'
        f'<aside><h3>Most read</h3><ul>{t["sidebar"]}</ul><div class="about"><p>{t["about"]}</p></div></aside>'
        f"</main><footer><ul>{t['footer']}</ul><p>© 2024 {site}. All rights reserved. "
        f"Registered charity {zlib.crc32(site.encode()) % 10**6}.</p></footer></body></html>"
    )


def write_site(raw: Path, site: str, start: int, count: int, seed: int = 0) -> None:
    folder = raw / site
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        rng = random.Random(f"{seed}-{site}-{i}")
        (folder / f"page-{i:06d}.html").write_text(page_html(site, i, rng), encoding="utf-8")
