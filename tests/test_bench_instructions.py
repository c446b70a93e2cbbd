"""benchmarks/bench_instructions.py: callgrind's counts read right, start-up cancelled.

A valgrind run takes minutes, so the suite does not run one: it checks the parts
that turn callgrind_annotate's text into per-step figures, the loop each valgrind run
executes, and the message when valgrind is missing.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "bench_instructions.py"
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_instructions  # noqa: E402

# Trimmed from a real `callgrind_annotate --threshold=100` of the plain step, plus a C++
# name, and one function listed twice (at recursion depths 1 and 2).
ANNOTATED = """\
--------------------------------------------------------------------------------
Profile data file 'callgrind.plain.2' (creator: callgrind-3.19.0)
Timerange: Basic block 0 - 362443211
Events recorded:  Ir
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,722,065,114 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
185,232,896 (10.76%)  /tmp/Python-3.11.7/Python/ceval.c:_PyEval_EvalFrameDefault'2 [libpython3.11.so.1.0]
107,802,904 ( 6.26%)  ???:sgemm_kernel_HASWELL [numpy.libs/libscipy_openblas64_.so]
 32,000,000 ( 1.86%)  /tmp/Python-3.11.7/Python/ceval.c:_PyEval_EvalFrameDefault [libpython3.11.so.1.0]
 25,047,325 ( 1.45%)  ./sysdeps/x86_64/memset-vec-unaligned-erms.S:__memset_avx2_unaligned_erms [libc.so.6]
         25 ( 0.00%)  ???:std::unordered_map<int, long>::~unordered_map() [_multiarray_umath.so]
"""


def test_annotate_output_gives_the_total_and_each_function_once():
    total, functions = bench_instructions.parse_annotate(ANNOTATED)
    assert total == 1_722_065_114
    assert functions == {
        "_PyEval_EvalFrameDefault": 185_232_896 + 32_000_000,  # both depths, one function
        "sgemm_kernel_HASWELL": 107_802_904,
        "__memset_avx2_unaligned_erms": 25_047_325,
        "std::unordered_map<int, long>::~unordered_map()": 25,  # its own colons kept
    }


def test_text_without_a_program_total_is_refused():
    with pytest.raises(ValueError, match="PROGRAM TOTALS"):
        bench_instructions.parse_annotate("==1== Memcheck, a memory error detector\n")


def test_per_step_counts_are_the_difference_of_two_runs_over_the_extra_steps():
    # a short run of 2 steps and a long one of 12: start-up (1000) and the first steps cancel
    short = (1000 + 2 * 70, {"start": 1000, "step": 2 * 50, "check": 2 * 20})
    long = (1000 + 12 * 70, {"start": 1000, "step": 12 * 50, "check": 12 * 20})
    total, functions = bench_instructions.per_step(short, long, steps=10)
    assert total == 70
    assert functions == {"start": 0, "step": 50, "check": 20}


@pytest.mark.parametrize("step", ["numvae", "plain"])
def test_the_loop_each_valgrind_run_executes_runs_the_step(step):
    # what valgrind runs, here without valgrind: the script itself, --run STEP
    command = [sys.executable, str(SCRIPT), "--run", step, "--run-steps", "2", "--dataset", "digits"]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_missing_valgrind_is_reported_before_any_work(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # an empty folder: no valgrind on the PATH
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dataset", "digits"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "valgrind and callgrind_annotate not found" in proc.stderr
    assert "Traceback" not in proc.stderr
