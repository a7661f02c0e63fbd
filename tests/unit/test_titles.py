from pipeline.clean.titles import learn_affixes, strip_affixes

TITLES = [
    "Git Bisect - Isaac Lopez",
    "Svg Masks - Isaac Lopez",
    "Marshall Goldsmith | Talk @ google - Isaac Lopez",
    "Books - Isaac Lopez",
    "Isaac Lopez",
]


def test_suffix_learned_from_the_site_and_stripped():
    aff = learn_affixes(TITLES, min_pages=3)
    assert aff.suffixes == {"isaac lopez"}
    assert strip_affixes("Git Bisect - Isaac Lopez", aff) == "Git Bisect"
    assert (
        strip_affixes("Marshall Goldsmith | Talk @ google - Isaac Lopez", aff)
        == "Marshall Goldsmith | Talk @ google"
    )
    assert strip_affixes("Isaac Lopez", aff) == "Isaac Lopez"


def test_prefix_learned():
    aff = learn_affixes([f"Example News | Story {i}" for i in range(5)], min_pages=3)
    assert strip_affixes("Example News | Story 9", aff) == "Story 9"


def test_nothing_learned_from_too_few_pages():
    aff = learn_affixes(["A - Site", "B - Site"], min_pages=3)
    assert strip_affixes("A - Site", aff) == "A - Site"
