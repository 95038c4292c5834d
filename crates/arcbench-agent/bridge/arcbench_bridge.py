#!/usr/bin/env python3
"""ArcBench <-> Aider bridge: one warm, in-process Aider Coder per session, driven by JSON lines.

Tested against aider-chat 0.86.2 (litellm 1.81.10), installed by scripts/setup-aider.sh.

    <venv python> arcbench_bridge.py --root <worktree> --model <name>
        [--weak-model <name>] [--map-tokens N] [--cache-prompts] [--edit-format <format>]

--map-tokens defaults to Aider's choice for the model (0 disables the repo map).
--cache-prompts turns on Aider's Anthropic cache_control markers (off by default, as in Aider).

PROTOCOL (version 2) -- the contract the Rust host codes against
================================================================
The Rust host's types (crates/arcbench-agent/src/aider/protocol.rs) are the single definition
of these shapes: protocol.schema.json next to this file is generated from them ({"protocol": 2,
"commands": <JSON Schema of one command line>, "events": <JSON Schema of one event line>}), and
test_bridge.py validates every line both ways against it. This text explains the behaviour
behind the shapes.

Channels
--------
* stdin: commands, one JSON object per line (UTF-8). The bridge reads them on a thread of its own
  and then points fd 0 at /dev/null, so nothing inside Aider can ever consume a command.
* stdout: events, one JSON object per line (UTF-8, never pretty-printed, flushed per line).
  Before importing Aider the bridge moves this channel to a private duplicate of the original
  stdout and points fd 1 at stderr: Aider writes raw streamed text to fd 1, and stray prints can
  therefore never corrupt the protocol.
* stderr: free-form human-readable log (Aider's console output incl. the streamed answer text,
  tracebacks). Not part of the protocol. The host MUST keep draining it (or send it to a file),
  otherwise the bridge blocks once the pipe buffer is full.

Commands (stdin)
----------------
Commands are read from the end of the warm-up that follows `ready` (see there) on; until then
they wait in the pipe.
  {"op":"prompt","id":"<prompt id>","text":"...","files":["rel/path", ...]}
      Run one prompt. `text` is sent to the model as it is: it is never parsed as an Aider
      command (`/run ...`, `!cmd`, `/git ...` are just words to the model). `files` (may be
      empty; absent means empty) are added to the chat first; they stay in the chat for later
      prompts (Aider semantics). Paths are relative to --root; a path that resolves outside it
      is refused (a `refused` event with action "add"); a missing file is created empty
      (reported as a `confirm` event, like Aider's /add). `id` must be a non-empty string,
      unique per bridge. Should anything inside the turn make Aider switch chat mode or model
      (its SwitchCoder exception, which only its CLI loop handles), the bridge keeps its coder,
      logs a warning and ends the prompt normally (`done` if the model answered, else `failed`).
      The bridge runs ONE prompt at a time and keeps no queue: the host sends the next prompt
      after the terminal event of the previous one. A prompt that arrives while another runs is
      refused at once with its own terminal event
        {"event":"failed","id":"<its id>","reason":"busy: prompt <running id> is running; the
         bridge runs one prompt at a time","status":null,"error_type":null}
      (and nothing else: no `history`); the running prompt is unaffected.
  {"op":"cancel","id":"<prompt id>"}
      Cancel the running prompt: the in-flight request is interrupted (waiting for headers,
      mid-stream or hung: measured well under 1 s). `id` may be omitted to mean "whatever is
      running"; an id that is not the running prompt's gives a warning `log`. Sending SIGINT to
      the bridge process is equivalent to cancelling the running prompt; SIGINT while idle is
      ignored.
  {"op":"restore","messages":[{"role":"user"|"assistant"|"system","content":"..."}, ...],
   "files":["rel/path", ...]}
      Continue a conversation in a new bridge: the chat history becomes `messages` (Aider's
      done_messages; what was in the history before is dropped) and `files` (may be empty;
      absent means empty) are added to the chat. Meant for the `messages` and `files` of a
      `history` event. Only while no prompt runs: otherwise an error `log` and nothing changes.
      `files` follow a prompt's boundary rules (a path that resolves outside the worktree gets a
      `refused` event with action "add"), except that a missing file is skipped with a warning
      `log`, not created. A malformed restore (messages not a list of {role, content} objects
      with role user, assistant or system and string content; files not a list of strings) gives
      an error `log` and changes nothing. Answered by `restored`.
  {"op":"shutdown"}
      Cancel the running prompt (it gets `cancelled`), then exit 0. EOF on stdin means the same.
A line that is not a JSON object, an unknown op or a missing field gives a `log` event with
level "error" (and the offending `id`, if one could be read); the bridge keeps running.

Events (stdout); every event has "event":<name>
-----------------------------------------------
  {"event":"ready","protocol":2,"aider_version":"0.86.2","model":"...","weak_model":"...",
   "edit_format":"diff","map_tokens":4096,"root":"/abs/root","usage_capture":true}
      Once, after Aider is imported and the Coder exists (~3 s). `log` events (warnings about
      the setup) may come before it. `usage_capture` is false only with a litellm other than
      the pinned one (then no `usage` events at all).
      Right after `ready` the bridge pre-loads tokenizers and the repo map (~0.5 s, 1-2 s+ with
      a repo map) so the first prompt is fast; commands are read once that is done, so a
      prompt sent meanwhile simply starts a little later.
  {"event":"fatal","reason":"..."}
      Startup failed (bad --root, model could not be set up, ...); the bridge exits 1 right after.
  {"event":"text","id":"...","chunk":"..."}
      Streamed assistant text, in order.
  {"event":"proposed","id":"...","answer":N,"index":N,"path":"rel/path","edit_format":"diff",
   "applies":true|false,"reason":"..."|null,"content":"..."|null}
      An edit block of the answer being streamed is complete, before Aider applies anything:
      found with the coder's own parser (its get_edits() on the part of the reply whose blocks
      are closed) for the edit formats diff, diff-fenced, whole and udiff, and dry-run the way
      Aider's apply_edits will (its own do_replace; a SEARCH that matches no file tries the
      other chat files, like Aider), on copies: nothing is written. `content` is the whole file
      once this block and the answer's earlier blocks are applied; when the block will not
      apply (`applies` false, `content` null) `reason` says why (no match, no such file, outside
      the worktree). After the reply, a block Aider itself reports as failed is sent again (same
      answer and index) with applies false and Aider's own words. `answer` counts the prompt's
      answers from 0 (each `text_discarded` starts the next, whose blocks count from 0 again).
      A reply Aider's parser rejects (a malformed block) gets one warning `log` and no more
      `proposed` for that answer; another edit format gets one info `log` per prompt. Live edits
      never affect the prompt: any failure in them is a warning `log` and they stop.
  {"event":"text_discarded","id":"...","reason":"retry"|"reflection"}
      A new request of this prompt starts an answer from scratch: text streamed since the
      previous `text_discarded` (or the start of the prompt) is not the final answer any more.
      "retry": the earlier request failed (e.g. 500, overloaded, stream cut) and Aider retries it;
      the partial text is gone from Aider's history. "reflection": Aider sends a follow-up
      (it added files the reply mentioned and asks again, or a SEARCH block failed to match);
      the earlier reply stays in Aider's history but its edits may not have been applied.
      Only sent when some text was streamed in between.
  {"event":"log","id":"..."?,"level":"info"|"warning"|"error","line":"..."}
      Aider's tool_output / tool_warning / tool_error and the bridge's own diagnostics. `id` is
      present while a prompt runs. `line` may contain newlines (e.g. a traceback).
  {"event":"confirm","id":"...","question":"Add file to the chat?","subject":"rel/path"|null,
   "answer":true}
      A question Aider asked; the bridge answers yes to everything except questions that Aider
      requires an explicit yes for (shell commands, which are disabled anyway) and "Add file to
      the chat?" for a path that resolves outside the worktree (a `refused` event comes first).
  {"event":"files_written","id":"...","paths":["rel/path", ...]}
      Files Aider really wrote to disk (sorted, relative to root; absolute if outside root),
      sent after each model reply that wrote something. A new file that Aider creates is also
      `git add`ed by Aider (no commit is ever made: auto/dirty commits are off). The bridge
      refuses every write outside the root (see `refused`), so an absolute path here means the
      boundary failed: treat it as an alarm.
  {"event":"refused","id":"..."?,"action":"read"|"write"|"create"|"add","path":"...",
   "reason":"outside the worktree"}
      The agent cannot read or write outside its worktree: every path Aider is about to read,
      write, create or add to the chat must resolve (symlinks and `..` followed, like Aider does)
      to a path inside --root, else the bridge refuses it and sends this event. Nothing is read,
      written, created or `git add`ed for a refused path, so its content never reaches the model.
        read    a file's content (files in the chat, the repo map, matching a SEARCH block)
        write   an edit to an existing file
        create  an edit that would create a new file
        add     adding a file to the chat: a prompt's `files`, or a file the reply mentions
      `path` is the path as the command or Aider named it (relative to root, or absolute: Aider
      itself resolves symlinks before reading or writing). `reason` is for humans and always
      contains "outside the worktree", e.g. "resolves to /abs/target outside the worktree via a
      symlink". The prompt goes on: a refused edit is simply not applied, and the prompt still
      ends with `done` when the model answered. Sent at most once per (action, resolved path)
      per prompt (the repo map rereads files); `id` is present while a prompt runs (refusals
      can also come from pre-loading the repo map after `ready`). A warning `log` repeats it.
  {"event":"usage","id":"...","model":"<model name as configured>","input_tokens":N,
   "output_tokens":N,"cache_creation_input_tokens":N,"cache_read_input_tokens":N,
   "partial":false,"background":false}
      One per HTTP request that got an answer from the server, with the numbers the SERVER sent
      (not litellm's or Aider's derived ones): `message_start.message.usage` merged with the
      cumulative `message_delta.usage` for streams, the body's `usage` otherwise. Includes the
      weak model's non-streaming calls (history summaries). `partial` is true when the stream was
      cut before its final `message_delta` (cancel, in-stream error): counts are then as of the
      last usage the server sent. `background` is true for requests made on one of Aider's
      background threads (the history summarizer). A request answered with an HTTP error gets no
      `usage`. `id` names the prompt the request belongs to, and usage events of a prompt come
      before its terminal event. `id` is absent for a request that outlived its prompt: when a
      prompt is cancelled while a background summary request is in flight, the bridge stops
      waiting for it, and if that request (or its fallback to the main model) is answered
      after the prompt's terminal event, its usage comes without `id` (it is not charged to
      whatever prompt runs by then).
  {"event":"history","id":"...","messages":[{"role":"user"|"assistant"|"system","content":"..."},
   ...],"files":["rel/path", ...]}
      Right before the terminal event of every prompt that ran (done, failed or cancelled; not
      for a prompt refused as busy): the chat history Aider sends with the next prompt (its
      done_messages + cur_messages, after a history summary that finished during the prompt
      has replaced the older messages, as Aider itself would at the next prompt) and the files
      in the chat (relative to root). Send both back in a `restore` to continue the
      conversation in a new bridge. `content` is always a string (Aider's extra message keys
      are left out). A cancelled or failed turn is in it as Aider keeps it (a cancel adds
      Aider's "^C KeyboardInterrupt" / "I see that you interrupted my previous reply." pair).
  {"event":"restored","messages":N,"files":["rel/path", ...]}
      Answer to a valid `restore` (no `id`): N messages are now the history; `files` are the
      files really in the chat now (relative to root; refused and missing ones are not).
  exactly one terminal event per prompt, always last for that id:
  {"event":"done","id":"..."}
  {"event":"cancelled","id":"..."}
      A cancel that arrives before the terminal event wins, even when Aider had already
      finished (or partly finished) the work: `files_written` events say what changed on disk.
      Aider's history records the interruption, and the bridge takes the next prompt normally.
  {"event":"failed","id":"...","reason":"...","status":401|null,"error_type":"authentication_error"|null}
      `failed`: the last model request of the prompt ended in an error (after Aider's own
      retries), or Aider never managed to send one. `reason` is the API's error message when
      there is one ("authentication_error: invalid x-api-key"), else Aider's error text.
      401/403/400 are not retried and fail at once; 429/500/529/overload are retried with
      backoff until ARCBENCH_RETRY_TIMEOUT. A prompt refused as busy also ends in `failed`
      (see the prompt command).

Environment read
----------------
  ANTHROPIC_API_KEY             read by litellm; must be non-empty (a warning `log` otherwise).
  ANTHROPIC_API_BASE / ANTHROPIC_BASE_URL
                                read by litellm: the bare origin (http://127.0.0.1:PORT), no /v1.
  ARCBENCH_RETRY_TIMEOUT        seconds (float). Aider retries a retryable error with delays
                                0.25, 0.5, 1, ... s while the next delay is <= this value
                                (Aider's RETRY_TIMEOUT, default 60). 0 disables retries.
  ARCBENCH_REQUEST_TIMEOUT      seconds (float) for one HTTP request; default Aider's 600.
  HOME                          Aider keeps small caches under $HOME/.aider; give it a scratch dir.
The bridge itself sets LITELLM_LOCAL_MODEL_COST_MAP=True, LITELLM_MODE=PRODUCTION and
TOKENIZERS_PARALLELISM=false. Like Aider's scripting API (and unlike Aider's CLI main()), the
bridge never loads .env files or .aider.conf.yml, and LITELLM_MODE=PRODUCTION stops litellm from
loading one at import, so neither a repository nor a stray ~/.env can redirect the API base or
key or add proxies: the host's environment is the whole truth.

Other side effects: `.aider*` is added (once) to the repository's info/exclude, because Aider
writes `.aider.tags.cache.v4/` into the worktree when the repo map is on.
"""

import argparse
import enum
import json
import os
import queue
import re
import signal
import sys
import threading

PROTOCOL_VERSION = 2
TESTED_AIDER_VERSION = "0.86.2"


# ---------------------------------------------------------------------------------------------
# Protocol channel: set up before anything else can print.
# ---------------------------------------------------------------------------------------------


class Channel:
    """Owns the private protocol fds. Writes whole lines under a lock (several threads emit)."""

    def __init__(self):
        sys.stdout.flush()
        # Private duplicates (non-inheritable by default, so git subprocesses do not get them).
        self.out_fd = os.dup(1)
        self.in_fd = os.dup(0)
        # fd 1 -> stderr: Aider's raw stream writes and any print() end up in the log.
        os.dup2(2, 1)
        # fd 0 -> /dev/null: nothing in Aider (input(), prompt_toolkit, git) can eat a command.
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        self.lock = threading.Lock()
        # Set by Bridge: how a main-thread emit defers SIGINT (see Bridge.critical).
        self.critical = None

    def emit(self, event, **fields):
        obj = {"event": event}
        obj.update(fields)
        # ensure_ascii=False + "replace": a lone surrogate in model text must not make an
        # invalid line (Rust's serde_json rejects lone-surrogate escapes).
        data = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        if self.critical is not None:
            with self.critical():
                self._write(data)
        else:
            self._write(data)

    def _write(self, data):
        with self.lock:
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self.out_fd, view)
                    view = view[n:]
            except (BrokenPipeError, OSError):
                # The host is gone: nobody can read anything we say any more.
                os._exit(3)

    def read_lines(self):
        with os.fdopen(self.in_fd, "rb") as stream:
            for line in stream:
                yield line.decode("utf-8", "replace")


def main(argv=None):
    ap = argparse.ArgumentParser(description="ArcBench JSON-lines bridge to an in-process Aider")
    ap.add_argument("--root", help="git worktree Aider works in (required unless --template)")
    ap.add_argument("--model", required=True, help="main model, e.g. claude-sonnet-4-5")
    ap.add_argument("--weak-model", default=None, help="model for history summaries")
    ap.add_argument("--map-tokens", type=int, default=None, help="repo map size; 0 disables")
    ap.add_argument("--cache-prompts", action="store_true", help="Anthropic prompt caching")
    ap.add_argument(
        "--edit-format",
        default=None,
        help="Aider's edit format (diff, diff-fenced, whole, udiff, ...); default: the model's",
    )
    ap.add_argument(
        "--template",
        action="store_true",
        help="import Aider once and fork one bridge per session on request (see TEMPLATE)",
    )
    args = ap.parse_args(argv)
    if args.template:
        Template(args).serve()
        return
    if not args.root:
        ap.error("--root is required")
    run_bridge(args)


def run_bridge(args):
    """One session's bridge, to its end (never returns)."""
    channel = Channel()
    bridge = Bridge(channel, args)
    try:
        bridge.start()
    except BaseException as err:  # any startup failure is reported, never a silent exit
        import traceback

        traceback.print_exc()
        channel.emit("fatal", reason=f"{type(err).__name__}: {err}")
        sys.stderr.flush()
        os._exit(1)
    code = bridge.serve()
    sys.stderr.flush()
    # os._exit: an abandoned background request (summary) must not keep the process alive.
    os._exit(code)


# ---------------------------------------------------------------------------------------------
# The template: Aider imported once, one forked bridge per session.
# ---------------------------------------------------------------------------------------------


def prepare_python():
    """What every bridge needs before Aider is imported (hygiene that must precede litellm's
    import), then the import itself. Run by the template once, by a cold bridge at start."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no fetch of the price list
    # litellm's import calls dotenv.load_dotenv() unless LITELLM_MODE is PRODUCTION: that
    # loads the first .env found walking up from litellm's install folder (e.g. ~/.env), so
    # a stray file could add an API base, key or proxy the host never gave us. Aider's
    # aider/llm.py sets it too, but only if it is imported before litellm: do not depend
    # on import order.
    os.environ["LITELLM_MODE"] = "PRODUCTION"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # quiet fork warnings (git)

    # No browser, ever (Aider offers URLs from error messages when yes=True).
    import webbrowser

    webbrowser.open = lambda *a, **k: False
    webbrowser.open_new = webbrowser.open_new_tab = webbrowser.open

    import aider  # noqa: F401
    import aider.coders.base_coder  # noqa: F401
    import aider.models as aider_models

    # Aider would download litellm's model price list into ~/.aider/caches.
    aider_models.model_info_manager._update_cache = lambda *a, **k: None


class Template:
    """TEMPLATE MODE (--template): the 2-3 s of importing Aider and litellm are paid once per
    host, not once per session. The template imports everything a bridge needs, builds the
    model once (litellm's lazy imports, the model tables), freezes the heap (gc.freeze: the
    collector then never writes to the shared pages) and waits. For each session the host asks
    it to fork; the child becomes that session's bridge, sharing the imported code and data
    copy-on-write, so a warm session starts in a fraction of a second and costs only the
    memory it writes.

    Safety of the fork: the template never starts a thread (checked before each fork, at the
    OS level: /proc/self/task), never makes a request (no socket is open), and the child
    closes every inherited descriptor above 2 before it connects to the host. The child gets a
    process group of its own (setsid), its own working directory (--root) and environment
    (the request's `env` on top of the template's), and the default SIGCHLD handling back.

    Protocol (JSON lines, stdin/stdout of the template itself):
      <- {"event":"template_ready","protocol":2,"aider_version":"0.86.2","pid":N}
      <- {"event":"fatal","reason":"..."}            the import failed; the template exits 1
      -> {"op":"fork","socket":"/abs/path.sock","args":["--root","/wt",...],"env":{...}}
      <- {"event":"forked","pid":N}                  the child runs; or
      <- {"event":"fork_failed","reason":"..."}      nothing was started
    The child connects to `socket` (a Unix socket the host listens on) twice and introduces
    each connection with one line, {"pid":N,"stream":"protocol"} then {"pid":N,"stream":
    "stderr"}: the first becomes its stdin and stdout (the bridge protocol above, unchanged),
    the second its stderr. EOF on the template's stdin ends it; its children live on (each
    ends when the host closes its connection). Children are reaped by the kernel
    (SIGCHLD ignored in the template)."""

    def __init__(self, args):
        self.args = args
        self.out = sys.stdout.buffer

    def emit(self, event, **fields):
        obj = {"event": event, **fields}
        self.out.write((json.dumps(obj) + "\n").encode())
        self.out.flush()

    def serve(self):
        try:
            self.preload()
        except BaseException as err:
            import traceback

            traceback.print_exc()
            self.emit("fatal", reason=f"{type(err).__name__}: {err}")
            os._exit(1)
        import aider

        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
        self.emit("template_ready", protocol=PROTOCOL_VERSION, aider_version=aider.__version__,
                  pid=os.getpid())
        for raw in sys.stdin.buffer:
            try:
                req = json.loads(raw)
                if not isinstance(req, dict) or req.get("op") != "fork":
                    raise ValueError("expected {\"op\":\"fork\", ...}")
                socket_path, argv = req["socket"], req["args"]
                env = req.get("env") or {}
                if not isinstance(argv, list) or not isinstance(env, dict):
                    raise ValueError("args must be a list and env an object")
            except (ValueError, KeyError, TypeError) as err:
                self.emit("fork_failed", reason=f"bad fork request: {err}")
                continue
            unsafe = self.unsafe_to_fork()
            if unsafe:
                self.emit("fork_failed", reason=unsafe)
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                pid = os.fork()
            except OSError as err:
                self.emit("fork_failed", reason=f"fork: {err}")
                continue
            if pid == 0:
                self.become_session(socket_path, argv, env)  # never returns
            self.emit("forked", pid=pid)
        os._exit(0)

    def preload(self):
        prepare_python()
        import gc

        import aider.coders  # noqa: F401  (every coder class)
        import aider.io  # noqa: F401
        import aider.models as aider_models
        import aider.repo  # noqa: F401
        import aider.repomap  # noqa: F401
        import git  # noqa: F401  (GitPython)
        import litellm  # noqa: F401

        # Building the model once pulls in litellm's lazily imported provider code and fills
        # Aider's model tables; each child builds its own Model on top of those caches. Counting
        # tokens once loads the tokenizers (a child's warm-up then finds them loaded, shared):
        # checked single-threaded like everything here, by unsafe_to_fork.
        model = aider_models.Model(self.args.model, weak_model=self.args.weak_model)
        for m in (model, model.weak_model):
            if m is not None:
                m.token_count([dict(role="user", content="warm up")])
        gc.collect()
        gc.freeze()

    @staticmethod
    def unsafe_to_fork():
        """Why forking now would be unsafe, or None. A thread (Python's or a native library's)
        would not exist in the child, and whatever lock it held would stay locked there."""
        threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
        if threads != 1 or threading.active_count() != 1:
            return (
                f"the template runs {threads} threads ({threading.active_count()} in Python); "
                "forking it is unsafe"
            )
        return None

    def become_session(self, socket_path, argv, env):
        """In the child: connect to the host, put the connections on fds 0-2, close every
        other inherited descriptor, then run the bridge (never returns)."""
        import socket

        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # git subprocesses must be waitable
            os.setsid()
            conns = []
            for stream in ("protocol", "stderr"):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(socket_path)
                hello = json.dumps({"pid": os.getpid(), "stream": stream}) + "\n"
                c.sendall(hello.encode())
                conns.append(c)
            os.dup2(conns[0].fileno(), 0)
            os.dup2(conns[0].fileno(), 1)
            os.dup2(conns[1].fileno(), 2)
            for c in conns:
                c.close()
            for fd in [int(x) for x in os.listdir("/proc/self/fd")]:
                if fd > 2:
                    try:
                        os.close(fd)
                    except OSError:
                        pass  # the listing's own descriptor, already gone
            os.environ.update({str(k): str(v) for k, v in env.items()})
            args = self.args
            full = ["--model", args.model, *argv]
            if args.weak_model and "--weak-model" not in argv:
                full += ["--weak-model", args.weak_model]
            child_args = _parse_child(full)
        except BaseException:
            os._exit(2)
        run_bridge(child_args)


def _parse_child(argv):
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--root", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--weak-model", default=None)
    ap.add_argument("--map-tokens", type=int, default=None)
    ap.add_argument("--cache-prompts", action="store_true")
    ap.add_argument("--edit-format", default=None)
    return ap.parse_args(argv)


def _env_float(name):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        f = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number")
    if f < 0:
        raise ValueError(f"{name}={value!r} must be >= 0")
    return f


class Call:
    """One HTTP request made through Aider's Model.send_completion."""

    FIELDS = (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    )

    def __init__(self, prompt, model, stream, background):
        self.prompt = prompt  # the Prompt running when the request began, or None
        self.model = model
        self.stream = stream
        self.background = background
        self.usage = {}  # raw numbers from the server, merged as they arrive
        self.complete = False  # saw message_delta (stream) or a full body
        self.error = None  # exception that ended the request
        self.interrupted = False
        self.finished = False

    def merge_usage(self, usage):
        if not isinstance(usage, dict):
            return
        for key in self.FIELDS:
            value = usage.get(key)
            if isinstance(value, int):
                # message_delta's counts are cumulative, so a later value replaces an earlier one.
                self.usage[key] = value


# ---------------------------------------------------------------------------------------------
# Live edits: the reply's edit blocks as each completes, before Aider applies anything.
# ---------------------------------------------------------------------------------------------

# The edit formats Aider picks for Claude models, whose coders' get_edits() we can run on a
# prefix of the reply. Others (architect, patch, ...) are shown as text only.
LIVE_FORMATS = ("diff", "diff-fenced", "whole", "udiff")
_UPDATED = re.compile(r"^>{5,9} REPLACE\s*$")  # Aider's editblock_coder.UPDATED


class LiveEdits:
    """Finds the edit blocks of the answer being streamed, with the coder's own parser
    (`coder.get_edits()` run on the part of the reply whose blocks are closed), and dry-runs
    each one against the worktree the way Aider's apply_edits will, writing nothing. Each block
    is reported once as a `proposed` event: the whole file as it will be after it (and the
    answer's earlier blocks), or why it will not apply.

    Runs on the main thread, between the chunks Aider yields, so the coder is idle while its
    parser runs on a swapped-in copy of the reply."""

    def __init__(self, bridge, prompt):
        self.bridge = bridge
        self.prompt = prompt
        self.coder = bridge.coder
        self.format = self.coder.edit_format
        self.enabled = self.format in LIVE_FORMATS
        self.answer = -1
        self.new_answer()

    def new_answer(self):
        self.answer += 1
        self.text = ""
        self.scanned = 0  # text[:scanned] is whole lines already looked at
        self.proposals = []  # per index: {"path", "original", "applies"}
        self.whole_paths = []  # whole format: paths in the order first seen
        self.files = {}  # rel path -> content after the answer's blocks so far
        self.parse_error = None

    # -- streaming ---------------------------------------------------------------------------

    def _guarded(method):
        """Live edits are a view: a failure here is logged and switches them off, it never
        touches the turn itself."""

        def run(self, *args):
            if not self.enabled:
                return
            try:
                method(self, *args)
            except Exception as err:
                self.enabled = False
                self.bridge.log(
                    "warning",
                    f"live edits stopped for this prompt: {type(err).__name__}: {err}",
                    pid=self.prompt.id,
                )

        return run

    @_guarded
    def feed(self, chunk):
        self.text += chunk
        end = self.text.rfind("\n") + 1
        if end <= self.scanned:
            return
        lines = self.text[self.scanned : end].splitlines()
        self.scanned = end
        if any(self._closes(line) for line in lines):
            self._propose(self.text[:end])

    @_guarded
    def stream_ended(self):
        """The answer's stream is over (Aider applies its edits next): a last block may end
        without a newline."""
        if self.text:
            self._propose(self.text)

    def _is_fence(self, line):
        """A line that opens or closes a fenced block (the coder's fence, or plain backticks)."""
        return line.startswith(("```", self.coder.fence[0], self.coder.fence[1]))

    def _closes(self, line):
        if self.format in ("diff", "diff-fenced"):
            return bool(_UPDATED.match(line.strip())) or line.startswith(self.coder.fence[1])
        return self._is_fence(line)

    def _closed_prefix(self, text):
        """The part of `text` whose blocks are complete."""
        lines = text.splitlines(keepends=True)
        if self.format in ("diff", "diff-fenced"):
            ends = [i for i, line in enumerate(lines) if _UPDATED.match(line.strip())]
            return "".join(lines[: ends[-1] + 1]) if ends else ""
        # whole, udiff: blocks are fenced; cut before a fence that is still open.
        fences = [i for i, line in enumerate(lines) if self._is_fence(line)]
        if len(fences) % 2:
            return "".join(lines[: fences[-1]])
        return text

    def _parse(self, text):
        """Aider's own parser for the coder's format, on `text` instead of the live reply."""
        coder = self.coder
        saved = (
            coder.partial_response_content,
            getattr(coder, "multi_response_content", ""),
            list(getattr(coder, "shell_commands", [])),
        )
        try:
            coder.partial_response_content = text
            coder.multi_response_content = ""
            if self.format == "whole":
                return coder.get_edits(mode="update")
            return coder.get_edits()
        finally:
            coder.partial_response_content, coder.multi_response_content, shells = saved
            if hasattr(coder, "shell_commands"):
                coder.shell_commands = shells

    def _propose(self, text):
        prefix = self._closed_prefix(text)
        if not prefix:
            return
        try:
            edits = list(self._parse(prefix))
        except Exception as err:  # Aider's parser: ValueError for a malformed block
            message = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
            if message != self.parse_error:
                self.parse_error = message
                self.bridge.log(
                    "warning",
                    f"live edits: Aider cannot parse the reply's edit blocks ({message}); "
                    "they are shown as text",
                    pid=self.prompt.id,
                )
            return
        if self.format == "whole":
            by_path = {edit[0]: edit for edit in edits if edit[0]}
            for path in by_path:
                if path not in self.whole_paths:
                    self.whole_paths.append(path)
            edits = [by_path[p] for p in self.whole_paths]
        for index in range(len(self.proposals), len(edits)):
            self._dry_run(index, edits[index])

    # -- dry run -----------------------------------------------------------------------------

    def _dry_run(self, index, edit):
        import aider.coders.editblock_coder as editblock
        import aider.coders.udiff_coder as udiff

        coder = self.coder
        path = edit[0]
        original = ""
        new, reason = None, None
        if not path:
            reason = "the block names no file"
        else:
            full = coder.abs_root_path(path)
            real = self.bridge.resolve(full)
            current = self._current(path, full, real)
            if not self.bridge.inside(real):
                reason = "outside the worktree: the agent may not write there"
            elif self.format in ("diff", "diff-fenced"):
                _, original, updated = edit
                new, path, reason = self._search_replace(editblock, path, current, original, updated)
            elif self.format == "whole":
                new = "".join(edit[2])
            else:  # udiff
                hunk = udiff.normalize_hunk(edit[1])
                before, after = udiff.hunk_to_before_after(hunk)
                original = before
                if not before.strip():
                    new = (current or "") + after
                elif current is None:
                    reason = f"{path} does not exist"
                else:
                    try:
                        new = udiff.do_replace(full, current, hunk)
                    except udiff.SearchTextNotUnique:
                        reason = f"the hunk's lines occur more than once in {path}"
                    if not new and reason is None:
                        reason = f"the hunk does not match the lines of {path}"
        applies = reason is None and bool(new)
        if applies:
            self.files[path] = new
        elif reason is None:
            reason = f"the edit would leave {path} empty"
        self.proposals.append({"path": path, "original": original, "applies": applies})
        self._emit(index, path or "", applies, reason, new if applies else None)

    def _current(self, path, full, real):
        if path in self.files:
            return self.files[path]
        if not self.bridge.inside(real) or not os.path.isfile(real):
            return None
        try:
            with open(real, encoding=self.bridge.io.encoding, errors="replace") as f:
                return f.read()
        except OSError:
            return None

    def _search_replace(self, editblock, path, current, original, updated):
        """Aider's apply_edits for one SEARCH/REPLACE block, on the answer's own copies."""
        coder = self.coder
        fence = coder.fence
        full = coder.abs_root_path(path)
        if not original.strip():
            # A new file, or text appended to one (do_replace would touch the file: not here).
            after = editblock.strip_quoted_wrapping(updated, full, fence)
            return (current or "") + after, path, None
        new = None
        if current is not None:
            new = editblock.do_replace(full, current, original, updated, fence)
        if not new:
            # Aider then tries the other files in the chat.
            for other in coder.abs_fnames:
                rel = coder.get_rel_fname(other)
                if rel == path:
                    continue
                content = self._current(rel, other, self.bridge.resolve(other))
                if content is None:
                    continue
                new = editblock.do_replace(other, content, original, updated, fence)
                if new:
                    return new, rel, None
        if new:
            return new, path, None
        if current is None:
            return None, path, f"{path} does not exist"
        return None, path, f"the SEARCH text does not match the lines of {path}"

    def _emit(self, index, path, applies, reason, content):
        self.bridge.emit(
            "proposed",
            id=self.prompt.id,
            answer=self.answer,
            index=index,
            path=path,
            edit_format=self.format,
            applies=applies,
            reason=reason,
            content=content,
        )

    # -- after Aider applied the answer ------------------------------------------------------

    @_guarded
    def applied(self, reflected):
        """Aider applied the answer's edits; `reflected` is its message when some failed. A block
        it names as failed is re-sent as not applying, with Aider's own reason."""
        if not reflected:
            return
        for index, p in enumerate(self.proposals):
            original = p["original"]
            if not original.strip() or original not in reflected:
                continue
            reason = _aider_reason(reflected, original)
            p["applies"] = False
            self._emit(index, p["path"], False, reason, None)


def _aider_reason(reflected, original):
    """The heading Aider wrote above the failed block in its message (e.g. "SearchReplaceNoExact
    Match: This SEARCH block failed to exactly match lines in x.py"), else its first line."""
    at = reflected.find(original)
    before = reflected[:at].splitlines()
    for line in reversed(before):
        if line.startswith("## "):
            return line[3:].strip()
    first = reflected.strip().splitlines()
    return first[0].lstrip("# ").strip() if first else "Aider could not apply this block"


class State(enum.Enum):
    """Life of a Prompt, in this order. Changed under Bridge.lock."""

    RUNNING = "running"  # accepted; the host may cancel it
    FINISHING = "finishing"  # outcome decided (done/failed/cancelled); a cancel changes nothing
    ENDED = "ended"  # terminal event sent; later events must not carry its id


class Prompt:
    def __init__(self, pid, text, files):
        self.id = pid
        self.text = text
        self.files = files
        self.state = State.RUNNING
        self.cancel_requested = False
        self.calls = []  # answer (streamed, main-thread) calls, in order
        self.streamed_text = False  # text emitted since the last text_discarded
        self.live = None  # LiveEdits while it runs
        self.written = set()
        self.errors = []  # tool_error lines during this prompt


class Bridge:
    def __init__(self, channel, args):
        self.ch = channel
        self.args = args
        self.lock = threading.RLock()
        # The accepted prompt (at most one: no queue) and the shutdown marker, for the main thread.
        self.commands = queue.Queue()
        # The accepted Prompt, from acceptance by the reader until its terminal event; the busy
        # check and restore's "no prompt runs" check read it.
        self.current = None
        self.seen_ids = set()
        self.tls = threading.local()
        self.main_thread = threading.main_thread()
        # SIGINT handling state (main thread only): see on_sigint / critical.
        self.interruptible = False
        self.critical_depth = 0
        self.pending_interrupt = False
        self.shutting_down = False
        # (action, resolved path) already reported by `refused` during this prompt (or, before
        # the first prompt, during the warm-up; or during a restore). Only one thread touches
        # files at a time: the main thread (warm-up, prompts) or the reader (restore, only
        # while no prompt runs).
        self.refused_seen = set()

    # -- events -------------------------------------------------------------------------------

    def emit(self, event, **fields):
        self.ch.emit(event, **fields)

    def protocol_error(self, line, pid=None):
        """A bad command: about that command (its id when it named one), never about the prompt
        that happens to be running, whose id a plain log would borrow — even in the instant
        between that prompt's terminal event and its end."""
        fields = {"level": "error", "line": str(line)}
        if pid is not None:
            fields = {"id": pid, **fields}
        self.emit("log", **fields)

    def log(self, level, line, pid=None):
        fields = {"level": level, "line": str(line)}
        if pid is None and self.current is not None:
            pid = self.current.id
        if pid is not None:
            fields = {"id": pid, **fields}
        self.emit("log", **fields)

    # -- the worktree boundary -----------------------------------------------------------------
    # One rule, written once here: whatever Aider reads, writes, creates or adds to the chat must
    # resolve (symlinks and `..` followed) inside the worktree root. Aider itself follows both,
    # so a committed symlink or a `../x` path in a reply would otherwise reach outside.

    def resolve(self, path, base=None):
        """Where `path` really leads: joined to `base` (default: the worktree root; an absolute
        path stays as it is), symlinks and `..` resolved as the OS will when it is opened."""
        return os.path.realpath(os.path.join(base or self.root, str(path)))

    def inside(self, real):
        return os.path.commonpath([real, self.root]) == self.root

    def allow(self, action, path, base=None):
        """True if `path` may be used for `action`; otherwise reports the refusal."""
        real = self.resolve(path, base)
        if self.inside(real):
            return True
        self.refuse(action, path, real, base)
        return False

    def refuse(self, action, path, real, base=None):
        """Emit `refused` (and a warning log), once per (action, resolved path) per prompt:
        the repo map rereads every file on every prompt and must not flood the channel."""
        key = (action, real)
        if key in self.refused_seen:
            return
        self.refused_seen.add(key)
        named = os.path.normpath(os.path.join(base or self.root, str(path)))
        if named == real:
            reason = "outside the worktree"
        else:
            reason = f"resolves to {real} outside the worktree via a symlink"
        fields = {"action": action, "path": str(path), "reason": reason}
        if self.current is not None:
            fields = {"id": self.current.id, **fields}
        self.emit("refused", **fields)
        self.log("warning", f"refused to {action} {str(path)!r}: {reason}")

    def _guard_coder(self, coder):
        """Put Aider's own path decisions behind the boundary (paths relative to coder.root).

        allowed_to_edit is where Aider accepts a file named in a reply: it may create it
        (utils.touch_file, parent folders included) and `git add` it before any write, so the
        check must come first. add_rel_fname puts a file into the chat, whose content then goes
        to the model with every request. Wrapped on the instance: Aider calls both via self."""
        bridge = self
        allowed_to_edit = coder.allowed_to_edit
        add_rel_fname = coder.add_rel_fname

        def guarded_allowed_to_edit(path):
            real = bridge.resolve(path, coder.root)
            if not bridge.inside(real):
                action = "write" if os.path.exists(real) else "create"
                bridge.refuse(action, path, real, coder.root)
                return False  # Aider drops the edit
            return allowed_to_edit(path)

        def guarded_add_rel_fname(rel_fname):
            if bridge.allow("add", rel_fname, coder.root):
                add_rel_fname(rel_fname)

        coder.allowed_to_edit = guarded_allowed_to_edit
        coder.add_rel_fname = guarded_add_rel_fname

    # -- startup ------------------------------------------------------------------------------

    def start(self):
        args = self.args
        root = os.path.realpath(args.root)
        if not os.path.isdir(root):
            raise RuntimeError(f"--root {args.root!r} is not a directory")
        # Aider resolves some paths against the cwd (GitRepo without fnames uses it).
        os.chdir(root)
        self.root = root

        retry_timeout = _env_float("ARCBENCH_RETRY_TIMEOUT")
        request_timeout = _env_float("ARCBENCH_REQUEST_TIMEOUT")

        # Offline hygiene, before litellm is imported (a no-op in a template's child).
        prepare_python()

        import aider
        import aider.coders.base_coder as base_coder
        import aider.models as aider_models
        from aider.coders import Coder
        from aider.commands import SwitchCoder
        from aider.io import InputOutput
        from aider.repo import GitRepo

        self.aider_version = aider.__version__
        self.switch_coder = SwitchCoder  # caught in run_prompt
        if self.aider_version != TESTED_AIDER_VERSION:
            self.log(
                "warning",
                f"aider {self.aider_version} is not the tested {TESTED_AIDER_VERSION}; "
                "run scripts/setup-aider.sh for the pinned one",
            )
        # base_coder did `from aider.models import RETRY_TIMEOUT`: both globals are read at call
        # time (send_message for answers, simple_send_with_retries for the weak model).
        if retry_timeout is not None:
            base_coder.RETRY_TIMEOUT = retry_timeout
            aider_models.RETRY_TIMEOUT = retry_timeout
        if request_timeout is not None:
            aider_models.request_timeout = request_timeout

        if not os.environ.get("ANTHROPIC_API_KEY"):
            self.log("warning", "ANTHROPIC_API_KEY is empty: requests will fail before sending")

        main_model = aider_models.Model(args.model, weak_model=args.weak_model)
        if getattr(main_model, "missing_keys", None):
            self.log("warning", f"missing environment for {args.model}: {main_model.missing_keys}")
        self.main_model = main_model

        try:
            self._install_litellm_taps()
            self.usage_capture = True
        except (ImportError, AttributeError) as err:
            # Another litellm than the pinned one: keep working, but say loudly that the host
            # gets no usage (so no cost) from this bridge.
            self.usage_capture = False
            self.log("error", f"usage capture unavailable with this litellm: {err}")
        self._install_send_wrapper(aider_models.Model)

        bridge = self

        class BridgeIO(InputOutput):
            """Routes Aider's console output and questions into protocol events."""

            def tool_output(self, *messages, log_only=False, bold=False):
                if log_only or not messages:
                    return
                text = " ".join(str(m) for m in messages)
                if text.strip():
                    bridge.log("info", text)
                    _stderr(text)

            def tool_warning(self, message="", strip=True):
                text = str(message)
                if text.strip():
                    bridge.log("warning", text.strip() if strip else text)
                    _stderr(text)

            def tool_error(self, message="", strip=True):
                self.num_error_outputs += 1
                text = str(message)
                if text.strip():
                    text = text.strip() if strip else text
                    if bridge.current is not None:
                        bridge.current.errors.append(text)
                    bridge.log("error", text)
                    _stderr(text)

            def confirm_ask(
                self,
                question,
                default="y",
                subject=None,
                explicit_yes_required=False,
                group=None,
                allow_never=False,
            ):
                self.num_user_asks += 1
                answer = not explicit_yes_required
                # A reply that mentions a tracked file makes Aider offer to add it to the chat
                # and re-send with its content: not for one that leads outside (a symlink).
                # Saying no also spares the follow-up request. Subjects are relative to
                # coder.root, like every path Aider names.
                if (
                    answer
                    and question == "Add file to the chat?"
                    and subject is not None
                    and not bridge.allow("add", subject, bridge.coder.root)
                ):
                    answer = False
                fields = {"question": question, "subject": subject, "answer": answer}
                if bridge.current is not None:
                    fields = {"id": bridge.current.id, **fields}
                bridge.emit("confirm", **fields)
                return answer

            def prompt_ask(self, question, default="", subject=None):
                # Not reached with our settings; never block on a terminal that is not there.
                bridge.log("warning", f"Aider asked {question!r}; answered {default!r}")
                return default

            def offer_url(self, url, prompt="Open URL for more info?", allow_never=True):
                return False

            def get_input(self, *a, **k):
                raise EOFError  # the bridge, not a terminal, feeds Aider

            # Every file content Aider reads (chat files, the repo map, SEARCH/REPLACE matching)
            # and writes goes through these three; Aider passes paths with symlinks already
            # resolved. A refused read returns None, which Aider handles as unreadable (a chat
            # file is dropped, the map skips it): nothing of it reaches the model. Images in the
            # chat are opened directly by get_images_message, but only after read_text has been
            # asked for every chat file (get_files_content), which drops a refused one.

            def read_text(self, filename, silent=False):
                if not bridge.allow("read", filename):
                    return None
                return super().read_text(filename, silent)

            def read_image(self, filename):
                if not bridge.allow("read", filename):
                    return None
                return super().read_image(filename)

            def write_text(self, filename, content, max_retries=5, initial_delay=0.1):
                if not bridge.allow("write", filename):
                    return
                # A SIGINT must not leave a half-written file: defer it until the write is done.
                with bridge.critical():
                    super().write_text(filename, content, max_retries, initial_delay)
                    bridge.note_written(filename)

            def llm_started(self):
                pass

            def ring_bell(self):
                pass

        io = BridgeIO(
            pretty=False,
            yes=True,
            fancy_input=False,
            chat_history_file=None,
            input_history_file=None,
            llm_history_file=None,
            root=root,
        )
        self.io = io

        repo = None
        try:
            repo = GitRepo(io, [], root, models=main_model.commit_message_models())
        except FileNotFoundError:
            self.log("warning", f"{root} is not a git repository; running without git")
        if repo is not None:
            self._exclude_aider_files(repo)

        map_tokens = args.map_tokens
        if map_tokens is None:
            map_tokens = int(main_model.get_repo_map_tokens())

        class NoAnalytics:
            def event(self, *a, **k):
                pass

        coder = Coder.create(
            main_model=main_model,
            io=io,
            repo=repo,
            fnames=[],
            use_git=repo is not None,
            auto_commits=False,
            dirty_commits=False,
            stream=True,
            map_tokens=map_tokens,
            suggest_shell_commands=False,
            detect_urls=False,
            auto_lint=False,
            auto_test=False,
            cache_prompts=args.cache_prompts,
            edit_format=args.edit_format,
            analytics=NoAnalytics(),
        )
        # Aider exits the process on two ^C within 2 s; here ^C only means "cancel".
        coder.keyboard_interrupt = lambda: None
        # Aider's "Tokens: ... Cost: ..." line uses local token estimates (and double-counts
        # cache writes); the host computes cost from the raw `usage` events instead.
        coder.show_usage_report = lambda: None
        self._guard_coder(coder)
        self.coder = coder
        self.map_tokens = map_tokens

        signal.signal(signal.SIGINT, self.on_sigint)
        self.ch.critical = self.critical

        self.emit(
            "ready",
            protocol=PROTOCOL_VERSION,
            aider_version=self.aider_version,
            model=main_model.name,
            weak_model=main_model.weak_model.name if main_model.weak_model else None,
            edit_format=coder.edit_format,
            map_tokens=map_tokens,
            root=root,
            usage_capture=self.usage_capture,
        )

    def _exclude_aider_files(self, repo):
        try:
            common = repo.repo.git.rev_parse("--git-common-dir")
            common = os.path.join(self.root, common) if not os.path.isabs(common) else common
            path = os.path.join(common, "info", "exclude")
            existing = ""
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    existing = f.read()
            if ".aider*" not in existing.splitlines():
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "a", encoding="utf-8") as f:
                    if existing and not existing.endswith("\n"):
                        f.write("\n")
                    f.write(".aider*\n")
        except Exception as err:
            self.log("warning", f"could not add .aider* to info/exclude: {err}")

    # -- usage and failure capture ------------------------------------------------------------

    def _install_litellm_taps(self):
        """Tap the raw Anthropic JSON inside litellm to record the server's own usage numbers.

        litellm's Usage object folds cache reads/writes into prompt_tokens and Aider's counters
        are local estimates, so neither gives the raw numbers. The taps sit at the two places
        where litellm 1.81 parses Anthropic responses: the SSE chunk parser (streams) and
        transform_response (whole bodies). They only read; litellm's behaviour is unchanged.
        """
        from litellm.llms.anthropic.chat import handler as anth_handler
        from litellm.llms.anthropic.chat import transformation as anth_transform

        bridge = self
        iterator_cls = anth_handler.ModelResponseIterator
        orig_chunk_parser = iterator_cls.chunk_parser

        def chunk_parser(self_it, chunk, *a, **k):
            call = getattr(bridge.tls, "call", None)
            if call is not None and isinstance(chunk, dict):
                kind = chunk.get("type")
                if kind == "message_start":
                    message = chunk.get("message")
                    if isinstance(message, dict):
                        call.merge_usage(message.get("usage"))
                elif kind == "message_delta":
                    call.merge_usage(chunk.get("usage"))
                    call.complete = True
            return orig_chunk_parser(self_it, chunk, *a, **k)

        iterator_cls.chunk_parser = chunk_parser

        config_cls = anth_transform.AnthropicConfig
        orig_transform = config_cls.transform_response

        def transform_response(self_cfg, *a, **k):
            call = getattr(bridge.tls, "call", None)
            raw = k.get("raw_response") if "raw_response" in k else (a[1] if len(a) > 1 else None)
            if call is not None and raw is not None:
                try:
                    body = raw.json()
                    if isinstance(body, dict) and "usage" in body:
                        call.merge_usage(body["usage"])
                        call.complete = True
                except Exception:
                    pass  # litellm will report the bad body itself
            return orig_transform(self_cfg, *a, **k)

        config_cls.transform_response = transform_response

    def _install_send_wrapper(self, model_cls):
        """Wrap Model.send_completion: every Aider request (answers and weak-model calls) passes
        through it, in the thread that consumes the answer, so a thread-local names the Call the
        litellm taps above should fill."""
        bridge = self
        orig_send = model_cls.send_completion

        def send_completion(model_self, messages, functions, stream, temperature=None):
            return bridge._send(orig_send, model_self, messages, functions, stream, temperature)

        model_cls.send_completion = send_completion

    def _send(self, orig_send, model_self, messages, functions, stream, temperature):
        on_main = threading.current_thread() is self.main_thread
        prompt = self.current
        if not on_main and threading.current_thread() is not self.coder.summarizer_thread:
            # A summary the bridge stopped waiting for (see _detach_summary) still sending,
            # e.g. falling back to the main model: its prompt has been cancelled, and whatever
            # runs now did not ask for it.
            prompt = None
        prev = getattr(self.tls, "call", None)
        if prev is not None:
            self.finish_call(prev)  # an abandoned stream (e.g. FinishReasonLength)
        call = Call(
            prompt=prompt,
            model=model_self.name,
            stream=bool(stream),
            background=not on_main,
        )
        answer = on_main and prompt is not None and stream
        if answer:
            if prompt.calls and prompt.streamed_text:
                reason = "retry" if prompt.calls[-1].error is not None else "reflection"
                self.emit("text_discarded", id=prompt.id, reason=reason)
                prompt.streamed_text = False
                if prompt.live is not None:
                    prompt.live.new_answer()
            prompt.calls.append(call)
        self.tls.call = call
        try:
            hash_object, response = orig_send(model_self, messages, functions, stream, temperature)
        except KeyboardInterrupt:
            call.interrupted = True
            self.finish_call(call)
            raise
        except BaseException as err:
            call.error = err
            self.finish_call(call)
            raise
        if not stream:
            self.finish_call(call)
            return hash_object, response
        return hash_object, StreamTap(self, response, call, answer)

    def finish_call(self, call):
        """Emit the request's usage once, whatever way it ended."""
        if call.finished:
            return
        call.finished = True
        if getattr(self.tls, "call", None) is call:
            self.tls.call = None
        if not call.usage:
            return  # HTTP error or no answer yet: the server reported nothing
        fields = {key: call.usage.get(key, 0) for key in Call.FIELDS}
        # A SIGINT must not lose the line (critical), and the prompt must not end between the
        # check and the write (lock; _end sends the terminal event under it): a request that
        # outlived its prompt (a detached summary) is reported without an id.
        with self.critical(), self.lock:
            prompt = call.prompt
            ended = prompt is None or prompt.state is State.ENDED
            self.emit(
                "usage",
                **({} if ended else {"id": prompt.id}),
                model=call.model,
                **fields,
                partial=not call.complete,
                background=call.background,
            )

    def note_written(self, filename):
        prompt = self.current
        if prompt is None:
            return
        path = os.path.abspath(str(filename))
        rel = os.path.relpath(path, self.root)
        prompt.written.add(path if rel.startswith("..") else rel)

    def flush_written(self, prompt):
        if prompt.written:
            paths = sorted(prompt.written)
            prompt.written.clear()
            self.emit("files_written", id=prompt.id, paths=paths)

    # -- SIGINT / cancel ----------------------------------------------------------------------

    def on_sigint(self, signum, frame):
        # Runs in the main thread between bytecodes. Raising KeyboardInterrupt here is what
        # breaks a blocking socket read (hung request) at once.
        # No lock here: the handler may run while the main thread holds the channel lock, and
        # the reader thread may hold self.lock while waiting for the channel lock. The fields
        # below are only changed by the main thread (which this is) or under self.lock by the
        # reader, and single attribute reads/stores are atomic.
        prompt = self.current
        if prompt is None or prompt.state is not State.RUNNING:
            return  # idle, or the prompt's outcome is already decided: nothing to cancel
        prompt.cancel_requested = True
        if not self.interruptible:
            return  # between Aider calls; the loop checks cancel_requested
        if self.critical_depth > 0:
            self.pending_interrupt = True  # finish the write/emit first
            return
        raise KeyboardInterrupt

    class _Critical:
        def __init__(self, bridge):
            self.b = bridge

        def __enter__(self):
            if threading.current_thread() is self.b.main_thread:
                self.b.critical_depth += 1

        def __exit__(self, *exc):
            b = self.b
            if threading.current_thread() is not b.main_thread:
                return False
            b.critical_depth -= 1
            if b.critical_depth == 0 and b.pending_interrupt:
                b.pending_interrupt = False
                if b.interruptible and exc[0] is None:
                    raise KeyboardInterrupt
            return False

    def critical(self):
        """Section in which a SIGINT is deferred, not raised (protocol writes, file writes)."""
        return Bridge._Critical(self)

    def request_cancel(self, pid):
        with self.lock:
            prompt = self.current
            if prompt is not None and pid in (None, prompt.id):
                if prompt.state is State.RUNNING:
                    prompt.cancel_requested = True
                    signal.pthread_kill(self.main_thread.ident, signal.SIGINT)
                return  # or FINISHING: its terminal event is on its way
        if pid is None:
            self.log("warning", "cancel: no prompt is running")
        else:
            self.log("warning", f"cancel: unknown or finished prompt id {pid!r}")

    # -- stdin --------------------------------------------------------------------------------

    def reader(self):
        try:
            for line in self.ch.read_lines():
                if not line.strip():
                    continue
                self.handle_command_line(line)
        except Exception as err:
            self.log("error", f"reading commands failed: {err}")
        # EOF (or a broken stdin) means shutdown.
        self.shutdown()

    def handle_command_line(self, line):
        try:
            cmd = json.loads(line)
        except ValueError as err:
            self.protocol_error(f"protocol error: not JSON ({err}): {line.strip()[:200]}")
            return
        if not isinstance(cmd, dict):
            self.protocol_error(f"protocol error: expected a JSON object: {line.strip()[:200]}")
            return
        op = cmd.get("op")
        pid = cmd.get("id")
        idf = pid if isinstance(pid, str) else None
        if op == "prompt":
            self.accept_prompt(cmd, pid)
        elif op == "cancel":
            if pid is not None and not isinstance(pid, str):
                self.protocol_error("protocol error: cancel id must be a string")
                return
            self.request_cancel(pid)
        elif op == "restore":
            self.restore(cmd)
        elif op == "shutdown":
            self.shutdown()
        else:
            self.protocol_error(f"protocol error: unknown op {op!r}", idf)

    def accept_prompt(self, cmd, pid):
        text = cmd.get("text")
        files = cmd.get("files", [])
        if not isinstance(pid, str) or not pid:
            self.protocol_error("protocol error: prompt needs a non-empty string id")
            return
        if not isinstance(text, str) or not text.strip():
            self.protocol_error("protocol error: prompt needs a non-empty text", pid)
            return
        if files is None:
            files = []
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            self.protocol_error("protocol error: files must be a list of strings", pid)
            return
        problem = busy = None
        with self.lock:
            if pid in self.seen_ids:
                # Also the running prompt's own id: answering it with `failed` would give that
                # prompt a second terminal event.
                problem = f"protocol error: duplicate prompt id {pid!r}"
            elif self.shutting_down:
                problem = "protocol error: prompt after shutdown"
            else:
                # A refused id is used up too: it got its terminal event.
                self.seen_ids.add(pid)
                busy = self.current
                if busy is None:
                    prompt = self.current = Prompt(pid, text, files)
        if problem:
            self.protocol_error(problem, pid)
        elif busy is not None:
            # No queue: the host decides what runs next, and a prompt it thinks is running
            # never silently waits behind another one.
            reason = f"busy: prompt {busy.id} is running; the bridge runs one prompt at a time"
            self.emit("failed", id=pid, reason=reason, status=None, error_type=None)
        else:
            self.commands.put(prompt)

    def restore(self, cmd):
        """Replace the chat history and add files (the `restore` command).

        Runs on the reader thread, which is the only one that accepts prompts: none can start
        meanwhile, and with no prompt running the main thread is idle (after a prompt's terminal
        event it touches the Coder no more), so the Coder is changed by one thread only."""
        messages = cmd.get("messages")
        files = cmd.get("files", [])
        if files is None:
            files = []
        problem = _restore_problem(messages, files)
        if problem is None:
            with self.lock:
                if self.current is not None:
                    problem = f"restore refused: prompt {self.current.id} is running"
        if problem:
            self.protocol_error(problem)
            return
        coder = self.coder
        # Only role and content: the shape `history` sends, and all the Messages API needs.
        coder.done_messages = [dict(role=m["role"], content=m["content"]) for m in messages]
        coder.cur_messages = []
        self.refused_seen.clear()  # a restore reports its refusals like a prompt
        self._add_files(files)
        self.emit("restored", messages=len(messages), files=coder.get_inchat_relative_files())

    def shutdown(self):
        with self.lock:
            if self.shutting_down:
                return
            self.shutting_down = True
            running = self.current
        if running is not None:
            self.request_cancel(running.id)
        self.commands.put(None)

    # -- main loop ----------------------------------------------------------------------------

    def serve(self):
        # Commands are read only after the warm-up (they wait in the pipe meanwhile): the
        # warm-up, on this thread, then never overlaps a restore, which runs on the reader.
        self._warm_up()
        threading.Thread(target=self.reader, name="stdin-reader", daemon=True).start()
        while True:
            prompt = self.commands.get()
            if prompt is None:
                return 0
            self.run_prompt(prompt)

    def _warm_up(self):
        """Pay Aider's first-prompt costs after `ready`, while the user is still typing.

        The first prompt would otherwise spend ~0.45 s loading tokenizers (tiktoken and the
        Claude one, for Aider's token counts) and, with a repo map, 1-2 s+ parsing the repository
        into .aider.tags.cache.v4. Commands that arrive meanwhile simply wait in the pipe."""
        try:
            self.main_model.token_count([dict(role="user", content="warm up")])
            weak = self.main_model.weak_model
            if weak is not None and weak is not self.main_model:
                weak.token_count([dict(role="user", content="warm up")])
            if self.coder.repo_map is not None:
                self.coder.get_repo_map()
        except Exception as err:
            self.log("warning", f"warm-up failed (harmless): {type(err).__name__}: {err}")

    def run_prompt(self, prompt):
        outcome = None
        self.refused_seen.clear()  # refusals are reported once per prompt
        try:
            self.interruptible = True
            try:
                try:
                    self._converse(prompt)
                except self.switch_coder:
                    # Only Aider's CLI loop handles SwitchCoder (/ask, /model, ... raise it); the
                    # bridge never passes text to Aider's command parser, so nothing it enables
                    # should raise it. Should it happen, the bridge keeps its coder and the
                    # prompt ends like any other: done if the model answered (see _judge).
                    reason = (
                        "Aider tried to switch chat mode or model (SwitchCoder), which the "
                        "bridge does not do; the prompt ended there"
                    )
                    prompt.errors.append(reason)
                    self.log("warning", reason)
                if prompt.cancel_requested:
                    self._detach_summary()  # never keep a cancelled prompt waiting on it
                else:
                    self._finish_summary()
            finally:
                self.interruptible = False
                with self.lock:
                    prompt.state = State.FINISHING
                    cancelled = prompt.cancel_requested
        except KeyboardInterrupt:
            cancelled = True
            self._tidy_history_after_interrupt()
            self._detach_summary()
        except Exception as err:
            import traceback

            traceback.print_exc()
            outcome = ("failed", f"bridge error: {type(err).__name__}: {err}", None, None)
            cancelled = False
        self.pending_interrupt = False

        # Any stream Aider abandoned still gets its (partial) usage reported.
        for call in prompt.calls:
            self.finish_call(call)
        self.flush_written(prompt)

        if cancelled:
            self._end(prompt, "cancelled")
            return
        if outcome is None:
            outcome = self._judge(prompt)
        if outcome[0] == "done":
            self._end(prompt, "done")
        else:
            _, reason, status, error_type = outcome
            self._end(prompt, "failed", reason=reason, status=status, error_type=error_type)

    def _converse(self, prompt):
        if prompt.cancel_requested:
            return  # cancelled before it started: add no files, send nothing
        coder = self.coder
        self._add_files(prompt.files, prompt)
        coder.init_before_message()
        prompt.live = LiveEdits(self, prompt)
        if not prompt.live.enabled:
            self.log(
                "info",
                f"live edits are shown for Aider's {', '.join(LIVE_FORMATS)} edit formats, not "
                f"for {coder.edit_format!r}: this reply's edits appear when Aider applies them",
                pid=prompt.id,
            )
        message = prompt.text
        # Aider's full run_one() loop, minus its input preprocessing (no /commands, no URL
        # detection): follow-ups for mentioned files, failed SEARCH blocks, ...
        while message and not prompt.cancel_requested:
            coder.reflected_message = None
            for chunk in coder.send_message(message):
                if chunk:
                    prompt.streamed_text = True
                    self.emit("text", id=prompt.id, chunk=chunk)
                    prompt.live.feed(chunk)
            prompt.live.applied(coder.reflected_message)
            self.flush_written(prompt)
            if prompt.cancel_requested or not coder.reflected_message:
                break
            if coder.num_reflections >= coder.max_reflections:
                self.log("warning", f"Only {coder.max_reflections} reflections allowed, stopping.")
                break
            coder.num_reflections += 1
            message = coder.reflected_message

    def _end(self, prompt, terminal, **fields):
        """Send the prompt's `history`, then its terminal event; the bridge is idle after that.

        Under the lock, so that whatever the host sends on seeing the terminal event (the next
        prompt, a restore) finds no prompt running, and a usage reported later sees ENDED."""
        coder = self.coder
        messages = [
            {"role": m.get("role"), "content": _plain_content(m.get("content"))}
            for m in coder.done_messages + coder.cur_messages
        ]
        files = coder.get_inchat_relative_files()
        with self.lock:
            self.emit("history", id=prompt.id, messages=messages, files=files)
            self.emit(terminal, id=prompt.id, **fields)
            prompt.state = State.ENDED
            self.current = None

    def _add_files(self, files, prompt=None):
        """Add `files` (relative to root) to the chat, inside the worktree only. For a prompt a
        missing file is created empty, like Aider's /add; for a restore (no prompt) it is
        skipped: a restored conversation must not conjure up files it no longer has."""
        coder = self.coder
        for rel in files:
            # Checked here, not only in add_rel_fname: a missing file is created first.
            if not self.allow("add", rel):
                continue
            path = self.resolve(rel)
            if os.path.isdir(path):
                self.log("warning", f"refusing to add {rel!r}: it is a directory")
                continue
            if not os.path.exists(path):
                if prompt is None:
                    self.log("warning", f"restore: {rel!r} does not exist; not added to the chat")
                    continue
                self.emit(
                    "confirm",
                    id=prompt.id,
                    question="Create new file?",
                    subject=rel,
                    answer=True,
                )
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "a", encoding="utf-8"):
                    pass
            coder.add_rel_fname(os.path.relpath(path, coder.root))

    def _finish_summary(self):
        # Aider summarizes long history on a background thread with the weak model and swaps the
        # summary in at the next prompt. Wait for it (a cancel interrupts the wait) and swap now:
        # its usage then belongs to this prompt and precedes the terminal event, and `history`
        # is what the next prompt really sends.
        thread = getattr(self.coder, "summarizer_thread", None)
        if thread is not None:
            thread.join()
            with self.critical():
                self.coder.summarize_end()

    def _detach_summary(self):
        # Cancelled while a summary request runs: stop waiting. Aider would join the thread at
        # the next prompt (possibly for minutes if that request hangs); forget it instead, and
        # the history is simply not summarized this time. Should the request still be answered,
        # its usage comes without an id (see _send and finish_call).
        coder = self.coder
        if getattr(coder, "summarizer_thread", None) is not None:
            coder.summarizer_thread = None
            coder.summarizing_messages = None
            coder.summarized_done_messages = []

    def _tidy_history_after_interrupt(self):
        # Aider repairs history itself when ^C hits the request; an interrupt elsewhere (e.g. in
        # a retry sleep) can leave a dangling user turn. Close it the way Aider does.
        coder = self.coder
        msgs = coder.cur_messages
        if msgs and msgs[-1].get("role") == "user":
            msgs[-1]["content"] = str(msgs[-1].get("content", "")) + "\n^C KeyboardInterrupt"
            msgs.append(
                dict(role="assistant", content="I see that you interrupted my previous reply.")
            )

    def _judge(self, prompt):
        """done, or failed with the API's reason. Aider never raises: look at what happened."""
        calls = prompt.calls
        last = calls[-1] if calls else None
        if last is not None and last.error is not None:
            return ("failed",) + describe_error(last.error)
        if not any(c.error is None and not c.interrupted for c in calls):
            reason = prompt.errors[-1] if prompt.errors else "Aider did not send a request"
            return ("failed", reason, None, None)
        return ("done",)


ROLES = ("user", "assistant", "system")


def _restore_problem(messages, files):
    """What is wrong with a restore's arguments (an error line), or None."""
    if not isinstance(messages, list):
        return "protocol error: restore needs messages, a list of {role, content} objects"
    for i, m in enumerate(messages):
        if not (
            isinstance(m, dict)
            and m.get("role") in ROLES
            and isinstance(m.get("content"), str)
        ):
            return (
                f"protocol error: restore messages[{i}] must be an object with role user, "
                "assistant or system and string content"
            )
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return "protocol error: files must be a list of strings"
    return None


def _plain_content(content):
    """A message's content as the string `history` sends. Aider's own messages may carry None
    (a function call) or a list of blocks (text and images): keep the text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return "" if content is None else str(content)


class StreamTap:
    """Iterates litellm's stream for Aider and reports the Call's end (and usage) to the bridge."""

    def __init__(self, bridge, inner, call, answer=False):
        self._bridge = bridge
        self._inner = inner
        self._call = call
        self._answer = answer  # the prompt's streamed answer (not a weak-model call)
        self._it = None

    def __iter__(self):
        return self

    def __next__(self):
        if self._it is None:
            self._it = iter(self._inner)
        try:
            return next(self._it)
        except StopIteration:
            self._bridge.finish_call(self._call)
            live = self._call.prompt.live if self._answer else None
            if live is not None:
                live.stream_ended()  # before Aider applies the answer's edits
            raise
        except KeyboardInterrupt:
            self._call.interrupted = True
            self._bridge.finish_call(self._call)
            raise
        except BaseException as err:
            self._call.error = err
            self._bridge.finish_call(self._call)
            raise

    def __getattr__(self, name):
        return getattr(self._inner, name)


_JSON_IN_TEXT = re.compile(r"\{.*\}", re.S)


def describe_error(err):
    """(reason, status, error_type) from a litellm exception, preferring the API's own words."""
    # litellm re-maps statuses (529 overloaded becomes InternalServerError with 500) and invents
    # a 500 for connection errors. The root cause at the bottom of the exception chain tells the
    # truth: an HTTP error carries the server's status, a connection error has none.
    root = err
    for _ in range(10):
        nxt = root.__cause__ or root.__context__
        if nxt is None:
            break
        root = nxt
    status = getattr(root, "status_code", None)
    if not isinstance(status, int):
        status = None
    text = str(err)
    error_type = None
    message = None
    match = _JSON_IN_TEXT.search(text)
    if match:
        try:
            body = json.loads(match.group(0))
            inner = body.get("error") if isinstance(body, dict) else None
            if isinstance(inner, dict):
                error_type = inner.get("type")
                message = inner.get("message")
        except ValueError:
            pass
    if message:
        reason = f"{error_type}: {message}" if error_type else str(message)
    else:
        # e.g. "litellm.APIConnectionError: ..." -- keep litellm's class name, it is informative
        reason = text.strip() or type(err).__name__
    return reason, status, error_type


def _stderr(text):
    try:
        sys.stderr.write(str(text).rstrip("\n") + "\n")
        sys.stderr.flush()
    except Exception:
        pass


if __name__ == "__main__":
    main()
