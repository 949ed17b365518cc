"""The floor for one GET: import httpx, send the request, print the JSON body.

    MISTRAL_SERVER_URL=... MISTRAL_API_KEY=... python bench/baseline_get.py

What any Python client must do for `mcli models list -o json`, with nothing else.
"""

import json
import os

import httpx


def main() -> None:
    url = os.environ["MISTRAL_SERVER_URL"].rstrip("/") + "/v1/models"
    headers = {"Authorization": "Bearer " + os.environ["MISTRAL_API_KEY"]}
    with httpx.Client(timeout=httpx.Timeout(120, connect=10)) as client:
        body = client.get(url, headers=headers).json()
    print(json.dumps(body, indent=2))


if __name__ == "__main__":
    main()
