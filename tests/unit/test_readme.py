"""The README's commands, tables and numbers, checked against the code so that they cannot drift.

Every `flask ...` the README shows (in a code span or a code block) names a command that exists,
with options that command takes; the command-line table lists every command; the exit-status
table lists every status a command can end with; every script it runs exists; and the suite's
size it quotes is the size pytest collects.
"""

import re
import subprocess
import sys

import click
import pytest

from maillist import create_app
from maillist.lists import delivery
from maillist.transports.email import pipe
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()
# Flask's own commands and Flask-Migrate's, which the README may name but maillist does not document.
NOT_OURS = {"db", "routes", "shell", "run"}


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    place = tmp_path_factory.mktemp("readme")
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{place}/x.db", "SECRET_KEY": "k"},
                     instance_path=str(place / "instance"))
    return app.cli


def leaf_commands(group, path=()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaf_commands(command, path + (name,))
        else:
            yield path + (name,), command


def groups(group, path=()):
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from groups(command, path + (name,))


def code_spans_and_blocks():
    """Each piece of code in the README: the lines of fenced blocks and the text of inline spans."""
    pieces, blocks = [], re.findall(r"^```[a-z]*\n(.*?)^```", README, flags=re.S | re.M)
    for block in blocks:
        pieces.extend(line for line in block.splitlines())
    prose = re.sub(r"^```[a-z]*\n.*?^```", "", README, flags=re.S | re.M)
    pieces.extend(re.findall(r"`([^`\n]+)`", prose))
    return pieces


def flask_invocations():
    """Every `flask ...` shown as code, as a list of words after `flask` (up to a pipe or `;`)."""
    found = []
    for piece in code_spans_and_blocks():
        for match in re.finditer(r"(?:^|[\s/])flask((?:\s+[^\s;|&`)]+)*)", piece):
            words = match.group(1).split()
            if words and not words[0].startswith("commands"):
                found.append(words)
    return found


def resolve(cli, words):
    """The command the words name and the words after its name, or (None, words) for one not maillist's."""
    while words and words[0].startswith("-"):  # flask's own options, e.g. --app wsgi:app
        words = words[2:] if words[0] == "--app" else words[1:]
    command = cli
    while words and isinstance(command, click.Group) and words[0] in command.commands:
        command, words = command.commands[words[0]], words[1:]
    return command, words


def test_every_flask_command_the_readme_shows_exists_with_the_options_it_shows(cli):
    invocations = flask_invocations()
    assert len(invocations) > 40, "the README's commands were not found"
    problems = []
    for words in invocations:
        command, rest = resolve(cli, words)
        if command is cli:
            if rest and rest[0] not in NOT_OURS | {"..."}:
                problems.append(f"flask {' '.join(words)}: no such command")
            continue
        if isinstance(command, click.Group):
            continue  # a group named as a whole ("`flask sns`")
        options = {option for param in command.params for option in param.opts + param.secondary_opts}
        for word in rest:
            option = word.strip("[]()").split("=")[0]
            if option.startswith("--") and option not in options | {"--help"}:
                problems.append(f"flask {' '.join(words)}: {command.name} takes no {option}")
    assert problems == []


def command_table_rows():
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `flask ")]


def test_the_command_table_lists_every_command(cli):
    named = set()
    for row in command_table_rows():
        for span in re.findall(r"`flask ([^`]+)`", row.split(" | ")[0]):
            command, _ = resolve(cli, span.split())
            named.add(command)
        # "`flask ses suppression list [--json]` / `remove EMAIL...`": later spans are siblings of the first
        first, _ = resolve(cli, re.search(r"`flask ([^`]+)`", row).group(1).split())
        parent = next((group for _, group in groups(cli) if first in group.commands.values()), None)
        for sibling in re.findall(r"/ `([a-z-]+)[^`]*`", row):
            if isinstance(parent, click.Group) and sibling in parent.commands:
                named.add(parent.commands[sibling])
    missing = [" ".join(path) for path, command in leaf_commands(cli)
               if path[0] not in NOT_OURS and command not in named]
    assert missing == [], "commands missing from the README's command-line table"


def test_the_exit_status_table_lists_every_status_a_command_ends_with():
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    documented = {int(status) for status in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    used = {0, 1, 2, delivery.EX_OK, delivery.EX_TEMPFAIL, pipe.EX_OK, pipe.EX_TEMPFAIL}
    assert documented == used


def test_every_script_the_readme_runs_exists_and_is_executable():
    scripts = set(re.findall(r"\./scripts/[\w.-]+", README)) | set(re.findall(r"\.ci/run\b", README))
    assert "./scripts/run.sh" in scripts and "./scripts/test.sh" in scripts
    for script in scripts:
        path = ROOT / script.removeprefix("./")
        assert path.is_file() and path.stat().st_mode & 0o100, script


def test_the_suite_size_the_readme_quotes_is_what_pytest_collects():
    quoted = re.search(r"about ([\d,]+) tests", README.split("## Tests", 1)[1])
    assert quoted, "the Tests section no longer says how many tests there are"
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    collected = int(re.search(r"(\d+) tests? collected", result.stdout).group(1))
    said = int(quoted.group(1).replace(",", ""))
    assert abs(collected - said) <= 0.03 * collected, f"README says about {said}, pytest collects {collected}"


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_within_the_readme_leads_to_a_heading():
    anchors = {slug(heading) for heading in re.findall(r"^#+ (.+)$", README, flags=re.M)}
    links = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert len(links) > 10
    assert sorted(links - anchors) == []
