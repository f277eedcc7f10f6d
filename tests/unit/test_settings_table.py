"""One source of truth for settings: config.SETTINGS against the code that reads them and the docs."""

import re

import pytest

from config import SETTINGS
from tests.helpers import ROOT

NAMES = {setting.name for setting in SETTINGS}
# Where variables are read, and how each kind of file spells a read.
READERS = {
    "config.py": [r'env_\w+\(\w+, "([A-Z][A-Z0-9_]+)"', r'env\.get\("([A-Z][A-Z0-9_]+)"'],
    "gunicorn.conf.py": [r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', r'env_int\(os\.environ, "([A-Z][A-Z0-9_]+)"'],
    "postfix/render.py": [r'env(?:ironment)?\.get\(["\']([A-Z][A-Z0-9_]+)["\']', r'env(?:ironment)?\[["\']([A-Z][A-Z0-9_]+)["\']\]'],
    "maillist/users/cli.py": [r'envvar="([A-Z][A-Z0-9_]+)"'],
    "maillist/aws.py": [r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"'],
    "docker/poller-entrypoint.sh": [r"\$\{([A-Z][A-Z0-9_]+):\?"],
    "scripts/run.sh": [r"\$\{([A-Z][A-Z0-9_]+):-"],
    "scripts/test.sh": [r"\$\{([A-Z][A-Z0-9_]+):-"],
    "docker-compose.yml": [r"\$\{([A-Z][A-Z0-9_]+)"],
    "tests/helpers.py": [r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"'],
    "tests/conftest.py": [r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"'],
    "tests/system/browser.py": [r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"'],
    "tests/system/test_browser_accessibility.py": [r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"'],
}


def read_by_code():
    found = {}
    for path, patterns in READERS.items():
        text = (ROOT / path).read_text()
        for pattern in patterns:
            for name in re.findall(pattern, text):
                found.setdefault(name, path)
    return found


def test_every_variable_the_code_reads_is_in_the_table():
    missing = {name: path for name, path in read_by_code().items() if name not in NAMES}
    assert not missing, f"read by the code but not in config.SETTINGS: {missing}"


def test_every_variable_in_the_table_is_read_somewhere():
    assert NAMES <= set(read_by_code())


def configuration_section():
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("## Configuration"):readme.index("## Using maillist")]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_the_readme_says_what_the_table_says(setting):
    assert f"| `{setting.name}` | {setting.default} | {setting.meaning} |" in configuration_section()


def test_the_readme_lists_nothing_the_table_lacks():
    rows = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", configuration_section(), re.M))
    assert rows == NAMES


def env_example():
    return dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.M))


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.in_env_example], ids=lambda s: s.name)
def test_env_example_shows_each_setting_with_its_default(setting):
    values = env_example()
    assert setting.name in values, f"{setting.name} is missing from .env.example"
    literal = re.fullmatch(r"`([^`]*)`", setting.default)
    if literal:
        assert values[setting.name] == literal.group(1), setting.name
    elif not literal:
        assert values[setting.name] == "" or setting.name.startswith("SES_"), setting.name


def test_env_example_holds_only_known_settings():
    assert set(env_example()) <= NAMES


def test_the_layout_names_every_module_and_folder():
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Project layout"):]
    names = [f"maillist/{path.name}" + ("/" if path.is_dir() else "") for path in (ROOT / "maillist").iterdir()
             if path.name != "__pycache__" and not path.name.startswith(".")]
    names += [f"{path.name}/" for path in ROOT.iterdir() if path.is_dir() and path.name in (".ci", "bench", "docker", "migrations", "nginx", "postfix", "scripts", "tests")]
    missing = [name for name in names if name not in layout]
    assert not missing, missing
