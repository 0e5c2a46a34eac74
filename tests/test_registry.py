from __future__ import annotations

import pytest

from crawler import sites
from crawler.sites import RegistryError

from .conftest import SAMPLE_SITES


def write(tmp_path, text: str):
    path = tmp_path / "sites.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_registry_loads_with_portal_substituted():
    loaded = sites.load(SAMPLE_SITES, portal="http://127.0.0.1:9999")
    assert len(loaded) == 13  # ten columns and the three round-two dialects (issue 27)
    assert {s.cms for s in loaded} == {"trs", "hanweb", "vsb", "generic", None}  # None: detected from the page
    named = [s for s in loaded if s.id == "shenzhen-bmnb"]  # the department portal: its own name, the portal's port
    assert [u for s in named for u in s.start_urls] == ["http://www.nianbao-sz.onion:9999/cn/xxgk/zfxxgj/bmxxgknb/"]
    assert all(u.startswith("http://127.0.0.1:9999/") for s in loaded if s not in named for u in s.start_urls)


def test_known_registry_is_valid_and_marked_unverified():
    loaded = sites.load(sites.HERE / "known.yml")
    urls = {u for s in loaded for u in s.start_urls}
    assert "http://www.qzlj.gov.cn/zwgk/zfxxgkzl/zfxxgkndbg/" in urls
    assert "http://www.qzlj.gov.cn/zwgk/zfxxgkzl/bmzfxxgk/kxjsj/zfxxgkndbg/" in urls
    assert not any(s.verified for s in loaded)


@pytest.mark.parametrize(
    "entry, message",
    [
        ("- {id: a, name: A}", "entry 1 (a): missing 'start_urls'"),
        ("- {id: a, name: A, start_urls: [ftp://x/]}", "not an http(s) URL"),
        ("- {id: a, name: A, start_urls: ['http://x/'], cms: joomla}", "cms must be one of"),
        ("- {id: A B, name: A, start_urls: ['http://x/']}", "id must be lower-case"),
        ("- {id: a, name: A, start_urls: ['${PORTAL}/x/']}", "no portal URL was given"),
        ("- {id: a, name: A, start_urls: ['http://x/'], colour: red}", "unknown keys ['colour']"),
        ("- just a string", "entry 1: expected a mapping"),
    ],
)
def test_bad_entries_name_the_file_and_entry(tmp_path, entry, message):
    path = write(tmp_path, f"sites:\n  {entry}\n")
    with pytest.raises(RegistryError) as error:
        sites.load(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_duplicate_ids_rejected(tmp_path):
    path = write(tmp_path, "sites:\n  - {id: a, name: A, start_urls: ['http://x/']}\n  - {id: a, name: B, start_urls: ['http://y/']}\n")
    with pytest.raises(RegistryError, match="duplicate site id 'a'"):
        sites.load(path)
