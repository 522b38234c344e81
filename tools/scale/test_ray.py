"""docs/SCALING.md's Ray Data recipe, run as written on a local 2-CPU Ray cluster; every
prediction is compared with a single-process run. Needs ray (tools/requirements.txt)."""
import shutil
import tempfile
import time

import ray

from conftest import check_output, deadline, run_recipes


def test_ray_recipe_matches_single_process(case, tmp_path):
    # A short temp dir: Ray's unix sockets live under it (path length limit 107).
    ray_dir = tempfile.mkdtemp(prefix="ray")
    start = time.monotonic()
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=ray_dir, log_to_driver=False)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        output_path = tmp_path / "predictions"
        with deadline(600):
            namespace = run_recipes(case, output_path, "ray recipe")
        assert namespace["workers"] == 1  # below the CPU count: 2 CPUs, 1 actor
    finally:
        ray.shutdown()
        shutil.rmtree(ray_dir, ignore_errors=True)
    print(f"ray recipe: {len(case.ids)} rows in {time.monotonic() - start:.1f} s (with start-up)")
    check_output(case, output_path)
