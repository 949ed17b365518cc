"""The floor of this stack: a bare two-command Typer app (`--help`, and one GET with httpx)."""

import json
import os

import typer

app = typer.Typer(add_completion=False)


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def get() -> None:
    """GET /v1/models with plain httpx and print the JSON body."""
    import httpx

    url = os.environ["MISTRAL_SERVER_URL"] + "/v1/models"
    headers = {"Authorization": "Bearer " + os.environ["MISTRAL_API_KEY"]}
    with httpx.Client() as client:
        body = client.get(url, headers=headers).json()
    print(json.dumps(body, indent=2))


if __name__ == "__main__":
    app()
