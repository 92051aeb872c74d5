"""A synthetic corpus N times the SoK's size: ``python benchmarks/synth.py -n 100 OUT``.

Copy 0 is the source data unchanged; copies 1..N-1 repeat every attack, defense, assessment, work
and reference under new IRIs (slug suffix ``-s<k>``), so the shapes and the value distributions are
the SoK's own. Two attributes are re-drawn from the source rows with a seeded RNG so that copies are
not clones: an attack's threat model (from a random source attack) and a defense's eight coverage
levels (the whole vector of a random source defense, so each vector stays one the SoK contains).
Reference numbers are shifted by a stride per copy (they must stay unique), titles and labels get
a ``(s<k>)`` suffix. Files without such resources (threat-models.ttl, inferred.ttl, ...) are copied
byte for byte. Only pyoxigraph is used: writing 100x with rdflib would take minutes.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kg.fileio import replace_dir_atomic
from kg.namespaces import PREFIXES, gia_iri, resource_iri
from kg.paths import DATA_DIR

#: Resource kinds (keys of namespaces.RESOURCE_KINDS) that are repeated in every copy.
MULTIPLIED = ("assessment", "attack", "defense", "ref", "work")
#: Literal-valued properties whose value gets the copy's ``(s<k>)`` suffix, so labels stay distinct.
SUFFIXED = frozenset({
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
    "http://purl.org/dc/terms/identifier",  # copies must not share work identifiers
    gia_iri("name"),
    gia_iri("citationText"),
})
REFERENCE_NUMBER = gia_iri("referenceNumber")
#: Row order in a table (``gia:position``): shifted per copy like reference numbers, stays unique.
POSITION = gia_iri("position")
THREAT_MODEL = gia_iri("threatModel")
LEVEL = gia_iri("level")
HAS_ASSESSMENT = gia_iri("hasAssessment")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DEFAULT_SEED = 20250715


def _kind_of(iri: str) -> tuple[str, str] | None:
    """``(kind, slug)`` when ``iri`` is a resource that every copy repeats, else None."""
    for kind in MULTIPLIED:
        base = PREFIXES[kind]
        if iri.startswith(base):
            return kind, iri[len(base):]
    return None


def _copy_iri(iri: str, k: int) -> str:
    """The IRI of ``iri`` in copy ``k``; an assessment keeps its threat-model letter last."""
    found = _kind_of(iri)
    if found is None or k == 0:
        return iri
    kind, slug = found
    if kind == "assessment":
        base, _, letter = slug.rpartition("-")
        return resource_iri(kind, f"{base}-s{k}-{letter}")
    return resource_iri(kind, f"{slug}-s{k}")


def _read(path: Path) -> list[ox.Triple]:
    """The file's triples, blank nodes renamed from their content (Oxigraph gives random ids)."""
    import hashlib

    triples = [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    described: dict[str, list[str]] = {}
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            described.setdefault(t.subject.value, []).append(f"{t.predicate} {t.object}")
    names = {b: ox.BlankNode("b" + hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:24])
             for b, lines in described.items()}  # one level suffices: the axioms nest no blank node

    def rename(term: ox.Term) -> ox.Term:
        return names.get(term.value, term) if isinstance(term, ox.BlankNode) else term

    return [ox.Triple(rename(t.subject), t.predicate, rename(t.object)) for t in triples]


class _Corpus:
    """The source triples and the per-row facts that copies re-draw."""

    def __init__(self, files: dict[str, list[ox.Triple]]) -> None:
        self.files = files
        every = [t for triples in files.values() for t in triples]
        numbers = [int(t.object.value) for t in every
                   if t.predicate.value in (REFERENCE_NUMBER, POSITION)]
        #: Added to reference numbers per copy: a power of ten above every source number.
        self.stride = 10 ** len(str(max(numbers, default=0)))  # also above every position
        attacks = {
            t.subject.value for t in every
            if t.predicate.value == RDF_TYPE and t.object.value == gia_iri("Attack")
        }
        self.attack_tms = {
            t.subject.value: t.object for t in every
            if t.subject.value in attacks and t.predicate.value == THREAT_MODEL
        }
        owner = {t.object.value: t.subject.value for t in every
                 if t.predicate.value == HAS_ASSESSMENT}
        tm_of = {t.subject.value: t.object.value for t in every
                 if t.subject.value in owner and t.predicate.value == THREAT_MODEL}
        self.assessment_key = {a: (owner[a], tm_of.get(a, "")) for a in owner}
        self.levels: dict[tuple[str, str], ox.Term] = {
            self.assessment_key[t.subject.value]: t.object for t in every
            if t.subject.value in owner and t.predicate.value == LEVEL
        }
        self.defenses = sorted({d for d, _ in self.levels})
        self.attacks = sorted(self.attack_tms)


def _copy(
    corpus: _Corpus, triples: Iterable[ox.Triple], k: int, rng: random.Random
) -> list[ox.Triple]:
    """Copy ``k`` of the multiplied resources' triples (copy 0 is the source itself)."""
    tm_donor = {a: corpus.attack_tms[rng.choice(corpus.attacks)] for a in corpus.attacks}
    level_donor = {d: rng.choice(corpus.defenses) for d in corpus.defenses}
    out = []
    for t in triples:
        s, p, o = t.subject, t.predicate.value, t.object
        if not isinstance(s, ox.NamedNode) or _kind_of(s.value) is None:
            continue
        if k:
            if isinstance(o, ox.NamedNode):
                o = ox.NamedNode(_copy_iri(o.value, k))
            if p in (REFERENCE_NUMBER, POSITION):
                o = ox.Literal(str(int(o.value) + k * corpus.stride), datatype=o.datatype)
            elif p in SUFFIXED and isinstance(o, ox.Literal):
                o = ox.Literal(f"{o.value} (s{k})", language=o.language) if o.language else \
                    ox.Literal(f"{o.value} (s{k})", datatype=o.datatype)
            elif p == THREAT_MODEL and s.value in tm_donor:
                o = tm_donor[s.value]
            elif p == LEVEL and s.value in corpus.assessment_key:
                defense, tm = corpus.assessment_key[s.value]
                o = corpus.levels.get((level_donor[defense], tm), o)
            s = ox.NamedNode(_copy_iri(s.value, k))
        out.append(ox.Triple(s, t.predicate, o))
    return out


def generate(out: str | Path, scale: int, *, source: str | Path = DATA_DIR,
             seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the corpus at ``scale`` into ``out`` (replaced atomically); triples per file."""
    if scale < 1:
        raise ValueError(f"--scale {scale}: expected a positive integer")
    source = Path(source)
    paths = sorted(source.glob("*.ttl"))
    if not paths:
        raise FileNotFoundError(f"{source}: no *.ttl files (run `gia-kg import-sok` first?)")
    corpus = _Corpus({p.name: _read(p) for p in paths})
    counts: dict[str, int] = {}

    def fill(tmp: Path) -> None:
        for path in paths:
            triples = corpus.files[path.name]
            if not any(isinstance(t.subject, ox.NamedNode) and _kind_of(t.subject.value)
                       for t in triples):
                shutil.copyfile(path, tmp / path.name)
                counts[path.name] = len(triples)
                continue
            rng = random.Random(f"{seed}:{path.name}")
            rows = [t for t in triples
                    if not isinstance(t.subject, ox.NamedNode) or _kind_of(t.subject.value) is None]
            for k in range(scale):
                rows += _copy(corpus, triples, k, rng)
            rows.sort(key=str)
            counts[path.name] = len(rows)
            header = f"# Synthetic corpus, scale {scale}, seed {seed} (benchmarks/synth.py).\n"
            body = ox.serialize(rows, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b""
            (tmp / path.name).write_bytes(header.encode() + body)

    replace_dir_atomic(Path(out), fill)
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command line: ``synth.py [--scale N] [--source DIR] [--seed S] OUT``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write (replaced atomically)")
    parser.add_argument("-n", "--scale", type=int, default=1, help="copies of the SoK (default 1)")
    parser.add_argument("--source", default=str(DATA_DIR), help="data folder to copy (kg/data)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        counts = generate(args.out, args.scale, source=args.source, seed=args.seed)
    except (ValueError, OSError, SyntaxError) as exc:
        print(f"synth.py: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: scale {args.scale}, {sum(counts.values())} triples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
