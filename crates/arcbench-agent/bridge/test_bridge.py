"""End-to-end tests of arcbench_bridge.py: a real Aider 0.86.2 against a local fake Messages API.

Needs:
  FAKE_CLAUDE_URL       base URL of a running fake-claude (tests/fake-claude, e.g.
                        `fake-claude --port 0 --print-port`), scripted through /_control/*.
                        Without it every test is skipped.
  ARCBENCH_AIDER_PYTHON python of the venv made by scripts/setup-aider.sh (optional: defaults to
                        this interpreter if it imports aider, else the script's default venv).
  pytest and jsonschema (any Python >= 3.10); the bridge itself runs under the Aider venv's
                        python.
  protocol.schema.json  next to the bridge, generated from the Rust host's protocol types
                        (crates/arcbench-agent/src/aider/protocol.rs): {"protocol": N,
                        "commands": <JSON Schema>, "events": <JSON Schema>}. Every event the
                        bridge emits and every well-formed command a test sends is validated
                        against it, so the Rust types stay the one definition of the protocol.
                        Missing = every test fails (never skipped).

The fake server is shared and reset per test, so these tests must not run in parallel.
Run:  FAKE_CLAUDE_URL=http://127.0.0.1:PORT python -m pytest crates/arcbench-agent/bridge -v
"""

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

HERE = Path(__file__).resolve().parent
BRIDGE = HERE / "arcbench_bridge.py"
MODEL = "claude-sonnet-4-5"
WEAK = "claude-haiku-4-5"
STARTUP_TIMEOUT = 90  # import aider + litellm: ~3 s on an idle 2-core machine, more when busy
TERMINAL = ("done", "cancelled", "failed")


def _load_protocol_schema():
    """The protocol version and the validators for one command line and one event line.
    Loaded at import, and fails the whole module when the schema is missing or broken: the
    tests are the check that the bridge and the Rust host agree, so running them without the
    schema would prove nothing."""
    path = HERE / "protocol.schema.json"
    if not path.is_file():
        raise RuntimeError(
            f"{path} is missing: it is generated from the Rust host's protocol types "
            "(UPDATE_SCHEMA=1 cargo test -p arcbench-agent --test protocol_schema)"
        )
    doc = json.loads(path.read_text(encoding="utf-8"))
    validators = []
    for side in ("commands", "events"):
        schema = doc[side]
        Draft202012Validator.check_schema(schema)
        validators.append(Draft202012Validator(schema))
    return (doc["protocol"], *validators)


PROTOCOL, COMMANDS, EVENTS = _load_protocol_schema()


def schema_error(validator, obj):
    """The most relevant reason `obj` does not match, or None."""
    err = best_match(validator.iter_errors(obj))
    if err is None:
        return None
    if err.validator == "oneOf":
        # "not valid under any of the given schemas" says little: report what the variant with
        # the line's own tag objects to (the other variants fail on the tag's `const`).
        other = {e.relative_schema_path[0] for e in err.context if e.validator == "const"}
        own = [e for e in err.context if e.relative_schema_path[0] not in other]
        if own:
            err = best_match(own)
    return f"{err.message} (at {list(err.absolute_path)})"


FAKE_URL = os.environ.get("FAKE_CLAUDE_URL", "").rstrip("/")
pytestmark = pytest.mark.skipif(
    not FAKE_URL,
    reason="FAKE_CLAUDE_URL is not set: start tests/fake-claude "
    "(fake-claude --port 0 --print-port) and export its base URL",
)


def _aider_python():
    explicit = os.environ.get("ARCBENCH_AIDER_PYTHON")
    if explicit:
        return explicit
    try:
        import aider  # noqa: F401  (only: can this interpreter run the bridge?)

        return sys.executable
    except ImportError:
        pass
    data = os.environ.get("ARCBENCH_DATA_DIR")
    if data:
        venv = Path(data) / "aider-venv"
    else:
        home_share = os.path.join(os.path.expanduser("~"), ".local/share")
        base = os.environ.get("XDG_DATA_HOME") or home_share
        venv = Path(base) / "arcbench" / "aider-venv"
    py = venv / "bin" / "python"
    return str(py) if py.exists() else None


# -- the fake server ----------------------------------------------------------------------------


class Fake:
    def __init__(self, url):
        self.url = url

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def reset(self):
        self._call("POST", "/_control/reset", {})

    def push(self, *replies):
        # One reply per call: the order of a batch is the server's business, this is not.
        for reply in replies:
            self._call("POST", "/_control/replies", reply)

    def requests(self):
        return [r for r in self._call("GET", "/_control/requests") if r["path"] == "/v1/messages"]

    def bodies(self):
        """Every request body the server received (any path), as one JSON text to search."""
        return json.dumps([r["body"] for r in self._call("GET", "/_control/requests")])

    def wait_requests(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            reqs = self.requests()
            if len(reqs) >= n:
                return reqs
            time.sleep(0.02)
        raise AssertionError(f"server saw {len(self.requests())} requests, expected {n}")


def text_reply(text, usage=None, **kw):
    reply = {"kind": "text", "text": text}
    if usage is not None:
        reply["usage"] = usage
    reply.update(kw)
    return reply


def usage(inp, out, cw=0, cr=0):
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
    }


def message_text(message):
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


def all_text(request):
    return "\n".join(message_text(m) for m in request["messages"])


# -- the bridge process -------------------------------------------------------------------------


class BridgeProc:
    def __init__(self, root, home, extra_env=None, args=()):
        py = _aider_python()
        if not py:
            pytest.skip("no Aider venv: run scripts/setup-aider.sh or set ARCBENCH_AIDER_PYTHON")
        # A clean environment the host controls: nothing from the developer's shell leaks in.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "ANTHROPIC_API_KEY": "sk-test-key",
            "ANTHROPIC_API_BASE": FAKE_URL,
            "ANTHROPIC_BASE_URL": FAKE_URL,
            "ARCBENCH_RETRY_TIMEOUT": "1",
        }
        for key, value in (extra_env or {}).items():
            if value is None:
                env.pop(key, None)  # None: leave this variable out
            else:
                env[key] = value
        cmd = [py, str(BRIDGE), "--root", str(root), "--model", MODEL, "--weak-model", WEAK]
        cmd += ["--map-tokens", "0", *args]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.events = queue.Queue()
        self.bad_lines = []
        self.invalid = []  # events the protocol schema rejects, with the reason
        self.stderr = []
        self.history = []
        self.stdout_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.stdout_reader.start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.ready = self.expect("ready", timeout=STARTUP_TIMEOUT)
        self.ready_after = time.monotonic() - self.started

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8")
            try:
                ev = json.loads(line)
                assert isinstance(ev, dict) and "event" in ev
            except Exception:
                self.bad_lines.append(line)
                continue
            problem = schema_error(EVENTS, ev)
            if problem:
                self.invalid.append(f"{problem}: {line.strip()[:300]}")
            ev["_t"] = time.monotonic()
            self.events.put(ev)
        self.events.put(None)

    def _read_stderr(self):
        for raw in self.proc.stderr:
            self.stderr.append(raw.decode("utf-8", "replace"))

    def send(self, obj):
        """Send a well-formed command: it must match the protocol schema."""
        problem = schema_error(COMMANDS, obj)
        assert problem is None, f"the test sends an invalid command {obj}: {problem}"
        return self.send_raw(json.dumps(obj))

    def send_invalid(self, obj):
        """Send a malformed command on purpose. The schema must reject it as well: the bridge
        and the Rust types agree on what is not a command."""
        assert schema_error(COMMANDS, obj) is not None, f"the schema accepts {obj}"
        return self.send_raw(json.dumps(obj))

    def send_raw(self, line):
        """Send a line as it is (not even JSON, perhaps): malformed on purpose."""
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        return time.monotonic()

    def next(self, timeout=30):
        try:
            ev = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s; stderr tail:\n{self.stderr_tail()}")
        if ev is None:
            code = self.proc.poll()
            raise AssertionError(f"bridge exited ({code}); stderr:\n{self.stderr_tail()}")
        assert not self.invalid, f"events outside the protocol schema: {self.invalid[:3]}"
        self.history.append(ev)
        return ev

    def expect(self, name, timeout=30, **match):
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next(max(0.01, deadline - time.monotonic()))
            if ev["event"] == "fatal":
                raise AssertionError(f"bridge fatal: {ev}\n{self.stderr_tail()}")
            if ev["event"] == name and all(ev.get(k) == v for k, v in match.items()):
                return ev

    def run(self, pid, text, files=None, timeout=60):
        """Send a prompt and collect its events up to and including the terminal one."""
        self.send({"op": "prompt", "id": pid, "text": text, "files": files or []})
        return self.collect(pid, timeout)

    def collect(self, pid, timeout=60):
        out = []
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next(max(0.01, deadline - time.monotonic()))
            if ev.get("id") == pid:
                out.append(ev)
                if ev["event"] in TERMINAL:
                    # Every prompt that ran sends its history right before its terminal event.
                    if not is_busy(ev):
                        assert len(out) > 1 and out[-2]["event"] == "history", out[-3:]
                    return out

    def stderr_tail(self, n=40):
        return "".join(self.stderr[-n:])

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send({"op": "shutdown"})
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        self.stdout_reader.join(timeout=10)  # every line read, so every line validated
        assert not self.bad_lines, f"non-JSON lines on the protocol channel: {self.bad_lines[:3]}"
        assert not self.invalid, f"events outside the protocol schema: {self.invalid[:3]}"


def texts(events):
    return "".join(e["chunk"] for e in events if e["event"] == "text")


def of(events, name):
    return [e for e in events if e["event"] == name]


def is_busy(ev):
    return ev["event"] == "failed" and ev["reason"].startswith("busy:")


def history_of(events):
    """The `history` event of one prompt's events (collect() checks it precedes the end)."""
    [h] = of(events, "history")
    return h


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def git(root, *args):
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def fake():
    f = Fake(FAKE_URL)
    f.reset()
    yield f
    f.reset()


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "user.name", "test")
    (root / "hello.py").write_text("def hello():\n    return 1\n")
    (root / "other.py").write_text("VALUE = 42\n")
    # A repository's .env must not redirect the API: the bridge never loads it.
    (root / ".env").write_text("ANTHROPIC_API_BASE=http://127.0.0.1:9\nANTHROPIC_API_KEY=evil\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    return root


@pytest.fixture
def start(repo, tmp_path):
    procs = []

    def _start(root=None, **kw):
        home = tmp_path / f"home{len(procs)}"
        home.mkdir()
        b = BridgeProc(root or repo, home, **kw)
        procs.append(b)
        return b

    yield _start
    for b in procs:
        b.close()


def edit_block(path, search, replace):
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


# -- tests --------------------------------------------------------------------------------------


def test_ready_then_two_prompts_keep_history(fake, start, repo):
    b = start()
    assert b.ready["aider_version"] == "0.86.2"
    assert b.ready["model"] == MODEL and b.ready["weak_model"] == WEAK
    assert b.ready["protocol"] == PROTOCOL == 2 and b.ready["usage_capture"] is True
    assert b.ready["root"] == str(repo.resolve())
    # Aider's tag cache must not show up as an untracked file in the session's diff
    assert ".aider*" in (repo / ".git" / "info" / "exclude").read_text().splitlines()

    fake.push(text_reply("First answer: blue.", usage(1200, 7, 300, 50)))
    ev1 = b.run("p1", "What colour is the sky? (question one)")
    assert ev1[-1]["event"] == "done"
    assert texts(ev1) == "First answer: blue."
    [u1] = of(ev1, "usage")
    assert {k: u1[k] for k in usage(0, 0)} == usage(1200, 7, 300, 50)
    assert u1["model"] == MODEL and u1["partial"] is False and u1["background"] is False
    # usage comes before the terminal event
    assert ev1.index(u1) < len(ev1) - 1

    fake.push(text_reply("Second answer.", usage(1500, 3)))
    ev2 = b.run("p2", "And the grass? (question two)")
    assert ev2[-1]["event"] == "done" and texts(ev2) == "Second answer."

    reqs = fake.requests()
    assert len(reqs) == 2
    for r in reqs:
        assert r["api_key"] == "sk-test-key"  # not the repo's .env
        assert r["stream"] is True and r["model"] == MODEL
    second = all_text(reqs[1])
    assert "question one" in second and "First answer: blue." in second
    assert "question two" in second


def test_edit_in_diff_format_writes_the_file(fake, start, repo):
    b = start()
    head = git(repo, "rev-parse", "HEAD")
    reply = "Changing it.\n\n" + edit_block("hello.py", "    return 1\n", "    return 2\n")
    fake.push(text_reply(reply))
    ev = b.run("e1", "make hello return 2", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    assert [(e["id"], e["paths"]) for e in of(ev, "files_written")] == [("e1", ["hello.py"])]
    assert (repo / "hello.py").read_text() == "def hello():\n    return 2\n"
    assert git(repo, "rev-parse", "HEAD") == head  # no commit
    [req] = fake.requests()
    assert "def hello():" in all_text(req)  # the file was in the chat


def test_new_file_is_created_and_reported(fake, start, repo):
    b = start()
    reply = "Adding a module.\n\n" + edit_block("pkg/newmod.py", "", "X = 1\n")
    fake.push(text_reply(reply))
    ev = b.run("n1", "create pkg/newmod.py with X = 1")
    assert ev[-1]["event"] == "done", ev
    confirms = of(ev, "confirm")
    assert any(c["question"].startswith("Create new file") and c["subject"] == "pkg/newmod.py"
               and c["answer"] is True for c in confirms), confirms
    written = [p for e in of(ev, "files_written") for p in e["paths"]]
    assert written == ["pkg/newmod.py"]
    assert (repo / "pkg" / "newmod.py").read_text() == "X = 1\n"
    assert "pkg/newmod.py" in git(repo, "diff", "--cached", "--name-only")  # Aider git-adds it


def test_mentioned_file_is_added_and_followed_up(fake, start, repo):
    b = start()
    fake.push(
        text_reply("To do that I need to see other.py first.", usage(900, 12)),
        text_reply("Thanks, VALUE is 42.", usage(1000, 8)),
    )
    ev = b.run("a1", "what is VALUE?")
    assert ev[-1]["event"] == "done", ev
    [c] = of(ev, "confirm")
    assert c["question"].startswith("Add file to the chat") and c["subject"] == "other.py"
    assert c["answer"] is True
    [d] = of(ev, "text_discarded")
    assert d["reason"] == "reflection"
    # the text after the discard is the final answer
    after = ev[ev.index(d):]
    assert texts(after) == "Thanks, VALUE is 42."
    reqs = fake.requests()
    assert len(reqs) == 2
    assert "VALUE = 42" in all_text(reqs[1]) and "VALUE = 42" not in all_text(reqs[0])
    counts = [(u["input_tokens"], u["output_tokens"]) for u in of(ev, "usage")]
    assert counts == [(900, 12), (1000, 8)]


def test_failed_search_is_reflected_and_only_real_writes_are_reported(fake, start, repo):
    b = start()
    bad = "Trying.\n\n" + edit_block("hello.py", "    return 999\n", "    return 3\n")
    good = "Fixed.\n\n" + edit_block("hello.py", "    return 1\n", "    return 3\n")
    fake.push(text_reply(bad), text_reply(good))
    ev = b.run("r1", "make hello return 3", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    d = of(ev, "text_discarded")
    assert [x["reason"] for x in d] == ["reflection"]
    fw = of(ev, "files_written")
    assert [e["paths"] for e in fw] == [["hello.py"]]
    assert ev.index(fw[0]) > ev.index(d[0])  # nothing written by the failed block
    assert (repo / "hello.py").read_text() == "def hello():\n    return 3\n"
    assert len(fake.requests()) == 2


def test_401_fails_at_once_without_retry(fake, start):
    b = start(extra_env={"ARCBENCH_RETRY_TIMEOUT": "60"})
    fake.push({"kind": "http_error", "status": 401, "message": "invalid x-api-key"})
    t0 = b.send({"op": "prompt", "id": "x1", "text": "hi", "files": []})
    ev = b.collect("x1", timeout=30)
    elapsed = ev[-1]["_t"] - t0
    assert ev[-1]["event"] == "failed", ev
    assert ev[-1]["status"] == 401
    assert ev[-1]["error_type"] == "authentication_error"
    assert "invalid x-api-key" in ev[-1]["reason"]
    assert elapsed < 2.0, elapsed
    assert not of(ev, "usage")
    time.sleep(0.3)
    assert len(fake.requests()) == 1


def test_500_then_success_is_retried(fake, start):
    b = start(extra_env={"ARCBENCH_RETRY_TIMEOUT": "1"})
    fake.push({"kind": "http_error", "status": 500}, text_reply("Recovered.", usage(10, 2)))
    ev = b.run("s1", "hi")
    assert ev[-1]["event"] == "done", ev
    assert texts(ev) == "Recovered."
    assert len(of(ev, "usage")) == 1  # the 500 carried no usage
    assert any("Retrying" in e["line"] for e in of(ev, "log"))
    assert not of(ev, "text_discarded")  # nothing was streamed before the retry
    assert len(fake.requests()) == 2


def test_stream_error_midway_discards_partial_text(fake, start):
    b = start(extra_env={"ARCBENCH_RETRY_TIMEOUT": "1"})
    fake.push(
        {"kind": "stream_error", "text": "Partial answer that will", "after_chunks": 1,
         "chunk_chars": 8},
        text_reply("Complete answer.", usage(20, 4)),
    )
    ev = b.run("s2", "hi")
    assert ev[-1]["event"] == "done", ev
    [d] = of(ev, "text_discarded")
    assert d["reason"] == "retry"
    assert texts(ev[: ev.index(d)]) == "Partial "
    assert texts(ev[ev.index(d):]) == "Complete answer."
    us = of(ev, "usage")
    assert [u["partial"] for u in us] == [True, False]  # the cut stream had message_start usage
    assert (us[1]["input_tokens"], us[1]["output_tokens"]) == (20, 4)


def test_retries_exhausted_fail_with_the_api_message(fake, start):
    b = start(extra_env={"ARCBENCH_RETRY_TIMEOUT": "0"})
    fake.push({"kind": "http_error", "status": 529, "message": "Overloaded"})
    ev = b.run("o1", "hi")
    assert ev[-1]["event"] == "failed", ev
    assert ev[-1]["status"] == 529 and "Overloaded" in ev[-1]["reason"]
    assert len(fake.requests()) == 1


def _assert_usable_after_cancel(b, fake):
    fake.push(text_reply("Still here."))
    ev = b.run("after", "are you there?")
    assert ev[-1]["event"] == "done" and texts(ev) == "Still here."


def test_cancel_mid_stream_by_command(fake, start):
    b = start()
    fake.push(text_reply("word " * 200, chunk_chars=5, chunk_delay_ms=100))
    b.send({"op": "prompt", "id": "c1", "text": "talk a lot", "files": []})
    b.expect("text", id="c1", timeout=30)
    t0 = b.send({"op": "cancel", "id": "c1"})
    ev = b.collect("c1", timeout=10)
    assert ev[-1]["event"] == "cancelled", ev
    assert ev[-1]["_t"] - t0 < 1.0, ev[-1]["_t"] - t0
    _assert_usable_after_cancel(b, fake)


def test_cancel_during_hang_by_command(fake, start):
    b = start()
    fake.push({"kind": "hang"})
    b.send({"op": "prompt", "id": "h1", "text": "hang please", "files": []})
    fake.wait_requests(1)
    time.sleep(0.2)
    t0 = b.send({"op": "cancel", "id": "h1"})
    ev = b.collect("h1", timeout=10)
    assert ev[-1]["event"] == "cancelled", ev
    assert ev[-1]["_t"] - t0 < 1.0, ev[-1]["_t"] - t0
    assert not of(ev, "usage")
    _assert_usable_after_cancel(b, fake)


def test_cancel_by_sigint_mid_stream_and_during_hang(fake, start):
    b = start()
    fake.push(text_reply("word " * 200, chunk_chars=5, chunk_delay_ms=100))
    b.send({"op": "prompt", "id": "g1", "text": "talk", "files": []})
    b.expect("text", id="g1", timeout=30)
    t0 = time.monotonic()
    b.proc.send_signal(signal.SIGINT)
    ev = b.collect("g1", timeout=10)
    assert ev[-1]["event"] == "cancelled" and ev[-1]["_t"] - t0 < 1.0
    # a stream cut by cancel still reports what the server said in message_start
    assert [u["partial"] for u in of(ev, "usage")] == [True]

    fake.push({"kind": "hang"})
    b.send({"op": "prompt", "id": "g2", "text": "hang", "files": []})
    fake.wait_requests(2)
    time.sleep(0.2)
    t0 = time.monotonic()
    b.proc.send_signal(signal.SIGINT)
    ev = b.collect("g2", timeout=10)
    assert ev[-1]["event"] == "cancelled" and ev[-1]["_t"] - t0 < 1.0
    # two SIGINTs in quick succession must not end the process (Aider's ^C ^C exit)
    assert b.proc.poll() is None
    b.proc.send_signal(signal.SIGINT)  # idle: ignored
    time.sleep(0.2)
    assert b.proc.poll() is None
    _assert_usable_after_cancel(b, fake)


def test_cancel_names_the_running_prompt_or_none(fake, start):
    b = start()
    fake.push({"kind": "hang"})
    b.send({"op": "prompt", "id": "q1", "text": "hang", "files": []})
    fake.wait_requests(1)
    b.send({"op": "cancel", "id": "q2"})  # not the running prompt: a warning, q1 runs on
    e = b.expect("log", level="warning", timeout=5)
    assert "unknown or finished prompt id 'q2'" in e["line"], e
    b.send({"op": "cancel"})  # no id: whatever runs
    ev = b.collect("q1", timeout=5)
    assert ev[-1]["event"] == "cancelled", ev
    b.send({"op": "cancel"})  # nothing runs any more
    assert "no prompt is running" in b.expect("log", level="warning", timeout=5)["line"]
    assert len(fake.requests()) == 1
    assert not of(b.history, "failed") and len(of(b.history, "cancelled")) == 1


def test_protocol_errors_are_logged_and_survived(fake, start):
    b = start()
    b.send_raw("this is not json")
    e = b.expect("log", level="error", timeout=5)
    assert "not JSON" in e["line"]
    b.send_invalid({"op": "dance", "id": "z"})
    e = b.expect("log", level="error", timeout=5)
    assert "unknown op" in e["line"] and e["id"] == "z"
    b.send_invalid({"op": "prompt", "text": "no id"})
    assert "id" in b.expect("log", level="error", timeout=5)["line"]
    b.send_invalid({"op": "prompt", "id": "bad-files", "text": "x", "files": "hello.py"})
    assert b.expect("log", level="error", timeout=5)["id"] == "bad-files"
    fake.push(text_reply("ok"))
    ev = b.run("fine", "hello", files=["../outside.py"])
    assert ev[-1]["event"] == "done"
    assert any("outside the worktree" in e["line"] for e in of(ev, "log"))


def test_weak_model_summary_usage_is_reported(fake, start, repo):
    """A long exchange with an edit makes Aider summarize history with the weak model
    (non-streaming, on a background thread): its usage must be reported with the server's
    numbers, before `done`."""
    b = start()
    filler = "This line is here only to make the chat history long. " * 800  # ~11k tokens
    reply = filler + "\n\n" + edit_block("hello.py", "    return 1\n", "    return 5\n")
    fake.push(
        text_reply(reply, usage(3000, 11000, 0, 2500), chunk_chars=0),
        text_reply("Summary: the user asked to change hello.", usage(11111, 22, 333, 444)),
    )
    ev = b.run("w1", "change hello to return 5", files=["hello.py"], timeout=120)
    assert ev[-1]["event"] == "done", ev
    us = of(ev, "usage")
    assert len(us) == 2, us
    main, weak = us
    assert main["model"] == MODEL and main["background"] is False
    assert {k: main[k] for k in usage(0, 0)} == usage(3000, 11000, 0, 2500)
    assert weak["model"] == WEAK and weak["background"] is True and weak["partial"] is False
    assert {k: weak[k] for k in usage(0, 0)} == usage(11111, 22, 333, 444)
    reqs = fake.requests()
    assert [(r["model"], r["stream"]) for r in reqs] == [(MODEL, True), (WEAK, False)]


def test_shutdown_cancels_the_running_prompt_then_exits(fake, start):
    b = start()
    fake.push({"kind": "hang"})
    b.send({"op": "prompt", "id": "s1", "text": "hang", "files": []})
    fake.wait_requests(1)
    t0 = b.send({"op": "shutdown"})
    ev = b.collect("s1", timeout=5)
    assert ev[-1]["event"] == "cancelled", ev
    assert b.proc.wait(timeout=5) == 0
    assert time.monotonic() - t0 < 2.0


def test_stdin_eof_means_shutdown(fake, start):
    b = start()
    b.proc.stdin.close()
    assert b.proc.wait(timeout=5) == 0


def test_unreachable_api_fails_with_a_reason(fake, start):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    b = start(extra_env={"ANTHROPIC_API_BASE": "http://127.0.0.1:9",
                         "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
                         "ARCBENCH_RETRY_TIMEOUT": "0"})
    ev = b.run("u1", "hi", timeout=60)
    assert ev[-1]["event"] == "failed", ev
    assert "Connection refused" in ev[-1]["reason"] and ev[-1]["status"] is None, ev[-1]
    assert not of(ev, "usage")


def test_works_in_a_git_worktree(fake, start, repo, tmp_path):
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "session-1", str(wt))
    b = start(root=wt)
    fake.push(text_reply("Done.\n\n" + edit_block("hello.py", "    return 1\n", "    return 7\n")))
    ev = b.run("wt1", "make it 7", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    assert (wt / "hello.py").read_text() == "def hello():\n    return 7\n"
    assert (repo / "hello.py").read_text() == "def hello():\n    return 1\n"
    assert [e["paths"] for e in of(ev, "files_written")] == [["hello.py"]]
    # info/exclude lives in the common git dir, shared by all worktrees
    assert ".aider*" in (repo / ".git" / "info" / "exclude").read_text().splitlines()


def test_bad_root_is_a_fatal_event(tmp_path):
    py = _aider_python()
    if not py:
        pytest.skip("no Aider venv: run scripts/setup-aider.sh or set ARCBENCH_AIDER_PYTHON")
    res = subprocess.run(
        [py, str(BRIDGE), "--root", str(tmp_path / "missing"), "--model", MODEL],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        timeout=60,
    )
    assert res.returncode == 1
    lines = res.stdout.decode().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["event"] == "fatal"
    assert schema_error(EVENTS, json.loads(lines[0])) is None, lines[0]
    assert "not a directory" in json.loads(lines[0])["reason"]


def test_cancel_while_waiting_for_a_hung_summary(fake, start, repo):
    b = start()
    filler = "This line is here only to make the chat history long. " * 800
    reply = filler + "\n\n" + edit_block("hello.py", "    return 1\n", "    return 6\n")
    fake.push(text_reply(reply, chunk_chars=0), {"kind": "hang"})
    b.send({"op": "prompt", "id": "hs", "text": "change it", "files": ["hello.py"]})
    fake.wait_requests(2, timeout=60)  # the weak model's summary request is hanging
    time.sleep(0.2)
    t0 = b.send({"op": "cancel", "id": "hs"})
    ev = b.collect("hs", timeout=10)
    assert ev[-1]["event"] == "cancelled" and ev[-1]["_t"] - t0 < 1.0
    assert [e["paths"] for e in of(ev, "files_written")] == [["hello.py"]]  # the edit stands
    # the abandoned summary thread must not block the next prompt
    _assert_usable_after_cancel(b, fake)


def test_usage_of_a_summary_that_outlives_its_cancelled_prompt_has_no_id(fake, start, repo):
    """The bridge stops waiting for a summary when its prompt is cancelled. If the summary
    request is answered after the prompt's terminal event, its usage comes without an id:
    nothing may follow a prompt's terminal event under its id, and the next prompt did not
    ask for it. (A hung summary, as in the test above, is never answered: no usage at all.)"""
    b = start()
    filler = "This line is here only to make the chat history long. " * 800
    reply = filler + "\n\n" + edit_block("hello.py", "    return 1\n", "    return 6\n")
    fake.push(
        text_reply(reply, chunk_chars=0),
        text_reply("Summary: late.", usage(5000, 10), first_token_delay_ms=2000),
    )
    b.send({"op": "prompt", "id": "ls", "text": "change it", "files": ["hello.py"]})
    fake.wait_requests(2, timeout=60)  # the summary request is under way, answered in 2 s
    time.sleep(0.2)
    b.send({"op": "cancel", "id": "ls"})
    ev = b.collect("ls", timeout=10)
    assert ev[-1]["event"] == "cancelled", ev
    assert [u["background"] for u in of(ev, "usage")] == [False]
    late = b.expect("usage", timeout=10, background=True)  # validated against the schema
    assert "id" not in late, late
    assert late["model"] == WEAK and (late["input_tokens"], late["output_tokens"]) == (5000, 10)
    _assert_usable_after_cancel(b, fake)


# -- the worktree boundary ----------------------------------------------------------------------
# The repository sits in tmp_path/repo; tmp_path/outside holds what the agent must never read or
# change. Aider follows symlinks and `../` paths on its own: each test below fails without the
# bridge's boundary (files are touched, written or git-added outside, or the secret is sent).


class Outside:
    def __init__(self, tmp_path):
        self.dir = tmp_path / "outside"
        self.dir.mkdir()
        self.token = secrets.token_hex(8)
        self.secret = f"TOP-SECRET-{self.token}"
        self.secret_file = self.dir / "secret.txt"
        self.secret_file.write_text(self.secret + "\n")
        self.target = self.dir / "target.txt"
        self.target.write_bytes(b"target line one\ntarget line two\n")

    def listing(self):
        return sorted(p.name for p in self.dir.iterdir())


@pytest.fixture
def outside(tmp_path):
    return Outside(tmp_path)


def commit_symlink(repo, name, target):
    os.symlink(target, repo / name)
    git(repo, "add", name)
    git(repo, "commit", "-qm", f"symlink {name}")


def refusals(events, action=None):
    return [e for e in events if e["event"] == "refused" and action in (None, e["action"])]


def assert_refused(events, action, path, pid):
    found = [e for e in refusals(events, action) if e["path"] == path]
    assert len(found) == 1, refusals(events)
    assert found[0]["id"] == pid and "outside the worktree" in found[0]["reason"], found[0]
    assert set(found[0]) == {"event", "id", "action", "path", "reason", "_t"}, found[0]
    return found[0]


def test_edit_through_a_symlinked_file_is_refused(fake, start, repo, outside):
    commit_symlink(repo, "link.txt", str(outside.target))
    before = outside.target.read_bytes()
    b = start()

    # 1. "link.txt" is a tracked name the reply mentions: unguarded, Aider adds it to the chat
    #    (reading the target) and asks again, up to its reflection limit: the resolved path
    #    never counts as link.txt being in the chat. Guarded: the add, the read for matching
    #    the SEARCH block and the write are refused, and there is no second request.
    reply = "Editing it.\n\n" + edit_block("link.txt", "target line one\n", "PWNED\n")
    fake.push(text_reply(reply))
    ev = b.run("l1", "change the first line of link.txt")
    assert outside.target.read_bytes() == before
    # The model answered: the prompt is done, the refused edit is simply not applied.
    assert ev[-1]["event"] == "done", ev
    assert len(fake.requests()) == 1
    e = assert_refused(ev, "write", "link.txt", "l1")
    assert f"resolves to {outside.target.resolve()}" in e["reason"] and "symlink" in e["reason"]
    assert_refused(ev, "add", "link.txt", "l1")
    # Aider reads and writes the path it resolved itself.
    assert_refused(ev, "read", str(outside.target.resolve()), "l1")
    assert not of(ev, "files_written")
    assert any("refused to write 'link.txt'" in e["line"] for e in of(ev, "log"))

    # 2. "./link.txt" is no mention of a tracked name, so unguarded Aider goes straight to the
    #    edit: allowed_to_edit says yes and the write goes through the link.
    fake.reset()
    reply = "Editing it.\n\n" + edit_block("./link.txt", "target line one\n", "PWNED\n")
    fake.push(text_reply(reply))
    ev = b.run("l2", "change the first line of ./link.txt")
    assert outside.target.read_bytes() == before
    assert ev[-1]["event"] == "done", ev
    assert_refused(ev, "write", "./link.txt", "l2")
    assert not of(ev, "confirm") and not of(ev, "files_written")
    assert outside.listing() == ["secret.txt", "target.txt"]
    assert os.readlink(repo / "link.txt") == str(outside.target)
    assert git(repo, "status", "--porcelain") == ""


def test_edits_through_a_symlinked_folder_are_refused(fake, start, repo, outside):
    commit_symlink(repo, "sub", str(outside.dir))
    before = outside.target.read_bytes()
    b = start()
    reply = (
        "Two changes.\n\n"
        + edit_block("sub/new.txt", "", "created outside\n")
        + "\n"
        + edit_block("sub/target.txt", "target line two\n", "PWNED\n")
    )
    fake.push(text_reply(reply))
    ev = b.run("f1", "create sub/new.txt and change sub/target.txt")
    assert ev[-1]["event"] == "done", ev
    assert outside.listing() == ["secret.txt", "target.txt"]  # no new.txt
    assert outside.target.read_bytes() == before
    assert_refused(ev, "create", "sub/new.txt", "f1")
    assert_refused(ev, "write", "sub/target.txt", "f1")
    assert not of(ev, "files_written")
    assert git(repo, "status", "--porcelain") == ""  # nothing created or git-added


def test_dotdot_and_absolute_paths_outside_are_not_created(fake, start, repo, tmp_path):
    parent = tmp_path  # the worktree's parent directory
    absolute = tmp_path / "abs" / "abs-escape.txt"
    b = start()
    reply = (
        "Two new files.\n\n"
        + edit_block("../escape-file.txt", "", "escaped\n")
        + "\n"
        + edit_block(str(absolute), "", "escaped\n")
    )
    fake.push(text_reply(reply))
    ev = b.run("d1", "create the files")
    assert ev[-1]["event"] == "done", ev
    assert not (parent / "escape-file.txt").exists()
    assert not absolute.parent.exists()  # Aider would also make the parent folders
    assert_refused(ev, "create", "../escape-file.txt", "d1")
    e = assert_refused(ev, "create", str(absolute), "d1")
    assert e["reason"] == "outside the worktree"  # no symlink involved
    assert not of(ev, "files_written")
    assert git(repo, "status", "--porcelain") == ""


def test_symlinked_secret_never_reaches_the_model(fake, start, repo, outside):
    commit_symlink(repo, "notes.md", str(outside.secret_file))
    b = start()
    # 1. The reply mentions notes.md: Aider would add it to the chat and ask again with its
    #    content. The add is refused, so there is no follow-up request.
    fake.push(
        text_reply("I need to read notes.md first."),
        text_reply("(follow-up that must not be requested)"),
    )
    ev = b.run("m1", "what do the notes say?")
    assert ev[-1]["event"] == "done", ev
    assert outside.secret not in fake.bodies()
    assert_refused(ev, "add", "notes.md", "m1")
    [c] = of(ev, "confirm")
    assert c["question"] == "Add file to the chat?" and c["subject"] == "notes.md"
    assert c["answer"] is False
    assert not of(ev, "text_discarded")
    assert len(fake.requests()) == 1

    # 2. The prompt command names it in `files`.
    fake.reset()
    fake.push(text_reply("Nothing to see."))
    ev = b.run("m2", "summarize the notes", files=["notes.md"])
    assert ev[-1]["event"] == "done", ev
    e = assert_refused(ev, "add", "notes.md", "m2")
    assert "via a symlink" in e["reason"]
    assert len(fake.requests()) == 1
    assert outside.secret not in fake.bodies()


def test_symlinked_secret_stays_out_of_the_repo_map(fake, start, repo, outside):
    secret_mod = outside.dir / "secret_mod.py"
    secret_mod.write_text(f'def top_secret_{outside.token}():\n    return "{outside.secret}"\n')
    commit_symlink(repo, "helpers.py", str(secret_mod))
    b = start(args=("--map-tokens", "1024"))
    assert b.ready["map_tokens"] == 1024
    fake.push(text_reply("Fine."))
    ev = b.run("rm1", "describe the repository")
    assert ev[-1]["event"] == "done", ev
    bodies = fake.bodies()
    assert "def hello" in bodies  # the map was sent, with the files inside the worktree
    assert outside.token not in bodies
    # The map is built first while pre-loading (no id yet) and rebuilt per prompt.
    reads = [e for e in refusals(b.history, "read") if e["path"] == str(secret_mod.resolve())]
    assert reads and all("outside the worktree" in e["reason"] for e in reads), reads


# -- hygiene that Aider 0.86.2 already gets right when driven this way ---------------------------
# These guard against regressions (a changed import order, prompt text reaching Aider's command
# parser); they also pass with the bridge as it was before the worktree boundary was added.


def test_litellm_does_not_load_a_stray_dotenv(fake, start, tmp_path):
    """litellm's import loads the first .env found walking up from its own folder (not the cwd)
    unless LITELLM_MODE=PRODUCTION. Put a .env on that walk: the test puts the real litellm
    package first on PYTHONPATH through a symlinked folder, so the walk starts there.
    (Aider 0.86.2's aider/llm.py also sets LITELLM_MODE when it is imported before litellm;
    this checks the property whatever imports litellm first.)"""
    py = _aider_python()
    if not py:
        pytest.skip("no Aider venv: run scripts/setup-aider.sh or set ARCBENCH_AIDER_PYTHON")
    spec = subprocess.run(
        [py, "-c", "import importlib.util as u; "
         "print(u.find_spec('litellm').submodule_search_locations[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    site = tmp_path / "dotenv-walk" / "site"
    site.mkdir(parents=True)
    os.symlink(spec, site / "litellm")
    # ANTHROPIC_API_BASE wins over ANTHROPIC_BASE_URL in litellm: if this .env were loaded,
    # the request would go to the discard port and fail.
    (tmp_path / "dotenv-walk" / ".env").write_text("ANTHROPIC_API_BASE=http://127.0.0.1:9\n")
    b = start(extra_env={
        "PYTHONPATH": str(site),
        "ANTHROPIC_API_BASE": None,
        "ANTHROPIC_BASE_URL": FAKE_URL,
        "ARCBENCH_RETRY_TIMEOUT": "0",
    })
    fake.push(text_reply("Reached the right server."))
    ev = b.run("env1", "hi")
    assert ev[-1]["event"] == "done", ev
    assert texts(ev) == "Reached the right server."
    assert len(fake.requests()) == 1


@pytest.mark.parametrize(
    "text",
    ["/run touch {marker}", "!touch {marker}", "/git tag evil", "/git commit --allow-empty -m x"],
)
def test_prompt_text_never_runs_an_aider_command(fake, start, repo, text):
    marker = f"ran-{secrets.token_hex(4)}"
    text = text.format(marker=marker)
    head = git(repo, "rev-parse", "HEAD")
    b = start()
    fake.push(text_reply("I am only a model."))
    ev = b.run("cmd1", text)
    assert ev[-1]["event"] == "done", ev
    assert texts(ev) == "I am only a model."
    [req] = fake.requests()
    last = req["messages"][-1]
    assert last["role"] == "user" and message_text(last).startswith(text), last
    for place in (repo, Path.cwd(), repo.parent):
        assert not (place / marker).exists(), place
    assert git(repo, "tag", "--list") == ""
    assert git(repo, "rev-parse", "HEAD") == head


# -- one prompt at a time, history and restore ---------------------------------------------------


def test_a_prompt_while_another_runs_is_refused_as_busy(fake, start):
    b = start()
    fake.push(text_reply("Slow but complete.", first_token_delay_ms=1500))
    b.send({"op": "prompt", "id": "b1", "text": "take your time", "files": []})
    fake.wait_requests(1)
    t0 = b.send({"op": "prompt", "id": "b2", "text": "me too", "files": []})
    [refusal] = b.collect("b2", timeout=5)  # its own terminal event, and nothing else
    assert refusal == {
        "event": "failed",
        "id": "b2",
        "reason": "busy: prompt b1 is running; the bridge runs one prompt at a time",
        "status": None,
        "error_type": None,
        "_t": refusal["_t"],
    }
    assert refusal["_t"] - t0 < 1.0
    # The running prompt's own id is a duplicate, not busy: it must not get a second end.
    b.send({"op": "prompt", "id": "b1", "text": "again", "files": []})
    assert "duplicate prompt id" in b.expect("log", level="error", timeout=5)["line"]
    ev = b.collect("b1", timeout=30)
    assert ev[-1]["event"] == "done" and texts(ev) == "Slow but complete.", ev
    assert len(fake.requests()) == 1
    # The next prompt, sent the moment the terminal event is read, is not busy.
    fake.push(text_reply("Next."))
    ev = b.run("b3", "next")
    assert ev[-1]["event"] == "done", ev
    ends = [(e["id"], e["event"]) for e in b.history if e["event"] in TERMINAL]
    assert ends == [("b2", "failed"), ("b1", "done"), ("b3", "done")]


def test_history_after_each_prompt(fake, start):
    b = start()
    fake.push(text_reply("Reply one."))
    ev = b.run("h1", "Question one?", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    h1 = history_of(ev)
    assert h1["messages"] == [user("Question one?"), assistant("Reply one.")]
    assert h1["files"] == ["hello.py"]

    fake.push(text_reply("Reply two."))
    ev = b.run("h2", "Question two?", files=["other.py"])
    h2 = history_of(ev)
    assert h2["messages"] == h1["messages"] + [user("Question two?"), assistant("Reply two.")]
    assert h2["files"] == ["hello.py", "other.py"]


def test_restore_continues_a_conversation_in_a_new_bridge(fake, start):
    word = f"PELICAN-{secrets.token_hex(4)}"
    first = start()
    fake.push(text_reply(f"Noted: the code word is {word}."))
    ev = first.run("a1", f"Remember the code word {word}.", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    saved = history_of(ev)
    first.close()

    fake.reset()
    second = start()  # a fresh process: nothing of the first one's chat
    second.send({"op": "restore", "messages": saved["messages"], "files": saved["files"]})
    restored = second.expect("restored", timeout=10)
    assert (restored["messages"], restored["files"]) == (2, ["hello.py"])
    fake.push(text_reply(f"It was {word}."))
    ev = second.run("b1", "What was the code word?")
    assert ev[-1]["event"] == "done", ev
    [req] = fake.requests()
    sent = all_text(req)
    asked = sent.find(f"Remember the code word {word}.")
    answered = sent.find(f"Noted: the code word is {word}.")
    assert 0 <= asked < answered < sent.find("What was the code word?"), sent[-2000:]
    assert "def hello():" in sent  # the restored file is in the chat
    assert history_of(ev)["messages"][:2] == saved["messages"]


def test_restore_is_refused_while_a_prompt_runs(fake, start):
    b = start()
    fake.push({"kind": "hang"})
    b.send({"op": "prompt", "id": "r1", "text": "hang", "files": []})
    fake.wait_requests(1)
    b.send({"op": "restore", "messages": [user("INJECTED"), assistant("ok")],
            "files": ["other.py"]})
    e = b.expect("log", level="error", timeout=5)
    assert "restore refused: prompt r1 is running" in e["line"], e
    b.send({"op": "cancel", "id": "r1"})
    ev = b.collect("r1", timeout=10)
    assert ev[-1]["event"] == "cancelled", ev
    h = history_of(ev)
    assert "INJECTED" not in json.dumps(h["messages"]) and h["files"] == []
    assert not of(b.history, "restored")


def test_malformed_restores_are_logged_and_change_nothing(fake, start):
    b = start()
    fake.push(text_reply("Base reply."))
    base = history_of(b.run("m0", "Base question?"))
    malformed = [
        {"op": "restore"},
        {"op": "restore", "messages": "INJECTED"},
        {"op": "restore", "messages": ["INJECTED"]},
        {"op": "restore", "messages": [{"role": "tool", "content": "INJECTED"}]},
        {"op": "restore", "messages": [{"role": "user"}]},
        {"op": "restore", "messages": [{"role": "user", "content": [{"text": "INJECTED"}]}]},
        # good messages, bad files: nothing at all may change
        {"op": "restore", "messages": [user("INJECTED")], "files": "other.py"},
        {"op": "restore", "messages": [user("INJECTED")], "files": [7]},
    ]
    for cmd in malformed:
        b.send_invalid(cmd)
        e = b.expect("log", level="error", timeout=5)
        assert e["line"].startswith("protocol error:") and "id" not in e, (cmd, e)
    assert not of(b.history, "restored")
    fake.push(text_reply("Next reply."))
    ev = b.run("m1", "Next question?")
    h = history_of(ev)
    assert h["messages"] == base["messages"] + [user("Next question?"), assistant("Next reply.")]
    assert h["files"] == []
    assert "INJECTED" not in fake.bodies()


def test_restore_refuses_files_outside_the_worktree(fake, start, repo, outside):
    commit_symlink(repo, "notes.md", str(outside.secret_file))
    b = start()
    files = ["notes.md", str(outside.secret_file), "../outside/target.txt", "hello.py",
             "missing.py"]
    b.send({"op": "restore", "messages": [user("Earlier?"), assistant("Earlier.")],
            "files": files})
    restored = b.expect("restored", timeout=10)
    assert (restored["messages"], restored["files"]) == (2, ["hello.py"])
    # Reported once per resolved path: the absolute one leads where notes.md does.
    refused = {e["path"]: e for e in refusals(b.history, "add")}
    assert set(refused) == {"notes.md", "../outside/target.txt"}
    assert all("id" not in e and "outside the worktree" in e["reason"] for e in refused.values())
    assert "via a symlink" in refused["notes.md"]["reason"]
    # A missing file is skipped, not created (a prompt's `files` would create it).
    assert any("'missing.py' does not exist" in e["line"] for e in of(b.history, "log"))
    assert not (repo / "missing.py").exists()

    fake.push(text_reply("Nothing secret here."))
    ev = b.run("o1", "What do the notes say?")
    assert ev[-1]["event"] == "done", ev
    assert history_of(ev)["files"] == ["hello.py"]
    assert outside.secret not in fake.bodies()


# -- live edits: the reply's edit blocks as each completes ---------------------------------------


def proposals(events):
    return of(events, "proposed")


def test_each_block_is_proposed_while_the_reply_still_streams(fake, start, repo):
    (repo / "five.py").write_text("".join(f"V{i} = {i}\n" for i in range(5)))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "five")
    b = start()
    blocks = "".join(
        f"Step {i}.\n\n" + edit_block("five.py", f"V{i} = {i}\n", f"V{i} = {i * 10}\n")
        for i in range(5)
    )
    # ~60 chunks, 40 ms apart: the reply takes over 2 s to stream.
    fake.push(text_reply(blocks + "Done.", chunk_chars=16, chunk_delay_ms=40))
    ev = b.run("l1", "multiply each V by ten", files=["five.py"])
    assert ev[-1]["event"] == "done", ev
    ps = proposals(ev)
    assert [(p["answer"], p["index"], p["applies"]) for p in ps] == [(0, i, True) for i in range(5)]
    assert {p["path"] for p in ps} == {"five.py"} and {p["edit_format"] for p in ps} == {"diff"}
    # The first proposal came while the model was still writing the fifth block.
    first = ev.index(ps[0])
    later = texts(ev[first:])
    assert "V4 = 40" in later, "the first block was proposed only after the last was streamed"
    # Each proposal is the file after its block and the earlier ones; the last is what Aider wrote.
    for i, p in enumerate(ps):
        expected = "".join(f"V{j} = {j * 10 if j <= i else j}\n" for j in range(5))
        assert p["content"] == expected, (i, p["content"])
    assert (repo / "five.py").read_text() == ps[-1]["content"]


def test_a_block_that_does_not_match_will_not_apply_with_aiders_reason(fake, start, repo):
    b = start()
    bad = "Trying.\n\n" + edit_block("hello.py", "    return 999\n", "    return 3\n")
    good = "Fixed.\n\n" + edit_block("hello.py", "    return 1\n", "    return 3\n")
    fake.push(text_reply(bad), text_reply(good))
    ev = b.run("l2", "make hello return 3", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    ps = proposals(ev)
    first, aider_says, retried = ps
    assert (first["answer"], first["index"], first["applies"]) == (0, 0, False)
    assert first["content"] is None and "does not match" in first["reason"]
    assert (aider_says["answer"], aider_says["index"], aider_says["applies"]) == (0, 0, False)
    assert "SearchReplaceNoExactMatch" in aider_says["reason"], aider_says
    [d] = of(ev, "text_discarded")
    assert ev.index(aider_says) < ev.index(d) < ev.index(retried)
    assert (retried["answer"], retried["index"], retried["applies"]) == (1, 0, True)
    assert retried["content"] == "def hello():\n    return 3\n"


def test_new_files_outside_paths_and_missing_files(fake, start, repo):
    b = start()
    reply = (
        "Three edits.\n\n"
        + edit_block("pkg/fresh.py", "", "X = 1\n")
        + edit_block("../escape.py", "", "evil = 1\n")
        + edit_block("missing.py", "a = 1\n", "a = 2\n")
    )
    # missing.py's SEARCH matches nothing: Aider reflects, and the follow-up gets an answer.
    fake.push(text_reply(reply), text_reply("Sorry, missing.py does not exist."))
    ev = b.run("l3", "three edits", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    by_index = {p["index"]: p for p in proposals(ev) if p["answer"] == 0}
    assert by_index[0]["applies"] and by_index[0]["content"] == "X = 1\n"
    assert not by_index[1]["applies"] and "outside the worktree" in by_index[1]["reason"]
    assert not by_index[2]["applies"] and by_index[2]["content"] is None
    assert not (repo.parent / "escape.py").exists()


def test_a_malformed_block_is_shown_as_text_and_the_turn_ends(fake, start, repo):
    b = start()
    # A SEARCH with no filename before it and none earlier: Aider's parser raises.
    reply = "Oops.\n\n```python\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n"
    fake.push(text_reply(reply), text_reply("Sorry, no edit."))
    ev = b.run("l4", "edit something", files=["hello.py"])
    assert ev[-1]["event"] in ("done", "failed"), ev
    assert not [p for p in proposals(ev) if p["answer"] == 0]
    warnings = [e["line"] for e in of(ev, "log") if e["level"] == "warning"]
    assert any("live edits: Aider cannot parse" in w for w in warnings), warnings


@pytest.mark.parametrize("fmt", ["whole", "udiff", "diff-fenced"])
def test_other_edit_formats_are_proposed_with_their_own_parser(fake, start, repo, fmt):
    b = start(args=("--edit-format", fmt))
    assert b.ready["edit_format"] == fmt
    new = "def hello():\n    return 5\n"
    if fmt == "whole":
        reply = f"Here it is.\n\nhello.py\n```\n{new}```\n"
    elif fmt == "udiff":
        reply = (
            "Here it is.\n\n```diff\n--- hello.py\n+++ hello.py\n@@ ... @@\n"
            " def hello():\n-    return 1\n+    return 5\n```\n"
        )
    else:
        reply = (
            "Here it is.\n\n```\nhello.py\n<<<<<<< SEARCH\n    return 1\n=======\n"
            "    return 5\n>>>>>>> REPLACE\n```\n"
        )
    fake.push(text_reply(reply, chunk_chars=7))
    ev = b.run("l5", "make it 5", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    [p] = proposals(ev)
    assert (p["path"], p["edit_format"], p["applies"]) == ("hello.py", fmt, True), p
    assert p["content"] == new
    assert (repo / "hello.py").read_text() == new


def test_an_unknown_edit_format_says_why_there_are_no_live_edits(fake, start, repo):
    b = start(args=("--edit-format", "architect"))
    fake.push(text_reply("Plan: nothing to change."), text_reply("Nothing to change."))
    ev = b.run("l6", "plan it", files=["hello.py"])
    assert ev[-1]["event"] == "done", ev
    assert not proposals(ev)
    infos = [e["line"] for e in of(ev, "log") if e["level"] == "info"]
    assert any("live edits are shown for" in line and "architect" in line for line in infos)


# -- the template (instant sessions) ------------------------------------------------------------


def test_template_refuses_bad_fork_requests_and_forks_a_working_bridge(fake, repo, tmp_path):
    import socket

    py = _aider_python()
    if not py:
        pytest.skip("no Aider venv")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ANTHROPIC_API_KEY": "sk-test-key",
        "ANTHROPIC_API_BASE": FAKE_URL,
    }
    tpl = subprocess.Popen(
        [py, str(BRIDGE), "--template", "--model", MODEL, "--weak-model", WEAK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        ready = json.loads(tpl.stdout.readline())
        assert ready["event"] == "template_ready" and ready["protocol"] == PROTOCOL, ready
        assert len(os.listdir(f"/proc/{ready['pid']}/task")) == 1, "one thread"

        def ask(obj):
            tpl.stdin.write((json.dumps(obj) if not isinstance(obj, str) else obj).encode() + b"\n")
            tpl.stdin.flush()
            return json.loads(tpl.stdout.readline())

        for bad in ("not json", {"op": "spawn"}, {"op": "fork", "socket": "/x"},
                    {"op": "fork", "socket": "/x", "args": "--root /"}):
            answer = ask(bad)
            assert answer["event"] == "fork_failed" and "bad fork request" in answer["reason"]

        sock_path = str(tmp_path / "f.sock")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(sock_path)
        listener.listen(2)
        forked = ask({"op": "fork", "socket": sock_path,
                      "args": ["--root", str(repo), "--map-tokens", "0"], "env": {"X_SESSION": "1"}})
        assert forked["event"] == "forked", forked
        conns = [listener.accept()[0] for _ in range(2)]
        reader = conns[0].makefile("rb")
        hello = json.loads(reader.readline())
        assert hello == {"pid": forked["pid"], "stream": "protocol"}
        assert json.loads(reader.readline())["event"] == "ready"
        assert os.readlink(f"/proc/{forked['pid']}/cwd") == os.path.realpath(repo)
        fake.push(text_reply("Forked and fine."))
        conns[0].sendall(b'{"op":"prompt","id":"f1","text":"hi","files":[]}\n')
        events = []
        while not events or events[-1]["event"] not in TERMINAL:
            events.append(json.loads(reader.readline()))
        assert events[-1]["event"] == "done" and texts(events) == "Forked and fine."
        conns[0].sendall(b'{"op":"shutdown"}\n')
    finally:
        tpl.stdin.close()
        assert tpl.wait(timeout=10) == 0, "EOF ends the template"
