#!/usr/bin/env python3
"""Pair precision and recall of an index's near-duplicate clusters against the
ground truth `quarry-bench generate` writes beside a corpus (.truth.json),
counted as DuplicateTests counts them: pairs of comments with different texts
in one cluster (texts compared lower-cased without punctuation: close to, not
exactly, Quarry's normalisation). DuplicateTests' pairScores is the measure
of record, on an index the test builds itself (QUARRY_DUPLICATE_CORPUS=DIR
swift test --filter generatedBenchmarkCorpus); this scores an index some other
build made, through the CLI. Usage: duplicate_scores.py QUARRY INDEX CORPUS"""
import json, subprocess, sys, re
quarry, index, corpus = sys.argv[1:4]
truth = json.load(open(corpus + "/.truth.json"))
def norm(t): return " ".join(re.sub(r"[^\w\s]", "", t.lower()).split())
text = {}
clusters_truth = []
for g in truth["exactGroups"]:
    clusters_truth.append(set(g["members"]))
    for m in g["members"]: text[m] = norm(g["text"])
base_index = {g["text"]: i for i, g in enumerate(truth["exactGroups"])}
for n in truth["nearGroups"]:
    i = base_index[n["base"]]
    for m in n["members"]:
        clusters_truth[i].add(m["id"]); text[m["id"]] = norm(m["text"])
clusters = []
off = 0
while True:
    out = subprocess.run([quarry, "duplicates", "--index", index, "--near", "--json", "--min-accounts", "1", "--limit", "500", "--offset", str(off)], capture_output=True, text=True, check=True).stdout
    page = json.loads(out)
    for g in page["groups"]:
        ids = set()
        for m in g["members"]:
            ids.add(m["id"])
            if m["id"] not in text: text[m["id"]] = norm(m.get("text") or g["text"])
        clusters.append(ids)
    off += len(page["groups"])
    if not page["groups"] or off >= page["total"]: break
def pairs(cs):
    r = set()
    for c in cs:
        ms = sorted(c)
        for i, a in enumerate(ms):
            for b in ms[i+1:]:
                if text.get(a) != text.get(b): r.add((a, b))
    return r
f, e = pairs(clusters), pairs(clusters_truth)
right = len(f & e)
print(f"clusters {len(clusters)} pairs found {len(f)} planted {len(e)} precision {right/max(1,len(f)):.4f} recall {right/max(1,len(e)):.4f}")
