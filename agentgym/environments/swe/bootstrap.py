"""The test run inside the verifier's sandbox: `python3 -I -S <private dir>/bootstrap.py`.

Standard library only, never imported by agentgym (verdict.py writes it into the sandbox and reads
what it sends back). What it does, in order, before any project code runs:
1. reads the run's 32-byte secret and a JSON plan from stdin;
2. makes the process non-dumpable (no other process can read its memory or open its fds), keeps
   stdout as the private verdict channel and points fd 1 at stderr for everything else;
3. installs an audit hook whose closure alone holds the HMAC (a C object that cannot give its key
   back), the outcomes and the integrity baseline. Python code reaches a closure only through
   frames or gc, which the hook refuses to agent code;
4. runs pytest with a plugin object. A test passes only when the plugin's pyfunc_call ran the
   genuine test function and saw it return with no agent frame on the stack, pytest's and the
   builtins' namespaces unchanged and no agent code in another thread. Failing reports can only
   lower a result. The plan adds canary tests that must pass and fail;
5. writes one authenticated verdict line, closes the channel and leaves with os._exit.
THREAT_MODEL.md says what this defends and what it does not.
"""

import json
import os
import sys

EVENT = "agentgym.verdict"
AGENT, TRUSTED, NEUTRAL, BOUNDARY = 1, 2, 3, 4
# frame and object-graph access: refused when what they return goes to agent code (see receiver)
INTROSPECTION = frozenset({"sys._getframe", "sys._current_frames", "gc.get_objects",
                           "gc.get_referrers", "gc.get_referents"})
FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
# refused when agent code is anywhere on the stack above the nearest import
ANYWHERE = frozenset({
    "code.__new__", "function.__new__", "marshal.loads", "marshal.load", "sys.settrace",
    "sys.setprofile", "sys.addaudithook", "os.fork", "os.forkpty", "os.system", "os.exec",
    "os.posix_spawn", "os.spawn", "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg",
    "signal.pthread_kill", "sys._clear_type_cache", "mmap.__new__",
})
PATH_EVENTS = frozenset({"os.rename", "os.replace", "os.remove", "os.rmdir", "os.mkdir",
                         "os.symlink", "os.link", "os.chmod", "os.chown", "os.truncate",
                         "os.utime", "shutil.rmtree", "shutil.move", "shutil.copytree"})
# pytest modules whose objects a test body calls (raises, approx, warns, fail, monkeypatch...)
BODY_MODULES = ("_pytest.python_api", "_pytest.outcomes", "_pytest.recwarn", "_pytest.monkeypatch",
                "_pytest.capture", "_pytest.tmpdir", "_pytest.logging", "_pytest.assertion")
IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
HANDS_ON_FILES = ("/inspect.py",)  # standard-library code that returns frames to its caller
HANDS_ON = (("traceback.py", "walk_stack"), ("traceback.py", "walk_tb"), ("logging/__init__.py", "<lambda>"))
# module globals pytest itself rebinds around each test (assertion-message helpers only)
mutable = frozenset({"_pytest.assertion.util._reprcompare", "_pytest.assertion.util._assertion_pass",
                     "_pytest.assertion.util._config", "_pytest.debugging.pytestPDB._pluginmanager",
                     "_pytest.debugging.pytestPDB._config"})


def read_exactly(fd, n):
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if not k:
            raise SystemExit("agentgym bootstrap: the secret was cut short")
        got += k
    return buf


def read_line(fd):
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def make_non_dumpable():
    """PR_SET_DUMPABLE=0: /proc/<pid>/mem, fd and environ of this process are closed to others."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)


def make_hook(mac, plan, channel, main_code):
    """The audit hook. Everything the verdict depends on lives in this closure."""
    import _thread
    from types import FunctionType, MethodType

    getframe, current_frames, get_ident = sys._getframe, sys._current_frames, _thread.get_ident
    from base64 import b64encode

    realpath, join, dumps, write, close = os.path.realpath, os.path.join, json.dumps, os.write, os.close
    repo = realpath(plan["repo"])
    agent_files = frozenset(realpath(p) for p in plan["agent_files"])
    trusted_repo = None if plan["trusted_repo_files"] is None else frozenset(
        realpath(p) for p in plan["trusted_repo_files"])
    trusted_dirs = tuple(realpath(d) + os.sep for d in plan["trusted_dirs"])
    own_file = realpath(__file__)
    writable = tuple(realpath(d) + os.sep for d in plan["writable"])
    requested = plan["requested"]
    canary_pass, canary_fail = plan["canaries"] or (None, None)
    nonce, report_all = plan["nonce"], plan["report_all"]
    from itertools import chain
    from operator import is_

    stdlib = os.path.dirname(os.__file__)
    hands_on = frozenset((join(stdlib, f), name) for f, name in HANDS_ON)

    kinds = {}
    clean_frames = {}  # frame -> None: frames whose whole stack down was seen clean
    checked_impls = {}  # HookImpl -> the function it had when it was found sound
    busy = set()
    problems = []
    outcomes = {}
    collect_errors = []
    class_dict = type.__dict__["__dict__"].__get__  # a class's own namespace, whatever its metaclass
    type_qualname = type.__dict__["__qualname__"].__get__
    s = {"armed": False, "recorders": frozenset(), "current": None, "pm": None, "baseline": (),
         "classes": (), "done": False, "types": None, "baselined": False, "body": (),
         "all_state": None, "body_state": None}

    def classify(filename):
        kind = kinds.get(filename)
        if kind is None:
            if type(filename) is not str:
                kind = AGENT
            elif filename.startswith("<frozen importlib"):
                kind = BOUNDARY
            elif filename.startswith("<"):
                kind = NEUTRAL
            else:
                path = realpath(filename)
                if path == own_file:
                    kind = TRUSTED
                elif path in agent_files:
                    kind = AGENT
                elif path.startswith(repo + os.sep):
                    kind = TRUSTED if trusted_repo is None or path in trusted_repo else AGENT
                else:
                    kind = TRUSTED if path.startswith(trusted_dirs) else AGENT
            kinds[filename] = kind
        return kind

    def agent_frame(frame, limit=None, stop_at_import=False):
        """The first agent frame from `frame` down (at most `limit` frames), or None. Frames seen
        clean on a whole walk are remembered (a live frame's callers never change), so the long-
        lived bottom of pytest's stack is not walked again for every test."""
        n, walked = 0, []
        while frame is not None and (limit is None or n < limit):
            if limit is None and frame in clean_frames:
                break
            code = frame.f_code
            kind = classify(code.co_filename)
            if kind == AGENT:
                return frame
            if kind == BOUNDARY and stop_at_import:
                return None
            walked.append(frame)
            frame, n = frame.f_back, n + 1
        if limit is None and not stop_at_import:
            if len(clean_frames) > 256:
                clean_frames.clear()
            clean_frames.update(dict.fromkeys(walked[8:]))  # the older part: likely to live on
        return None

    def receiver(frame):
        """The agent frame that gets what a frame/gc call returns, if an agent frame gets it: the
        caller, past the standard-library helpers that hand frames on (inspect, traceback's
        walkers, logging.currentframe). Helpers that only read a frame (namedtuple, typing,
        logging's findCaller) are callers of their own."""
        while frame is not None:
            code = frame.f_code
            if classify(code.co_filename) != TRUSTED or not (
                    code.co_filename.endswith(HANDS_ON_FILES) or (code.co_filename, code.co_name) in hands_on):
                break
            frame = frame.f_back
        return frame if frame is not None and classify(frame.f_code.co_filename) == AGENT else None

    def where(frame):
        return f"{frame.f_code.co_filename}:{frame.f_lineno}"

    def flag(detail):
        if len(problems) < 20:
            problems.append(detail)

    def code_kind(obj):
        """Where a function or class comes from (AGENT, TRUSTED or NEUTRAL), read without running
        any of its code: exact types and C-level descriptors only."""
        if type(obj) is MethodType or type(obj) in (staticmethod, classmethod):
            obj = obj.__func__
        if type(obj) is FunctionType:
            return classify(obj.__code__.co_filename)
        if isinstance(obj, type):  # pytest's classes and the repository's own (tests included)
            if any(obj is t for t in s["classes"]):
                return TRUSTED
            files = {function_file(v) for v in list(class_dict(obj).values())}
            if any(f is not None and classify(f) == TRUSTED and realpath(f).startswith(repo + os.sep)
                   for f in files):
                return TRUSTED
            return AGENT if any(f is not None and classify(f) == AGENT for f in files) else NEUTRAL
        return NEUTRAL

    def function_file(value):
        if type(value) in (staticmethod, classmethod):
            value = value.__func__
        return value.__code__.co_filename if type(value) is FunctionType else None

    def type_name(obj):
        return type_qualname(obj) if isinstance(obj, type) else type_qualname(type(obj))

    def path_of(arg):
        if isinstance(arg, bytes):
            arg = os.fsdecode(arg)
        if type(arg) is not str:
            return None
        return realpath(join(os.getcwd(), arg))

    def may_write(path):
        if path is None or "__pycache__" in path or path.endswith(".pyc"):
            return False
        if trusted_repo is not None and path in trusted_repo:
            return False
        return path.startswith(writable)

    def snapshot(name, mapping):
        items = [(k, v) for k, v in list(mapping.items()) if f"{name}.{k}" not in mutable]
        keys, values = tuple(k for k, _ in items), tuple(v for _, v in items)
        # the last state seen to be sound: comparing against it is all C (no id(), which is audited)
        return (name, mapping, keys, values, [tuple(mapping), tuple(mapping.values())])

    def unchanged(mapping, last):
        keys, values = last
        return (len(mapping) == len(keys) and all(map(is_, mapping, keys))
                and all(map(is_, mapping.values(), values)))

    def seen_state(entries):
        """All of these namespaces as they are now, for one C-speed comparison later."""
        maps = tuple(e[1] for e in entries)
        return (entries, maps, tuple(map(len, maps)), tuple(chain.from_iterable(maps)),
                tuple(chain.from_iterable(m.values() for m in maps)))

    def still(state):
        _, maps, lengths, keys, values = state
        return (tuple(map(len, maps)) == lengths and all(map(is_, chain.from_iterable(maps), keys))
                and all(map(is_, chain.from_iterable(m.values() for m in maps), values)))

    def checked(which):
        """integrity() of a group of namespaces, skipped when nothing moved since it last passed."""
        state = s[which]
        if state is not None and still(state):
            return ""
        entries = state[0] if state is not None else s["baseline" if which == "all_state" else "body"]
        problem = integrity(entries)
        if not problem:
            s[which] = seen_state(entries)
        return problem

    def integrity(entries=None):
        """What changed in pytest's, pluggy's and the builtins' namespaces since the baseline
        ("" if nothing). Keys may be added (imports add submodules); baseline keys keep their values."""
        for name, mapping, keys, values, last in s["baseline"] if entries is None else entries:
            if unchanged(mapping, last):
                continue
            live = {}
            for k, v in list(mapping.items()):
                if type(k) is not str:
                    return f"a non-string key was added to {name}"
                live[k] = v
            for key, value in zip(keys, values, strict=True):
                if key not in live:
                    return f"{name}.{key} was deleted"
                if live[key] is not value:
                    return f"{name}.{key} was replaced"
            last[:] = [tuple(live), tuple(live.values())]
        return ""

    def rogue_hooks():
        """A pytest hook implemented by agent code, if one is registered ("" if none)."""
        pm, (_, hook_caller, hook_impl) = s["pm"], s["types"]
        if pm is None:
            return ""
        for name, caller in list(vars(pm.hook).items()):
            if type(name) is not str:
                return "pytest's hook relay was given a non-string name"
            if type(caller) is not hook_caller:
                return f"pytest's hook relay entry {name} was replaced"
            impls = caller._hookimpls
            if type(impls) is not list:
                return f"the {name} hook's implementations were replaced"
            for impl in list(impls):
                if type(impl) is not hook_impl:
                    return f"a {name} implementation is not a pluggy HookImpl"
                function = impl.function
                if checked_impls.get(impl) is function:
                    continue
                if code_kind(function) == AGENT:
                    return f"agent code implements the pytest hook {name} ({impl.plugin_name})"
                checked_impls[impl] = function
        return ""

    def agent_threads():
        me = get_ident()
        for tid, frame in list(current_frames().items()):
            if tid != me:
                found = agent_frame(frame)
                if found is not None:
                    return f"agent code was running in another thread during a test ({where(found)})"
        return ""

    def check_all():
        if not s["baselined"]:
            return "the verifier's baseline of pytest was never taken"
        return (integrity(s["moving"]) or checked("all_state") or rogue_hooks() or agent_threads())

    def arm(plugin_codes, types_):
        s["recorders"], s["types"], s["armed"] = plugin_codes, types_, True

    def take_baseline():
        """Called as pytest loads the first conftest files: pytest has patched itself by now
        (legacypath), and no project code has run yet (checked on every `exec` event)."""
        names = [n for n in list(sys.modules) if n == "builtins" or n.split(".")[0] in
                 ("pytest", "_pytest", "pluggy")]
        baseline, classes = [], []
        for name in names:
            space = vars(sys.modules[name])
            baseline.append(snapshot(name, space))
            for value in list(space.values()):
                # static types (builtins) cannot be changed from Python: nothing to watch
                if isinstance(value, type) and value.__module__ == name and not value.__flags__ & IMMUTABLE:
                    classes.append(value)
                    baseline.append(snapshot(f"{name}.{value.__name__}", class_dict(value)))
        s["baseline"], s["classes"], s["baselined"] = tuple(baseline), tuple(classes), True
        # namespaces pytest rebinds names in are compared one by one; the rest at C speed
        moves = [any(m.startswith(e[0] + ".") and "." not in m[len(e[0]) + 1:] for m in mutable) for e in baseline]
        steady = tuple(e for e, moving in zip(baseline, moves, strict=True) if not moving)
        s["body"] = tuple(e for e in steady if e[0].split(".")[0] in ("builtins", "pytest") or
                          e[0].startswith(BODY_MODULES))
        s["moving"] = tuple(e for e, moving in zip(baseline, moves, strict=True) if moving)
        s["baseline"] = steady

    def start(nodeid, code, caller):
        if type(nodeid) is not str or type(code) is not type(main_code):
            return flag("the plugin was called with forged arguments")
        if agent_frame(caller) is not None:
            return flag(f"agent code started the test {nodeid} ({where(agent_frame(caller))})")
        name = nodeid.rsplit("::", 1)[-1].split("[", 1)[0]
        if classify(code.co_filename) != TRUSTED or (trusted_repo is not None and realpath(
                code.co_filename) not in trusted_repo) or code.co_name != name:
            return flag(f"the function run as {nodeid} is {code.co_name} from {code.co_filename}")
        # what a test body uses (pytest's API, builtins) must be sound as it starts; the whole of
        # pytest is checked when it returns
        problem = checked("body_state") if s["baselined"] else "the verifier's baseline of pytest was never taken"
        if problem:
            return flag(problem)
        s["current"] = nodeid

    def returned(nodeid, caller):
        current, s["current"] = s["current"], None
        if current is None or nodeid != current:
            return flag(f"a result for {nodeid} came from outside its test run")
        found = agent_frame(caller)
        if found is not None:
            return flag(f"agent code was on the stack when {nodeid} returned ({where(found)})")
        problem = check_all()
        if problem:
            return flag(problem)
        if outcomes.get(nodeid) is None:
            outcomes[nodeid] = "p"

    def report(nodeid, when, outcome):
        if type(nodeid) is not str or type(outcome) is not str or type(when) is not str:
            return flag("a test report was forged")
        if outcome == "failed":
            outcomes[nodeid] = "f" if when == "call" else "e"
        elif outcome == "skipped" and outcomes.get(nodeid) is None:
            outcomes[nodeid] = "s"

    def finish(exit_code):
        s["done"] = True  # each pass was checked when it happened; pytest has undone its patches by now
        if canary_pass is not None and (outcomes.get(canary_pass) != "p" or outcomes.get(canary_fail) != "f"):
            flag(f"the verifier's canary tests did not give their known results (must pass: "
                 f"{outcomes.get(canary_pass, 'not run')}, must fail: {outcomes.get(canary_fail, 'not run')})")
        verdict = {"nonce": nonce, "exit": exit_code, "problems": problems,
                   "collect_errors": collect_errors[:20],
                   "requested": "".join(outcomes.get(t, "-") for t in requested or [])}
        if report_all:
            verdict["all"] = {k: v for k, v in outcomes.items() if k not in (canary_pass, canary_fail)}
        payload = dumps(verdict).encode()
        signer = mac.copy()
        signer.update(payload)
        line = b"AGENTGYM-VERDICT " + b64encode(payload) + b" " + signer.hexdigest().encode() + b"\n"
        view = memoryview(line)
        while view:
            view = view[write(channel, view):]
        close(channel)

    def record(args, caller):
        code = caller.f_code
        kind = args[0] if args else None
        if kind == "arm" and code is main_code and not s["armed"]:
            return arm(args[1], args[2])
        if kind == "finish" and code is main_code and not s["done"]:
            return finish(args[1])
        if s["done"] or not s["armed"] or code not in s["recorders"]:
            found = agent_frame(caller)
            return flag(f"a forged verdict record ({where(found or caller)})")
        if kind == "baseline" and not s["baselined"]:
            take_baseline()
        elif kind == "config":
            s["pm"] = args[1] if type(args[1]) is s["types"][0] else None
        elif kind == "start":
            start(args[1], args[2], caller)
        elif kind == "returned":
            returned(args[1], caller)
        elif kind == "report":
            report(args[1], args[2], args[3])
        elif kind == "collect":
            if type(args[1]) is str and len(collect_errors) < 100:
                collect_errors.append(args[1])
        elif kind == "registered":
            problem = rogue_hooks()
            if problem:
                flag(problem)

    def refuse(what, frame):
        flag(f"{what} from {where(frame)}")
        raise RuntimeError(f"agentgym verifier: {what} is not allowed in the code under test")

    def check(event, args):
        if event == EVENT:
            return record(args, getframe(2))
        if event == "open":
            path, mode, flags = args
            if isinstance(mode, str):
                writing = any(c in mode for c in "wax+")
            else:
                writing = bool((flags or 0) & WRITE_FLAGS)
            if isinstance(path, int):
                if not writing or path <= 2:
                    return None
                target = None
            elif writing:
                target = path_of(path)
                if may_write(target):
                    return None
            elif isinstance(path, (str, bytes)) and (b"proc" if isinstance(path, bytes) else "proc") in path:
                target = path_of(path)
                if target is None or not target.startswith("/proc/") or not (
                        "/mem" in target or "/fd/" in target or target.endswith("/environ")):
                    return None
            else:
                return None
            found = agent_frame(getframe(2), stop_at_import=True)
            if found is not None:
                refuse(f"opening {path!r} (mode {mode!r})", found)
            return None
        if event in PATH_EVENTS:
            targets = [path_of(a) for a in args[:2] if isinstance(a, (str, bytes))]
            if all(may_write(t) for t in targets):
                return None
            found = agent_frame(getframe(2), stop_at_import=True)
            if found is not None:
                refuse(f"{event} on {targets}", found)
            return None
        if event in INTROSPECTION or (event == "object.__getattr__" and args[1] in FRAME_ATTRS):
            found = receiver(getframe(2))
            if found is not None:
                refuse(f"{event} {args[1] if event.startswith('object') else ''}".strip(), found)
            return None
        if event == "exec" and not s["baselined"] and type(args[0]) is type(main_code) and classify(
                args[0].co_filename) == AGENT:
            flag(f"agent code ({args[0].co_filename}) ran before pytest was checked")
        if event in ("exec", "compile"):
            found = agent_frame(getframe(2), 1)
            if found is not None:
                refuse(f"{event} of new code", found)
            return None
        if event in ANYWHERE or event.startswith("ctypes."):
            found = agent_frame(getframe(2), stop_at_import=True)
            if found is not None:
                refuse(event, found)
            return None
        if event in ("object.__setattr__", "object.__delattr__"):
            target, name = args[0], args[1]
            owner = type(target) if name == "__class__" else target
            if code_kind(owner) == TRUSTED:
                found = agent_frame(getframe(2), stop_at_import=True)
                if found is not None:
                    refuse(f"setting {name} of {type_name(owner)}", found)
        return None

    def hook(event, args):
        me = get_ident()
        if me in busy:  # our own look-ups (frames, code objects) raise events too
            if event not in ("sys._getframe", "object.__getattr__", "sys._current_frames", "builtins.id", EVENT):
                flag(f"code ran inside the verifier's audit hook ({event})")
                raise RuntimeError("agentgym verifier: not allowed here")
            return
        busy.add(me)
        try:
            check(event, args)
        finally:
            busy.discard(me)

    return hook


def make_plugin(pytest, audit=sys.audit):
    """The pytest plugin: reports facts to the audit hook, holds nothing the verdict depends on."""
    from types import FunctionType, MethodType

    from _pytest.unittest import TestCaseFunction

    class Plugin:
        def pytest_load_initial_conftests(self, _audit=audit, _ev=EVENT):
            _audit(_ev, "baseline")

        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(self, config, _audit=audit, _ev=EVENT):
            _audit(_ev, "config", config.pluginmanager)

        @pytest.hookimpl(tryfirst=True)
        def pytest_pyfunc_call(self, pyfuncitem, _audit=audit, _ev=EVENT, _types=(FunctionType, MethodType)):
            function = pyfuncitem.obj
            if type(function) not in _types:
                return None  # pytest's own call then runs it; without our record it never passes
            code = (function.__func__ if type(function) is _types[1] else function).__code__
            if code.co_flags & 0x3A0:  # coroutine or generator: pytest's default skips these
                return None
            nodeid = pyfuncitem.nodeid
            arguments = {arg: pyfuncitem.funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
            _audit(_ev, "start", nodeid, code)
            function(**arguments)
            _audit(_ev, "returned", nodeid)
            return True

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_call(self, item, _audit=audit, _ev=EVENT, _method=MethodType, _case=TestCaseFunction):
            """unittest cases do not go through pyfunc_call: their method is wrapped instead."""
            if type(item) is not _case:
                return
            method = item.obj
            if type(method) is not _method or method.__func__.__code__.co_flags & 0x3A0:
                return
            code, nodeid = method.__func__.__code__, item.nodeid

            def run_case(*args, **kwargs):
                _audit(_ev, "start", nodeid, code)
                result = method(*args, **kwargs)
                _audit(_ev, "returned", nodeid)
                return result

            item._obj = run_case

        def pytest_runtest_logreport(self, report, _audit=audit, _ev=EVENT):
            _audit(_ev, "report", report.nodeid, report.when, report.outcome)

        def pytest_collectreport(self, report, _audit=audit, _ev=EVENT):
            if report.failed:
                _audit(_ev, "collect", report.nodeid or "<collection>")

        def pytest_plugin_registered(self, plugin, _audit=audit, _ev=EVENT):
            _audit(_ev, "registered")

    codes = [f.__code__ for f in vars(Plugin).values() if type(f) is FunctionType]
    codes += [c for code in codes for c in code.co_consts if type(c) is type(code)]  # run_case
    codes = frozenset(codes)
    return Plugin(), codes


def main():
    secret = read_exactly(0, 32)
    plan = json.loads(read_line(0))
    import _hashlib

    mac = _hashlib.hmac_new(secret, digestmod="sha256")
    secret[:] = bytes(32)
    del secret
    make_non_dumpable()
    channel = os.dup(1)  # not inheritable: no child process gets it
    os.dup2(2, 1)
    # no .pyc is written; the agent's own are never replayed (listing skips __pycache__, the
    # audit flags .pyc files) and agent code may not write one here (see may_write)
    sys.dont_write_bytecode = True
    sys.path[:] = [*plan["sys_path"], *[p for p in sys.path if p]]
    os.chdir(plan["repo"])
    sys.addaudithook(make_hook(mac, plan, channel, main.__code__))
    del mac
    import pluggy
    import pytest
    from _pytest.config import PytestPluginManager

    plugin, codes = make_plugin(pytest)
    types_ = (PytestPluginManager, pluggy.HookCaller, pluggy.HookImpl)
    sys.audit(EVENT, "arm", codes, types_)
    sys.argv = [sys.argv[0]]
    try:
        code = int(pytest.main(plan["args"], plugins=[plugin]))
    except BaseException as e:  # noqa: BLE001 - the project's code ended pytest: say so, score it
        print(f"agentgym: pytest ended with {type(e).__name__}: {e}", file=sys.stderr)
        code = -1
    for stream in (sys.__stdout__, sys.__stderr__):  # os._exit below skips the usual flush
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    sys.audit(EVENT, "finish", code)
    os._exit(0)


if __name__ == "__main__":
    main()
