"""Word diff: exact reconstruction, word counts, RTL-safe renderings."""

from __future__ import annotations

import random
from importlib import resources

from processing.diff import DiffOp, WordDiff, render_html, render_terminal, tokenize, word_diff

FSI, PDI = "\u2068", "\u2069"

SEED_LINES = (
    resources.files("newsvault.sample_site")
    .joinpath("seed_ar.txt")
    .read_text(encoding="utf-8")
    .splitlines()
)
SEED_BODY = SEED_LINES[2:]


def _edited_seed() -> tuple[str, str]:
    """Seed paragraphs 1-4, one sentence edited: 2 words replaced, 1 added, 1 removed."""
    old = "\n".join(SEED_BODY[:4])
    edited = list(SEED_BODY[:4])
    sentence = "أجرى السبت محادثات هاتفية مع قادة الفصائل الفلسطينية، حيث قال إن “التطورات الحالية"
    assert sentence in edited[1]
    edited[1] = edited[1].replace(
        sentence,
        "أجرى الأحد اتصالات هاتفية مع كبار قادة الفصائل الفلسطينية، حيث قال إن “التطورات",
    )
    return old, "\n".join(edited)


def _assert_reconstructs(diff: WordDiff, old: str, new: str) -> None:
    assert diff.old_text == old
    assert diff.new_text == new
    assert "".join(op.text for op in diff.ops if op.kind != "insert") == old
    assert "".join(op.text for op in diff.ops if op.kind != "delete") == new


def test_tokens_keep_words_spaces_and_line_breaks() -> None:
    assert tokenize("a  b\nc") == ["a", "  ", "b", "\n", "c"]
    assert "".join(tokenize(SEED_LINES[3])) == SEED_LINES[3]


def test_edited_sentence_in_seed_paragraphs() -> None:
    old, new = _edited_seed()
    diff = word_diff(old, new)
    _assert_reconstructs(diff, old, new)
    assert (diff.added, diff.removed) == (3, 3)
    changed = [op for op in diff.ops if op.kind != "equal"]
    assert changed == [
        DiffOp("delete", "السبت محادثات"),
        DiffOp("insert", "الأحد اتصالات"),
        DiffOp("insert", "كبار "),
        DiffOp("delete", " الحالية"),
    ]


def test_spelling_change_is_one_word_each_way() -> None:
    old = SEED_BODY[5]
    new = old.replace("قآني", "قاآني")
    diff = word_diff(old, new)
    _assert_reconstructs(diff, old, new)
    assert (diff.added, diff.removed) == (1, 1)


def test_identical_texts_have_only_equal_ops() -> None:
    text = "\n".join(SEED_BODY)
    diff = word_diff(text, text)
    assert [op.kind for op in diff.ops] == ["equal"]
    assert (diff.added, diff.removed) == (0, 0)


def test_added_and_removed_paragraphs() -> None:
    old = "\n".join(SEED_BODY[:3])
    new = "\n".join([SEED_BODY[0], SEED_BODY[2], "فقرة جديدة من ثلاث كلمات"])
    diff = word_diff(old, new)
    _assert_reconstructs(diff, old, new)
    assert diff.removed == len(SEED_BODY[1].split())
    assert diff.added == 5


def test_from_and_to_empty_text() -> None:
    diff = word_diff("", "two words")
    _assert_reconstructs(diff, "", "two words")
    assert (diff.added, diff.removed) == (2, 0)
    diff = word_diff("two words", "")
    assert (diff.added, diff.removed) == (0, 2)
    assert word_diff("", "").ops == []


def test_neighbouring_changes_merge_into_one_run() -> None:
    diff = word_diff("a b c d", "a x y z d")
    assert diff.ops == [
        DiffOp("equal", "a "),
        DiffOp("delete", "b c"),
        DiffOp("insert", "x y z"),
        DiffOp("equal", " d"),
    ]


def test_random_edits_reconstruct_exactly() -> None:
    rng = random.Random(7)
    words = " ".join(SEED_BODY).split(" ")
    for _ in range(20):
        edited = list(words)
        for index in rng.sample(range(len(edited)), 15):
            edited[index] = rng.choice(["", "كلمة", edited[index] + "\n", "new"])
        old, new = "\n".join(SEED_BODY), " ".join(edited)
        _assert_reconstructs(word_diff(old, new), old, new)


# --- rendering ------------------------------------------------------------------------------


def test_terminal_marks_runs_with_brackets_inside_isolates() -> None:
    old, new = _edited_seed()
    plain = render_terminal(word_diff(old, new)).plain
    assert f"{FSI}-[السبت محادثات]{PDI}{FSI}+[الأحد اتصالات]{PDI}" in plain
    assert f"{FSI}+[كبار]{PDI} " in plain
    assert f"“التطورات {FSI}-[الحالية]{PDI} جعلت" in plain
    assert plain.count(FSI) == plain.count(PDI) == 4


def test_terminal_keeps_logical_order_and_colours() -> None:
    old, new = _edited_seed()
    rendered = render_terminal(word_diff(old, new))
    plain = rendered.plain
    # Nothing reversed: with the markers taken out, the text reads as the old and new did.
    assert SEED_BODY[0] in plain
    assert plain.index("الأحد") < plain.index("هاتفية") < plain.index("كبار")
    styles = {str(span.style) for span in rendered.spans}
    assert styles == {"bold green underline", "bold red strike"}


def test_terminal_isolates_never_span_a_line_break() -> None:
    diff = word_diff("one\ntwo", "one\nthree\nfour\ntwo")
    plain = render_terminal(diff).plain
    for line in plain.split("\n"):
        assert line.count(FSI) == line.count(PDI)
    assert "+[¶]" in plain


def test_html_escapes_and_marks_runs() -> None:
    diff = word_diff("x <b> & y", "x <i> & y")
    rendered = render_html(diff)
    assert rendered.startswith('<div dir="auto">') and rendered.endswith("</div>")
    assert '<del dir="auto">&lt;b&gt;</del>' in rendered
    assert '<ins dir="auto">&lt;i&gt;</ins>' in rendered
    assert "&amp;" in rendered and "<b>" not in rendered


def test_html_of_seed_edit_keeps_arabic_in_order() -> None:
    old, new = _edited_seed()
    rendered = render_html(word_diff(old, new))
    assert '<del dir="auto">السبت محادثات</del><ins dir="auto">الأحد اتصالات</ins>' in rendered
    assert rendered.count("<br>") == 3
    assert SEED_BODY[0] in rendered
