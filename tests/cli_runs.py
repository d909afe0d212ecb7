"""Running the command line in a subprocess for tests/test_cli*.py: each argument list through
fastinit.cli.main in one fresh interpreter, results as a list of {"rc", "out", "err"}."""
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# runs fastinit.cli.main for each argument list in argv[1] (JSON), from the directory argv[2];
# prints a JSON list of {"rc", "out", "err"}. FASTINIT_TEST_HIDE: modules to make unimportable.
RUN_MANY = textwrap.dedent("""
    import contextlib, io, json, os, sys
    for name in filter(None, os.environ.get("FASTINIT_TEST_HIDE", "").split(",")):
        sys.modules[name] = None  # import name raises ImportError
    from fastinit import cli
    os.chdir(sys.argv[2])
    results = []
    for argv in json.loads(sys.argv[1]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main(argv)
            except SystemExit as e:  # argparse: --help, usage errors
                rc = e.code
        results.append({"rc": rc, "out": out.getvalue(), "err": err.getvalue()})
    print(json.dumps(results))
""")


def run_many(argvs, cwd, env=None):
    """The results of the command lines ``argvs`` run from ``cwd`` in one subprocess (``env``:
    variables added to this process's environment)."""
    proc = subprocess.run([sys.executable, "-c", RUN_MANY, json.dumps(argvs), str(cwd)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
