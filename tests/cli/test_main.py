import subprocess
import sys

from typer.testing import CliRunner

from kardashev import __version__
from kardashev.cli.main import app


def test_version_and_help():
    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "kardashev" in result.output.lower()


def test_module_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "kardashev", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == __version__
