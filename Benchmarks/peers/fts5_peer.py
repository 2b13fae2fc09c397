#!/usr/bin/python3
"""SQLite FTS5 from Python's standard library: the same documents and the
same query mix, translated to FTS5 syntax.

    fts5_peer.py index --corpus DIR --db FILE [--json]
    fts5_peer.py query --db FILE --mix MIX.json [--threads 1,2] [--duration S | --requests N] [--json]

One FTS5 table, tokenizer `porter unicode61`, one row per article and per
comment (as Quarry's documents): columns title (articles only), body
(paragraphs, or the comment's text), author (comments) and, unindexed, id,
kind, parent article, exact author and the same JSON data Quarry stores.
Inserted in transactions of 20,000 rows. Differences from Quarry/Xapian, all
inherent to FTS5: porter stems every word (Xapian STEM_SOME keeps the unstemmed
word too, for phrases); no spelling dictionary; `by:` is an FTS5 phrase on the
author column plus an equality test on the exact author; facets are GROUP BY
over all matches (Xapian's match spies count the documents the match looked
at); ranking is FTS5's bm25(); no estimated total (FTS5 would have to count
every match).

Query translation ({title body} limits matching to the free-text columns):
    word      {title body}: "w"
    and       {title body}: ("a" AND "b" [AND "c"])
    phrase    {title body}: "a b [c]"
    by        author: "name words" [AND {title body}: "w"]  + exact author test
    wildcard  {title body}: pre*
    facet     as word, plus GROUP BY author and GROUP BY kind (top 100)
"""

import json
import os
import re
import sqlite3
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as common  # noqa: E402

BATCH_DOCUMENTS = 20000
SCHEMA = ("CREATE VIRTUAL TABLE docs USING fts5(title, body, author, id UNINDEXED, kind UNINDEXED, "
          "article UNINDEXED, exact UNINDEXED, data UNINDEXED, tokenize = 'porter unicode61')")


def index(corpus, path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    files = common.corpus_files(corpus)
    clock = common.IndexClock("sqlite-fts5", sqlite3.sqlite_version, files)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(SCHEMA)
    insert = ("INSERT INTO docs (title, body, author, id, kind, article, exact, data) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    articles = comments = pending = 0
    connection.execute("BEGIN")
    for relative, absolute in files:
        with open(absolute, "rb") as handle:
            parsed = common.read_article(handle.read(), relative)
        if parsed is None:
            continue
        title, paragraphs, pairs = parsed
        article_id = relative[:-4]
        rows = [(title, "\n".join(paragraphs), None, article_id, "article", article_id, None,
                 json.dumps({"kind": "article", "article": {
                     "id": article_id, "title": title, "paragraphs": paragraphs, "file": relative,
                     "commentCount": len(pairs), "comments": []}}, separators=(",", ":"), ensure_ascii=False))]
        for number, (author, text) in enumerate(pairs, start=1):
            comment_id = "%s#%d" % (article_id, number)
            rows.append((None, text, author, comment_id, "comment", article_id, common.normalised_author(author),
                         json.dumps({"kind": "comment", "comment": {
                             "id": comment_id, "article": article_id, "articleTitle": title, "author": author,
                             "text": text}}, separators=(",", ":"), ensure_ascii=False)))
        connection.executemany(insert, rows)
        articles += 1
        comments += len(pairs)
        pending += len(rows)
        if pending >= BATCH_DOCUMENTS:
            connection.execute("COMMIT")
            connection.execute("BEGIN")
            pending = 0
    connection.execute("COMMIT")
    connection.close()
    size = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
    return clock.report(articles, comments, size)


def quoted(word):
    return '"' + word.replace('"', '""') + '"'


def translate(item):
    """(MATCH expression, exact author or None) for a mix query."""
    kind, words = item["kind"], item.get("words", [])
    free = "{title body}: "
    if kind in ("word", "facet"):
        return free + quoted(words[0]), None
    if kind == "and":
        return free + "(" + " AND ".join(quoted(w) for w in words) + ")", None
    if kind == "phrase":
        return free + quoted(" ".join(words)), None
    if kind == "by":
        author = item["author"]
        # FTS5 tokenises the name as it did the column; the exact test follows in SQL.
        name_words = [w for w in re.split(r"[^\w]+", author) if w]
        expression = "author: " + quoted(" ".join(name_words)) if name_words else "author: " + quoted(author)
        if words:
            expression += " AND " + free + quoted(words[0])
        return expression, author
    if kind == "wildcard":
        return free + item["prefix"] + "*", None
    raise ValueError("unknown query kind '%s'" % kind)


def make_searcher(path):
    connection = sqlite3.connect("file:%s?mode=ro" % path, uri=True, check_same_thread=False)

    def run(item):
        expression, exact = translate(item)
        condition = "docs MATCH ?" + (" AND exact = ?" if exact is not None else "")
        parameters = (expression, exact) if exact is not None else (expression,)
        rows = connection.execute(
            "SELECT id, kind, data, snippet(docs, 1, '<mark>', '</mark>', '…', 32), bm25(docs) "
            "FROM docs WHERE " + condition + " ORDER BY rank LIMIT 10", parameters).fetchall()
        hits = []
        for rank, (doc_id, kind, data, snippet, score) in enumerate(rows, start=1):
            record = json.loads(data)
            title = record["article"]["title"] if kind == "article" else record["comment"]["articleTitle"]
            hits.append({"rank": rank, "id": doc_id, "score": -score, "title": title, "snippet": snippet})
        facets = {}
        for facet in item.get("facets", []):
            column = "author" if facet == "author" else "kind"
            facets[facet] = connection.execute(
                "SELECT " + column + ", count(*) AS n FROM docs WHERE " + condition + " AND " + column
                + " IS NOT NULL GROUP BY " + column + " ORDER BY n DESC LIMIT 100", parameters).fetchall()
        # No total: Xapian's is an estimate from the match; FTS5 would pay a full count.
        return {"hits": hits, "facets": facets}

    return run


def query(path, mix_path, thread_counts, duration, requests):
    results = common.run_queries("sqlite-fts5", make_searcher, path, mix_path, thread_counts, duration, requests)
    count = sqlite3.connect("file:%s?mode=ro" % path, uri=True).execute("SELECT count(*) FROM docs").fetchone()[0]
    return {"engine": "sqlite-fts5", "version": sqlite3.sqlite_version, "documents": count, "results": results}


if __name__ == "__main__":
    common.main("fts5_peer", __doc__, index, query)
