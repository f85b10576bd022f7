"""docs/analysis.md keeps up with the code: every channel, model parameter and command option."""

from __future__ import annotations

import re

from conftest import REPO

DOC = (REPO / "docs" / "analysis.md").read_text(encoding="utf-8")


def test_every_channel_is_documented():
    from kg.analysis.view import CHANNELS

    for ch in CHANNELS:
        assert re.search(rf"^\| {ch} \|", DOC, re.M), ch


def test_every_model_parameter_is_documented():
    from kg.analysis.model import load_model

    model = load_model()
    for name in model.params:
        assert f"`{name}`" in DOC, name


def test_every_analysis_option_is_documented():
    from kg.cli import cli

    # The output options every row command shares are documented once, in docs/cli.md.
    shared = ("--format", "--wide", "--no-headers")
    cli_doc = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for opt in shared:
        assert f"`{opt}" in cli_doc, opt
    commands = [cli.commands[n] for n in ("chains", "cycles", "exposure", "domino", "audit")]
    commands += [cli.commands["scenario"].commands[n] for n in ("list", "run")]
    for command in commands:
        name = command.name
        for p in command.params:
            for opt in getattr(p, "opts", []):
                if opt.startswith("--") and opt not in shared + ("--layer", "--help"):
                    assert f"`{opt}" in DOC, (name, opt)


def test_python_example_runs():
    code = re.search(r"## 9\. Python API\n\n```python\n(.*?)```", DOC, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the documentation's own example
    assert namespace["res"].rows and namespace["chains"].chains and namespace["cycles"].cycles
