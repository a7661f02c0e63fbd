"""Text a page carries twice: a hidden copy of a paragraph is kept once, an item that several lists
on the page share (a feature in each pricing plan) stays in each list."""

from __future__ import annotations

import pandas as pd

from pipeline import run_incremental
from tests.support import write_files

FEATURE = "Phone consultation with one of our professional resume experts"
STORY = "Our writers have helped more than ten thousand people find their next job since we opened."
PAGE = f"""Resume writing packages

{STORY}

Entry level plan

  • {FEATURE}
  • Two rounds of revisions based on your feedback

Executive plan

  • {FEATURE}
  • A cover letter written for the roles you apply to

{STORY}
"""


def test_a_repeated_paragraph_is_kept_once_and_a_shared_list_item_in_each_list(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_files(raw, {"plans/packages.txt": PAGE})
    run_incremental(raw, out)
    text = pd.read_parquet(out / "documents")["text"].iloc[0]
    assert text.count(STORY) == 1
    assert text.count(FEATURE) == 2
    assert "A cover letter written for the roles you apply to" in text
