#!/usr/bin/env python3
"""The README as a test: every fenced block runs as written.

usage: check_readme.py README.md BUILD_DIR CC

Each fenced block must say what it is:
  sh       commands: each line runs (in a scratch directory, with the build's
           weft and weft-csv-gen first on PATH) and must exit 0
  console  a transcript: each "$ " line runs and must exit 0, and each output
           line shown must start, up to its first digit, one line it printed
           (numbers and device names vary; the words must not)
  c        compiled with -Wall -Werror against the build's library and run;
           a block without main() is a fragment, wrapped in one
  python   parsed (it runs in tools/test.sh python, where the package is)
  text     output or a listing: not run
Commands that cannot run here are in SKIPPED, each with its reason.
Exit 0 when all agree, 1 otherwise.
"""
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIPPED = {
    "sh tools/setup.sh": "installs system packages (apt-get) and builds into build/: "
    "what a fresh machine runs",
    "sh tools/test.sh": "the whole test suite, this test included",
}

# The names the README's fragments leave to the reader, and what the wrapper
# gives them (only those a fragment uses).
FRAGMENT_NAMES = {
    "n": "enum { n = 1 << 20 };",
    "host_x": "static float host_x[n];",
    "host_y": "static float host_y[n];",
}
FRAGMENT_FILL = "for (size_t i = 0; i < n; i++) { host_x[i] = (float)i; host_y[i] = 1; }"

# What the commands read, made in the scratch directory before they run.
IN_CSV = "id,old_column,label\n1,1.5,a\n2,0.25,b\n3,,c\n"


def blocks(text):
    """(line, language, body) of each fenced block."""
    out, lang, start, body = [], None, 0, []
    for number, line in enumerate(text.split("\n"), 1):
        if lang is None and line.startswith("```"):
            lang, start, body = line[3:].strip(), number, []
        elif lang is not None and line.strip() == "```":
            out.append((start, lang, "\n".join(body)))
            lang = None
        elif lang is not None:
            body.append(line)
    return out


def logical_lines(body):
    """Lines with trailing backslashes joined."""
    lines, pending = [], ""
    for line in body.split("\n"):
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return lines


def run(command, work, env):
    p = subprocess.run(["sh", "-c", command], cwd=work, env=env, capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def skipped(command):
    for prefix, why in SKIPPED.items():
        if command.strip().startswith(prefix):
            return why
    return None


def words(line):
    """A line up to its first digit, spaces collapsed."""
    return " ".join(re.split(r"[0-9]", line, 1)[0].split())


def check_sh(where, body, work, env):
    failures = []
    for command in logical_lines(body):
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        why = skipped(command)
        if why:
            print(f"{where}: skipped {command.strip()!r}: {why}")
            continue
        rc, output = run(command, work, env)
        if rc != 0:
            failures.append(f"{where}: {command.strip()!r} exited {rc}:\n{output}")
        else:
            print(f"{where}: ran {command.strip()!r}")
    return failures


def check_console(where, body, work, env):
    failures, steps = [], []
    for line in logical_lines(body):
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    for command, shown in steps:
        why = skipped(command)
        if why:
            print(f"{where}: skipped {command.strip()!r}: {why}")
            continue
        rc, output = run(command, work, env)
        if rc != 0:
            failures.append(f"{where}: {command.strip()!r} exited {rc}:\n{output}")
            continue
        printed = [" ".join(line.split()) for line in output.split("\n")]
        for line in shown:
            w = words(line)
            if w and not any(p.startswith(w) for p in printed):
                failures.append(f"{where}: {command.strip()!r} printed no line starting "
                                f"{w!r} (the README shows {line.strip()!r}):\n{output}")
        print(f"{where}: ran {command.strip()!r}")
    return failures


def check_c(where, body, work, env, build, cc, source_root):
    if re.search(r"\bint\s+main\s*\(", body):
        program = body
    else:
        includes = [l for l in body.split("\n") if l.startswith("#include")]
        code = [l for l in body.split("\n") if not l.startswith("#include")]
        used = [d for name, d in FRAGMENT_NAMES.items() if re.search(rf"\b{name}\b", body)]
        fill = FRAGMENT_FILL if "host_x" in body else ""
        program = "\n".join(includes + used + ["int main(void)", "{", fill] + code +
                            ["return 0;", "}", ""])
    path = os.path.join(work, f"readme_{where.split(':')[-1]}.c")
    exe = path[:-2]
    with open(path, "w") as f:
        f.write(program)
    compile_cmd = [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
                   "-I", os.path.join(source_root, "include"), path, "-o", exe,
                   "-L", build, "-lweft", f"-Wl,-rpath,{build}", "-lm"]
    p = subprocess.run(compile_cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return [f"{where}: the C block does not compile:\n{p.stderr}\n--- as compiled:\n{program}"]
    rc, output = run(exe, work, env)
    if rc != 0:
        return [f"{where}: the C block exited {rc}:\n{output}"]
    print(f"{where}: compiled and ran the C block")
    return []


def main():
    readme, build, cc = sys.argv[1:4]
    source_root = os.path.dirname(os.path.abspath(readme))
    build = os.path.abspath(build)
    env = dict(os.environ, PATH=build + os.pathsep + os.environ.get("PATH", ""))
    work = tempfile.mkdtemp(prefix="weft-readme-")
    failures = []
    try:
        with open(os.path.join(work, "in.csv"), "w") as f:
            f.write(IN_CSV)
        # Paths in the commands are the checkout's, as a reader at its root has them.
        for name in os.listdir(source_root):
            if not name.startswith((".", "build")):
                os.symlink(os.path.join(source_root, name), os.path.join(work, name))
        with open(readme) as f:
            text = f.read()
        for line, lang, body in blocks(text):
            where = f"README.md:{line}"
            if lang == "text":
                continue
            if lang == "sh":
                failures += check_sh(where, body, work, env)
            elif lang == "console":
                failures += check_console(where, body, work, env)
            elif lang == "c":
                failures += check_c(where, body, work, env, build, cc, source_root)
            elif lang == "python":
                try:
                    ast.parse(body)
                    print(f"{where}: parsed the Python block (tools/test.sh python runs the package)")
                except SyntaxError as e:
                    failures.append(f"{where}: the Python block does not parse: {e}")
            else:
                failures.append(f"{where}: a block must say what it is "
                                f"(sh, console, c, python or text), not {lang!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
