"""The original design's host stack ("Python · FastAPI + Uvicorn") as a benchmark anchor.

Only the parts `bench/run.sh anchor` compares with `arcbench serve`, in the same shape:

- `GET /status`: bearer-key check, a small JSON body shaped like ours (a pydantic model, as a
  FastAPI host would declare it for its OpenAPI schema).
- `WS /ws`: every connected client gets every event. The key comes in the `Authorization`
  header or, as with ours, in a first message `{"type": "auth", "token": KEY}`. Each socket has
  its own queue and sender task, like ours (a broadcast channel read by one task per socket), so
  a slow client does not hold up the others.
- `POST /broadcast?n=N`: the burst producer. N events shaped like our `agent.text` events, ids of
  the same length, so the same bytes per event (the last one a `prompt.finished`), each stamped
  and serialized once, then queued to every client.

What it leaves out, all of which our host does per message and so counts against us: no event
log (ours commits every event to SQLite and replays `since=N`), one serialization per event
(ours serializes per socket), no Host allowlist, CORS or failed-auth limiter, and `/status`
reads no database (ours lists sessions from SQLite on a blocking thread).

Run by the bench as `python app.py` with ANCHOR_API_KEY set; prints `listening on URL` once it
serves. One uvicorn process (a second worker would not see the first one's WebSockets), access
log off (ours logs at warn). uvicorn uses uvloop + httptools, which FastAPI's recommended install
(`fastapi[standard]` -> `uvicorn[standard]`) brings: asking for them by name makes a venv
without them fail instead of quietly measuring the slower pure-Python defaults.
"""

import asyncio
import hmac
import json
import os
import socket
import sys
import time

import fastapi
import uvicorn
from fastapi import Depends, FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

KEY = os.environ["ANCHOR_API_KEY"].encode()
# One queue per connected socket; the producer puts each event's text in every queue.
clients: set[asyncio.Queue] = set()
seq = 0


def key_ok(token: object) -> bool:
    # Constant-time, like ours.
    return isinstance(token, str) and hmac.compare_digest(token.encode(), KEY)


bearer = HTTPBearer(auto_error=False)


# `async def`: FastAPI runs a plain `def` dependency in its threadpool, a hop per request that a
# real FastAPI host would not pay for a key comparison.
async def require_key(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    if not key_ok(creds.credentials if creds else None):
        raise HTTPException(401, "missing or wrong API key (Authorization: Bearer <key>)")


class Agent(BaseModel):
    kind: str
    available: bool
    version: str | None
    state: str


class Status(BaseModel):
    name: str
    version: str
    demo: bool
    repos: list[str]
    agent: Agent
    sessions_active: int


app = FastAPI()


@app.get("/status", response_model=Status, dependencies=[Depends(require_key)])
async def status() -> Status:
    return Status(
        name="anchor",
        version="0.1.0",
        demo=False,
        repos=["repo"],
        agent=Agent(kind="aider", available=True, version="0.86.2", state="ready"),
        sessions_active=len(clients),
    )


def now_ts() -> str:
    # Our events' `ts`: RFC 3339, milliseconds, UTC.
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def publish(body: dict) -> None:
    global seq
    seq += 1
    # `seq` first, compact separators: the same text our host sends (serde's field order).
    event = {"seq": seq, "ts": now_ts(), "session_id": SESSION, **body}
    text = json.dumps(event, separators=(",", ":"))
    for q in clients:
        q.put_nowait(text)


async def burst(n: int) -> None:
    prompt = f"p-{seq % 10**8:08d}"  # the length of our prompt ids
    for i in range(n - 1):
        publish({"type": "agent.text", "prompt_id": prompt, "chunk": f"{i:03x} "})
        # A producer streams: let the senders run between events, as chunks arriving from an
        # agent would.
        await asyncio.sleep(0)
    usage = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
    publish({"type": "prompt.finished", "prompt_id": prompt, "state": "done", "usage": usage})


tasks: set[asyncio.Task] = set()


@app.post("/broadcast", status_code=202, dependencies=[Depends(require_key)])
async def broadcast(n: int) -> dict:
    if not 1 <= n <= 100_000:
        raise HTTPException(400, "n must be 1..100000")
    # Answer at once, as our prompt POST does (202 queued); the burst runs in the background.
    t = asyncio.create_task(burst(n))
    tasks.add(t)
    t.add_done_callback(tasks.discard)
    return {"queued": n}


@app.websocket("/ws")
async def ws(socket_: WebSocket) -> None:
    header = socket_.headers.get("authorization", "")
    header_ok = key_ok(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
    if header_ok is False:
        await socket_.close(4401)
        return
    await socket_.accept()
    if header_ok is None:
        try:
            first = await asyncio.wait_for(socket_.receive_json(), 5)
            auth = isinstance(first, dict) and first.get("type") == "auth"
            if not (auth and key_ok(first.get("token"))):
                raise ValueError
        except (asyncio.TimeoutError, ValueError, WebSocketDisconnect):
            await socket_.close(4401)
            return
    queue: asyncio.Queue = asyncio.Queue()
    clients.add(queue)

    async def drain() -> None:
        while True:
            await socket_.send_text(await queue.get())

    sender = asyncio.create_task(drain())
    try:
        # The client only ever sends its auth message; this returns when it goes away.
        while True:
            await socket_.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(queue)
        sender.cancel()


SESSION = "anchor00"  # the length of our session ids: same-size events


class Server(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets)
        # Only now does the socket listen and accept (the lifespan hook runs before that).
        port = self.servers[0].sockets[0].getsockname()[1]
        print(f"listening on http://127.0.0.1:{port}", flush=True)


if __name__ == "__main__":
    # Bind first (port 0: the kernel picks), so the printed URL is the one served.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(
        f"anchor: CPython {sys.version.split()[0]}, fastapi {fastapi.__version__}, "
        f"uvicorn {uvicorn.__version__} (uvloop, httptools, websockets-sansio)",
        flush=True,
    )
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        log_level="warning",
        access_log=False,
    )
    Server(config).run(sockets=[sock])
