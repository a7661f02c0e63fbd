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


FORUM_POSTS = [
    (
        "ada",
        "Very interested in the ergonomic reference counting work. Most of my async code clones handles into tasks all day long.",
    ),
    (
        "bob",
        "So do I, and I do not think eliding clones would improve ergonomics much, given the cost of another trait.",
    ),
    (
        "cy",
        "Spawned tasks are where it hurts: every closure needs its own copy, and the boilerplate hides what the code does.",
    ),
    ("dee", "Great write-up, many things on this list will help operating system development in particular."),
]


def _thread() -> str:
    items = "".join(
        f'<li class="comments_subtree"><div class="comment"><div class="voters"><a class="upvoter">{i + 3}</a></div>'
        f'<div class="details"><div class="byline"><a href="/~{u}">{u}</a> 1 year ago | link</div>'
        f'<div class="comment_text"><p>{t}</p></div></div></div></li>'
        for i, (u, t) in enumerate(FORUM_POSTS)
    )
    return (
        "<html><head><title>Project goals for 2024 | Lobsters</title></head><body>"
        "<header><nav><a href='/active'>Active</a> <a href='/recent'>Recent</a> <a href='/login'>Login</a></nav></header>"
        "<div id='inside'><ol class='stories list'><li class='story'><div class='story_liner'><div class='details'>"
        "<span class='link'><a href='https://blog.example/goals'>Project goals for 2024</a></span>"
        "<div class='byline'>via ada 1 year ago | 12 comments</div></div></div>"
        f"<ol class='comments comments1'>{items}</ol></li></ol></div>"
        "<footer><a href='/about'>About</a> <a href='/tags'>Tags</a></footer></body></html>"
    )


def test_a_forum_threads_posts_are_main_content():
    ext = run_trafilatura(_thread(), None)
    assert ext is not None
    text = " ".join(ext.tokens)
    for _, post in FORUM_POSTS:
        assert norm_tokens(post) in text
    assert "login" not in ext.tokens


def test_output_that_the_extractor_moved_out_of_page_order_is_matched():
    """trafilatura puts what a fallback extractor found after its own text: the page's FAQ answers
    come last in its output, and in another order among themselves."""
    question = [f"Question {i}: how do the council and the parks team handle request {i}?" for i in range(3)]
    answer = [
        "Fill in the online form and the parks team will reply within a week.",
        "Permits for events of more than fifty people are issued by the council office.",
        "Dogs are welcome on a lead everywhere except the playgrounds and the rose garden.",
    ]
    blocks = [Block(0, "paragraph", "Home Parks Libraries")]
    for i in range(3):
        blocks += [Block(len(blocks), "heading", question[i]), Block(len(blocks) + 1, "paragraph", answer[i])]
    blocks.append(Block(len(blocks), "paragraph", "Subscribe to our newsletter"))
    moved = [answer[2], answer[0], answer[1]]
    output = " ".join(["subscribe to our newsletter", *question, *moved])
    shares = matched_shares(blocks, Extraction(tokens=norm_tokens(output).split()))
    assert all(share > 0.8 for share in shares[1:7]), shares
    assert shares[0] < 0.5 and shares[7] == 0.0  # short runs of stray words are not trusted
