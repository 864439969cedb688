"""The sensors on a real Dagster instance (SQLite in a tmp dir), evaluated as the daemon would: videos dropped in
the inbox give one new dataset version and one curation run request (and a second tick none); a library request
file gives a build run, which runs for real, and the file ends in done/ with its run id; a bad request goes to
failed/ with the reason; a successful run of a version starts that version's evaluation."""

import json

import dagster as dg
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture()
def platform(tmp_path, monkeypatch):
    monkeypatch.setenv("V2L_PLATFORM_ROOT", str(tmp_path / "platform"))
    from orchestration.definitions import build_definitions

    defs = build_definitions("test")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield defs, instance, tmp_path / "platform"


def tick(defs, instance, name):
    """One sensor tick, as the daemon evaluates it (partition keys checked against the instance)."""
    sensor = defs.resolve_sensor_def(name)
    with (
        dg.build_sensor_context(instance=instance, resources=defs.resources, definitions=defs) as context,
        dg.partition_loading_context(dynamic_partitions_store=instance),
    ):
        data = sensor.evaluate_tick(context)
    return data


def test_inbox_videos_start_one_new_dataset_version(platform):
    from v2l.video.sample import write_sample

    defs, instance, root = platform
    assert tick(defs, instance, "inbox_sensor").run_requests == []  # no inbox yet
    write_sample(root / "inbox", "astronaut")
    write_sample(root / "inbox", "coffee")
    first = tick(defs, instance, "inbox_sensor")
    assert len(first.run_requests) == 1
    key = first.run_requests[0].partition_key
    assert instance.get_dynamic_partitions("dataset_version") == [key]
    frozen = root / "corpus" / "content" / key
    assert sorted(p.name for p in frozen.iterdir()) == sorted(p.name for p in (root / "inbox").iterdir())
    assert first.run_requests[0].job_name in (None, "curate")
    second = tick(defs, instance, "inbox_sensor")
    assert second.run_requests == [] and "exists already" in second.skip_message
    write_sample(root / "inbox", "camera")  # new content: a new version
    third = tick(defs, instance, "inbox_sensor")
    assert len(third.run_requests) == 1 and third.run_requests[0].partition_key != key
    assert len(instance.get_dynamic_partitions("dataset_version")) == 2


def test_library_request_builds_and_is_filed_with_its_run_id(platform):
    from orchestration.partitions import base_version
    from orchestration.sensors import REQUEST_TAG
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.video.sample import write_sample

    defs, instance, root = platform
    key = base_version(defs.resources["corpus"])
    instance.add_dynamic_partitions("dataset_version", [key])
    refs = root / "refs"
    write_sample(refs, "astronaut")
    write_sample(refs, "coffee")
    requests = root / "requests"
    requests.mkdir(parents=True)
    (requests / "bad.json").write_text(json.dumps({"formats": ["compact"]}))
    (requests / "lib.json").write_text(
        json.dumps(
            {
                "references": str(refs),
                "formats": "compact,kohya",
                "checkpoint": str(TINY_WEIGHTS / "hypernet"),
                "out": str(root / "my-library"),
            }
        )
    )
    data = tick(defs, instance, "library_request_sensor")
    assert len(data.run_requests) == 1
    rr = data.run_requests[0]
    assert rr.partition_key == key and rr.tags[REQUEST_TAG] == "lib.json"
    assert rr.run_config["ops"]["lora_library"]["config"]["formats"] == ["compact", "kohya"]
    assert not (requests / "lib.json").exists() and (requests / "running" / "lib.json").is_file()
    bad = json.loads((requests / "failed" / "bad.json").read_text())
    assert bad["status"] == "REJECTED" and "references" in bad["error"]
    assert tick(defs, instance, "library_request_sensor").run_requests == []  # nothing new; still running

    # The run the daemon would launch, for real (Ray Data on a private local Ray), on the same instance.
    result = defs.resolve_job_def("build_library").execute_in_process(
        instance=instance, partition_key=rr.partition_key, run_config=rr.run_config, tags=rr.tags
    )
    assert result.success
    info = json.loads((root / "my-library" / "library.json").read_text())
    assert info["totals"]["entries"] == 2 and info["totals"]["files"]["kohya"] == 2
    tick(defs, instance, "library_request_sensor")
    done = json.loads((requests / "done" / "lib.json").read_text())
    assert done["run_id"] == result.run_id and done["status"] == "SUCCESS"
    assert done["request"]["references"] == str(refs)
    assert not (requests / "running" / "lib.json").exists()

    # A successful run of a dataset version starts its evaluation (the run-status sensor's body, on that run).
    event = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)[0].dagster_event
    context = dg.build_run_status_sensor_context(
        sensor_name="evaluate_after_training",
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    )
    request = defs.resolve_sensor_def("evaluate_after_training")(context)
    assert request.partition_key == key and request.run_key == f"evaluate:{result.run_id}"
