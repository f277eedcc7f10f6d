"""The rendered pipe command as Postfix runs it: as `nobody`, reading its settings file, writing nothing."""

import subprocess

import pytest
from sqlalchemy import select

from maillist.bounce_addresses import bounce_address
from maillist.extensions import db
from maillist.models import Member
from tests import helpers
from tests.helpers import need
from tests.system.postfix_helpers import need_postfix, render_config, run_as_root

DSN = helpers.ROOT / "tests" / "fixtures" / "dsn" / "postfix-rfc3464-permanent.eml"


@pytest.fixture
def backend():
    return "mariadb"


@pytest.fixture
def base():
    """A folder the pipe user can reach (pytest's own temporary folders are root's alone)."""
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="maillist-pipes-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pipes(app, database_url, base):
    """Render the configuration the way the container does, for a world-readable copy of the app."""
    need_postfix()
    need(run_as_root(), "running a command as nobody needs root")
    from tests.system.postfix_instance import SECRET_KEY, SYSTEM_PYTHON, app_copy_for_pipes

    tmp_path = base
    app_dir = app_copy_for_pipes()

    def render(**settings):
        config = render_config(tmp_path / "etc", database_url, MAILLIST_FLASK=f"{SYSTEM_PYTHON} -m flask",
                               MAILLIST_APP=str(app_dir / "wsgi.py"), MAILLIST_PYTHONPATH=f"{app_dir / 'site-packages'}:{app_dir}",
                               SECRET_KEY=SECRET_KEY, MAILLIST_PIPE_ENV=str(tmp_path / "pipe" / "pipe.env"), **settings)
        (tmp_path / "pipe").chmod(0o755)
        return config

    return render, app_dir


def as_nobody(config, *args, stdin=b"", cwd=None):
    return subprocess.run(["runuser", "-u", "nobody", "--", str(config / "maillist-pipe"), *args],
                          input=stdin, capture_output=True, timeout=120, cwd=cwd)


def files_in(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize("switch, outcome, bounced", [("true", b"applied", True), ("false", b"ignored", False)])
def test_the_email_bounce_switch_works_both_ways_as_nobody(pipes, switch, outcome, bounced):
    render, app_dir = pipes
    config = render(ENABLE_EMAIL_BOUNCE_PROCESSING=switch)
    club = helpers.make_list("club@lists.example.org")
    member = helpers.make_member("gone@example.net", lists=[club])
    before = files_in(app_dir)
    result = as_nobody(config, "bounces", "process-dsn", "--recipient", bounce_address(club.address, member.id, member.email), stdin=DSN.read_bytes())
    assert result.returncode == 0 and result.stdout.startswith(outcome), result.stdout + result.stderr
    db.session.expire_all()
    assert (db.session.scalar(select(Member.bounce_status)) == "hard") is bounced
    assert files_in(app_dir) == before  # nothing written: no instance folder, no key, no bytecode


def test_the_containers_start_up_check_passes_and_catches_a_bad_setting(pipes):
    render, _ = pipes
    config = render()
    check = as_nobody(config, "bounces", "process-dsn", "--dry-run", "/dev/null")
    assert check.returncode == 0, check.stderr
    config = render(SOFT_BOUNCE_THRESHOLD="lots")
    failed = as_nobody(config, "bounces", "process-dsn", "--dry-run", "/dev/null")
    assert failed.returncode != 0 and b"configuration error: SOFT_BOUNCE_THRESHOLD" in failed.stderr
    assert b"Traceback" not in failed.stderr


def test_the_settings_file_is_the_pipe_users_alone(pipes, base):
    render, _ = pipes
    render()
    pipe_env = base / "pipe" / "pipe.env"
    import pwd
    import stat

    assert stat.S_IMODE(pipe_env.stat().st_mode) == 0o600 and pipe_env.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    other = subprocess.run(["runuser", "-u", "daemon", "--", "cat", str(pipe_env)], capture_output=True)
    assert other.returncode != 0


def test_the_pipe_runs_from_a_folder_its_user_cannot_enter(pipes, tmp_path):
    """Whatever folder it is started from (pytest's own is root's alone), the pipe needs none."""
    render, _ = pipes
    config = render()
    tmp_path.chmod(0o700)
    check = as_nobody(config, "bounces", "process-dsn", "--dry-run", "/dev/null", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
