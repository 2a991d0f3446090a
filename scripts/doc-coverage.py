#!/usr/bin/env python3
"""Counts the public items of the crate and those whose docs carry an example (a ``` block).

rustdoc's own `--show-coverage` skips the methods of types defined in private modules and
re-exported (`SocketIo`, `Socket`, `Namespace`, `BroadcastOperator`...), which are most of the
API. This script walks the public API as a user sees it instead, from rustdoc's JSON output
(nightly): every item reachable from the crate root through public modules and re-exports,
the inherent methods of its types and the methods of its traits. Like `--show-coverage`, it
leaves out what is not expected to carry an example of its own: fields, enum variants,
constants, statics, type aliases, associated types and constants, re-export lines, and trait
impls (their docs are the trait's). Hidden items (`#[doc(hidden)]`) are not in the JSON.

    scripts/doc-coverage.py                      # default features
    scripts/doc-coverage.py --all-features       # every feature (the `redis` adapter too)
    scripts/doc-coverage.py --missing            # list the items without an example
    scripts/doc-coverage.py --json FILE          # an existing rustdoc JSON file, no build

Needs a nightly toolchain (`cargo +nightly rustdoc ... -Z unstable-options --output-format
json`); builds with `-j1`.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

# What a user is not expected to find an example on (rustdoc's `should_have_doc_example`).
SKIPPED = {
    "struct_field",
    "variant",
    "constant",
    "static",
    "type_alias",
    "assoc_const",
    "assoc_type",
    "use",
    "impl",
    "extern_crate",
    "primitive",
}

FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)


def kind(item):
    return next(iter(item["inner"]))


def build(all_features):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    cmd = ["cargo", "+nightly", "rustdoc", "-j1", "--lib"]
    if all_features:
        cmd.append("--all-features")
    cmd += ["--", "-Z", "unstable-options", "--output-format", "json"]
    subprocess.run(cmd, cwd=root, check=True)
    return os.path.join(target, "doc", "tower_socketio.json")


def walk(doc):
    index = doc["index"]
    found = {}  # id -> (path, kind, has example)

    def visit(item_id, path):
        item = index.get(str(item_id))
        if item is None or item["crate_id"] != 0:
            return  # another crate's item, re-exported
        k = kind(item)
        inner = item["inner"][k]
        if k == "use":
            if inner["id"] is not None:
                name = inner["name"]
                target = index.get(str(inner["id"]))
                if inner["is_glob"] and target is not None and kind(target) == "module":
                    for child in target["inner"]["module"]["items"]:
                        visit(child, path)
                else:
                    visit(inner["id"], path + [name])
            return
        if item["visibility"] not in ("public", "default"):
            return
        if str(item_id) in found:
            return
        name = "::".join(path) or item["name"]
        if k not in SKIPPED:
            found[str(item_id)] = (name, k, bool(FENCE.search(item.get("docs") or "")), item)
        if k == "module":
            for child in inner["items"]:
                child_item = index.get(str(child))
                child_name = child_item["name"] if child_item else None
                visit(child, path + ([child_name] if child_name else []))
        elif k in ("struct", "enum", "union"):
            for impl_id in inner["impls"]:
                impl_item = index.get(str(impl_id))
                if impl_item is None:
                    continue
                impl = impl_item["inner"]["impl"]
                if impl["trait"] is not None or impl["is_synthetic"] or impl["blanket_impl"]:
                    continue  # trait impls: the trait's docs
                for method in impl["items"]:
                    m = index.get(str(method))
                    if m is not None and m["visibility"] == "public":
                        visit(method, path + [m["name"]])
        elif k == "trait":
            for method in inner["items"]:
                m = index.get(str(method))
                if m is not None:
                    visit(method, path + [m["name"]])

    visit(doc["root"], ["tower_socketio"])
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all-features", action="store_true")
    parser.add_argument("--json", help="an existing rustdoc JSON file (no build)")
    parser.add_argument("--missing", action="store_true", help="list the items without example")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="leave out items whose source file starts with this path (repeatable)",
    )
    args = parser.parse_args()

    path = args.json or build(args.all_features)
    with open(path) as f:
        doc = json.load(f)
    found = walk(doc)

    by_file = defaultdict(lambda: [0, 0])
    missing = []
    for name, k, example, item in found.values():
        span = item.get("span") or {}
        filename = span.get("filename", "?")
        if any(filename.startswith(p) for p in args.exclude):
            continue
        by_file[filename][0] += 1
        if example:
            by_file[filename][1] += 1
        else:
            missing.append((filename, name, k))

    width = max(len(f) for f in by_file) if by_file else 10
    print(f"{'file':<{width}}  items  with example")
    total = with_example = 0
    for filename in sorted(by_file):
        n, e = by_file[filename]
        total += n
        with_example += e
        print(f"{filename:<{width}}  {n:>5}  {e:>5}  {100 * e / n:5.1f}%")
    pct = 100 * with_example / total if total else 0.0
    print(f"{'total':<{width}}  {total:>5}  {with_example:>5}  {pct:5.1f}%")
    if args.missing:
        print()
        for filename, name, k in sorted(missing):
            print(f"{filename}: {k} {name}")


if __name__ == "__main__":
    sys.exit(main())
