"""The cargo features a benchmark's release build of nerve-cli takes: `mpi` where
Open MPI and libclang are installed (the features `bench/scale/ranks.py` and
`cli/tests/mpi_equivalence.sh` need), so that a benchmark's rebuild does not
replace an MPI-enabled target/release/nerve with one that mpirun refuses."""
import shutil
import subprocess


def features():
    if shutil.which("mpicc") is None:
        return []
    try:
        libs = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        return []
    return ["--features", "mpi"] if "libclang" in libs else []
