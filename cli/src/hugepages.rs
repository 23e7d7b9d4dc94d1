//! Transparent huge pages for the large arrays of `compile` and `run`.
//!
//! Compiling and running a network touches each of its large arrays once
//! (connection lists, synapse tables, the emulator's arena), and on 4 KiB
//! pages every first touch is a page fault: ~50,000 of them for a
//! 16,000-neuron, 5-million-synapse network, a sixth of the run's CPU time
//! on the machines we measured. Where the kernel offers transparent huge
//! pages on request (`madvise`), glibc asks for them for its large
//! allocations if the tunable `glibc.malloc.hugetlb=1` is set, and tunables
//! are read only when a process starts. So `nerve` runs itself once more
//! with it set (an `exec`, same arguments, same process id) unless it is set
//! already, the kernel offers no huge pages, or it is not asked to. Only
//! the allocator changes: results are the same either way (tested).
//! docs/benchmarks.md has the measured effect: ~4% end to end on that
//! network's run once (session 11), nothing on CUBA now (session 20), 3-5%
//! on the 1M ring's step loop; but on a VM whose host takes back the memory
//! the guest frees (virtio-balloon free page reporting), a huge page comes
//! from memory the host must fault in again: compiling the 1M network got
//! slower with them (8.0-11.0 s against 6.1-7.8 s) and loading it 2-3x
//! slower (8-15 s against 4.4-5.9 s). So both commands ask for them only
//! with `NERVE_HUGEPAGES=1`.

const TUNABLE: &str = "glibc.malloc.hugetlb";

/// Whether this process runs with huge pages requested (by `request` or by
/// the user), as its report says.
pub fn requested() -> bool {
    cfg!(all(target_os = "linux", target_env = "gnu")) && std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.split(':').any(|kv| kv == format!("{TUNABLE}=1")))
}

/// Re-executes the process with huge pages requested, where that applies
/// (`by_default`: unless `NERVE_HUGEPAGES=0`; else only with
/// `NERVE_HUGEPAGES=1`, as `compile` and `run` call it); returns if it does
/// not (or the exec fails: then nothing changes).
pub fn request(by_default: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        match std::env::var_os("NERVE_HUGEPAGES") {
            Some(v) if v == "0" => return,
            Some(v) if v == "1" => {}
            _ if !by_default => return,
            _ => {}
        }
        let tunables = match std::env::var_os("GLIBC_TUNABLES") {
            None => String::new(),
            Some(t) => match t.into_string() {
                Ok(t) => t,
                Err(_) => return, // not ours to rewrite
            },
        };
        if tunables.contains(TUNABLE) {
            return; // set already: by us before the exec, or by the user
        }
        // `never` (or no THP at all): nothing to ask for.
        let offered = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").is_ok_and(|s| !s.contains("[never]"));
        if !offered {
            return;
        }
        let Ok(exe) = std::env::current_exe() else { return };
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
        let value = if tunables.is_empty() { format!("{TUNABLE}=1") } else { format!("{tunables}:{TUNABLE}=1") };
        // Returns only if the exec failed (e.g. the binary was replaced meanwhile).
        let _ = std::process::Command::new(&exe).arg0(arg0).args(args).env("GLIBC_TUNABLES", value).exec();
    }
}
