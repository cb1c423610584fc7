"""The docs cannot drift from the code: every command they show parses, and names files, fields and
flags that exist; the Korean page shows the English page's commands.

A command is a line of a code block (indented, or fenced) that runs `python -m looptrain.run`,
`looptrain.plot`, `looptrain.report` or a benchmark, joined over a trailing backslash, with the
shell's brace expansion applied (`experiments/{tiny,small}.py`). A synopsis (`EXPERIMENT.py
[EXPERIMENT.py ...] [--data ...]`) only has its flags checked. None of this imports TensorFlow.
"""

import itertools
import re
import shlex
from pathlib import Path

import pytest

from conftest import REPO
from looptrain import plot, report, run
from looptrain.config import parse_set
from looptrain.runfolder.sweep import parse_sweep

PAGES = [REPO / "README.md", REPO / "README.ko.md", *sorted((REPO / "docs").glob("*.md"))]
PARSERS = {"looptrain.run": run.make_parser, "looptrain.plot": plot.make_parser, "looptrain.report": report.make_parser}
PLACEHOLDERS = re.compile(r"\[|\b(EXPERIMENT|RUN_DIR|RUN_OR_SWEEP_DIR|FILE|FIELD|PATH|DIR|N)\b")


def code_lines(text: str) -> list[str]:
    """The lines of a Markdown page's code blocks, a trailing backslash joining a line to the next."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            if lines and lines[-1].endswith("\\"):
                lines[-1] = lines[-1][:-1] + " " + line.strip()
            else:
                lines.append(line.strip())
    return lines


def commands(page: Path) -> list[str]:
    """The page's commands, as written."""
    return [line for line in code_lines(page.read_text())
            if re.search(r"python (-m looptrain\.(run|plot|report)|benchmarks/)", line)]


def expand_braces(word: str) -> list[str]:
    """The shell's brace expansion of one word: a{b,c}d → abd acd."""
    parts = re.split(r"(\{[^{}]*,[^{}]*\})", word)
    choices = [part[1:-1].split(",") if part.startswith("{") else [part] for part in parts]
    return ["".join(pieces) for pieces in itertools.product(*choices)]


def arguments(command: str) -> tuple[str, list[str]]:
    """(module or script, its arguments) of a command: the looptrain part of a `... && ...` chain, past
    any environment it sets first, without a trailing comment."""
    words = [expanded for word in shlex.split(command, comments=True) for expanded in expand_braces(word)]
    chains = [list(group) for is_and, group in itertools.groupby(words, lambda word: word == "&&") if not is_and]
    words = next(chain for chain in chains if re.search(r"looptrain\.|benchmarks/", " ".join(chain)))
    start = words.index("python")
    if words[start + 1] == "-m":
        return words[start + 2], words[start + 3:]
    return words[start + 1], words[start + 2:]


ALL = [(page.relative_to(REPO), command) for page in PAGES if page.exists() for command in commands(page)]


def test_the_docs_show_commands_at_all():
    assert len(ALL) > 20  # if the parsing above broke, every test below would pass on nothing
    assert {program for _, command in ALL for program in [arguments(command)[0]]} >= set(PARSERS)


@pytest.mark.parametrize("page, command", ALL, ids=[f"{page}: {command[:60]}" for page, command in ALL])
def test_every_command_in_the_docs_parses_and_names_what_exists(page, command):
    program, argv = arguments(command)
    if program.startswith("benchmarks/"):
        assert (REPO / program).is_file(), f"{page}: no {program}"
        for flag, value in zip(argv, argv[1:]):
            if flag == "--experiment":
                assert (REPO / value).is_file(), f"{page}: no experiment file {value}"
        return
    parser = PARSERS[program]()
    if PLACEHOLDERS.search(command):  # a synopsis: its flags must be the command's own
        known = {option for action in parser._actions for option in action.option_strings}
        flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", command))
        assert flags <= known, f"{page}: {program} has no {', '.join(sorted(flags - known))}"
        return
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"{page}: {command!r} does not parse")
    if program == "looptrain.run":
        for path in args.experiments:
            assert (REPO / path).is_file(), f"{page}: no experiment file {path}"
        parse_set(args.set)  # every field known, every value of its type
        if args.sweep:
            parse_sweep(args.sweep)
    if program == "looptrain.plot" and args.schedule:
        assert (REPO / args.schedule).is_file(), f"{page}: no experiment file {args.schedule}"


def section_commands(page: Path, headings: list[str]) -> list[str]:
    """The commands of the page's sections under these headings (level 2), in order."""
    text = page.read_text()
    sections = re.split(r"(?m)^## ", text)
    chosen = [section for section in sections if section.splitlines()[0].strip() in headings]
    return [command for section in chosen for command in commands_of(section)]


def commands_of(text: str) -> list[str]:
    return [line for line in code_lines(text) if re.search(r"python -m |\(Pdb\)", line)]


def test_the_korean_page_shows_the_english_pages_commands():
    english = section_commands(REPO / "README.md", ["Quick start", "A walk through the loop", "Step through it"])
    korean = [command for command in commands_of((REPO / "README.ko.md").read_text())]
    assert len(english) >= 5
    assert korean == english
