"""Create-or-fail writes: the first writer of a name wins, a second changes nothing and leaves no trace."""

from __future__ import annotations

from harness.files import create_new


def test_create_new_writes_once_and_never_replaces(tmp_path):
    path = tmp_path / "sub" / "round.yaml"
    assert create_new(path, b"first")
    assert not create_new(path, b"second")
    assert path.read_bytes() == b"first"
    assert [p.name for p in path.parent.iterdir()] == ["round.yaml"]  # no temporary file left either way
