"""The floor for a streamed answer in a pipe: httpx stream, iter_lines, json.loads, write, flush.

    MISTRAL_SERVER_URL=... MISTRAL_API_KEY=... python bench/baseline_stream.py

What any Python client must do per chunk, with nothing else: the benchmark compares
`mcli chat` with it.
"""

import json
import os
import sys

import httpx


def main() -> None:
    url = os.environ["MISTRAL_SERVER_URL"].rstrip("/") + "/v1/chat/completions"
    headers = {"Authorization": "Bearer " + os.environ["MISTRAL_API_KEY"],
               "Accept": "text/event-stream"}
    body = {"model": "mistral-small-latest", "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}
    write, flush = sys.stdout.write, sys.stdout.flush
    with httpx.Client(timeout=httpx.Timeout(120, connect=10)) as client:
        with client.stream("POST", url, json=body, headers=headers) as response:
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                if data == "[DONE]":
                    break
                content = json.loads(data)["choices"][0]["delta"].get("content")
                if content:
                    write(content)
                    flush()


if __name__ == "__main__":
    main()
