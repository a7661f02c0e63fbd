"""trafilatura's output matched back onto our blocks (real trafilatura, real pages built here)."""

from pipeline.clean.main_content import Extraction, mark_main, matched_shares, norm_tokens, run_trafilatura
from pipeline.clean.segment_html import parse_html, segment_html
from pipeline.records import Block

WORDS = [
    "the",
    "council",
    "agreed",
    "a",
    "new",
    "budget",
    "for",
    "the",
    "libraries",
    "and",
    "parks",
    "after",
    "a",
    "long",
    "debate",
]


def _sentence(i: int) -> str:
    return " ".join(WORDS[(i + k) % len(WORDS)] for k in range(12)).capitalize() + f" number {i}."


def test_one_big_block_that_differs_by_a_few_tokens_is_kept():
    # the story is one ~12,000-character block; trafilatura drops the <time> elements inside it,
    # so its output differs from the block by a few tokens
    story = " ".join(
        _sentence(i) + (' The vote was on <time datetime="2025-05-12">12 May</time>.' if i % 40 == 0 else "")
        for i in range(160)
    )
    page = (
        "<html><head><title>Budget</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<main><h1>Budget agreed</h1><div class='story'>{story}</div></main>"
        "<footer><p>Copyright Example Gazette, all rights reserved.</p></footer></body></html>"
    )
    blocks = segment_html(parse_html(page))
    story_block = next(b for b in blocks if len(b.text) > 10_000)
    extraction = run_trafilatura(page, None)
    assert extraction is not None
    assert norm_tokens(story_block.text) not in " ".join(extraction.tokens)  # the premise: no exact match
    mark_main(blocks, extraction)
    assert story_block.in_main
    assert [b.text for b in blocks if not b.in_main] == [
        "Home News",
        "Copyright Example Gazette, all rights reserved.",
    ]


def test_shares_count_tokens_in_order_and_text_repeated_on_the_page_once():
    blocks = [
        Block(0, "paragraph", "Read the full report, opens new tab"),
        Block(1, "paragraph", "Sign up for our newsletter"),
        Block(2, "paragraph", "The report says the parks stay open."),
        Block(3, "paragraph", "The report says the parks stay open."),
    ]
    ext = Extraction(
        tokens=["read", "the", "full", "report", "the", "report", "says", "the", "parks", "stay", "open"]
    )
    assert matched_shares(blocks, ext) == [4 / 7, 0.0, 1.0, 0.0]


def test_a_page_token_that_is_two_output_tokens_run_together_is_matched():
    from pipeline.clean.main_content import split_glued

    vocabulary = {"2026", "1h", "54m", "r", "scream"}
    assert split_glued("20261h", vocabulary) == ["2026", "1h"]
    assert split_glued("54mr", vocabulary) == ["54m", "r"]
    assert split_glued("2026", vocabulary) == ["2026"]
    assert split_glued("boxoffice", vocabulary) == ["boxoffice"]
    blocks = [Block(0, "paragraph", "Scream 7"), Block(1, "paragraph", "20261h 54mR")]
    assert matched_shares(blocks, Extraction(tokens=["scream", "7", "2026", "1h", "54m", "r"])) == [1.0, 1.0]
