"""Parse results as state tables (what parser processes hand back): batches put together equal one
parse of all pages, pickling keeps them exactly (compressed when large), and the objects read back
from them are the ones the parser made."""

from __future__ import annotations

import pickle

from pipeline.acquire.files import iter_raw_inputs
from pipeline.config import PipelineConfig
from pipeline.run.pages import parse_to_tables
from pipeline.store.state import COMPRESS_PICKLE_BYTES, ParsedTables
from tests.support import gazette, parsed_pages, write_files

CFG = PipelineConfig()


def inputs(tmp_path, extra: dict[str, str | bytes] | None = None):
    raw = write_files(tmp_path / "raw", {**gazette(), "gazette/empty.html": b"", **(extra or {})})
    return list(iter_raw_inputs(raw, CFG.load))


def test_batches_put_together_equal_one_parse_of_all_pages(tmp_path):
    raws = inputs(tmp_path)
    whole = parse_to_tables(raws, CFG)
    parts = ParsedTables.concat([parse_to_tables([r], CFG) for r in reversed(raws)])
    assert whole.pages.num_rows == 6 and whole.pages.column("skip_reason").to_pylist().count("empty") == 1
    assert parts.pages.equals(whole.pages) and parts.blocks.equals(whole.blocks)
    assert whole.pages.column("doc_id").to_pylist() == sorted(whole.pages.column("doc_id").to_pylist())


def test_pickling_keeps_the_tables_small_and_large(tmp_path):
    report = "".join(f"Paragraph {i} of a very long report on the council budget.\n\n" for i in range(60_000))
    big_raws = inputs(tmp_path, {"gazette/long.txt": report})
    small = parse_to_tables(inputs(tmp_path / "small"), CFG)
    large = parse_to_tables(big_raws, CFG)
    assert small.pages.nbytes + small.blocks.nbytes < COMPRESS_PICKLE_BYTES
    assert large.pages.nbytes + large.blocks.nbytes > COMPRESS_PICKLE_BYTES
    for tables in (small, large):
        back = pickle.loads(pickle.dumps(tables))
        assert back.pages.equals(tables.pages) and back.blocks.equals(tables.blocks)
        assert back.pages.schema.equals(tables.pages.schema, check_metadata=True)
    assert len(pickle.dumps(large)) < (large.pages.nbytes + large.blocks.nbytes) / 4  # compressed


def test_pages_read_back_from_the_tables_are_the_parsed_objects(tmp_path):
    parsed = parsed_pages(write_files(tmp_path / "raw", gazette()), CFG)
    tables = ParsedTables.of(parsed, [])
    wanted = sorted(p.page.doc_id for p in parsed)[1:4]
    back = {p.page.doc_id: p for p in tables.parsed_pages(wanted)}
    assert sorted(back) == wanted
    for original in (p for p in parsed if p.page.doc_id in back):
        again = back[original.page.doc_id]
        assert again.blocks == original.blocks and len(again.blocks) > 3
        assert (again.site, again.html_title, again.date_candidates, again.extractor, again.in_sample) == (
            original.site,
            original.html_title,
            original.date_candidates,
            original.extractor,
            original.in_sample,
        )
        assert again.page == original.page
