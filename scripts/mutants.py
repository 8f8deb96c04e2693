#!/usr/bin/env python3
"""Mutation testing of RevSearch's own checks (run through scripts/mutants).

Each mutant in scripts/mutants.json is a realistic bug: one exact snippet of one source file
replaced by another. The harness copies the repository once (never touching the tree it is
run from), builds the copy, then per mutant: applies it, rebuilds incrementally, runs every
check, reverts. A check "catches" a mutant when it exits non-zero or times out. The table
says which check caught which mutant, so a verifier change shows up as a changed row.

Why a copy and not `git stash`: the checks take minutes per mutant and a developer keeps
working meanwhile; the copy also keeps its own .build, so a second run (--workdir) is
incremental.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOG = os.path.join(ROOT, "scripts", "mutants.json")
BUILD = ["swift", "build", "-c", "release", "--product", "revsearch"]
BIN = ".build/release/revsearch"

# (name, command, on by default). Commands run in the copy. Order: cheapest first.
# The tiny preset (d = 24, every op mixed) runs every check of verify in seconds; the
# default verify (d = 240) and the probes then see what only size or a search shows.
CHECKS = [
    ("gradcheck", [BIN, "gradcheck"], True),
    # The independent NumPy forward of every candidate op (CI's op-dump check), with and
    # without masks: what sees a forward bug consistent with its own backward.
    ("op-dumps", ["sh", "-c", "rm -rf .op-dumps && " + BIN + " dump-ops --out .op-dumps --dtype float64 > /dev/null"
                  " && python3 scripts/check-op-dumps.py .op-dumps"], True),
    ("verify-tiny-f32", [BIN, "verify", "--preset", "tiny", "--dtype", "float32"], True),
    ("verify-tiny-f64", [BIN, "verify", "--preset", "tiny", "--dtype", "float64", "--depth", "3", "--second-order"], True),
    ("verify-f32", [BIN, "verify"], True),
    # Every probe but the Float32 / Float64 verify probes at other sizes or configs, which repeat verify-f32's
    # checks for minutes each: the search, profile, gradcheck, baseline and second-order ones.
    ("probes", ["sh", "-c", BIN + " probe $(ls Probes/*.json | grep -v -e verify-float32 -e verify-float64)"], True),
    ("unit", ["swift", "test", "-c", "release"], False),
]
CLASSES = ["float32-kernel", "small-gradient", "padding-reduction", "forward-consistent", "reversible", "alpha",
           "dropout-replay", "causal", "loss", "optimizer", "second-order", "memory"]
# The CI subset: one Float32-only, one padding, one reversible mutant, each caught by today's
# checks, so --quick fails only when a check stops catching one.
QUICK = ["f32-softmax-mask-dropped", "pad-sumrows-last-row", "rev-reconstructs-wrong-split"]


class HarnessError(Exception):
    """A problem with the harness or its catalog (exit 2), never a verdict on the code."""


def log(message):
    print(f"[mutants {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_catalog(path):
    with open(path, encoding="utf-8") as f:
        mutants = json.load(f)["mutants"]
    seen = set()
    for m in mutants:
        missing = [k for k in ("id", "class", "file", "find", "replace", "description") if not m.get(k)]
        if missing:
            raise HarnessError(f"mutant {m.get('id', '?')}: missing field(s) {', '.join(missing)}")
        if m["id"] in seen:
            raise HarnessError(f"mutant id {m['id']} declared twice")
        seen.add(m["id"])
        if m["class"] not in CLASSES:
            raise HarnessError(f"mutant {m['id']}: unknown class '{m['class']}' (known: {', '.join(CLASSES)})")
        if m["find"] == m["replace"]:
            raise HarnessError(f"mutant {m['id']}: replace equals find")
    return mutants


def mutate(m, root):
    """The original and the mutated text of m's file under root; errors unless `find` occurs once."""
    path = os.path.join(root, m["file"])
    if not os.path.isfile(path):
        raise HarnessError(f"mutant {m['id']}: no file {m['file']}")
    with open(path, encoding="utf-8") as f:
        original = f.read()
    count = original.count(m["find"])
    if count != 1:
        raise HarnessError(f"mutant {m['id']}: `find` occurs {count} times in {m['file']} (must be exactly once): {m['find']!r}")
    return original, original.replace(m["find"], m["replace"], 1)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def source_files():
    """Tracked and untracked-but-not-ignored files of the working tree (so .build* stays out)."""
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p and os.path.isfile(os.path.join(ROOT, p))]


def sync_copy(workdir):
    """Mirrors the working tree into workdir, rewriting only files whose content differs, so
    that a reused workdir's .build stays valid for everything unchanged."""
    files = set(source_files())
    for dirpath, dirnames, filenames in os.walk(workdir):
        rel = os.path.relpath(dirpath, workdir)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if not d.startswith(".build") and d not in ("logs", ".swiftpm")]
        for name in filenames:
            p = os.path.normpath(os.path.join(rel, name))
            if p not in files and p != "Package.resolved":
                os.remove(os.path.join(workdir, p))
    changed = 0
    for p in sorted(files):
        src, dst = os.path.join(ROOT, p), os.path.join(workdir, p)
        with open(src, "rb") as f:
            data = f.read()
        if os.path.isfile(dst):
            with open(dst, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
        changed += 1
    return changed


def run(command, cwd, timeout, log_path):
    """Runs command in its own process group; returns (outcome, seconds): 'ok', 'exit N' or 'timeout'."""
    start = time.monotonic()
    with open(log_path, "w") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this harness started, nothing else
            process.wait()
            return "timeout", time.monotonic() - start
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    return ("ok" if code == 0 else f"exit {code}"), time.monotonic() - start


def build(workdir, logs, label, timeout):
    outcome, seconds = run(BUILD, workdir, timeout, os.path.join(logs, f"{label}.build.log"))
    log(f"{label}: build {outcome} in {seconds:.0f} s")
    return outcome == "ok", seconds


def run_checks(checks, workdir, logs, label, timeout, stop_at_first):
    results = {}
    for name, command in checks:
        outcome, seconds = run(command, workdir, timeout, os.path.join(logs, f"{label}.{name}.log"))
        results[name] = {"outcome": outcome, "seconds": round(seconds, 1)}
        log(f"{label}: {name} {outcome} ({seconds:.0f} s)")
        if outcome != "ok" and stop_at_first:
            break
    return results


def parse_args():
    p = argparse.ArgumentParser(description="Apply each source mutant to a copy of the repository, rebuild, run the checks, "
                                            "and print which check caught which mutant.")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--catalog", default=CATALOG, help="the mutant list (default scripts/mutants.json)")
    p.add_argument("--dry-run", action="store_true",
                   help="check every mutant's snippet occurs exactly once and the mutated file compiles: type-checked in its module "
                        "when --workdir holds a built copy, else parsed only; no build")
    p.add_argument("--only", help="comma-separated mutant ids")
    p.add_argument("--quick", action="store_true", help=f"the CI subset: {', '.join(QUICK)}")
    p.add_argument("--checks", help="comma-separated check names (default: " +
                   ",".join(n for n, _, on in CHECKS if on) + ")")
    p.add_argument("--with-tests", action="store_true", help="also run `swift test -c release` (slow)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per check (default 600)")
    p.add_argument("--stop-at-first", action="store_true", help="stop a mutant's checks at the first that catches it")
    p.add_argument("--no-baseline", action="store_true", help="skip running the checks on the unmutated copy first")
    p.add_argument("--workdir", help="reuse this copy (kept, with its .build) instead of a fresh temporary one")
    p.add_argument("--json", dest="json_path", help="write the results as JSON here")
    return p.parse_args()


def select(mutants, args):
    if args.quick and args.only:
        raise HarnessError("--quick and --only exclude each other")
    wanted = QUICK if args.quick else (args.only.split(",") if args.only else None)
    if wanted is None:
        return mutants
    by_id = {m["id"]: m for m in mutants}
    unknown = [w for w in wanted if w not in by_id]
    if unknown:
        raise HarnessError(f"unknown mutant id(s): {', '.join(unknown)} (see --list)")
    return [by_id[w] for w in wanted]


def select_checks(args):
    known = {n: c for n, c, _ in CHECKS}
    if args.checks:
        names = args.checks.split(",")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise HarnessError(f"unknown check(s): {', '.join(unknown)}; known: {', '.join(known)}")
    else:
        names = [n for n, _, on in CHECKS if on]
    if args.with_tests and "unit" not in names:
        names.append("unit")
    return [(n, known[n]) for n in names]


# Flags of a module's compile command that a type check keeps (the rest name outputs).
KEEP_WITH_VALUE = {"-module-name", "-I", "-target", "-Xcc", "-Xfrontend", "-module-cache-path", "-swift-version", "-package-name"}
KEEP_ALONE = {"-parse-as-library", "-enable-testing"}


def typecheck_command(workdir, module):
    """swiftc -typecheck arguments for `module`, from the copy's build manifest (llbuild's
    release.yaml), with its sources mapped back to this tree; None if not built there."""
    manifest = os.path.join(workdir, ".build", "release.yaml")
    if not os.path.isfile(manifest):
        return None
    key = f'"C.{module}-'
    lines = open(manifest, encoding="utf-8").read().splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(key) and line.strip().endswith('-release.module":'):
            args = next(json.loads(l.strip()[len("args: "):]) for l in lines[i + 1:i + 8] if l.strip().startswith("args: "))
            break
    else:
        return None
    sources = next(a[1:] for a in args if a.startswith("@"))
    files = [os.path.join(ROOT, os.path.relpath(f, workdir)) for f in open(sources).read().split()]
    kept, j = ["swiftc", "-typecheck"], 1
    while j < len(args):
        a = args[j]
        if a in KEEP_WITH_VALUE:
            kept += args[j:j + 2]
            j += 2
            continue
        if a in KEEP_ALONE or a.startswith(("-D", "-I")):
            kept.append(a)
        j += 1
    return kept, files


def dry_run(mutants, workdir):
    """Uniqueness of every snippet; then each mutated file type-checked within its module
    (given a built --workdir), else parsed alone (syntax only)."""
    swiftc = shutil.which("swiftc")
    failures = 0
    typechecked = 0
    with tempfile.TemporaryDirectory(prefix="revsearch-mutants-check-") as tmp:
        for m in mutants:
            _, mutated = mutate(m, ROOT)
            status = "unique"
            if swiftc:
                path = os.path.join(tmp, os.path.basename(m["file"]))
                write(path, mutated)
                module = m["file"].split("/")[1] if m["file"].startswith("Sources/") else None
                typecheck = typecheck_command(workdir, module) if workdir and module else None
                if typecheck:
                    command, files = typecheck
                    command += [path if f == os.path.join(ROOT, m["file"]) else f for f in files]
                    what = "type-checks"
                    typechecked += 1
                else:
                    command, what = [swiftc, "-parse", path], "parses"
                result = subprocess.run(command, capture_output=True, text=True)
                if result.returncode != 0:
                    failures += 1
                    errors = [l for l in (result.stderr + result.stdout).splitlines() if "error:" in l] or ["(no message)"]
                    status = f"FAILS ({what[:-1]}): {errors[0].strip()}"
                else:
                    status += ", " + what
            print(f"{m['id']:<38} {m['file']:<48} {status}")
    print(f"\n{len(mutants)} mutants: every snippet occurs exactly once; " +
          (f"{failures} mutated file(s) fail" if failures else "every mutated file passes") +
          (f" ({typechecked} type-checked in their module, {len(mutants) - typechecked} parsed only)" if swiftc else " (swiftc not found)"))
    if typechecked < len(mutants):
        print("(parsing checks syntax only: give --workdir a copy built by an earlier run to type-check)")
    return 2 if failures else 0


def verdict(m, row):
    if row["build"] != "ok":
        return "does not compile"
    caught = [n for n, r in row["checks"].items() if r["outcome"] != "ok"]
    if m.get("equivalent"):
        return "caught (marked equivalent!)" if caught else "equivalent"
    return "caught" if caught else "SURVIVED"


def report(rows, mutants, checks):
    by_id = {m["id"]: m for m in mutants}
    width = max([len("mutant")] + [len(r["id"]) for r in rows])
    lines = [f"{'mutant':<{width}}  {'class':<18}  {'caught by':<52}  {'verdict':<16}  time",
             "-" * (width + 102)]
    for r in rows:
        # "(timeout)" marks a catch by the per-check time limit rather than by a failing exit.
        caught = [n + (" (timeout)" if c["outcome"] == "timeout" else "") for n, c in r["checks"].items() if c["outcome"] != "ok"]
        lines.append(f"{r['id']:<{width}}  {r['class']:<18}  {', '.join(caught) or '-':<52}  {r['verdict']:<16}  {r['seconds']:.0f} s")
    counted = [r for r in rows if r["verdict"] in ("caught", "SURVIVED")]
    caught = [r for r in counted if r["verdict"] == "caught"]
    lines.append("")
    rate = f"{100 * len(caught) / len(counted):.0f}%" if counted else "n/a"
    lines.append(f"catch rate: {len(caught)}/{len(counted)} non-equivalent mutants ({rate}) with checks: "
                 + ", ".join(n for n, _ in checks))
    for check_name, _ in checks:
        n = sum(1 for r in counted if r["checks"].get(check_name, {}).get("outcome", "ok") != "ok")
        lines.append(f"  {check_name:<14} caught {n}")
    equivalent = [r for r in rows if by_id[r["id"]].get("equivalent")]
    if equivalent:
        lines.append("equivalent (excluded):")
        lines += [f"  {r['id']}: {by_id[r['id']]['equivalent']}" for r in equivalent]
    broken = [r for r in rows if r["verdict"] in ("does not compile", "caught (marked equivalent!)")]
    if broken:
        lines.append("harness errors (fix the catalog): " + ", ".join(f"{r['id']} ({r['verdict']})" for r in broken))
    return "\n".join(lines)


def main():
    args = parse_args()
    mutants = load_catalog(args.catalog)
    if args.list:
        for m in mutants:
            note = f"  [equivalent: {m['equivalent']}]" if m.get("equivalent") else ""
            print(f"{m['id']:<38} {m['class']:<18} {m['file']}\n    {m['description']}{note}")
        print(f"\n{len(mutants)} mutants in {len(set(m['class'] for m in mutants))} classes")
        return 0
    chosen = select(mutants, args)
    if args.dry_run:
        return dry_run(chosen, os.path.abspath(args.workdir) if args.workdir else None)
    checks = select_checks(args)
    for m in chosen:
        mutate(m, ROOT)  # every snippet unique before anything long runs

    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="revsearch-mutants-")
    if workdir == ROOT or workdir.startswith(ROOT + os.sep):
        raise HarnessError("--workdir must be outside the repository")
    os.makedirs(workdir, exist_ok=True)
    logs = os.path.join(workdir, "logs")
    os.makedirs(logs, exist_ok=True)
    log(f"copy: {workdir} ({sync_copy(workdir)} files written); logs in {logs}")
    ok, _ = build(workdir, logs, "baseline", args.timeout * 2)
    if not ok:
        raise HarnessError(f"the unmutated copy does not build; see {logs}/baseline.build.log")
    if not args.no_baseline:
        base = run_checks(checks, workdir, logs, "baseline", args.timeout, False)
        failing = [n for n, r in base.items() if r["outcome"] != "ok"]
        if failing:
            raise HarnessError(f"check(s) fail on the unmutated code: {', '.join(failing)}; see {logs}/baseline.*.log")

    rows = []
    for i, m in enumerate(chosen, 1):
        log(f"[{i}/{len(chosen)}] {m['id']} ({m['class']}): {m['description']}")
        path = os.path.join(workdir, m["file"])
        original, mutated = mutate(m, workdir)
        start = time.monotonic()
        write(path, mutated)
        try:
            ok, build_seconds = build(workdir, logs, m["id"], args.timeout * 2)
            results = run_checks(checks, workdir, logs, m["id"], args.timeout, args.stop_at_first) if ok else {}
        finally:
            write(path, original)
        row = {"id": m["id"], "class": m["class"], "file": m["file"], "build": "ok" if ok else "failed",
               "build_seconds": round(build_seconds, 1), "checks": results, "seconds": round(time.monotonic() - start, 1)}
        row["verdict"] = verdict(m, row)
        log(f"{m['id']}: {row['verdict']} ({row['seconds']:.0f} s)")
        rows.append(row)

    print(report(rows, chosen, checks))
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump({"checks": [n for n, _ in checks], "timeout": args.timeout, "mutants": rows}, f, indent=2)
    if not args.workdir:
        # The copy and its build go; the per-check logs stay for reading survivors' output.
        for entry in os.listdir(workdir):
            if entry != "logs":
                target = os.path.join(workdir, entry)
                shutil.rmtree(target, ignore_errors=True) if os.path.isdir(target) else os.remove(target)
        log(f"logs kept in {logs}")
    if any(r["verdict"] in ("does not compile", "caught (marked equivalent!)") for r in rows):
        return 2
    return 1 if any(r["verdict"] == "SURVIVED" for r in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as error:
        print(f"mutants: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("mutants: interrupted", file=sys.stderr)
        sys.exit(2)
