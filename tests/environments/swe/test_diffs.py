"""Patches are read by their @@ line counts (unidiff) and applied strictly."""

import pytest

from agentgym.environments.swe.diffs import PatchError, apply_file_patch, make_patch, parse_patch

OLD = "a\n-- x\nc\n"
NEW = "a\n++ y\nc\n"


def test_lines_that_look_like_file_headers_are_hunk_lines():
    text = make_patch("notes.txt", OLD, NEW)
    assert "\n--- x\n+++ y\n" in text  # a removed "-- x" and an added "++ y": header look-alikes
    [fp] = parse_patch(text)
    assert fp.path == "notes.txt" and len(fp.hunks) == 1
    assert apply_file_patch(OLD, fp) == NEW


def test_several_files_with_header_look_alikes():
    text = make_patch("one.txt", OLD, NEW) + make_patch("two.txt", "--- a\n+++ b\n", "--- a\n+++ c\n")
    files = parse_patch(text)
    assert [f.path for f in files] == ["one.txt", "two.txt"]
    assert apply_file_patch("--- a\n+++ b\n", files[1]) == "--- a\n+++ c\n"


def test_hunk_counts_that_do_not_match_are_refused():
    text = make_patch("m.py", "a\nb\n", "a\nc\n").replace("@@ -1,2 +1,2 @@", "@@ -1,3 +1,3 @@")
    with pytest.raises(PatchError, match="not a well-formed unified diff"):
        parse_patch(text)


def test_no_newline_at_end_of_file():
    [fp] = parse_patch(make_patch("m.py", "a\nb", "a\nc"))
    assert apply_file_patch("a\nb", fp) == "a\nc"


def test_creating_an_existing_file_or_deleting_a_changed_one_is_refused():
    create = parse_patch(make_patch("n.py", "", "x = 1\n").replace("--- a/n.py", "--- /dev/null"))[0]
    with pytest.raises(PatchError, match="already exists"):
        apply_file_patch("x = 1\n", create)  # applying it twice would double the file
    delete = parse_patch("--- a/d.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\n")[0]
    assert delete.is_deleted and apply_file_patch("x = 1\n", delete) is None
    with pytest.raises(PatchError, match="content differs"):
        apply_file_patch("x = 2\n", delete)
