"""`gia-kg import-sok`: counts, cells, drift, malformed input, atomic output, reproducibility.

Expected values are read by hand from the SoK README of 2025-09-02, upstream HEAD and the shipped
release (tests/fixtures/sok/); the 2025-07-15 copy is the earlier release.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kg.cli import main
from kg.coverage import CoverageError, format_coverage, parse_coverage
from kg.loading import load_graph
from kg.namespaces import GIA, PREFIXES
from kg.slugs import slugify, work_slug
from kg.sok_import import FILES
from kg.sok_markdown import read_reference

ROOT = Path(__file__).resolve().parent.parent
SOK_DIR = ROOT / "tests" / "fixtures" / "sok"
README = SOK_DIR / "sok_gias_fl-README-2025-09-02.md"
OLD_README = SOK_DIR / "sok_gias_fl-README-2025-07-15.md"
SHARED_README = ROOT.parent / "shared" / "sok" / "sok_gias_fl-README-2025-09-02.md"
DATA = ROOT / "kg" / "data"
LETTERS = "ABCDEFGH"


def iri(prefix: str, local: str) -> URIRef:
    return URIRef(PREFIXES[prefix] + local)


def objects(graph, subject: URIRef, prop: URIRef) -> set:
    return set(graph.objects(subject, prop))


@pytest.fixture(scope="module")
def graph():
    """The shipped data with the ontology."""
    return load_graph(DATA, inferred=False)


def run_import(readme: Path, out: Path, *extra: str) -> int:
    return main(["import-sok", str(readme), "-o", str(out), *extra])


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("cls", "expected"),
    [("ThreatModel", 8), ("Attack", 36), ("Defense", 21), ("Reference", 59),
     ("Assessment", 168), ("Work", 58)],  # 58 works: [21] and [44] are one paper
)
def test_counts(graph, cls: str, expected: int) -> None:
    assert len(set(graph.subjects(iri("rdf", "type"), getattr(GIA, cls)))) == expected


def test_every_defense_has_one_assessment_per_threat_model(graph) -> None:
    for defense in graph.subjects(iri("rdf", "type"), GIA.Defense):
        letters = sorted(
            str(graph.value(a, GIA.threatModel)).rsplit("/", 1)[1]
            for a in graph.objects(defense, GIA.hasAssessment)
        )
        assert letters == list(LETTERS), defense


# ---------------------------------------------------------------- spot checks (by hand)


def test_threat_model_g(graph) -> None:
    tm = iri("tm", "G")
    assert graph.value(tm, iri("rdfs", "label")) == Literal("Data-Enhanced Manipulator")
    assert graph.value(tm, GIA.applicability) == Literal(1)
    assert objects(graph, tm, GIA.hasCapability) == {
        iri("cap", c) for c in ("model-updates", "basic-knowledge", "training-details",
                                "surrogate-data", "active-manipulation")}
    assert graph.value(iri("tm", "E"), GIA.applicability) == Literal(2)
    assert iri("cap", "client-data-distribution") in objects(graph, iri("tm", "E"),
                                                             GIA.hasCapability)


def test_adversary_class_shape(graph) -> None:
    """adv:G = Adversary and one hasValue restriction per capability, in the SoK's column order."""
    from rdflib.collection import Collection

    owl = PREFIXES["owl"]
    inter = graph.value(iri("adv", "G"), URIRef(owl + "equivalentClass"))
    members = list(Collection(graph, graph.value(inter, URIRef(owl + "intersectionOf"))))
    assert members[0] == GIA.Adversary
    assert [graph.value(r, URIRef(owl + "hasValue")) for r in members[1:]] == [
        iri("cap", c) for c in ("model-updates", "basic-knowledge", "training-details",
                                "surrogate-data", "active-manipulation")]
    assert {graph.value(r, URIRef(owl + "onProperty")) for r in members[1:]} == {
        GIA.hasCapability}
    assert graph.value(iri("tm", "G"), GIA.adversaryClass) == iri("adv", "G")


def test_attack_fowl_2022(graph) -> None:
    a = iri("attack", "fowl-2022-robbing-fed")
    assert graph.value(a, iri("rdfs", "label")) == Literal("Fowl et al. (2022)")
    assert graph.value(a, GIA.category) == iri("category", "analytic-based")
    assert graph.value(a, GIA.technique) == iri("technique", "gradient-sparsification")
    assert graph.value(a, GIA.threatModel) == iri("tm", "G")
    assert objects(graph, a, GIA.learningAlgorithm) == {GIA.FedSGD, GIA.FedAVG}
    assert graph.value(a, GIA.resolutionKind) == GIA.InputSizeResolution
    assert graph.value(a, GIA.batchSize) == Literal(256)
    assert graph.value(a, GIA.localIterations) is None
    assert objects(graph, a, GIA.sharedModel) == {iri("model", "model-agnostic")}
    assert objects(graph, a, GIA.modelNote) == {GIA.AddsLinearLayers}
    assert objects(graph, a, GIA.learningTask) == {iri("task", "object-classification")}
    assert graph.value(a, GIA.labelRecovery) == GIA.NoLabelRestoration
    assert graph.value(a, GIA.codeStatus) == GIA.OpenSource
    assert objects(graph, a, GIA.codeRepository) == {
        URIRef("https://github.com/lhfowl/robbing_the_fed")}
    assert objects(graph, a, GIA.reference) == {iri("ref", "fowl-2022-robbing-fed-ref28")}
    assert objects(graph, a, GIA.work) == {iri("work", "fowl-2022-robbing-fed")}


def test_attack_dimitrov_2022_fedavg_and_link(graph) -> None:
    a = iri("attack", "dimitrov-2022-data-leakage")
    assert objects(graph, a, GIA.learningAlgorithm) == {GIA.FedAVG}
    assert graph.value(a, GIA.localIterations) == Literal(10)
    assert graph.value(a, GIA.batchSize) == Literal(5)
    assert graph.value(a, GIA.imageWidth) == Literal(32)
    assert graph.value(a, GIA.imageHeight) == Literal(32)
    assert objects(graph, a, GIA.sharedModel) == {iri("model", "cnns")}
    assert graph.value(a, GIA.threatModel) == iri("tm", "C")
    assert graph.value(a, GIA.labelRecovery) == GIA.ReusedLabelRecovery
    assert objects(graph, a, GIA.labelRecoverySource) == {
        URIRef("https://arxiv.org/abs/2110.09074")}


def test_attack_label_recovery_citation_and_tasks(graph) -> None:
    a = iri("attack", "hatamizadeh-2022-gradvit-gradient")  # [5], label cell [4]
    assert graph.value(a, GIA.labelRecovery) == GIA.ReusedLabelRecovery
    assert objects(graph, a, GIA.labelRecoverySource) == {iri("work", "yin-2021-see-through")}
    assert objects(graph, a, GIA.learningTask) == {
        iri("task", "object-classification"), iri("task", "face-classification")}
    assert objects(graph, a, GIA.sharedModel) == {iri("model", "vit")}
    assert graph.value(a, GIA.imageWidth) == Literal(224)
    assert graph.value(a, GIA.codeStatus) == GIA.NotOpenSource


def test_attack_not_reported_cells(graph) -> None:
    a = iri("attack", "liu-2025-mjolnir-breaking")  # [16]: N/A resolution and model
    assert objects(graph, a, GIA.notReported) == {GIA.imageWidth, GIA.imageHeight,
                                                  GIA.sharedModel}
    assert graph.value(a, GIA.imageWidth) is None
    assert graph.value(a, GIA.sharedModel) is None
    assert graph.value(a, GIA.labelRecovery) == GIA.AssumesLabelKnowledge
    assert graph.value(a, GIA.category) == iri("category", "optimization-based")
    assert graph.value(a, GIA.technique) == iri("technique", "augmented-optimization")


def test_attack_colab_link_and_footnote_3(graph) -> None:
    a = iri("attack", "boenisch-2023-when-curious")  # [30]
    assert objects(graph, a, GIA.modelNote) == {GIA.TargetsLinearLayers}
    assert objects(graph, a, GIA.sharedModel) == {iri("model", "fc-networks")}
    colab = URIRef("https://colab.research.google.com/drive/"
                   "17uB-plUyxNo19HVJBOKGDVWo88IiR74o?usp=sharing")
    assert objects(graph, a, GIA.codeRepository) == {colab}
    usynin = iri("attack", "usynin-2023-beyond-gradients")  # [9]: "VGG, ResNet", label [2]
    assert objects(graph, usynin, GIA.sharedModel) == {iri("model", "vgg"),
                                                       iri("model", "resnet")}
    assert objects(graph, usynin, GIA.labelRecoverySource) == {
        iri("work", "zhao-2020-idlg-improved")}


def test_defense_precode(graph) -> None:
    # 2025-09-02 dropped the name "PRECODE" from the Work cell ("[58]"): the row keeps the IRI it
    # had in 2025-07-15 (kg/data/registry.tsv) and is labelled with its work's title.
    d = iri("defense", "precode")
    assert graph.value(d, iri("rdfs", "label")) == Literal(
        "PRECODE - A Generic Model Extension To Prevent Deep Gradient Leakage")
    assert graph.value(d, GIA.name) is None
    assert graph.value(d, GIA.category) == GIA.HeuristicDefense
    assert graph.value(d, GIA.technique) == iri("technique", "model-modification")
    assert graph.value(d, GIA.year) == Literal(2022)
    assert graph.value(d, GIA.deployedAt) == GIA.ClientSide
    assert graph.value(d, GIA.intuition) == Literal("Variational block adding randomness")
    assert graph.value(d, GIA.weakness) == Literal("Proven ineffective against advanced GIAs [14]")
    assert objects(graph, d, GIA.weaknessCites) == {iri("work", "yue-2023-gradient-obfuscation")}
    assert objects(graph, d, GIA.codeRepository) == {
        URIRef("https://github.com/dAI-SY-Group/PRECODE")}
    assert graph.value(iri("assessment", "precode-G"), GIA.level) == GIA.Partial
    assert graph.value(iri("assessment", "precode-B"), GIA.level) == GIA.Effective
    assert graph.value(iri("assessment", "precode-G"), GIA.threatModel) == iri("tm", "G")


def levels(graph, slug: str) -> str:
    words = {GIA.Effective: "g", GIA.Partial: "o", GIA.Ineffective: "r"}
    return "".join(words[graph.value(iri("assessment", f"{slug}-{x}"), GIA.level)]
                   for x in LETTERS)


def test_defense_dp_server_row(graph) -> None:
    d = iri("defense", "learning-differentially-private")  # [37], no name
    assert graph.value(d, GIA.name) is None
    assert graph.value(d, iri("rdfs", "label")) == Literal(
        "Learning Differentially Private Recurrent Language Models")
    assert graph.value(d, GIA.category) == GIA.FormalDefense
    assert graph.value(d, GIA.technique) == iri("technique", "dp-based")
    assert graph.value(d, GIA.deployedAt) == GIA.ServerSide
    assert objects(graph, d, GIA.notReported) == {GIA.year}
    assert graph.value(d, GIA.year) is None
    assert graph.value(d, GIA.codeStatus) == GIA.GenericImplementations
    assert levels(graph, "learning-differentially-private") == "gggoorrr"


def test_defense_coverage_cells(graph) -> None:
    assert levels(graph, "dcs-2") == "ggogogoo"  # the cell with a <br>
    assert levels(graph, "fedkl") == "gooooooo"
    assert levels(graph, "practical-secure-aggregation") == "gggggggg"
    assert levels(graph, "sok-secure-aggregation") == "gggggrrr"
    assert levels(graph, "soteria-provable-defense") == "ggorrrrr"


def test_defense_two_works_and_weakness_citations(graph) -> None:
    d = iri("defense", "revisiting-gradient-pruning")  # [42,43]
    assert objects(graph, d, GIA.work) == {iri("work", "revisiting-gradient-pruning"),
                                           iri("work", "preserving-data-privacy")}
    assert len(objects(graph, d, GIA.reference)) == 2
    assert objects(graph, d, GIA.weaknessCites) == {  # [14, 22, 19, 16]
        iri("work", "yue-2023-gradient-obfuscation"), iri("work", "fang-2023-gifd-generative"),
        iri("work", "xue-2023-fast-generation-based"), iri("work", "liu-2025-mjolnir-breaking")}
    assert graph.value(d, GIA.technique) == iri("technique", "gradient-perturbation")


def test_one_work_for_two_numbers_and_for_attack_and_defense(graph) -> None:
    li = iri("work", "li-2022-auditing-privacy")
    refs = set(graph.subjects(GIA.work, li)) & set(graph.subjects(iri("rdf", "type"),
                                                                  GIA.Reference))
    assert {graph.value(r, GIA.referenceNumber) for r in refs} == {Literal(21), Literal(44)}
    assert li in objects(graph, iri("attack", "li-2022-auditing-privacy"), GIA.work)
    assert li in objects(graph, iri("defense", "li-2022-auditing-privacy"), GIA.work)
    yue = iri("work", "yue-2023-gradient-obfuscation")  # [14]: attack and defense
    assert graph.value(iri("attack", "yue-2023-gradient-obfuscation"), GIA.work) == yue
    assert graph.value(iri("defense", "yue-2023-gradient-obfuscation"), GIA.work) == yue
    assert graph.value(yue, GIA.firstAuthor) == Literal("Yue")
    assert graph.value(yue, GIA.year) == Literal(2023)
    assert graph.value(yue, GIA.venue) is None  # 2025-09-02 dropped the venues


def test_reference_entries(graph) -> None:
    ref3 = iri("ref", "geiping-2020-inverting-gradients-ref3")
    title = "Inverting Gradients - How Easy is it to Break Privacy in Federated Learning?"
    assert graph.value(ref3, iri("dcterms", "title")) == Literal(title)
    assert graph.value(ref3, GIA.venue) is None  # "NeurIPS." in 2025-07-15
    ref9 = iri("ref", "usynin-2023-beyond-gradients-ref9")
    assert graph.value(ref9, iri("dcterms", "title")) == Literal(
        "Beyond Gradients: Exploiting Adversarial Priors in Model Inversion Attacks")
    assert str(graph.value(ref9, GIA.citationText)).startswith("Usynin, D., et al. (2023). ")
    assert graph.value(ref9, GIA.venue) is None  # "ACM TOPS." in 2025-07-15
    ref45 = iri("ref", "soteria-provable-defense-ref45")
    assert graph.value(ref45, GIA.codeRepository) == URIRef("https://github.com/jeremy313/Soteria")
    assert graph.value(ref45, GIA.referenceNumber) == Literal(45)
    assert graph.value(ref45, GIA.venue) is None
    ref38 = iri("ref", "fedcdp-client-level-differential-ref38")
    assert graph.value(ref38, GIA.venue) is None  # "IEEE ICDCS." in 2025-07-15
    ref1 = iri("ref", "zhu-2019-deep-leakage-ref1")
    assert graph.value(ref1, GIA.venue) == Literal("NeurIPS")  # kept in 2025-09-02


def test_provenance_on_every_named_individual(graph) -> None:
    sok = iri("sok", "2025-09-02")
    named = set(graph.subjects(iri("rdf", "type"), URIRef(PREFIXES["owl"] + "NamedIndividual")))
    imported = {n for n in named if str(n).startswith("https://w3id.org/gia-kg/id/")
                and not str(n).startswith(PREFIXES["cap"]) and n != sok}
    # 8 threat models, 36 attacks, 21 defenses, 168 assessments, 58 works, 59 references,
    # 3 attack categories, 8 + 5 techniques, 16 model labels, 3 tasks (counted by hand)
    assert len(imported) == 8 + 36 + 21 + 168 + 58 + 59 + 3 + 13 + 16 + 3
    missing = {n for n in imported if (n, iri("prov", "wasDerivedFrom"), sok) not in graph}
    assert not missing
    assert graph.value(sok, GIA.sokVersion) == Literal("2025-09-02")


# ---------------------------------------------------------------- slugs, coverage, references


def test_slug_rules() -> None:
    assert work_slug("Deep Leakage from Gradients", "Zhu", 2019) == "zhu-2019-deep-leakage"
    assert work_slug("Learning Differentially Private Recurrent Language Models") == (
        "learning-differentially-private")
    assert slugify("Mjölnir") == "mjolnir"
    assert slugify("Online Opt.") == "online-opt"


def test_coverage_parser() -> None:
    assert parse_coverage("A (green) - C (green) D (orange) - E (orange) F (red) - H (red)",
                          LETTERS, ["green", "orange", "red"]) == dict(zip(
                              LETTERS, ["green"] * 3 + ["orange"] * 2 + ["red"] * 3,
                              strict=True))
    levels = parse_coverage("A (green) <br> B (orange) - H (orange)", LETTERS,
                            ["green", "orange", "red"])
    assert levels["A"] == "green" and levels["H"] == "orange"
    assert format_coverage(levels, LETTERS) == "A (green) B (orange) - H (orange)"


@pytest.mark.parametrize(
    ("cell", "message"),
    [("A (green) - G (green)", "no level for threat model(s) H"),
     ("A (green) - H (green) C (red)", "threat model C is given two levels"),
     ("A (green) - H (green) Z (red)", "unknown threat model 'Z'"),
     ("A (green) - H (blue)", "unknown level 'blue'"),
     ("A (green) - C (red) D (red) - H (red)", "range A-C has two levels"),
     ("A green - H green", "expected items like")],
)
def test_coverage_errors(cell: str, message: str) -> None:
    with pytest.raises(CoverageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_coverage(cell, LETTERS, ["green", "orange", "red"])


def test_reference_reading_rules() -> None:
    entry = read_reference(38, 1, "FedCDP: Client-level Differential Privacy for Federated "
                           "Learning. IEEE ICDCS [paper](https://ieeexplore.ieee.org/x)")
    assert entry.title == "FedCDP: Client-level Differential Privacy for Federated Learning"
    assert entry.venue == "IEEE ICDCS"
    assert entry.links == (("paper", "https://ieeexplore.ieee.org/x"),)
    bare = read_reference(44, 1, "Auditing Privacy Defenses [paper](https://a.b/c)")
    assert (bare.title, bare.venue) == ("Auditing Privacy Defenses", None)


# ---------------------------------------------------------------- the command


def test_shipped_data_equals_a_fresh_import(tmp_path: Path) -> None:
    readme = SHARED_README if SHARED_README.is_file() else README
    assert run_import(readme, tmp_path / "out") == 0
    for name in FILES:
        assert (tmp_path / "out" / name).read_bytes() == (DATA / name).read_bytes(), name


def test_fixture_copy_is_the_shared_readme() -> None:
    if not SHARED_README.is_file():
        pytest.skip("shared README not present")
    assert README.read_bytes() == SHARED_README.read_bytes()


def test_two_processes_write_identical_bytes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "kg", "import-sok", str(README), "-o",
                    str(tmp_path / "a")], check=True, env=env, capture_output=True)
    assert run_import(README, tmp_path / "b") == 0
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_import_reasons_so_the_folder_answers_at_once(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert run_import(README, out) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "inferred.ttl", "registry.tsv"])
    assert "36 attacks" in capsys.readouterr().out
    assert main(["--kg", str(out), "query", "attacks-feasible", "-p", "threat_model=A",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.count("\n") == 3  # header + Zhu [1] + Zhao [2] (by hand)


def test_without_java_the_old_order_is_kept_and_the_hint_names_the_folder(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "inferred.ttl").write_bytes(b"# kept as is\n")
    (out / "works.ttl").write_text("# replaced\n")
    monkeypatch.setenv("PATH", "")  # no java (and no git)
    assert run_import(README, out) == 0
    assert (out / "inferred.ttl").read_bytes() == b"# kept as is\n"
    captured = capsys.readouterr()
    assert "not reasoned" in captured.out
    assert f"run `gia-kg reason --kg {out}`" in captured.err
    assert "Java not found" in captured.err


def test_a_folder_with_other_files_is_refused_untouched(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (out / "sub").mkdir()
    assert run_import(README, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("gia-kg: error: -o ") and "notes.txt, sub" in err and err.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "sub"]


def test_a_missing_parent_folder_is_refused(tmp_path: Path, capsys) -> None:
    assert run_import(README, tmp_path / "no" / "such" / "out") == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_source_version(tmp_path: Path, capsys) -> None:
    import hashlib

    assert run_import(README, tmp_path / "o", "--source-version", "abc123") == 0
    text = (tmp_path / "o" / "sok.ttl").read_text()
    assert 'gia:sokVersion "abc123"' in text
    assert "sok:abc123" in (tmp_path / "o" / "attacks.ttl").read_text()
    undated = tmp_path / "README.md"  # upstream's own file name, outside a git checkout
    undated.write_bytes(README.read_bytes())
    assert run_import(undated, tmp_path / "p") == 0
    digest = hashlib.sha256(README.read_bytes()).hexdigest()[:12]
    assert f'gia:sokVersion "content-{digest}"' in (tmp_path / "p" / "sok.ttl").read_text()
    assert run_import(README, tmp_path / "q", "--source-version", "no spaces") == 2
    assert "--source-version 'no spaces'" in capsys.readouterr().err


def test_source_version_is_the_readmes_git_commit(tmp_path: Path) -> None:
    import shutil

    git = shutil.which("git")
    if git is None:
        pytest.skip("git not installed")
    repo = tmp_path / "sok_gias_fl"
    repo.mkdir()
    (repo / "README.md").write_bytes(README.read_bytes())

    def run(*args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
        return subprocess.run([git, "-C", str(repo), *args], check=True, capture_output=True,
                              text=True, env=env).stdout.strip()

    run("init", "-q")
    run("add", "README.md")
    run("commit", "-q", "-m", "release")
    commit = run("rev-parse", "HEAD")
    assert run_import(repo / "README.md", tmp_path / "o") == 0
    assert f'gia:sokVersion "{commit}"' in (tmp_path / "o" / "sok.ttl").read_text()
    with (repo / "README.md").open("a") as handle:  # edited since the commit: not that release
        handle.write("\n")
    assert run_import(repo / "README.md", tmp_path / "p") == 0
    assert 'gia:sokVersion "content-' in (tmp_path / "p" / "sok.ttl").read_text()


# ---------------------------------------------------------------- drift fixtures


def test_drift_renamed_reordered_columns_and_moved_tables(tmp_path: Path) -> None:
    """Renamed headers, swapped attack columns, threat models after the defenses: same data."""
    assert run_import(OLD_README, tmp_path / "release") == 0
    assert run_import(SOK_DIR / "drift-columns-2025-07-15.md", tmp_path / "o") == 0
    for name in FILES:
        assert (tmp_path / "o" / name).read_bytes() == (tmp_path / "release" / name).read_bytes(), name


def test_drift_defense_names(tmp_path: Path) -> None:
    assert run_import(SOK_DIR / "drift-names-2025-07-15.md", tmp_path / "o") == 0
    graph = load_graph(tmp_path / "o", ontology=False, inferred=False)
    # A name added or dropped changes the label, never the IRI (kg/data/registry.tsv).
    named = iri("defense", "learning-differentially-private")
    assert graph.value(named, GIA.name) == Literal("DP-FedAvg")
    assert graph.value(named, iri("rdfs", "label")) == Literal("DP-FedAvg")
    assert graph.value(named, GIA.work) == iri("work", "learning-differentially-private")
    assert (iri("defense", "dp-fedavg"), None, None) not in graph
    unnamed = iri("defense", "digestnn")
    assert graph.value(unnamed, GIA.name) is None
    assert str(graph.value(unnamed, iri("rdfs", "label"))).startswith("Digestive neural networks")
    assert (iri("defense", "digestive-neural-networks"), None, None) not in graph
    assert len(set(graph.subjects(iri("rdf", "type"), GIA.Assessment))) == 168


def test_drift_references_with_authors_without_venues(tmp_path: Path) -> None:
    assert run_import(SOK_DIR / "drift-references-2025-07-15.md", tmp_path / "o") == 0
    graph = load_graph(tmp_path / "o", ontology=False, inferred=False)
    ref1 = iri("ref", "zhu-2019-deep-leakage-ref1")  # same IRI: slug from the title
    assert graph.value(ref1, iri("dcterms", "title")) == Literal("Deep Leakage from Gradients")
    assert graph.value(ref1, GIA.venue) == Literal("NeurIPS")
    ref2 = iri("ref", "zhao-2020-idlg-improved-ref2")
    assert graph.value(ref2, GIA.venue) is None
    assert str(graph.value(ref2, GIA.citationText)).startswith("Zhao, B., et al. (2020).")
    ref58 = iri("ref", "precode-generic-model-ref58")
    assert graph.value(ref58, iri("dcterms", "title")) == Literal(
        "PRECODE - A Generic Model Extension To Prevent Deep Gradient Leakage")
    assert len(set(graph.subjects(iri("rdf", "type"), GIA.Reference))) == 59  # code block skipped


# ---------------------------------------------------------------- malformed input


def edited(tmp_path: Path, line: int, old: str, new: str) -> Path:
    """The real README with one cell changed on one line (1-based)."""
    lines = OLD_README.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], (line, old)
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path = tmp_path / "README-2025-07-15.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


MALFORMED = [
    (44, "| 8             |", "| abc           |",
     "44: column 'Batch Size': expected an integer or E×B, got 'abc'"),
    (44, "| A                |", "| Z                |",
     "44: column 'Threat Model': expected a threat model letter (A, B, C, D, E, F, G, H), "
     "got 'Z'"),
    (44, "FedSGD", "FedProx", "44: column 'Learning Algorithm': expected a learning algorithm"),
    (44, "[1]", "[99]", "44: column 'Work': cites reference [99], which the reference lists"),
    (48, "| [4]                |", "| [98]               |",
     "48: column 'Label Recovery': cites reference [98]"),
    (44, "| 64×64 ", "| 64×sixty ", "44: column 'Image Resolution': expected WIDTH×HEIGHT"),
    (170, "A (green) - H (green)", "A (green) - G (green)",
     "170: column 'Threat Models': no level for threat model(s) H, got 'A (green) - G (green)'"),
    (170, "A (green) - H (green)", "A (green) - H (green) C (red)",
     "170: column 'Threat Models': threat model C is given two levels"),
    (170, "A (green) - H (green)", "A (green) - H (green) Z (red)",
     "170: column 'Threat Models': unknown threat model 'Z'"),
    (186, "[14]", "[99]", "186: column 'Main Weakness': cites reference [99]"),
    (186, "| 2022     |", "| 20x2     |", "186: column 'Year': expected a year (YYYY) or N/A"),
    (186, "| Client    |", "| Cloud     |", "186: column 'Where': expected one of Client, Server"),
    (31, "| ✗                  |", "| maybe              |",
     "31: column 'Surrogate Data': expected ✔️ or ✗, got 'maybe'"),
]


@pytest.mark.parametrize(("line", "old", "new", "message"), MALFORMED)
def test_malformed_cells_exit_2_naming_line_and_column(
    tmp_path: Path, capsys, line: int, old: str, new: str, message: str
) -> None:
    path = edited(tmp_path, line, old, new)
    out = tmp_path / "out"
    out.mkdir()
    (out / "attacks.ttl").write_text("# previous data\n")
    assert run_import(path, out) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gia-kg: error: {path}:{message}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["attacks.ttl"]  # untouched
    assert (out / "attacks.ttl").read_text() == "# previous data\n"


def test_unknown_column_is_an_error(tmp_path: Path, capsys) -> None:
    path = edited(tmp_path, 42, "**Batch Size**", "**Batch Count**")
    assert run_import(path, tmp_path / "out") == 2
    assert f"{path}:42: column 'Batch Count': unknown column in the attacks table" in (
        capsys.readouterr().err)


def _f_equals_g(tmp_path: Path) -> Path:
    """The shipped README with surrogate data given to F: F then has G's capabilities (by hand)."""
    lines = README.read_text(encoding="utf-8").split("\n")
    row = lines[50]
    assert row.startswith("| F      | Active Manipulator")
    cells = row.split("|")
    assert cells[6].strip() == "✗"  # Surrogate Data
    cells[6] = " ✔️ "
    lines[50] = "|".join(cells)
    path = tmp_path / "f-equals-g-2025-10-04.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_import_warns_of_equivalent_threat_models(tmp_path: Path, capsys) -> None:
    assert run_import(_f_equals_g(tmp_path), tmp_path / "o") == 0
    err = capsys.readouterr().err
    assert "gia-kg: warning: threat models F and G have the same capabilities (equivalent)" in err
    assert "tm:F gia:equivalentThreatModel tm:G ." in (tmp_path / "o" / "inferred.ttl").read_text()


def test_import_without_java_still_warns_of_equivalent_threat_models(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    assert run_import(_f_equals_g(tmp_path), tmp_path / "o") == 0
    err = capsys.readouterr().err
    assert "gia-kg: note: threat models F and G have the same capabilities (equivalent)" in err


# ---------------------------------------------------------------- upstream-style drift, one run


def test_every_problem_of_a_readme_in_one_run(tmp_path: Path, capsys) -> None:
    lines = OLD_README.read_text(encoding="utf-8").split("\n")
    for number, old, new in [(44, "| 8             |", "| abc           |"),
                             (186, "| 2022     |", "| 20x2     |"),
                             (31, "| ✗                  |", "| maybe              |")]:
        assert old in lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path = tmp_path / "three-2025-07-15.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert run_import(path, tmp_path / "out") == 2
    assert capsys.readouterr().err == (
        f"gia-kg: error: {path}:31: column 'Surrogate Data': expected ✔️ or ✗, got 'maybe'\n"
        f"gia-kg: error: {path}:44: column 'Batch Size': expected an integer or E×B, got 'abc'\n"
        f"gia-kg: error: {path}:186: column 'Year': expected a year (YYYY) or N/A, got '20x2'\n")
    assert not (tmp_path / "out").exists()


def test_duplicate_reference_lines_merge_when_identical(tmp_path: Path, capsys) -> None:
    lines = OLD_README.read_text(encoding="utf-8").split("\n")
    entry = lines[118]
    assert entry.startswith("[14] Gradient Obfuscation")
    lines.insert(119, entry)  # listed twice, verbatim (as upstream history has it)
    path = tmp_path / "dup-2025-07-15.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert run_import(path, tmp_path / "o") == 0
    assert run_import(OLD_README, tmp_path / "clean") == 0
    for name in ("attacks.ttl", "defenses.ttl", "works.ttl"):
        assert (tmp_path / "o" / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()
    assert "reference [14] is listed twice, identically (also at line 119); merged" in capsys.readouterr().err
    lines[119] = entry.replace("Gradient Obfuscation", "Gradient Obfuscations")
    path.write_text("\n".join(lines), encoding="utf-8")
    assert run_import(path, tmp_path / "p") == 2
    assert (f"{path}:120: reference [14] is listed twice with different texts (also at line 119)"
            in capsys.readouterr().err)


def test_inline_html_is_stripped_with_a_note(tmp_path: Path, capsys) -> None:
    lines = OLD_README.read_text(encoding="utf-8").split("\n")
    assert "| Basic Optimization   |" in lines[43]
    lines[43] = lines[43].replace("| Basic Optimization   |", "| Basic Optimization</em> |", 1)
    path = tmp_path / "html-2025-07-15.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert run_import(path, tmp_path / "o") == 0
    assert run_import(OLD_README, tmp_path / "clean") == 0
    assert (tmp_path / "o" / "attacks.ttl").read_bytes() == (tmp_path / "clean" / "attacks.ttl").read_bytes()
    assert f"{path}:44: column 'Technique': removed inline HTML </em>" in capsys.readouterr().err
