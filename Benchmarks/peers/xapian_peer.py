#!/usr/bin/python3
"""The fair baseline: the same engine (Xapian 1.4, Debian's python3-xapian)
driven from Python, indexing the same corpus with the same fields and running
the same query mix in-process.

    xapian_peer.py index --corpus DIR --db PATH [--json]
    xapian_peer.py query --db PATH --mix MIX.json [--threads 1,2] [--duration S | --requests N] [--json]

What it matches of Quarry's schema (Sources/QuarryCore/DocumentBuilder.swift):
articles and comments as separate documents; English stemming, STEM_SOME,
spelling data, CJK n-grams, words over 64 bytes dropped; an article's title
with prefix S and unprefixed at wdf 2, paragraphs unprefixed, 100-position gaps
between fields; a comment's text unprefixed and its author with prefix A;
boolean terms Q (id), XK (kind), XP (parent), XF (file), XA (exact author) and
XH (text fingerprint); values 0 (article), 1 (author), 2 (kind), 5
(fingerprint), 6-8 (duplicate counts); the same JSON document data; a file
signature in the metadata per file; replace_document by the Q term; commits
every 20,000 documents. Queries: the same QueryParser prefixes and flags,
default AND, wildcard expansion capped at 1,000 most frequent terms, a 5 s time
limit, facets counted over at least 10,000 matches, 10 hits each with its stored data decoded and a snippet from
MSet.snippet, author and type facets through ValueCountMatchSpy.

What it does not do (Quarry does more): MinHash bands (the band store) and the
near-duplicate clustering pass after indexing; hashes are blake2b (C) instead
of Quarry's FNV-1a so as not to charge Python for a byte loop; incremental
change detection (it always builds afresh).
"""

import hashlib
import json
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as common  # noqa: E402

try:
    import xapian
except ImportError:
    sys.stderr.write("xapian_peer: python3-xapian is not installed for %s; run Benchmarks/peers/run.sh "
                     "(it installs it with apt-get) or use /usr/bin/python3\n" % sys.executable)
    sys.exit(3)

BATCH_DOCUMENTS = 20000
BATCH_BYTES = 64 << 20
GAP = 100


def short_hash(text):
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def index(corpus, path):
    if os.path.exists(path):
        shutil.rmtree(path)
    files = common.corpus_files(corpus)
    clock = common.IndexClock("python-xapian", xapian.version_string(), files)

    db = xapian.WritableDatabase(path, xapian.DB_CREATE_OR_OVERWRITE)
    db.set_metadata("quarry:language", "english")
    db.set_metadata("quarry:schema", "2")
    stemmer = xapian.Stem("english")
    generator = xapian.TermGenerator()
    generator.set_stemmer(stemmer)
    generator.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)
    generator.set_flags(xapian.TermGenerator.FLAG_SPELLING | xapian.TermGenerator.FLAG_CJK_NGRAM)
    generator.set_database(db)
    generator.set_max_word_length(64)
    one = xapian.sortable_serialise(1)

    articles = comments = 0
    pending_docs = pending_bytes = 0
    parse_seconds = commit_seconds = 0.0
    for relative, absolute in files:
        began = time.perf_counter()
        with open(absolute, "rb") as handle:
            data = handle.read()
        parsed = common.read_article(data, relative)
        parse_seconds += time.perf_counter() - began
        if parsed is None:
            continue
        title, paragraphs, pairs = parsed
        article_id = relative[:-4]
        file_term = "XF" + short_hash(relative)

        doc = xapian.Document()
        generator.set_document(doc)
        generator.set_termpos(0)
        generator.index_text(title, 1, "S")
        generator.increase_termpos(GAP)
        generator.index_text(title, 2)
        for paragraph in paragraphs:
            generator.increase_termpos(GAP)
            generator.index_text(paragraph)
        id_term = "Q" + article_id
        doc.add_boolean_term(id_term)
        doc.add_boolean_term("XKarticle")
        doc.add_boolean_term("XP" + article_id)
        doc.add_boolean_term(file_term)
        doc.add_value(0, article_id)
        doc.add_value(2, "article")
        doc.set_data(json.dumps({"kind": "article", "article": {
            "id": article_id, "title": title, "paragraphs": paragraphs, "file": relative,
            "commentCount": len(pairs), "comments": []}}, separators=(",", ":"), ensure_ascii=False))
        db.replace_document(id_term, doc)
        articles += 1

        for number, (author, text) in enumerate(pairs, start=1):
            comment_id = "%s#%d" % (article_id, number)
            doc = xapian.Document()
            generator.set_document(doc)
            generator.set_termpos(0)
            generator.index_text(text)
            generator.increase_termpos(GAP)
            generator.index_text(author, 1, "A")
            id_term = "Q" + comment_id
            doc.add_boolean_term(id_term)
            doc.add_boolean_term("XKcomment")
            doc.add_boolean_term("XP" + article_id)
            doc.add_boolean_term(file_term)
            doc.add_boolean_term("XA" + common.normalised_author(author))
            normalised = common.normalise_comment(text)
            fingerprint = short_hash(normalised if normalised else "\0" + text.strip())
            doc.add_boolean_term("XH" + fingerprint)
            doc.add_value(0, article_id)
            doc.add_value(1, author)
            doc.add_value(2, "comment")
            doc.add_value(5, fingerprint)
            doc.add_value(6, one)
            doc.add_value(7, one)
            doc.add_value(8, one)
            doc.set_data(json.dumps({"kind": "comment", "comment": {
                "id": comment_id, "article": article_id, "articleTitle": title, "author": author,
                "text": text}}, separators=(",", ":"), ensure_ascii=False))
            db.replace_document(id_term, doc)
            comments += 1

        db.set_metadata("quarry:file:" + relative, json.dumps({
            "path": relative, "size": len(data), "hash": short_hash(relative), "articles": 1,
            "comments": len(pairs)}, separators=(",", ":")))
        pending_docs += 1 + len(pairs)
        pending_bytes += len(data)
        if pending_docs >= BATCH_DOCUMENTS or pending_bytes >= BATCH_BYTES:
            began = time.perf_counter()
            db.commit()
            commit_seconds += time.perf_counter() - began
            pending_docs = pending_bytes = 0
    began = time.perf_counter()
    db.commit()
    db.close()
    commit_seconds += time.perf_counter() - began
    return clock.report(articles, comments, common.tree_size(path), parseSeconds=parse_seconds,
                        commitSeconds=commit_seconds)


PARSE_FLAGS = (xapian.QueryParser.FLAG_BOOLEAN | xapian.QueryParser.FLAG_PHRASE | xapian.QueryParser.FLAG_LOVEHATE
               | xapian.QueryParser.FLAG_WILDCARD | xapian.QueryParser.FLAG_PURE_NOT
               | xapian.QueryParser.FLAG_SPELLING_CORRECTION | xapian.QueryParser.FLAG_CJK_NGRAM)
FACET_CHECK = 10000
SNIPPET_FLAGS = xapian.MSet.SNIPPET_BACKGROUND_MODEL | xapian.MSet.SNIPPET_EXHAUSTIVE | xapian.MSet.SNIPPET_CJK_NGRAM


def make_searcher(path):
    """One database, parser and stemmer per thread, as Quarry's searchers have."""
    db = xapian.Database(path)
    stemmer = xapian.Stem("english")
    parser = xapian.QueryParser()
    parser.set_stemmer(stemmer)
    parser.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    parser.set_database(db)
    parser.set_default_op(xapian.Query.OP_AND)
    parser.set_max_expansion(1000, xapian.Query.WILDCARD_LIMIT_MOST_FREQUENT,
                             xapian.QueryParser.FLAG_WILDCARD | xapian.QueryParser.FLAG_PARTIAL)
    parser.add_prefix("title", "S")
    parser.add_prefix("author", "A")
    parser.add_boolean_prefix("by", "XA")
    parser.add_boolean_prefix("type", "XK")
    parser.add_boolean_prefix("article", "XP")
    parser.add_boolean_prefix("id", "Q")

    def run(item):
        query = parser.parse_query(item["query"], PARSE_FLAGS)
        suggestion = parser.get_corrected_query_string()
        enquire = xapian.Enquire(db)
        enquire.set_query(query)
        enquire.set_time_limit(5.0)
        spies = []
        for facet in item.get("facets", []):
            spy = xapian.ValueCountMatchSpy(1 if facet == "author" else 2)
            enquire.add_matchspy(spy)
            spies.append((facet, spy))
        # Quarry looks at up to 10,000 matches when facets are asked for (Searcher.defaultFacetCheck).
        mset = enquire.get_mset(0, 10, FACET_CHECK if spies else 0)
        hits = []
        for match in mset:
            record = json.loads(match.document.get_data())
            if record["kind"] == "article":
                article = record["article"]
                text = " ".join(article["paragraphs"])
                title = article["title"]
            else:
                comment = record["comment"]
                text = comment["text"]
                title = comment["articleTitle"]
                # What Quarry reads for a comment's duplicate info.
                match.document.get_value(7)
                match.document.get_value(9)
            hits.append({"rank": match.rank + 1, "score": match.weight, "percent": match.percent,
                         "title": title, "snippet": mset.snippet(text, 240, stemmer, SNIPPET_FLAGS)})
        facets = {name: [(t.term, t.termfreq) for t in spy.top_values(100)] for name, spy in spies}
        return {"total": mset.get_matches_estimated(), "hits": hits, "facets": facets, "suggestion": suggestion}

    return run


def query(path, mix_path, thread_counts, duration, requests):
    results = common.run_queries("python-xapian", make_searcher, path, mix_path, thread_counts, duration, requests)
    return {"engine": "python-xapian", "version": xapian.version_string(),
            "documents": xapian.Database(path).get_doccount(), "results": results}


if __name__ == "__main__":
    common.main("xapian_peer", __doc__, index, query)
