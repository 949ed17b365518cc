"""Spec facts of the batch commands beyond the copied enums (those are in test_spec_facts.py's
ENUMS): metadata value lengths, every list filter the spec declares, the create body's fields."""

from __future__ import annotations

from tests.fakeapi.spec import load_spec, resolve, schemas


def test_batch_metadata_value_lengths_match_the_spec():
    from mistral_cli.commands.batch.inputs import METADATA_VALUE_LENGTH

    values = resolve(schemas()["BatchJobIn"])["properties"]["metadata"]["additionalProperties"]
    assert METADATA_VALUE_LENGTH == (values["minLength"], values["maxLength"])


class Recorder:
    """A stand-in client that keeps the keyword arguments of its last call."""

    def call(self, method, path, **kwargs):
        self.kwargs = kwargs
        return {}


def test_batch_list_sends_every_filter_of_the_spec():
    from mistral_cli.api.lists import one_page

    client = Recorder()
    one_page(client, "batch.list", {"model": "m", "metadata": {"k": "v"}, "created_after": "2025-01-01",
                                    "created_by_me": True, "status": ["QUEUED"]}, page=0, page_size=1)
    declared = load_spec()["paths"]["/v1/batch/jobs"]["get"]["parameters"]
    assert set(client.kwargs["params"]) == {param["name"] for param in declared}


def test_batch_create_sends_only_fields_of_the_spec():
    from mistral_cli.api.batch import create_job

    client = Recorder()
    create_job(client, input_files=["f"], endpoint="e", model="m", metadata={"k": "v"}, timeout_hours=1)
    assert set(client.kwargs["json_body"]) == set(resolve(schemas()["BatchJobIn"])["properties"])
