#!/usr/bin/env python3
"""Writes a large JSON Lines corpus file for memory measurements: articles of
six 120-word paragraphs with four 25-word comments each, until the file holds
at least SIZE MiB (default 105), as the long test aHundredMegabyteJSONLinesFile…
does. Usage: scripts/jsonl-dump.py OUT.jsonl [SIZE_MIB]"""
import json
import random
import sys

out, size = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 105
generator = random.Random(2)


def words(count):
    return " ".join(format(generator.randrange(40000), "x") + "x" for _ in range(count))


written = articles = 0
with open(out, "w") as file:
    while written < size << 20:
        line = json.dumps({"id": f"dump/{articles}", "title": words(8), "body": [words(120) for _ in range(6)],
                           "comments": [{"author": words(2), "text": words(25)} for _ in range(4)]}) + "\n"
        file.write(line)
        written += len(line)
        articles += 1
print(f"{out}: {articles} articles, {written} bytes")
