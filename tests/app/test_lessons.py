"""The lessons as data: the real lessons/ load with no error; a broken spec (copied fixture, one mutation
each) fails with a line that names the file, the place and the problem; the pages and GET /api/lessons
serve them in the learner's language."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.lessons import load_lessons
from app.lessons.registry import PANELS_DIR, answer_names, panel_ids
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "lessons"
FIXTURE_PANELS = ("grad-one-loss", "hidden", "grad-norm")


def _errors(book) -> str:
    return "\n".join(book.errors)


# ---- the real lessons ----

def test_the_real_lessons_load_without_errors():
    book = load_lessons()
    assert not book.errors, "\n" + _errors(book)
    assert book.lessons, "lessons/ holds no lesson"
    for lesson in book.lessons:
        for lang in ("ko", "en"):
            assert lesson.prose[lang].title and lesson.prose[lang].see
        assert [s.id for s in lesson.prose["ko"].sections] == [s.id for s in lesson.prose["en"].sections]


def test_lessons_one_to_six_are_there():
    orders = sorted(lesson.order for lesson in load_lessons().lessons)
    assert set(range(1, 7)) <= set(orders), f"lessons present: {orders}"


def test_api_lists_every_real_lesson():
    with TestClient(create_app()) as client:
        body = client.get("/api/lessons").json()
    book = load_lessons()
    assert [item["slug"] for item in body["lessons"]] == [lesson.slug for lesson in book.lessons]
    for item in body["lessons"]:
        assert set(item["title"]) == {"ko", "en"} and all(item["title"].values())
        assert all({"id", "knobs", "panels", "controls"} <= set(f) for f in item["figures"])


def test_every_real_lesson_page_renders_in_both_languages():
    with TestClient(create_app()) as client:
        for lesson in load_lessons().lessons:
            for lang in ("ko", "en"):
                r = client.get(f"/lessons/{lesson.slug}?lang={lang}")
                assert r.status_code == 200, (lesson.slug, lang)
                config = _config(r.text)
                assert [f["id"] for f in config["figures"]] == [f.id for f in lesson.spec.figures]
                for fig in lesson.spec.figures:
                    assert f'data-figure="{fig.id}"' in r.text
                for q in lesson.spec.questions:
                    assert f'data-question="{q.id}"' in r.text


# ---- where the lists come from ----

def test_panel_ids_are_the_panel_modules():
    ids = panel_ids()
    modules = {p.stem for p in PANELS_DIR.glob("*.js")}
    assert ids <= modules
    for helper in modules - ids:  # a module without `export function figure` is a helper, not a panel
        assert "export function figure" not in (PANELS_DIR / f"{helper}.js").read_text()


def test_answer_names_are_the_exports_of_answers_js():
    names = answer_names()
    assert {"grad_ratio", "grad_at_distance", "future_share", "prob_of_target", "saturation", "truncated_cosine",
            "clip_ratio", "first_overflow", "grad_ratio_ab"} <= names
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = ("import('./static/js/core/answers.js').then(m => console.log(JSON.stringify("
              "Object.keys(m.ANSWERS))))")
    out = subprocess.run([node, "-e", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert set(json.loads(out)) == names


def test_answer_functions_pass_their_unit_tests():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    r = subprocess.run([node, "--test", "tests/js/answers.test.mjs"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


# ---- the fixture and its mutations ----

@pytest.fixture
def panels_dir(tmp_path: Path) -> Path:
    """The panels the fixture names, as stubs: validation is tested apart from which panels exist."""
    d = tmp_path / "panels"
    d.mkdir()
    for panel in FIXTURE_PANELS:
        (d / f"{panel}.js").write_text(f'export const id = "{panel}";\nexport const archs = ["rnn", "lstm", "gru"];\n'
                                       "export function figure() { return {}; }\n")
    return d


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    """A copy of the fixture lessons to break."""
    root = tmp_path / "lessons"
    shutil.copytree(FIXTURE, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _only_error(lessons: Path, panels_dir: Path) -> str:
    book = load_lessons(lessons, panels_dir)
    assert book.errors, "the mutation was not caught"
    assert not book.get("01-fixture"), "a broken lesson must not be served"
    return _errors(book)


def test_the_fixture_is_valid(lessons, panels_dir):
    book = load_lessons(lessons, panels_dir)
    assert not book.errors, _errors(book)
    lesson = book.get("01-fixture")
    assert [f.id for f in lesson.spec.figures] == ["decay", "race"]
    assert lesson.prose["en"].see.startswith("The gradient shrinking")
    assert book.glossary[1]["lesson"] == "01-fixture"  # an order number resolves to the slug


def test_unknown_knob_fails(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", "spectral_norm = 0.8 }", "spectral_norm = 0.8, spectal = 2 }")
    message = _only_error(lessons, panels_dir)
    assert "lessons/01-fixture/lesson.toml: figures[decay].knobs: unknown knob 'spectal'" in message


def test_knob_out_of_range_fails_with_the_limit(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", "hidden_size = 16, spectral_norm = 0.8",
          "hidden_size = 0, spectral_norm = 0.8")
    message = _only_error(lessons, panels_dir)
    assert "figures[decay].knobs.hidden_size: Input should be greater than or equal to 1" in message


def test_knobs_that_fail_a_check_across_knobs_fail_with_its_sentence(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", "hidden_size = 16, spectral_norm = 0.8",
          "hidden_size = 16, spectral_norm = 0.8, clip_mode = \"norm\"")
    message = _only_error(lessons, panels_dir)
    assert "figures[decay].knobs.clip_threshold: Clip threshold: required (> 0) when gradient clipping is on" in message


def test_compare_overrides_are_knobs_too(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", "compare = { spectral_norm = 1.4 }",
          "compare = { spectral_norm = 40 }")
    assert "figures[race].compare.spectral_norm" in _only_error(lessons, panels_dir)


def test_unknown_panel_fails(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", 'panels = ["grad-norm"]', 'panels = ["grad-nrom"]')
    message = _only_error(lessons, panels_dir)
    assert "figures[race].panels: unknown panel 'grad-nrom' (panels: grad-norm, grad-one-loss, hidden)" in message


def test_panel_that_does_not_draw_the_arch_fails(lessons, panels_dir):
    (panels_dir / "hidden.js").write_text('export const archs = ["lstm"];\nexport function figure() {}\n')
    assert "panel 'hidden' does not draw rnn" in _only_error(lessons, panels_dir)


def test_control_that_does_not_apply_to_the_arch_fails(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", 'controls = ["spectral_norm"]', 'controls = ["forget_bias"]')
    assert "figures[race].controls: 'forget_bias' does not apply to rnn" in _only_error(lessons, panels_dir)


def test_missing_question_text_fails(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml",
          'explain = "The larger σ, the less it shrinks."', "")
    message = _only_error(lessons, panels_dir)
    assert "lessons/01-fixture/lesson.toml: questions[who].en.explain: Field required" in message


def test_blank_question_text_fails(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", 'prompt = "What share of the hidden state is saturated?"',
          'prompt = "   "')
    assert "questions[sat].en.prompt: is blank" in _only_error(lessons, panels_dir)


def test_unknown_answer_and_unknown_figure_fail(lessons, panels_dir):
    path = lessons / "01-fixture" / "lesson.toml"
    _edit(path, 'answer = "saturation"', 'answer = "saturaton"')
    _edit(path, 'figure = "race"', 'figure = "racer"')
    message = _only_error(lessons, panels_dir)
    assert "questions[sat].answer: no answer function 'saturaton'" in message
    assert "questions[who].figure: no figure 'racer' (figures: decay, race)" in message


def test_compare_question_needs_a_compare_figure(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", 'figure = "race"', 'figure = "decay"')
    assert "questions[who]: kind 'compare' and *_ab answers need a figure with a compare (B) side" in _only_error(
        lessons, panels_dir)


def test_misspelt_key_fails(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", 'panels = ["grad-norm"]', 'panel = ["grad-norm"]')
    message = _only_error(lessons, panels_dir)
    assert "figures[race].panel: unknown key" in message and "figures[race].panels: Field required" in message


def test_bins_need_increasing_edges(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", "edges = [0.0, 0.1, 0.5, 1.0]", "edges = [0.0, 0.5, 0.1, 1.0]")
    assert "questions[sat]: edges [0.0, 0.5, 0.1, 1.0] must increase" in _only_error(lessons, panels_dir)


def test_mismatched_section_id_fails(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "en.md", "{#race}", "{#side-by-side}")
    message = _only_error(lessons, panels_dir)
    assert ("lessons/01-fixture: section ids differ: ko.md ['see', 'decay', 'race', 'summary'] "
            "vs en.md ['see', 'decay', 'side-by-side', 'summary']") in message


def test_first_and_last_sections_are_fixed(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "ko.md", "{#see}", "{#intro}")
    _edit(lessons / "01-fixture" / "ko.md", "{#summary}", "{#end}")
    message = _only_error(lessons, panels_dir)
    assert "lessons/01-fixture/ko.md: the first section must be {#see}" in message
    assert "lessons/01-fixture/ko.md: the last section must be {#summary}" in message


def test_every_figure_and_question_is_placed_once_and_exists(lessons, panels_dir):
    path = lessons / "01-fixture" / "en.md"
    _edit(path, "{{ question sat }}", "{{ question saturated }}")
    _edit(path, "{{ figure race }}", "")
    message = _only_error(lessons, panels_dir)
    assert "lessons/01-fixture/en.md: {{ question saturated }}: lesson.toml has no question 'saturated'" in message
    assert "lessons/01-fixture/en.md: question 'sat' of lesson.toml is never placed" in message
    assert "lessons/01-fixture/en.md: figure 'race' of lesson.toml is never placed" in message


def test_a_malformed_placement_is_named_with_its_line(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "ko.md", "{{ figure decay }}", "{{ figur decay }}")
    message = _only_error(lessons, panels_dir)
    assert re.search(r"lessons/01-fixture/ko.md:\d+: not a placement: '\{\{ figur decay \}\}'", message)


def test_title_line_is_required(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "en.md", "# A test lesson\n", "A test lesson\n")
    assert "lessons/01-fixture/en.md:1: the first line must be '# Title'" in _only_error(lessons, panels_dir)


def test_bad_toml_fails_readably(lessons, panels_dir):
    _edit(lessons / "01-fixture" / "lesson.toml", "order = 1", "order = = 1")
    assert "lessons/01-fixture/lesson.toml: not valid TOML" in _only_error(lessons, panels_dir)


def test_glossary_terms_name_a_lesson(lessons, panels_dir):
    _edit(lessons / "glossary.toml", 'lesson = "01-fixture"', 'lesson = "09-missing"')
    book = load_lessons(lessons, panels_dir)
    assert any("terms[0] (vanishing gradient): lesson '09-missing' is not a lesson" in e for e in book.errors)


SAMPLE_FIGURE = """
[[figures]]
id = "write"
source = "sample"
knobs = { checkpoint = "charlm-lstm", prompt = "ab", length = 20, temperature = 1.0 }
controls = ["temperature"]
panels = ["sample"]
"""


def _with_sample_figure(lessons: Path, panels_dir: Path, figure: str = SAMPLE_FIGURE) -> None:
    (panels_dir / "sample.js").write_text('export const archs = ["sample"];\nexport function figure() {}\n')
    toml = lessons / "01-fixture" / "lesson.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("[[questions]]", figure + "\n[[questions]]", 1), encoding="utf-8")
    for lang in ("ko", "en"):
        _edit(lessons / "01-fixture" / f"{lang}.md", "{{ figure race }}", "{{ figure race }}\n\n{{ figure write }}")


def test_a_sample_figure_validates_against_the_sample_request(lessons, panels_dir):
    _with_sample_figure(lessons, panels_dir)
    book = load_lessons(lessons, panels_dir)
    assert not book.errors, _errors(book)
    bad = SAMPLE_FIGURE.replace("temperature = 1.0 }", "temperature = 9.0, temprature = 1 }")
    lessons2 = lessons.parent / "broken"
    shutil.copytree(FIXTURE, lessons2)
    _with_sample_figure(lessons2, panels_dir, bad)
    message = _only_error(lessons2, panels_dir)
    assert "figures[write].knobs: unknown knob 'temprature'" in message
    assert "figures[write].knobs.temperature: Input should be less than or equal to 5" in message


def test_a_shapes_figure_validates_its_knobs_and_shape(lessons, panels_dir):
    """source = "shapes" (lesson 10): the POST /api/shapes/* bodies' own limits, and a shape of the list."""
    (panels_dir / "shape-graph.js").write_text('export const archs = ["shapes"];\nexport function figure() {}\n')
    good = '[[figures]]\nid = "write"\nsource = "shapes"\nknobs = { shape = "deep" }\ncontrols = ["shape"]\n' \
           'panels = ["shape-graph"]\n'
    _with_sample_figure(lessons, panels_dir, good)
    book = load_lessons(lessons, panels_dir)
    assert not book.errors, _errors(book)
    lessons2 = lessons.parent / "broken"
    shutil.copytree(FIXTURE, lessons2)
    from models.shapes.limits import MAX_CHARS

    bad = good.replace('{ shape = "deep" }', '{ shape = "deeper", sentences = ["' + "x" * (MAX_CHARS + 1) + '"] }')
    _with_sample_figure(lessons2, panels_dir, bad)
    message = _only_error(lessons2, panels_dir)
    assert "figures[write].knobs.shape: Input should be 'many-to-one'" in message
    assert f"figures[write].knobs.sentences: each sentence 1 to {MAX_CHARS} characters" in message


LAB_FIGURE = """
[[figures]]
id = "train"
source = "lab"
knobs = { preset = "memory_race", steps = 300 }
panels = ["lab-loss"]
"""

LAB_QUESTION = """
[[questions]]
id = "below"
figure = "train"
kind = "bins"
answer = "lab_below_baseline"
args = { run = 0 }
edges = [0.0, 0.9, 1.1, inf]
[questions.ko]
prompt = "기준선의 몇 배일까요?"
explain = "실행이 끝난 뒤 계산합니다."
[questions.en]
prompt = "How many times the baseline?"
explain = "Computed once the runs have finished."
"""


def _with_lab_figure(lessons: Path, panels_dir: Path, figure: str = LAB_FIGURE, question: str = "") -> None:
    (panels_dir / "lab-loss.js").write_text('export const archs = ["lab"];\nexport function figure() {}\n')
    toml = lessons / "01-fixture" / "lesson.toml"
    text = toml.read_text(encoding="utf-8").replace("[[questions]]", figure + "\n[[questions]]", 1)
    toml.write_text(text + question, encoding="utf-8")
    placed = "{{ figure race }}\n\n{{ figure train }}" + ("\n\n{{ question below }}" if question else "")
    for lang in ("ko", "en"):
        _edit(lessons / "01-fixture" / f"{lang}.md", "{{ figure race }}", placed)


def test_a_lab_figure_validates_its_runs_against_the_lab_request(lessons, panels_dir):
    _with_lab_figure(lessons, panels_dir, question=LAB_QUESTION)
    book = load_lessons(lessons, panels_dir)
    assert not book.errors, _errors(book)
    assert book.get("01-fixture").figure("train").source == "lab"
    cases = {
        'knobs = { preset = "memory_race", steps = 300 }': None,
        'knobs = { preset = "memory_rase" }': "figures[train].knobs.preset: unknown preset 'memory_rase'",
        'knobs = { preset = "memory_race", step = 300 }': "figures[train].knobs: unknown lab knob 'step'",
        'knobs = { preset = "memory_race", steps = 0 }': "figures[train].knobs.steps: Input should be greater than",
        'knobs = { runs = [{ task = "adding", seq_len = 500 }] }': "figures[train].knobs.runs[0].seq_len:",
        'knobs = { runs = [{ task = "adding" }, { task = "copy", seq_len = 5 }] }': "share a task",
        'knobs = { preset = "memory_race" }\ncontrols = ["lr"]': "figures[train].controls: a lab figure has none",
    }
    for i, (knobs, wanted) in enumerate(cases.items()):
        if wanted is None:
            continue
        root = lessons.parent / f"broken-{i}"
        shutil.copytree(FIXTURE, root)
        _with_lab_figure(root, panels_dir, LAB_FIGURE.replace('knobs = { preset = "memory_race", steps = 300 }', knobs))
        assert wanted in _only_error(root, panels_dir), knobs


def test_lab_answers_need_a_lab_figure_and_lab_panels_a_lab_source(lessons, panels_dir):
    _with_lab_figure(lessons, panels_dir, question=LAB_QUESTION.replace('figure = "train"', 'figure = "decay"'))
    assert "questions[below].answer: lab_below_baseline reads a lab figure" in _only_error(lessons, panels_dir)
    root = lessons.parent / "broken"
    shutil.copytree(FIXTURE, root)
    _with_lab_figure(root, panels_dir)
    _edit(root / "01-fixture" / "lesson.toml", 'panels = ["grad-norm"]', 'panels = ["lab-loss"]')
    assert "figures[race].panels: panel 'lab-loss' does not draw rnn" in _only_error(root, panels_dir)


def test_a_lab_figure_starts_nothing_on_the_page(client, lessons, panels_dir):
    _with_lab_figure(lessons, panels_dir, question=LAB_QUESTION)
    r = client.get("/lessons/01-fixture?lang=en")
    config = _config(r.text)
    fig = next(f for f in config["figures"] if f["id"] == "train")
    assert [run["arch"] for run in fig["lab"]["runs"]] == ["rnn", "irnn", "lstm", "gru"]
    assert all(run["steps"] == 300 and run["seq_len"] == 50 for run in fig["lab"]["runs"])
    assert fig["lab"]["task"] == {"name": "adding", "regression": True, "has_accuracy": False}
    assert 'data-lab="start"' in r.text and 'data-lab="stop" disabled' in r.text
    assert not client.app.state.lab.runs, "rendering a lesson starts no run (only the page's button does)"


def test_panels_keep_to_their_sources(lessons, panels_dir):
    (panels_dir / "sample.js").write_text('export const archs = ["sample"];\nexport function figure() {}\n')
    _edit(lessons / "01-fixture" / "lesson.toml", 'panels = ["grad-norm"]', 'panels = ["sample"]')
    assert "figures[race].panels: panel 'sample' does not draw rnn" in _only_error(lessons, panels_dir)


def test_raw_html_in_prose_is_shown_as_text(lessons, panels_dir):
    lesson = load_lessons(lessons, panels_dir).get("01-fixture")
    html = lesson.prose["ko"].sections[0].blocks[0].html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>시간을 거슬러</strong>" in html


# ---- the pages and the API, on the fixture ----

@pytest.fixture
def client(lessons, panels_dir):
    app = create_app()
    app.state.lessons_dir, app.state.panels_dir = lessons, panels_dir
    with TestClient(app) as c:
        yield c


def _config(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="lesson-config">(.*?)</script>', html, re.S)[1])


def test_index_lists_the_lessons_with_links_to_bench_and_glossary(client):
    html = client.get("/", headers={"Accept-Language": "en-US"}).text
    assert '<html lang="en">' in html
    assert 'href="/lessons/01-fixture"' in html and "A test lesson" in html
    assert "The gradient shrinking as it travels back in time." in html
    assert 'data-sections="see decay race summary"' in html and 'data-questions="ratio sat who"' in html
    assert 'href="/bench"' in html and 'href="/glossary"' in html


def test_lesson_page_carries_the_spec_and_renders_the_prose(client):
    r = client.get("/lessons/01-fixture?lang=ko")
    assert r.status_code == 200
    html = r.text
    assert "<h1>시험용 레슨</h1>" in html and 'id="see"' in html and 'id="summary"' in html
    config = _config(html)
    assert config["lang"] == "ko" and config["slug"] == "01-fixture"
    decay = config["figures"][0]
    assert decay["knobs"]["spectral_norm"] == 0.8 and decay["panels"] == ["grad-one-loss", "hidden"]
    controls = {c["name"]: c for c in decay["controls"]}
    assert controls["spectral_norm"]["widget"] == "number" and controls["spectral_norm"]["max"] == 10
    assert controls["activation"]["choices"] == ["tanh", "relu", "sigmoid", "linear"]
    assert config["figures"][1]["compare"] == {"spectral_norm": 1.4}
    assert config["figures"][1]["labels"] == ["σ 작게", "σ 크게"]
    questions = {q["id"]: q for q in config["questions"]}
    assert questions["ratio"]["scale"] == "log" and questions["sat"]["edges"] == [0.0, 0.1, 0.5, 1.0]
    assert "0 – 0.1" in html and 'data-value=""' in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html


def test_language_from_the_query_sticks_in_a_cookie(client):
    r = client.get("/lessons/01-fixture?lang=en", headers={"Accept-Language": "ko-KR"})
    assert '<html lang="en">' in r.text and "A test lesson" in r.text
    assert "lang=en" in r.headers["set-cookie"]
    again = client.get("/lessons/01-fixture", headers={"Accept-Language": "ko-KR"})  # the cookie wins
    assert '<html lang="en">' in again.text
    assert 'href="?lang=ko"' in again.text  # the switch keeps the page


def test_korean_when_nothing_matches(client):
    html = client.get("/lessons/01-fixture", headers={"Accept-Language": "fr-FR"}).text
    assert '<html lang="ko">' in html and "시험용 레슨" in html


def test_unknown_lesson_is_404_in_the_learners_language(client):
    r = client.get("/lessons/99-nothing", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and "There is no lesson &#39;99-nothing&#39;" in r.text
    r = client.get("/lessons/99-nothing?lang=ko")
    assert r.status_code == 404 and "‘99-nothing’라는 레슨은 없습니다" in r.text
    assert 'href="/lessons/01-fixture"' in r.text


def test_glossary_pairs_terms_and_links_the_lesson(client):
    html = client.get("/glossary?lang=en").text
    assert "기울기 소실" in html and "vanishing gradient" in html and "경사소실이라고도 씁니다" in html
    assert html.count('href="/lessons/01-fixture"') == 2


def test_api_lessons_lists_slug_title_figures_and_questions(client):
    body = client.get("/api/lessons").json()
    (lesson,) = body["lessons"]
    assert lesson["slug"] == "01-fixture"
    assert lesson["title"] == {"ko": "시험용 레슨", "en": "A test lesson"}
    decay = lesson["figures"][0]
    assert decay["id"] == "decay" and decay["knobs"]["text"] == "abcabcabcabc"
    assert decay["panels"] == ["grad-one-loss", "hidden"]
    assert decay["controls"] == ["spectral_norm", "activation", "text"]
    assert [q["id"] for q in lesson["questions"]] == ["ratio", "sat", "who"]
    assert lesson["questions"][0]["answer"] == "grad_ratio"
