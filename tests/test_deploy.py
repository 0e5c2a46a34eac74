"""The scheduling examples in deploy/ are valid as written."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import ROOT

DEPLOY = ROOT / "deploy"
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path):
    for name in ("nianbao-nightly.service", "nianbao-nightly.timer"):
        (tmp_path / name).write_text((DEPLOY / name).read_text())
    # the paths in ExecStart must exist for verify; point them at this checkout
    service = tmp_path / "nianbao-nightly.service"
    service.write_text(service.read_text().replace("/srv/nianbao", str(ROOT)).replace("User=nianbao\n", "")
                       .replace("Group=nianbao\n", ""))
    result = subprocess.run(["systemd-analyze", "verify", str(service), str(tmp_path / "nianbao-nightly.timer")],
                            capture_output=True, text=True)
    problems = [line for line in result.stderr.splitlines() if "nianbao" in line]
    assert problems == [], result.stderr


def test_crontab_line_is_valid():
    lines = [line for line in (DEPLOY / "crontab").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert lines
    for line in lines:
        fields = line.split(None, 5)
        assert len(fields) == 6
        for field, (low, high) in zip(fields[:5], RANGES):
            assert CRON_FIELD.match(field), field
            assert all(low <= int(n) <= high for n in re.findall(r"\d+", field.split("/")[0])), field
        assert "nianbao nightly --sites" in fields[5] and "--data" in fields[5]
