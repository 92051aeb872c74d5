"""The Python API (kg.api) on the shipped SoK; expected answers are read by hand from the SoK tables
(tests/fixtures/sok/sok_gias_fl-README-2025-09-02.md).

Defense table, the cells used here: [40] A-E green, F-H red; [41] A-H green; [48] and [51] A-D
green, E-H orange; [56] A-B green, C orange, D green, E orange, F green, G-H orange; no defense is
green at G but not at H. Attack table by threat model: A 1 2; B 3 8 12 18 25 26 27; C 6;
D 9 13-17 19-24 (22 attacks of threat model A..D).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kg import KnowledgeGraph, Result
from kg.api import PandasMissing, Validation, python_value
from kg.cli import main
from kg.errors import InputError, QueryError, UsageError

ROOT = Path(__file__).resolve().parent.parent
GIA = "https://w3id.org/gia-kg/ontology#"
DEFENSE = "https://w3id.org/gia-kg/id/defense/"
SECAGG_40 = "Sok: Secure aggregation based on cryptographic schemes for federated learning"

A_TO_D = [("A", "1"), ("A", "2")] + [("B", r) for r in ("3", "8", "12", "18", "25", "26", "27")] \
    + [("C", "6")] + [("D", r) for r in ("9", "13", "14", "15", "16", "17", "19", "20", "21", "22",
                                          "23", "24")]


@pytest.fixture(scope="module")
def g() -> KnowledgeGraph:
    return KnowledgeGraph()


# ---------------------------------------------------------------- import


def test_import_kg_is_lazy() -> None:
    code = ("import kg, sys; assert 'kg.api' not in sys.modules and 'pyoxigraph' not in sys.modules; "
            "assert kg.__version__; from kg import KnowledgeGraph, Result; "
            "assert KnowledgeGraph.__module__ == 'kg.api' and Result.__module__ == 'kg.api'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_unknown_attribute_of_kg() -> None:
    import kg

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        kg.nope  # noqa: B018
    assert "KnowledgeGraph" in dir(kg)


def test_bad_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder of Turtle files"):
        KnowledgeGraph(tmp_path / "missing")
    with pytest.raises(UsageError, match="expected the path of a data folder"):
        KnowledgeGraph(42)  # type: ignore[arg-type]


def test_folder_means_the_same_as_kg_dir(data_copy: Path) -> None:
    other = KnowledgeGraph(data_copy)
    assert other.kg_dir == data_copy
    assert other.query("defenses-cover-but-not", covered="E", uncovered="F").column("ref") == ["40"]


# ---------------------------------------------------------------- saved queries


def test_g_but_not_h_is_empty(g: KnowledgeGraph, capsys: pytest.CaptureFixture[str]) -> None:
    r = g.query("defenses-cover-but-not", covered="G", uncovered="H")
    assert r.columns == ["ref", "label", "covered_level", "uncovered_level", "defense"]
    assert r.rows == [] and r.to_dicts() == [] and len(r) == 0
    argv = ["query", "defenses-cover-but-not", "-p", "covered=G", "-p", "uncovered=H"]
    assert main([*argv, "--format", "csv"]) == 0
    assert r.format("csv") == capsys.readouterr().out == "ref,label,covered_level,uncovered_level,defense\r\n"
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(r.format())  # the CLI may add what "no rows" means
    assert "(0 rows)" in r.format()


def test_e_but_not_f(g: KnowledgeGraph, capsys: pytest.CaptureFixture[str]) -> None:
    r = g.query("defenses-cover-but-not", covered="E", uncovered="F")
    assert r.rows == [("40", SECAGG_40, "effective", "ineffective", DEFENSE + "sok-secure-aggregation")]
    assert r.to_dicts() == [{
        "ref": "40", "label": SECAGG_40, "covered_level": "effective",
        "uncovered_level": "ineffective", "defense": DEFENSE + "sok-secure-aggregation",
    }]
    assert list(r) == r.rows
    assert str(r.terms[0][4]) == f"<{DEFENSE}sok-secure-aggregation>"  # the raw pyoxigraph term
    for fmt in ("text", "csv", "json"):
        argv = ["query", "defenses-cover-but-not", "-p", "covered=E", "-p", "uncovered=F"]
        assert main([*argv, "--format", fmt]) == 0
        assert r.format(fmt) == capsys.readouterr().out, fmt


def test_int_parameter_and_boolean_column(g: KnowledgeGraph) -> None:
    # Yue et al. [14] is a D attack; green at D: [40], [41], [48], [51], [56]; none of their
    # weaknesses cites [14] (those that do, [42,43] [14] [44] [58], are not green at D)
    r = g.query("defenses-for-attack", attack=14)
    assert sorted(r.column("ref"), key=int) == ["40", "41", "48", "51", "56"]
    assert r.column("cites_attack") == [False] * 5
    assert r.rows == g.query("defenses-for-attack", attack="14").rows


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("defenses-cover-but-not", {"covered": "G", "uncoverd": "H"}, "unknown parameter 'uncoverd'"),
        ("defenses-cover-but-not", {"covered": "Z", "uncovered": "H"}, "covered='Z' is not one of A, B"),
        ("defenses-cover-but-not", {"covered": "G"}, "missing parameter uncovered"),
        ("defenses-cover-but-not", {"covered": 1.5, "uncovered": "H"}, "expected a str or int"),
        ("no-such-query", {}, "unknown query 'no-such-query'; valid queries: attacks-by-technique"),
    ],
)
def test_bad_parameters_are_usage_errors(
    g: KnowledgeGraph, name: str, params: dict, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError) as caught:
        g.query(name, **params)
    assert message in str(caught.value)
    if not any(isinstance(v, float) for v in params.values()):  # the CLI says the same
        assert main(["query", name, *(f"-p{k}={v}" for k, v in params.items())]) == 2
        assert capsys.readouterr().err == f"gia-kg: error: {caught.value}\n"


def test_catalog(g: KnowledgeGraph) -> None:
    catalog = g.queries()
    query = catalog["defenses-cover-but-not"]
    assert [p.name for p in query.params] == ["covered", "uncovered", "min_level"]
    assert query.summary.startswith("Defenses rated at least min_level")


# ---------------------------------------------------------------- ad-hoc SPARQL


def test_sparql_ask_is_a_bool(g: KnowledgeGraph) -> None:
    assert g.sparql("ASK { tm:H gia:directlyStrongerThan tm:G }") is True
    assert g.sparql("ASK { tm:G gia:directlyStrongerThan tm:H }") is False


def test_sparql_select_values(g: KnowledgeGraph) -> None:
    r = g.sparql("SELECT ?i ?d ?b ?u ?l ?x ?iri WHERE { VALUES (?i ?d ?b ?l ?x ?iri) "
                 "{ (7 2.5 true 'w'@en '9'^^xsd:string tm:A) } }")
    assert r.columns == ["i", "d", "b", "u", "l", "x", "iri"]
    assert r.rows == [(7, 2.5, True, None, "w", "9", "https://w3id.org/gia-kg/id/threat-model/A")]
    assert [type(v) for v in r.rows[0]] == [int, float, bool, type(None), str, str, str]


def test_sparql_select_keeps_order_by(g: KnowledgeGraph) -> None:
    r = g.sparql("SELECT ?letter WHERE { ?tm gia:letter ?letter } ORDER BY DESC(?letter)")
    assert r.column("letter") == list("HGFEDCBA")


def test_sparql_construct(g: KnowledgeGraph) -> None:
    r = g.sparql("CONSTRUCT { ?s gia:directlyStrongerThan ?o } "
                 "WHERE { tm:H gia:directlyStrongerThan ?o . BIND(tm:H AS ?s) }")
    tm = "https://w3id.org/gia-kg/id/threat-model/"
    assert r.columns == ["subject", "predicate", "object"]
    assert r.rows == [(tm + "H", GIA + "directlyStrongerThan", tm + "G")]
    assert [str(t) for t in r.triples] == [f"<{tm}H> <{GIA}directlyStrongerThan> <{tm}G>"]
    assert r.format("nt") == f"<{tm}H> <{GIA}directlyStrongerThan> <{tm}G> .\n"


@pytest.mark.parametrize(
    "text",
    ["INSERT DATA { tm:A rdfs:label 'x' }", "DELETE WHERE { ?s ?p ?o }", "CLEAR ALL"],
)
def test_sparql_update_is_refused(g: KnowledgeGraph, text: str) -> None:
    with pytest.raises(QueryError, match=r"SPARQL updates .* are refused"):
        g.sparql(text)
    assert g.sparql("ASK { tm:A ?p ?o }") is True


def test_sparql_limits(g: KnowledgeGraph) -> None:
    with pytest.raises(QueryError, match="more than 3 rows"):
        g.sparql("SELECT ?tm WHERE { ?tm gia:letter ?l }", max_rows=3)
    with pytest.raises(UsageError, match="timeout='1'"):
        g.sparql("ASK {}", timeout="1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="--max-rows 0"):
        g.sparql("ASK {}", max_rows=0)
    with pytest.raises(UsageError, match="expected the query text as a str"):
        g.sparql(b"ASK {}")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="syntax error"):
        g.sparql("SELECT WHERE")


# ---------------------------------------------------------------- assess


def test_assess_threat_model_d(g: KnowledgeGraph) -> None:
    a = g.assess(threat_model="D")
    attacks = a.attacks
    assert isinstance(attacks, Result)
    assert attacks.columns == ["ref", "label", "threat_model", "technique"]
    assert len(attacks) == 22
    assert [(row["threat_model"], row["ref"]) for row in attacks.to_dicts()] == A_TO_D
    assert attacks.rows[2] == ("3", "Geiping et al. (2020)", "B", "Basic Optimization")
    assert a.columns == ["ref", "label", "D"]
    ratings = {ref: level for ref, _, level in a.rows}
    assert len(ratings) == 21  # the 21 rows of the defense table
    assert ratings["40"] == "effective" and ratings["56"] == "effective"  # green at D
    assert ratings["58"] == "partial"  # PRECODE: orange from C to H
    assert ratings["45"] == "ineffective"  # Soteria: red from D to H
    assert a.to_dicts()[0].keys() == {"ref", "label", "D"}


def test_assess_capability_list(g: KnowledgeGraph) -> None:
    a = g.assess(capabilities=["model-updates", "basic-knowledge"])
    assert a.threat_models == [("B", "Informed Eavesdropper")]
    assert [(tm, ref) for ref, _, tm, _ in a.attacks.rows] == A_TO_D[:9]
    # a comma string still works (the CLI's spelling) and gives the same JSON contract
    same = g.assess(capabilities="model-updates, Basic-Knowledge")
    assert same.to_json() == a.to_json()
    assert list(a.to_json()) == ["threat_models", "attacks", "defenses"]
    assert a.format("json").startswith('{\n  "threat_models": [\n    "B"\n  ]')


def test_assess_all_capabilities(g: KnowledgeGraph) -> None:
    a = g.assess(capabilities=g.capabilities())
    assert a.columns == ["ref", "label", "E", "H"]
    by_ref = {row[0]: row[2:] for row in a.rows}
    assert by_ref["40"] == ("effective", "ineffective")  # [40] green at E, red at H
    assert by_ref["41"] == ("effective", "effective")
    assert len(a.attacks) == 36


def test_assess_no_threat_model_applies(g: KnowledgeGraph) -> None:
    a = g.assess(capabilities=["basic-knowledge"])
    assert a.threat_models == [] and a.rows == [] and len(a.attacks) == 0
    assert "No SoK threat model applies" in a._repr_html_()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capabilities": ["model-updates", "telepathy"]},
         "--capabilities: unknown capability 'telepathy'; valid: model-updates, basic-knowledge"),
        ({"capabilities": ["model-updates,basic-knowledge"]}, "unknown capability"),
        ({"capabilities": []}, "--capabilities: expected a comma-separated list of model-updates"),
        ({"capabilities": [3]}, "3 is not a capability slug"),
        ({"capabilities": 3}, "expected a list of capability slugs, got int"),
        ({"threat_model": "Z"}, "unknown threat model 'Z'; valid: A, B, C, D, E, F, G, H"),
        ({"threat_model": 4}, "expected a threat-model letter"),
        ({}, "give exactly one of"),
        ({"threat_model": "A", "capabilities": ["model-updates"]}, "give exactly one of"),
    ],
)
def test_assess_bad_input(g: KnowledgeGraph, kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        g.assess(**kwargs)
    assert message in str(caught.value)


# ---------------------------------------------------------------- audit, validate, order, export


def test_audit(g: KnowledgeGraph) -> None:
    r = g.audit()
    assert r.columns == ["finding", "ref", "label", "evidence"]
    pairs = [(finding, ref) for finding, ref, _, _ in r.rows]
    # [56] DCS-2 is green at D and F, both stronger than C, where it is orange
    assert pairs.count(("monotonicity", "56")) == 2
    # [21] and [44] are the same paper (same title and link)
    assert ("duplicate-publication", "21,44") in pairs


def test_validate_shipped_data(g: KnowledgeGraph) -> None:
    v = g.validate()
    assert isinstance(v, Validation)
    assert v.conforms is True
    assert v.columns == ["severity", "focus", "label", "path", "message", "shape", "value"]
    assert v.rows == []
    assert v.format().endswith("conforms: 0 violation(s), 0 warning(s)\n")


def test_validate_extra_file(g: KnowledgeGraph, tmp_path: Path) -> None:
    new = tmp_path / "new.ttl"
    new.write_text(
        "@prefix gia: <https://w3id.org/gia-kg/ontology#> .\n"
        "@prefix attack: <https://w3id.org/gia-kg/id/attack/> .\n"
        "attack:new-paper a gia:Attack ; gia:batchSize 4 .\n",
        encoding="utf-8",
    )
    v = g.validate(extra=[new])
    assert g.validate(extra=str(new)).rows == v.rows  # one path, given alone
    assert v.conforms is False
    assert {d["focus"] for d in v.to_dicts()} == {"attack:new-paper"}
    row = next(d for d in v.to_dicts() if d["shape"] == "shape:AttackThreatModel")
    assert row["severity"] == "Violation" and row["path"] == "gia:threatModel"
    assert row["message"] == "An attack needs exactly one gia:threatModel, one of tm:A .. tm:H."
    assert row["label"] is None
    assert v.count("Violation") == len(v.rows)


def test_order(g: KnowledgeGraph) -> None:
    # covering pairs of the capability sets in the threat-model table
    r = g.order()
    assert r.columns == ["stronger", "weaker"]
    assert r.rows == [("B", "A"), ("C", "B"), ("D", "C"), ("E", "D"), ("F", "C"), ("G", "D"),
                      ("G", "F"), ("H", "G")]
    full = g.order(full=True).rows
    assert ("H", "A") in full and ("E", "F") not in full and ("F", "E") not in full


def test_export(g: KnowledgeGraph) -> None:
    text = g.export("nt")
    secagg = f"<{DEFENSE}sok-secure-aggregation> <http://www.w3.org/2000/01/rdf-schema#label> "
    assert f'{secagg}"{SECAGG_40}" .\n' in text
    tm = "https://w3id.org/gia-kg/id/threat-model/"
    h_over_g = f"<{tm}H> <{GIA}directlyStrongerThan> <{tm}G> .\n"  # the reasoned order: inferred.ttl
    assert h_over_g not in text
    assert h_over_g in g.export("nt", inferred=True)


# ---------------------------------------------------------------- Result


def test_python_value_of_ill_typed_literal() -> None:
    import pyoxigraph as ox

    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert python_value(ox.Literal("x", datatype=ox.NamedNode(xsd + "integer"))) == "x"
    assert python_value(ox.Literal("maybe", datatype=ox.NamedNode(xsd + "boolean"))) == "maybe"
    assert python_value(ox.Literal("0", datatype=ox.NamedNode(xsd + "boolean"))) is False
    assert python_value(ox.Literal("1E2", datatype=ox.NamedNode(xsd + "double"))) == 100.0
    assert python_value(ox.BlankNode("b1")) == "_:b1"


def test_repr_and_html_are_escaped() -> None:
    r = Result.from_values(["a<b", "c"], [["<script>&", None], ["x", "y"]])
    assert repr(r) == "<Result 2 rows: a<b, c>"
    html = r._repr_html_()
    assert "<th>a&lt;b</th>" in html
    assert "<td>&lt;script&gt;&amp;</td><td></td>" in html
    assert "<script>" not in html
    assert html.endswith("<p>2 rows</p>")
    with pytest.raises(UsageError, match="no column 'z'; columns: a<b, c"):
        r.column("z")


def test_to_pandas_without_pandas(g: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    r = g.query("defenses-cover-but-not", covered="E", uncovered="F")
    with pytest.raises(ImportError, match="pip install pandas") as caught:
        r.to_pandas()
    assert isinstance(caught.value, PandasMissing)
    with pytest.raises(PandasMissing):
        g.assess(threat_model="A").to_pandas()


def test_to_pandas_with_pandas(g: KnowledgeGraph) -> None:
    pandas = pytest.importorskip("pandas")
    frame = g.query("defenses-cover-but-not", covered="E", uncovered="F").to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["ref", "label", "covered_level", "uncovered_level", "defense"]
    assert frame["ref"].tolist() == ["40"]
    empty = g.query("defenses-cover-but-not", covered="G", uncovered="H").to_pandas()
    assert empty.shape == (0, 5)
    assert g.assess(threat_model="D").to_pandas().shape == (21, 3)
