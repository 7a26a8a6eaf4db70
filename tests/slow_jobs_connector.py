"""``python -m connector run`` whose jobs pause after each step.

The end-to-end test of the connector jobs runs this to kill the connector
while a job is surely in the middle (``CMMS_TEST_JOB_STEP_S`` seconds per
step, 3 by default); nothing else differs from the real daemon.
"""

from __future__ import annotations

import os
import sys
import time

from connector import jobs
from connector.__main__ import main


def _slow_step(self, spec, step):
    time.sleep(float(os.environ.get("CMMS_TEST_JOB_STEP_S", "3")))


if __name__ == "__main__":  # python -m tests.slow_jobs_connector
    jobs.JobRunner.after_step = _slow_step  # type: ignore[method-assign]  # the test's slow step
    sys.exit(main(["run"]))
