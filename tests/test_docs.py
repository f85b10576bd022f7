"""Docs that other tools' users rely on are generated or checked against the code."""

import re

import pytest

from conftest import REPO


def test_ontology_doc_is_up_to_date():
    from kg.docgen import render_ontology_markdown

    current = (REPO / "docs" / "ontology.md").read_text(encoding="utf-8")
    assert current == render_ontology_markdown(), "docs/ontology.md is stale: run `python -m kg.docgen`"


def test_ontology_doc_lists_every_term():
    from kg.vocab import KG

    text = (REPO / "docs" / "ontology.md").read_text(encoding="utf-8")
    missing = [t for t in KG.terms if f"`kg:{t}`" not in text]
    assert missing == []


@pytest.mark.parametrize("index", range(9))
def test_ontology_doc_examples_run_and_return_rows(kg_store, index):
    from kg.docgen import EXAMPLES

    title, query = EXAMPLES[index]
    assert kg_store.select(query), title


def test_cli_doc_covers_every_command_and_json_field():
    from kg.cli import cli

    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"`kg {name}" not in text]
    assert missing == [], f"docs/cli.md does not document: {missing}"
    for field in ("id", "label", "label_zh", "types", "excerpt_zh", "text_en", "section", "kind", "about", "source"):
        assert re.search(rf"`{field}`", text), field


def test_readme_opens_with_the_two_commands():
    lines = [l for l in (REPO / "README.md").read_text(encoding="utf-8").splitlines() if l.startswith(("pip ", "    pip "))]
    assert lines[0].strip() == "pip install . && kg info"
    assert lines[1].strip() == "pip install '.[test]' && pytest"
    assert "pip install '.[test]' && pytest" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
