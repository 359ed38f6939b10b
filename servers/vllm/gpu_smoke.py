"""GPU smoke test: serve a local vision model with vLLM, ask one image question, make one tool call.

Run on a GPU machine that has vLLM (``pip install mien[gpu]``) and a local model folder::

    python -m servers.vllm.gpu_smoke --model /models/Qwen2.5-VL-3B-Instruct

It prints what came back and how long each step took, and exits non-zero if the server did not start, the image
answer is empty, or the tool call did not come back as a parsed ``tool_calls`` entry.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from servers.vllm.config import VllmServeConfig
from servers.vllm.frames import as_message_content, image_part
from servers.vllm.launcher import VllmServer
from tools.errors import MienError

COUNT_FACES_TOOL = {
    "type": "function",
    "function": {
        "name": "count_faces",
        "description": "Count the human faces in an image file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "Path of the image file."}},
            "required": ["path"],
        },
    },
}


def _chat(base_url: str, payload: dict[str, object], timeout_s: float = 300.0) -> tuple[dict[str, object], float]:
    import httpx

    started = time.perf_counter()
    response = httpx.post(f"{base_url}/chat/completions", json=payload, timeout=timeout_s)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return response.json(), elapsed


def _first_token_s(base_url: str, payload: dict[str, object]) -> float | None:
    import httpx

    started = time.perf_counter()
    with httpx.stream("POST", f"{base_url}/chat/completions", json={**payload, "stream": True}, timeout=300) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                choices = json.loads(line[6:]).get("choices") or [{}]
                if choices[0].get("delta", {}).get("content"):
                    return time.perf_counter() - started
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="local Hugging Face folder of a vision model")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-model-len", type=int, default=8192)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.85)
    parser.add_argument("--startup-timeout-s", type=float, default=900.0)
    args = parser.parse_args(argv)

    from evals.samples import astronaut

    config = VllmServeConfig(
        model_path=args.model,
        port=args.port,
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
        max_images_per_prompt=4,
        max_videos_per_prompt=0,
    )
    started = time.perf_counter()
    with VllmServer(config, startup_timeout_s=args.startup_timeout_s) as server:
        print(f"vLLM ready in {time.perf_counter() - started:.1f} s at {server.base_url} as {server.model_name}")

        content = [
            *as_message_content([image_part(astronaut(), config.pixels)]),
            {"type": "text", "text": "Describe the person in this photo and the emotion on their face."},
        ]
        question = {
            "model": server.model_name,
            "messages": [{"role": "user", "content": content}],
            "max_tokens": 128,
            "temperature": 0,
        }
        answer, elapsed = _chat(server.base_url, question)
        text = answer["choices"][0]["message"]["content"]  # type: ignore[index]
        usage = answer["usage"]
        print(f"image question: {elapsed:.2f} s, usage {usage}\n  answer: {text}")
        print(f"  time to first token (streamed): {_first_token_s(server.base_url, question)} s")

        tool_request = {
            "model": server.model_name,
            "messages": [{"role": "user", "content": "How many faces are in /data/t1.jpg? Use the tool."}],
            "tools": [COUNT_FACES_TOOL],
            "tool_choice": "auto",
            "max_tokens": 128,
            "temperature": 0,
        }
        called, elapsed = _chat(server.base_url, tool_request)
        message = called["choices"][0]["message"]  # type: ignore[index]
        print(f"tool call: {elapsed:.2f} s, finish_reason {called['choices'][0]['finish_reason']}")  # type: ignore[index]
        print(f"  tool_calls: {json.dumps(message.get('tool_calls'))}\n  content: {message.get('content')}")

    ok = bool(text) and bool(message.get("tool_calls"))
    print("SMOKE OK" if ok else "SMOKE FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MienError as error:
        print(f"gpu_smoke: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
