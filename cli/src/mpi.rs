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

/// How many processes the launcher started, as its variables (`env`) say:
/// Open MPI's and MPICH's sizes; under PMIx alone (`srun --mpi=pmix`), which
/// sets a rank but no size, Slurm's task count, or at least rank + 1 (a run
/// of several processes each running the whole machine was not refused).
#[cfg_attr(feature = "mpi", allow(dead_code))]
fn processes(env: &dyn Fn(&str) -> Option<String>) -> Option<u32> {
    let num = |v: &str| env(v).and_then(|s| s.trim().parse::<u32>().ok());
    num("OMPI_COMM_WORLD_SIZE").or_else(|| num("PMI_SIZE")).or_else(|| {
        let rank = num("PMIX_RANK")?;
        Some(num("SLURM_STEP_NUM_TASKS").or_else(|| num("SLURM_NTASKS")).unwrap_or(0).max(rank + 1))
    })
}

/// How many processes an MPI launcher started this one among, if one did
/// (before MPI starts: what every rank can tell alike).
pub fn launched_processes() -> Option<u32> {
    launched().then(|| processes(&|v| std::env::var(v).ok())).flatten()
}

/// This process's rank, as its MPI launcher's variables say (0 if none does).
pub fn launched_rank() -> u32 {
    ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"].iter().find_map(|v| std::env::var(v).ok()?.trim().parse().ok()).unwrap_or(0)
}

/// An input that only one of several launched processes can read: a pipe,
/// a socket or a device. mpirun passes standard input to rank 0 alone (the
/// others read /dev/null), and a pipe's bytes go to whichever reads them
/// first. It had been read as an image on rank 0 and refused on the others
/// as "a device", or as a network on one and as no network on the others
/// (a usage error blaming --arch).
pub fn unshared_input(path: &std::path::Path) -> Option<String> {
    let k = launched_processes().filter(|&k| k > 1)?;
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() || t.is_socket() || t.is_char_device() || t.is_block_device() {
            return Some(format!(
                "{}: started by an MPI launcher as one of {k} processes, each of which reads its inputs: give a file every rank can read, not standard input, a pipe or a device (mpirun passes standard input to rank 0 alone)",
                path.display()
            ));
        }
    }
    let _ = meta;
    None
}

#[cfg(test)]
mod tests {
    /// Under PMIx alone the size came from nowhere, and every process ran whole.
    #[test]
    fn the_processes_a_launcher_started_are_counted() {
        let of = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            super::processes(&move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        };
        assert_eq!(of(&[("OMPI_COMM_WORLD_SIZE", "4")]), Some(4));
        assert_eq!(of(&[("PMI_SIZE", "2")]), Some(2));
        assert_eq!(of(&[("PMIX_RANK", "0"), ("SLURM_NTASKS", "2")]), Some(2));
        assert_eq!(of(&[("PMIX_RANK", "0"), ("SLURM_STEP_NUM_TASKS", "3"), ("SLURM_NTASKS", "8")]), Some(3));
        assert_eq!(of(&[("PMIX_RANK", "1")]), Some(2));
        assert_eq!(of(&[("PMIX_RANK", "0")]), Some(1));
        assert_eq!(of(&[]), None);
    }
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
        // Reused from step to step.
        counts: Vec<i32>,
        inc: Vec<i32>,
        sd: Vec<i32>,
        rd: Vec<i32>,
        send: Vec<u32>,
        recv: Vec<u32>,
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
        if size > 1 {
            // A panic on one rank unwound into dropping the universe, whose
            // MPI_Finalize waits for the other ranks, which wait in their
            // next exchange for this one: the job hung with no word. The
            // panic's message is printed, then the process aborts, which
            // the launcher sees and ends every rank for (MPI_Abort here
            // would be an MPI call from a thread that may not make one).
            let print = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                print(info);
                crate::out::errln!("error: rank {rank} of {size} failed (a bug: please report); the job is ended");
                std::process::abort();
            }));
        }
        let (counts, inc, sd, rd, send, recv) = Default::default();
        Ok(Some(Box::new(Mpi { _universe: universe, world, rank, size, counts, inc, sd, rd, send, recv })))
    }

    pub fn abort(code: i32) -> ! {
        // The world was initialised by `world()` (a world of one rank never aborts here).
        mpi::topology::SimpleCommunicator::world().abort(code)
    }

    impl Transport for Mpi {
        fn rank(&self) -> usize {
            self.rank
        }
        fn size(&self) -> usize {
            self.size
        }
        fn exchange(&mut self, out: &[Vec<u32>], inb: &mut [Vec<u32>]) {
            // Counts first, then the words (MPI_Alltoall, MPI_Alltoallv),
            // through buffers kept from step to step.
            let displs = |c: &[i32], d: &mut Vec<i32>| {
                d.clear();
                let mut at = 0i32;
                for &x in c {
                    d.push(at);
                    at += x;
                }
            };
            self.counts.clear();
            self.counts.extend(out.iter().map(|w| i32::try_from(w.len()).unwrap_or(i32::MAX)));
            self.inc.resize(self.size, 0);
            self.world.all_to_all_into(&self.counts[..], &mut self.inc[..]);
            displs(&self.counts, &mut self.sd);
            displs(&self.inc, &mut self.rd);
            self.send.clear();
            for w in out {
                self.send.extend_from_slice(w);
            }
            self.recv.resize(self.inc.iter().map(|&x| x as usize).sum(), 0);
            {
                let sp = Partition::new(&self.send[..], &self.counts[..], &self.sd[..]);
                let mut rp = PartitionMut::new(&mut self.recv[..], &self.inc[..], &self.rd[..]);
                self.world.all_to_all_varcount_into(&sp, &mut rp);
            }
            let mut at = 0;
            for (x, &n) in inb.iter_mut().zip(&self.inc) {
                x.clear();
                x.extend_from_slice(&self.recv[at..at + n as usize]);
                at += n as usize;
            }
        }
    }
}

#[cfg(not(feature = "mpi"))]
mod imp {
    use super::Transport;

    pub fn abort(code: i32) -> ! {
        std::process::exit(code)
    }

    pub fn world() -> Result<Option<Box<dyn Transport>>, String> {
        match super::processes(&|v| std::env::var(v).ok()) {
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

/// Ends every rank of the world with `code` (MPI_Abort): for an error one
/// rank meets alone, which the others would otherwise wait for forever.
pub fn abort(code: i32) -> ! {
    imp::abort(code)
}
