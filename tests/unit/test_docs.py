"""Docs kept honest: every CLI command and every run/crawl option is in the README."""

from pathlib import Path

from typer.main import get_command

from flows.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented():
    commands = get_command(app).commands
    assert set(commands) == {"run", "crawl", "report", "show", "changes", "gc", "export"}
    for name in commands:
        assert f"sitesift {name}" in README, name


def test_run_and_crawl_options_are_documented():
    commands = get_command(app).commands
    for name in ("run", "crawl", "gc", "export"):
        for param in commands[name].params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in ("--help",):
                    assert opt in README, f"{name} {opt}"


def test_no_document_holds_an_unresolved_merge():
    root = Path(__file__).resolve().parents[2]
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md")), root / "bench" / "RESULTS.md"]:
        lines = doc.read_text(encoding="utf-8").splitlines()
        marks = [i + 1 for i, line in enumerate(lines) if line.startswith(("<<<<<<< ", ">>>>>>> "))]
        assert not marks, f"{doc.name}: conflict markers at lines {marks}"
