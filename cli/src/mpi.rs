//! `nerve run` under an MPI launcher (`mpirun -np K nerve run …`): with the
//! `mpi` feature, MPI is the engine's transport between ranks (rsmpi over
//! the system's MPI library); without it, a launch by an MPI launcher is
//! refused rather than run K times whole.

use nerve_emulator::engine::ranks::Transport;

/// Environment variables MPI launchers set in the processes they start
/// (Open MPI, MPICH/Hydra, PMIx).
const LAUNCHED: &[&str] = &["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"];

fn launched() -> bool {
    LAUNCHED.iter().any(|v| std::env::var_os(v).is_some())
}

#[cfg(feature = "mpi")]
mod imp {
    use super::Transport;
    use mpi::datatype::{Partition, PartitionMut};
    use mpi::traits::*;

    pub struct Mpi {
        // Finalises MPI when dropped, after the run.
        _universe: mpi::environment::Universe,
        world: mpi::topology::SimpleCommunicator,
        rank: usize,
        size: usize,
    }

    pub fn world() -> Result<Option<Box<dyn Transport>>, String> {
        if !super::launched() {
            return Ok(None);
        }
        let (universe, threading) =
            mpi::initialize_with_threading(mpi::Threading::Funneled).ok_or_else(|| "MPI: the library was initialised twice".to_string())?;
        // The engine's thread 0 (this thread) alone calls MPI.
        if threading < mpi::Threading::Funneled {
            return Err(format!("MPI: the library offers thread level {threading:?}; nerve needs Funneled (one thread calls MPI)"));
        }
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        Ok(Some(Box::new(Mpi { _universe: universe, world, rank, size })))
    }

    impl Transport for Mpi {
        fn rank(&self) -> usize {
            self.rank
        }
        fn size(&self) -> usize {
            self.size
        }
        fn exchange(&mut self, out: Vec<Vec<u32>>) -> Vec<Vec<u32>> {
            // Counts first, then the words (MPI_Alltoall, MPI_Alltoallv).
            let counts: Vec<i32> = out.iter().map(|w| i32::try_from(w.len()).unwrap_or(i32::MAX)).collect();
            let mut inc = vec![0i32; self.size];
            self.world.all_to_all_into(&counts[..], &mut inc[..]);
            let displs = |c: &[i32]| -> Vec<i32> {
                c.iter()
                    .scan(0i32, |a, &x| {
                        let d = *a;
                        *a += x;
                        Some(d)
                    })
                    .collect()
            };
            let (sd, rd) = (displs(&counts), displs(&inc));
            let flat: Vec<u32> = out.concat();
            let mut recv = vec![0u32; inc.iter().map(|&x| x as usize).sum()];
            {
                let sp = Partition::new(&flat[..], &counts[..], &sd[..]);
                let mut rp = PartitionMut::new(&mut recv[..], &inc[..], &rd[..]);
                self.world.all_to_all_varcount_into(&sp, &mut rp);
            }
            let mut at = 0;
            inc.iter()
                .map(|&n| {
                    let w = recv[at..at + n as usize].to_vec();
                    at += n as usize;
                    w
                })
                .collect()
        }
    }
}

#[cfg(not(feature = "mpi"))]
mod imp {
    use super::Transport;

    pub fn world() -> Result<Option<Box<dyn Transport>>, String> {
        let size = std::env::var("OMPI_COMM_WORLD_SIZE").or_else(|_| std::env::var("PMI_SIZE")).ok().and_then(|s| s.parse::<u32>().ok());
        match size {
            Some(k) if k > 1 && super::launched() => Err(format!(
                "started by an MPI launcher as one of {k} processes, but this nerve was built without MPI: \
                 build it with `cargo build --release -p nerve-cli --features mpi` (needs an MPI library, e.g. Debian's libopenmpi-dev)"
            )),
            _ => Ok(None),
        }
    }
}

/// The MPI world, when this process was started by an MPI launcher (and
/// nerve was built with the `mpi` feature); `None` otherwise.
pub fn world() -> Result<Option<Box<dyn Transport>>, String> {
    imp::world()
}
