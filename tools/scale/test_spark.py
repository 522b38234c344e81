"""docs/SCALING.md's Spark recipe, run as written on Spark local[2]; every prediction is compared
with a single-process run. Needs Java 17 (openjdk-17-jre-headless) and pyspark (tools/requirements.txt)."""
import os
import time

from conftest import check_output, deadline, run_recipes


def test_spark_recipe_matches_single_process(case, tmp_path, monkeypatch):
    # The recipe itself must point Spark's workers at this Python: start without PYSPARK_PYTHON.
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master local[2] --conf spark.ui.enabled=false "
                       "--conf spark.sql.execution.arrow.maxRecordsPerBatch=700 pyspark-shell")
    output_path = tmp_path / "predictions"
    start = time.monotonic()
    namespace = {}
    try:
        with deadline(600):
            run_recipes(case, output_path, "spark recipe", namespace=namespace)
        assert namespace["spark"].sparkContext.master == "local[2]"
    finally:
        if "spark" in namespace:
            namespace["spark"].stop()
    print(f"spark recipe: {len(case.ids)} rows in {time.monotonic() - start:.1f} s (with start-up)")
    assert os.environ["PYSPARK_PYTHON"]
    check_output(case, output_path)
