"""docs/schema.md is generated from the schemas in code; this fails when they drift apart."""

from pathlib import Path

import pyarrow.parquet as pq

from pipeline.schemas import CRAWL_LOG_SCHEMA, DATASETS, SCHEMA_VERSION
from pipeline.store.schema_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_schema_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "regenerate: python -m pipeline.store.schema_doc > docs/schema.md"
    )


def test_every_column_is_documented():

    for schema in [*DATASETS.values(), CRAWL_LOG_SCHEMA]:
        for field in schema:
            assert field.metadata and field.metadata[b"description"], field.name


def test_written_files_carry_schema_and_version(processed_naht):
    for name, schema in DATASETS.items():
        files = list((processed_naht / name).glob("*.parquet"))
        assert files, name
        for f in files:
            written = pq.read_schema(f)
            assert written.remove_metadata() == schema.remove_metadata()
            assert [written.field(n).nullable for n in written.names] == [
                schema.field(n).nullable for n in schema.names
            ]
            assert written.metadata[b"sitesift.schema_version"] == SCHEMA_VERSION.encode()
