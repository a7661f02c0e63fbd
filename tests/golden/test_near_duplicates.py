"""Document-level near-duplicates across sites: one cluster, the earliest published page canonical."""

from __future__ import annotations

import pandas as pd

from tests.conftest import run_and_read, write_files

ARTICLE = (
    "The county council has approved a plan to plant ten thousand trees along the river over the next "
    "five years. Volunteers will be asked to help with planting days in spring and autumn, and local "
    "schools have already signed up to adopt sections of the riverbank. The scheme is funded by a "
    "national grant and by donations from local businesses, and officials expect the first saplings "
    "to go in before the end of March. Residents can register their interest on the council website."
)
OTHERS = [
    "A new bus route will link the railway station with the hospital from next month, running every twenty minutes.",
    "The annual book fair moves to the town hall this year after record numbers of visitors last summer.",
    "Swimming lessons for adults are back at the leisure centre, with evening classes for complete beginners.",
    "The farmers market has added a second Saturday each month, with more stalls selling local cheese and bread.",
]


def test_copies_across_sites_form_one_cluster(tmp_path):
    files = {
        "herald/a.txt": f"Trees for the river\n\n{ARTICLE}\n\nFirst published 12 March 2024",
        "herald/b.txt": f"New bus route\n\n{OTHERS[0]}\n\nFirst published 2 March 2024",
        "gazette/copy.txt": f"Ten thousand trees\n\n{ARTICLE.replace('five years', 'five  years!')}\n\nFirst published 10 March 2024",
        "gazette/c.txt": f"Book fair\n\n{OTHERS[1]}\n\nFirst published 3 March 2024",
        "gazette/d.txt": f"Adult swimming\n\n{OTHERS[2]}\n\nFirst published 4 March 2024",
        "courier/syndicated.txt": f"Council backs tree plan\n\n{ARTICLE}\n\nFirst published 14 March 2024",
        "courier/e.txt": f"Market news\n\n{OTHERS[3]}\n\nFirst published 5 March 2024",
    }
    raw = write_files(tmp_path / "raw", files)
    output, ds = run_and_read(raw, tmp_path / "out")
    docs = ds["documents"].set_index("source")
    canonical = docs.loc["gazette/copy.txt", "doc_id"]  # earliest published of the three copies
    for src in ("herald/a.txt", "gazette/copy.txt", "courier/syndicated.txt"):
        assert docs.loc[src, "dup_cluster"] == canonical
    assert pd.isna(docs.loc["gazette/copy.txt", "duplicate_of"])
    assert docs.loc["herald/a.txt", "duplicate_of"] == canonical
    assert docs.loc["courier/syndicated.txt", "duplicate_of"] == canonical
    others = docs.drop(index=["herald/a.txt", "gazette/copy.txt", "courier/syndicated.txt"])
    assert others.dup_cluster.isna().all() and others.duplicate_of.isna().all()
    assert output.summary["duplicate_clusters"] == 1 and output.summary["duplicate_pages"] == 2
