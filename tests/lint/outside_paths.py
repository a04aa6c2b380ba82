#!/usr/bin/env python3
"""Fails when a file of the project names a path outside its checkout.

A clone of herald alone must build and pass its tests, so nothing it holds may reach for a
directory beside the checkout (the reference shelf it was first written next to), a path of one
machine (a home or work directory), a fixture under $HOME, a source-root variable followed by
"..", a relative path that climbs above the checkout, or a symlink that leaves it. Paths of the system herald runs on (/var/run/docker.sock, /usr/bin/herald,
/etc/..., /tmp) are fine. What the tests read lives in tests/fixtures/.

Checked: every file git tracks or would track (untracked but not ignored) under ROOT; without git,
every file under ROOT except build directories. The $HOME rule applies to the developer side only
(tests/, scripts/, bench/, cmake/, CMakeLists.txt, .ci): the product itself reads HOME for the
Docker client's ~/.docker.

Usage: outside_paths.py [--root DIR]   list each reference as FILE:LINE: what; exit 1 if any
       outside_paths.py --self-test    prove each rule catches what it should and nothing else
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

# Where $HOME-based paths can only be a machine's own fixture or tool location.
DEVELOPER_AREAS = ("tests/", "scripts/", "bench/", "cmake/", ".ci/", "CMakeLists.txt")

# A path starts after a boundary: not inside a word, a longer path, a URL or a variable expansion.
START = r"(?<![\w.\-/:~$}])"

# (what is wrong, pattern, applies to developer areas only)
RULES = [
    ("a sibling directory of the checkout",
     re.compile(r"(?<![\w.\-/])(?:\.\./)+shared\b"), False),
    ("the reference shelf beside the checkout (copy what is needed into the project)",
     re.compile(r"(?<![\w.\-/])shared(?=/)"), False),
    ("an absolute path of one machine",
     re.compile(START + r"/(?:work|home|Users|root|mnt|media)/(?=[\w.\-$])"), False),
    ("a source-root variable followed by '..'",
     re.compile(r"\b(?:PROJECT_SOURCE_DIR|CMAKE_SOURCE_DIR|HERALD_SOURCE_DIR|ROOT)\b"
                r"[})\s\"']*(?:/|\+|,)[\s\"'/]*\.\.(?![\w.])"), False),
    ("a variable naming a directory beside the checkout",
     re.compile(r"\bHERALD_SHARED_(?:DIR)\b|\bshared_dir\s*\("), False),
    ("a path under the developer's home directory",
     re.compile(r"\$\{?HOME\}?/|\$ENV\{HOME\}|getenv\(\s*\"HOME\"\s*\)"
                r"|environ(?:\.get\(|\[)\s*[\"']HOME[\"']|expanduser\(|Path\.home\("), True),
]

# How far a relative path climbs, judged from the directory of the file naming it.
CLIMB = re.compile(r"(?<![\w.\-/])((?:\.\./)+)")
# A script's own directory: "$(dirname "$0")/../..", judged from where the script is.
SCRIPT_DIR_CLIMB = re.compile(
    r"\$\(dirname\s+\"?\$\{?(?:0|BASH_SOURCE(?:\[0\])?)\}?\"?\)((?:/\.\.)+)(?![\w.])")


def depth(path):
    """How many directories `path` (relative to the root, with '/') is below the root."""
    return path.count("/")


def in_developer_area(path):
    return any(path == area or path.startswith(area) for area in DEVELOPER_AREAS)


def token_at(text, match):
    """The match with the rest of its path around it, as it reads in the line."""
    start, end = match.start(), match.end()
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "\"'`(":
        start -= 1
    while end < len(text) and not text[end].isspace() and text[end] not in "\"'`)":
        end += 1
    return text[start:end]


def check_line(path, text):
    """The problems of one line of `path` (relative to the root): a list of (what, matched)."""
    problems = []
    developer = in_developer_area(path)
    for what, pattern, developer_only in RULES:
        if developer_only and not developer:
            continue
        for m in pattern.finditer(text):
            problems.append((what, token_at(text, m)))
    for m in CLIMB.finditer(text):
        if m.group(1).count("../") > depth(path):
            problems.append(("a relative path climbing out of the checkout", token_at(text, m)))
    for m in SCRIPT_DIR_CLIMB.finditer(text):
        if m.group(1).count("/..") > depth(path):
            problems.append(("a relative path climbing out of the checkout", token_at(text, m)))
    return problems


def list_files(root):
    """Files of the project under `root`, relative, with '/' separators."""
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True).stdout
        return sorted(set(p for p in out.decode().split("\0") if p))
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for top, dirs, names in os.walk(root):
        # A build tree (CMakeCache.txt) legitimately holds absolute paths of this machine.
        dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__")
                         and not os.path.exists(os.path.join(top, d, "CMakeCache.txt")))
        for name in names + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            files.append(os.path.relpath(os.path.join(top, name), root).replace(os.sep, "/"))
    return sorted(files)


def check_tree(root):
    """Every problem under `root`: a list of "FILE:LINE: what: matched" lines."""
    root = os.path.realpath(root)
    found = []
    for rel in list_files(root):
        full = os.path.join(root, rel)
        if os.path.islink(full):
            target = os.path.realpath(full)
            if os.path.commonpath([root, target]) != root:
                found.append("%s: a symlink leaving the checkout: -> %s" % (rel, os.readlink(full)))
            continue
        if not os.path.isfile(full):
            continue  # tracked but deleted in this worktree
        with open(full, "rb") as f:
            data = f.read()
        if b"\0" in data:
            continue  # binary
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            for what, matched in check_line(rel, line):
                found.append("%s:%d: %s: %s" % (rel, number, what, matched))
    return found


def self_test():
    """Each rule on lines it must flag and on lines it must let pass; then a planted tree."""
    # Assembled so that this file does not name what it looks for.
    dots = "." + "."
    up, sh = dots + "/", "sha" + "red"
    bad = [
        ("tests/CMakeLists.txt", 'HERALD_X_DIR="${PROJECT_SOURCE_DIR}/' + up + sh + '")'),
        ("tests/tmpl/golden_test.cpp",
         'return fs::path(HERALD_SOURCE_DIR) / "' + dots + '" / "' + sh + '" / "fixtures";'),
        ("tests/tmpl/golden_test.cpp", 'read_file(std::string(HERALD_SOURCE_DIR) + "/' + up + 'x");'),
        ("tests/doubles/CMakeLists.txt", "--fixtures " + up + up + sh + "/fixtures/consul-api"),
        ("bench/render.py", "# figures of " + sh + "/bench-anchors.md"),
        ("lib/herald/registry/consul/consul_json.hpp", "// (" + sh + "/reference/consul-api.md)"),
        ("tests/support/process.cpp", 'return "/' + 'work/' + sh + '/fixtures";'),
        ("scripts/test", 'cp -r /' + 'home/dev/fixtures tests/'),
        ("README.md", "see /" + "Users/me/herald"),
        ("README.md", "DESIGN.md (kept beside this repository in " + sh + "/): the layout"),
        ("tests/support/process.hpp", "std::string " + sh + "_dir();"),
        ("tests/CMakeLists.txt", "target_compile_definitions(x PRIVATE HERALD_" + sh.upper()
         + "_DIR=1)"),
        ("scripts/test", 'fixtures="$' + 'HOME/herald-fixtures"'),
        ("tests/CMakeLists.txt", "set(F $" + "ENV{HOME}/fixtures)"),
        ("tests/support/fixtures.cpp", 'std::string(std::get' + 'env("HOME")) + "/fx"'),
        ("bench/route.py", "os.path.expand" + "user('~/anchors.md')"),
        ("tests/lint/x.py", 'open("' + up + up + up + 'etc/x")'),
        ("scripts/demo", 'cd "$(dirname "$0")/' + up + dots + '"'),
        ("CMakeLists.txt", "include(" + up + "other/cmake/x.cmake)"),
    ]
    good = [
        ("tests/integration/docker_client_test.cpp", 'host = "unix:///var/run/docker.sock";'),
        ("unit_templates/herald-announce@.service", "ExecStart=/usr/bin/herald announce %i"),
        ("tests/render/command_test.cpp", '"echo $HOME", "echo \\"$HOME\\"", "echo ${X}"'),
        ("tests/docker/connection_test.cpp", 'TEST_CASE("DOCKER_CERT_PATH defaults to ~/.docker")'),
        ("lib/herald/docker/connection.cpp", 'env.home = getenv_nonempty("HOME");'),
        ("lib/herald/docker/connection.cpp", "std::string(std::get" + 'env("HOME")) + "/.docker"'),
        ("tests/tmpl/kv_store_test.cpp", 'CHECK(go::path_clean("a/../../b") == "../b");'),
        ("tests/doubles/consul_contract_test.py", '"""replayed against the ' + sh + ' scenario"""'),
        ("lib/herald/core/log.cpp", "auto sink = std::make_" + sh + "<StderrSink>();"),
        ("cmake/HeraldDependencies.cmake", "# each " + sh + " C++ library adds objects"),
        ("tests/registry/etcd3_test.cpp", 'parse_location("etcd://root:hunter2@h:2379");'),
        ("tests/announce/registration_test.cpp", 'resolve_key({"/srv/", ""}, k_web1)'),
        ("scripts/test", 'cd "$(dirname "$0")/' + dots + '"'),
        ("tests/doubles/x.py", "os.path.join(os.path.dirname(__file__), os.pardir, 'fixtures')"),
        ("tests/fixtures/confd-golden/README.md", "see ../reference/docker-engine-api.md"),
        ("tests/CMakeLists.txt", 'HERALD_FIXTURES_DIR="${CMAKE_CURRENT_SOURCE_DIR}/fixtures"'),
        ("lib/herald/tmpl/go_path.cpp", 'return path_clean(path) == path; // "." and ".."'),
        ("man/herald-render.1.scd", "*--dest* /etc/nginx/conf.d/app.conf, /tmp/x, /run/nginx.pid"),
        ("tests/lint/CMakeLists.txt", "ARGS --root ${PROJECT_SOURCE_DIR}"),
    ]
    failures = []
    for path, line in bad:
        if not check_line(path, line):
            failures.append("not flagged: %s: %s" % (path, line))
    for path, line in good:
        problems = check_line(path, line)
        if problems:
            failures.append("flagged: %s: %s (%s)" % (path, line, problems))

    # The whole check, on a tree with nothing wrong, then with one planted reference and one
    # symlink out of it.
    with tempfile.TemporaryDirectory() as outside, tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "tests"))
        with open(os.path.join(root, "tests", "CMakeLists.txt"), "w") as f:
            f.write('set(F "${CMAKE_CURRENT_SOURCE_DIR}/fixtures")\n')
        if check_tree(root):
            failures.append("a clean tree was flagged: %s" % check_tree(root))
        with open(os.path.join(root, "tests", "CMakeLists.txt"), "a") as f:
            f.write('set(G "${PROJECT_SOURCE_DIR}/' + up + sh + '")\n')
        os.symlink(outside, os.path.join(root, "tests", "fixtures"))
        found = check_tree(root)
        if len(found) != 2 or not found[0].startswith("tests/CMakeLists.txt:2:"):
            failures.append("a planted reference and symlink gave: %s" % found)

    for failure in failures:
        print("outside_paths self-test: " + failure, file=sys.stderr)
    print("outside_paths self-test: %d bad lines, %d good lines, %d failures"
          % (len(bad), len(good), len(failures)))
    return 1 if failures else 0


def main():
    sys.dont_write_bytecode = True
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    found = check_tree(args.root)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print("outside_paths: %d references to paths outside the checkout; a clone of herald "
              "alone has none of them (copy what tests need into tests/fixtures/)" % len(found),
              file=sys.stderr)
        return 1
    print("outside_paths: %d files checked, none names a path outside the checkout"
          % len(list_files(os.path.realpath(args.root))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
