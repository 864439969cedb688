"""The scale-out configuration for real: a throwaway PostgreSQL cluster (Debian's postgresql, initdb in a tmp dir,
a loopback port) holds Dagster's run/event storage (the project's dagster-postgres.yaml) and MLflow's tracking
store and registry; a partitioned materialisation and an MLflow run land in it and are read back."""

import os
import shutil
import socket
import subprocess
from pathlib import Path

import dagster as dg
import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture()
def postgres(tmp_path):
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("Debian's postgresql is not installed (scripts/ensure_system_packages.sh installs it as root)")
    import tempfile

    # Its own folder under /tmp: pytest's tmp dirs are private to root, which the postgres user cannot enter.
    base = Path(tempfile.mkdtemp(prefix="v2l-pg-"))
    os.chmod(base, 0o755)
    data = base / "pg"
    data.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres system user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as a non-root user")
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(data, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    init = subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "v2l", "--auth=trust", "-E", "UTF8"],
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stderr
    log = base / "server.log"
    if run_as:
        log.touch()
        os.chown(log, user.pw_uid, user.pw_gid)
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {data}",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        for db in ("dagster", "mlflow"):
            subprocess.run(
                [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "v2l", db],
                check=True,
                capture_output=True,
            )
        # SQLAlchemy 2.1 picks psycopg (3) for a bare postgresql://; the project installs psycopg2.
        yield f"postgresql+psycopg2://v2l@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


def test_dagster_and_mlflow_on_postgres(postgres, tmp_path, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(ROOT / "dagster-postgres.yaml", home / "dagster.yaml")
    monkeypatch.setenv("V2L_DAGSTER_PG_URL", f"{postgres}/dagster")

    @dg.asset(partitions_def=dg.DynamicPartitionsDefinition(name="dataset_version"))
    def probe(context) -> int:
        return len(context.partition_key)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert instance.run_retries_max_retries == 1
        instance.add_dynamic_partitions("dataset_version", ["abc123"])
        result = dg.materialize([probe], instance=instance, partition_key="abc123")
        assert result.success
        run_id = result.run_id
    with dg.DagsterInstance.from_config(str(home)) as again:  # a second process's view: it is in the database
        assert again.get_run_by_id(run_id).is_success
        assert again.get_dynamic_partitions("dataset_version") == ["abc123"]
        mat = again.get_latest_materialization_event(dg.AssetKey("probe"))
        assert mat is not None and mat.run_id == run_id

    uri = f"{postgres}/mlflow"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("v2l-eval", artifact_location=(tmp_path / "artifacts").as_uri())
    run = client.create_run(exp, run_name="eval-probe")
    client.log_metric(run.info.run_id, "seen.true_ref.judge_acc", 0.5)
    client.set_terminated(run.info.run_id)
    client.create_registered_model("v2l-hypernet")
    mv = client.create_model_version("v2l-hypernet", f"runs:/{run.info.run_id}/hypernet", run_id=run.info.run_id)
    client.set_registered_model_alias("v2l-hypernet", "champion", mv.version)
    mlflow.set_tracking_uri(uri)
    fresh = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert fresh.get_run(run.info.run_id).data.metrics["seen.true_ref.judge_acc"] == 0.5
    assert fresh.get_model_version_by_alias("v2l-hypernet", "champion").run_id == run.info.run_id
