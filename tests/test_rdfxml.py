"""RDF/XML is read without DTDs: entity bombs and external entities are refused, tokens bounded,
every error names its file and line, and the triples are those the W3C syntax gives."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA
from kg.errors import ParseError
from kg.rdfxml import MAX_TOKEN_BYTES, parse_rdfxml

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
HEAD = ('<?xml version="1.0"?>\n'
        f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:ex="http://example.org/">\n')
BAD = DATA / "bad"


def _triples(path):
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in parse_rdfxml(path, ox.DefaultGraph())}


def test_billion_laughs_is_refused_within_a_memory_limit():
    """tests/data/bad/billion-laughs.rdf (647 bytes) expands to 72 × 16^5 = 75 MB per reference;
    Oxigraph expanded it (a 996-byte variant reached 23.5 GB). Run in a child process under a
    1 GiB address-space limit, so that a regression fails the test instead of the machine."""
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        import pyoxigraph as ox
        from kg.errors import ParseError
        from kg.rdfxml import parse_rdfxml
        try:
            parse_rdfxml({str(BAD / 'billion-laughs.rdf')!r}, ox.DefaultGraph())
        except ParseError as exc:
            print(exc)
            sys.exit(0)
        sys.exit(3)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("billion-laughs.rdf:2: a DTD (<!DOCTYPE …>): kg refuses DTDs in RDF/XML, "
                                        "whose entities can expand into gigabytes; write the IRIs out in full")


def test_external_entity_is_refused_and_never_read(tmp_path):
    """An entity naming a file: refused at its DOCTYPE (line 2), the file's text in no triple."""
    with pytest.raises(ParseError, match=r"external-entity.rdf:2: a DTD"):
        parse_rdfxml(BAD / "external-entity.rdf", ox.DefaultGraph())
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", encoding="utf-8")
    f = tmp_path / "x.rdf"
    f.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF SYSTEM "{secret.as_uri()}">\n' + HEAD.split("\n", 1)[1]
                 + '<rdf:Description rdf:about="http://e.org/x"><ex:p>a</ex:p></rdf:Description></rdf:RDF>\n')
    with pytest.raises(ParseError, match=r"x.rdf:2: a DTD"):
        parse_rdfxml(f, ox.DefaultGraph())


GOOD = HEAD.replace('xmlns:ex="http://example.org/"', 'xmlns:ex="http://example.org/" xml:base="http://example.org/b/"') + """\
 <rdf:Description rdf:about="#x">
  <ex:n rdf:datatype="http://www.w3.org/2001/XMLSchema#integer">01</ex:n>
  <ex:label xml:lang="zh-Hant">微軟 &amp; &#x41;</ex:label>
  <ex:q rdf:resource="y"/>
 </rdf:Description>
</rdf:RDF>
"""
#: Worked out by hand from the RDF/XML grammar: #x and y resolve against xml:base, the integer
#: keeps its lexical form as written (01), &amp; and &#x41; are & and A.
GOOD_TRIPLES = {
    ("<http://example.org/b/#x>", "<http://example.org/n>", '"01"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    ("<http://example.org/b/#x>", "<http://example.org/label>", '"微軟 & A"@zh-hant'),
    ("<http://example.org/b/#x>", "<http://example.org/q>", "<http://example.org/b/y>"),
}


@pytest.mark.parametrize("encoding, declared", [
    ("utf-8", None), ("utf-8-sig", None), ("utf-16", None), ("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"),
])
def test_encodings_give_the_same_triples(tmp_path, encoding, declared):
    """UTF-16 with a byte-order mark, and without one when the declaration names it."""
    text = GOOD if declared is None else GOOD.replace('version="1.0"', f'version="1.0" encoding="{declared}"')
    f = tmp_path / "g.rdf"
    f.write_bytes(text.encode(encoding))
    assert _triples(f) == GOOD_TRIPLES


def test_latin1_declared_encoding_is_decoded(tmp_path):
    f = tmp_path / "l.rdf"
    f.write_bytes((HEAD.replace('version="1.0"', 'version="1.0" encoding="ISO-8859-1"')
                   + '<rdf:Description rdf:about="http://e.org/x"><ex:p>café</ex:p></rdf:Description></rdf:RDF>')
                  .encode("latin-1"))
    assert _triples(f) == {("<http://e.org/x>", "<http://example.org/p>", '"café"')}


@pytest.mark.parametrize("body, message", [
    ('<rdf:Description rdf:about="#x">\n<ex:p>1</ex:p></rdf:Description></rdf:RDF>',
     r"x.rdf:3: bad IRI '#x'.*a relative IRI needs xml:base"),
    ('<rdf:Description rdf:about="http://e.org/x">\n<ex:p rdf:resource="http://e x/"/></rdf:Description></rdf:RDF>',
     r"x.rdf:4: bad IRI 'http://e x/'"),
    ('<rdf:Description rdf:about="http://e.org/x">\n\n<ex:p xml:lang="1 2">1</ex:p></rdf:Description></rdf:RDF>',
     r"x.rdf:5: bad language tag '1 2'"),
    ('<rdf:Description rdf:about="http://e.org/x">\n<ex:p>1</ex:q></rdf:Description></rdf:RDF>',
     r"x.rdf:4: not well-formed XML: mismatched tag"),
    ('<rdf:Description rdf:about="http://e.org/x">\n<ex:p>1</ex:p>', r"x.rdf:4: not well-formed XML: no element found"),
    ('<rdf:Description rdf:about="http://e.org/x">\n<ex:p>&foo;</ex:p></rdf:Description></rdf:RDF>',
     r"x.rdf:4: not well-formed XML: undefined entity"),
    ('<rdf:Description rdf:about="http://e.org/x" rdf:ID="y">\n</rdf:Description></rdf:RDF>', r"x.rdf:3: "),
])
def test_errors_name_the_line(tmp_path, body, message):
    """Lines counted by hand: the header takes lines 1–2, the body starts on line 3."""
    f = tmp_path / "x.rdf"
    f.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(ParseError, match=message):
        parse_rdfxml(f, ox.DefaultGraph())


@pytest.mark.parametrize("body, message", [
    ('<rdf:Description rdf:about="http://e.org/x">\n<ex:p>{big}</ex:p></rdf:Description></rdf:RDF>', "x.rdf:4: a literal longer than 16 MiB"),
    ('<rdf:Description rdf:about="http://e.org/x">\n<ex:p rdf:resource="http://e.org/{big}"/></rdf:Description></rdf:RDF>',
     "x.rdf:4: a tag, comment or other markup longer than 16 MiB"),
    ('<!-- {big} -->\n</rdf:RDF>', "x.rdf:3: a tag, comment or other markup longer than 16 MiB"),
])
def test_tokens_over_16_mib_are_refused(tmp_path, body, message):
    """Files of 16 MiB + 1 byte of one token, made here (never committed)."""
    f = tmp_path / "x.rdf"
    f.write_text(HEAD + body.replace("{big}", "a" * (MAX_TOKEN_BYTES + 1)), encoding="utf-8")
    with pytest.raises(ParseError, match=message):
        parse_rdfxml(f, ox.DefaultGraph())


def test_rdfxml_files_never_reach_oxigraphs_parser(tmp_path):
    """The design in one test: kg.store hands Oxigraph triples for RDF/XML, never the file."""
    from kg.store import KGStore

    calls = []

    class Spy:
        """An Oxigraph store that notes the format of every file it is asked to parse."""

        def __init__(self):
            self.real = ox.Store()

        def __getattr__(self, name):
            method = getattr(self.real, name)
            if name in ("load", "bulk_load"):
                def noted(*args, **kwargs):
                    calls.append(kwargs.get("format"))
                    return method(*args, **kwargs)
                return noted
            return method

        def __len__(self):
            return len(self.real)

        def __iter__(self):
            return iter(self.real)

    f = tmp_path / "g.rdf"
    f.write_text(GOOD, encoding="utf-8")
    kg = KGStore(store=Spy())
    (tmp_path / "t.ttl").write_text("<http://e.org/a> <http://e.org/b> <http://e.org/c> .\n", encoding="utf-8")
    kg.load_file(tmp_path / "t.ttl", graph="https://example.org/t")
    assert calls == [ox.RdfFormat.TURTLE]  # the spy sees the loads it should
    kg = KGStore(store=Spy())
    calls.clear()
    kg.load_file(f, graph="https://example.org/g")
    assert ox.RdfFormat.RDF_XML not in calls
    stored = {(str(q.subject), str(q.predicate), str(q.object)) for q in kg.store if "example.org" in str(q.subject)}
    # The store keeps integers in canonical form ("01" → "1"), as for every format.
    assert stored == {tuple(part.replace('"01"', '"1"') for part in t) for t in GOOD_TRIPLES}


@settings(max_examples=60, deadline=None)
@given(encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1"]),
       declare=st.booleans(), before=st.lists(st.sampled_from(["\n", "  ", "<!-- c -->", "<?pi x?>"]), max_size=3),
       entity=st.sampled_from(['<!ENTITY a "aaaa">', '<!ENTITY a SYSTEM "file:///etc/passwd">',
                               '<!ENTITY % p "x">', '<!ENTITY a PUBLIC "-//x" "http://127.0.0.1:9/x">']),
       external_subset=st.booleans())
def test_no_dtd_gets_through_in_any_encoding(tmp_path_factory, encoding, declare, before, entity, external_subset):
    """However the document is encoded (BOM or not, declared or not) and whatever comes before
    its DOCTYPE, the DTD is refused at the line it starts on and no triple is made."""
    names = {"utf-8-sig": "UTF-8", "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE", "latin-1": "ISO-8859-1"}
    decl = f'<?xml version="1.0" encoding="{names.get(encoding, encoding.upper())}"?>' if declare else '<?xml version="1.0"?>'
    if encoding in ("utf-16-le", "utf-16-be", "latin-1") and not declare:
        decl = f'<?xml version="1.0" encoding="{names[encoding]}"?>'  # the XML spec requires it for these
    doctype = '<!DOCTYPE rdf:RDF SYSTEM "file:///etc/passwd" [' if external_subset else "<!DOCTYPE rdf:RDF ["
    text = decl + "".join(before) + f"\n{doctype}{entity}]>\n" + HEAD.split("\n", 1)[1] + "</rdf:RDF>\n"
    line = 2 + "".join(before).count("\n")
    f = tmp_path_factory.mktemp("dtd") / "x.rdf"
    f.write_bytes(text.encode(encoding))
    with pytest.raises(ParseError, match=rf"x.rdf:{line}: a DTD"):
        parse_rdfxml(f, ox.DefaultGraph())
