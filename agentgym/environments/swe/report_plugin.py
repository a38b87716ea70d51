"""The pytest plugin that records each test's outcome for the verifier (its source is written into
the sandbox under a random module name and loaded with `-p`, before any project code is imported).

Project code runs in the same process as pytest, so it can never be fully contained. What is
checked: when this plugin loads it takes the identity (and code object) of the pytest internals
results depend on (TestReport and its constructors, the `passed`/`failed` properties,
CallInfo.from_call, the runner's protocol functions, Function.runtest, the module globals that
name them) and of every registered implementation of the run-test hooks; when the session ends,
any change to those, or a run-test hook implemented in a repository file that is not a test or
conftest file, marks the run as tampered and every test as failed. The report path and this
module's name are random per run and the path is removed from the environment on load.
The parent cross-checks the report (each requested test exactly once; see runner.check_report).
Not caught: code that reads the path from /proc or this module and rewrites the report after
pytest ends, code that patches and restores in between, objects that compare equal to anything.
"""

import json
import os

import _pytest.python
import _pytest.reports
import _pytest.runner

_REPORT = os.environ.pop("AGENTGYM_REPORT", "")
_REPO = os.path.realpath(os.environ.pop("AGENTGYM_REPO", os.getcwd()))
_open, _dumps, _vars, _getattr = open, json.dumps, vars, getattr
_WATCHED_HOOKS = ("pytest_runtest_protocol", "pytest_runtest_setup", "pytest_runtest_call",
                  "pytest_runtest_teardown", "pytest_runtest_makereport", "pytest_runtest_logreport",
                  "pytest_report_teststatus", "pytest_pyfunc_call")
_OWNERS = (
    (_pytest.reports.TestReport, ("__init__", "from_item_and_call")),
    (_pytest.reports.BaseReport, ("passed", "failed", "skipped", "outcome")),
    (_pytest.runner.CallInfo, ("from_call", "__init__")),
    (_pytest.python.Function, ("runtest",)),
    (_pytest.runner, ("pytest_runtest_protocol", "runtestprotocol", "call_and_report", "call_runtest_hook",
                      "pytest_runtest_makereport", "pytest_runtest_call", "TestReport", "CallInfo")),
    (_pytest.reports, ("TestReport", "BaseReport")),
    (_pytest.python, ("pytest_pyfunc_call", "Function")),
)


def _fingerprint(obj):
    """The object, the function it wraps and that function's code: replacing any of them counts."""
    func = _getattr(obj, "__func__", None) or _getattr(obj, "fget", None) or obj
    return obj, func, _getattr(func, "__code__", None)


def _internals():
    found = {}
    for owner, names in _OWNERS:
        space = _vars(owner)
        for name in names:
            if name in space:  # pytest versions differ; only what exists is watched
                found[f"{owner.__name__}.{name}"] = _fingerprint(space[name])
    return found


_INTERNALS = _internals()
_HOOKS = {}  # hook name -> fingerprints of the implementations registered before project code
_outcomes = {}
_collect_errors = {}


def _same(a, b):
    return len(a) == len(b) and all(a[i] is b[i] for i in range(len(a)))


def pytest_addoption(parser, pluginmanager):
    # called as soon as this plugin registers: only pytest's own plugins are loaded by then
    for name in _WATCHED_HOOKS:
        caller = _getattr(pluginmanager.hook, name, None)
        if caller is not None:
            _HOOKS[name] = [(impl, _fingerprint(impl.function)) for impl in caller.get_hookimpls()]


def _project_file(func):
    """A repository file the agent may change (test files and conftest.py are restored, so not these)."""
    code = _getattr(func, "__code__", None)
    path = os.path.realpath(code.co_filename) if code is not None else ""
    base = os.path.basename(path)
    trusted = base == "conftest.py" or base.startswith("test_") or base.endswith("_test.py")
    return path.startswith(_REPO + os.sep) and not trusted


def _tampering(pluginmanager):
    """What was changed in the test machinery since this plugin loaded ("" if nothing)."""
    now = _internals()
    for name, print_then in _INTERNALS.items():
        if name not in now or not _same(now[name], print_then):
            return f"{name} was replaced"
    for name, before in _HOOKS.items():
        impls = _getattr(pluginmanager.hook, name).get_hookimpls()
        for impl, print_then in before:
            if impl not in impls or not _same(_fingerprint(impl.function), print_then):
                return f"the {name} hook of {impl.plugin_name} was replaced"
        for impl in impls:
            if _project_file(impl.function):
                return f"project code implements the {name} hook"
    return ""


def pytest_runtest_logreport(report):
    previous = _outcomes.get(report.nodeid)
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped and previous is None:
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and report.passed and previous in (None, "skipped"):
        _outcomes[report.nodeid] = "passed"


def pytest_collectreport(report):
    if report.failed:
        _collect_errors[report.nodeid or "<collection>"] = "error"


def pytest_sessionfinish(session, exitstatus):
    tampered = _tampering(session.config.pluginmanager)
    # records are built by hand from our own constants, so a patched json cannot forge outcomes
    lines = [f'{{"kind": "test", "nodeid": {_dumps(nodeid)}, "outcome": "{"failed" if tampered else outcome}"}}'
             for nodeid, outcome in _outcomes.items()]
    lines += [f'{{"kind": "collect", "nodeid": {_dumps(nodeid)}, "outcome": "error"}}' for nodeid in _collect_errors]
    if tampered:
        lines.append(f'{{"kind": "tampered", "detail": {_dumps(tampered)}}}')
    with _open(_REPORT, "w") as f:
        f.write("".join(line + "\n" for line in lines))
