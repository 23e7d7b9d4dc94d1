//! Input files read whole, and output files written whole.
//!
//! An input that is a character or block device is refused: `/dev/zero`
//! read as a network or a connection list never ends (4 GB and counting); a
//! pipe (`/dev/stdin`, `<(…)`) is read as a file.
//!
//! Output files are written whole: through a temporary file beside the target,
//! renamed into place when complete, so that a failed write leaves no
//! partial file (and an old one untouched). A target that exists and is not
//! a regular file (`/dev/null`, `/dev/stdout`, a FIFO, a terminal) is written
//! into directly: renaming over it would replace the device with a plain
//! file (as root, the system's own `/dev/null`). A symbolic link to a file
//! is followed, so that the link stays a link. The process's own stdout or
//! stderr redirected to a file is written through the stream (see
//! `write_whole`).

use std::path::{Path, PathBuf};

/// `path`'s bytes, unless it is a device (see above).
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    refuse_device(path)?;
    std::fs::read(path)
}

/// `path`'s text, unless it is a device (see above), without a leading
/// UTF-8 byte-order mark (editors on Windows write one; JSON and CSV
/// readers refused the file at "line 1, column 1"). Text that is not UTF-8
/// is an error naming the first bad byte's line and column.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    refuse_device(path)?;
    text(std::fs::read(path)?)
}

/// The signature that opens an HDF5 file (and so every NIR file).
pub const HDF5_SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

/// Whether text starting with `head` opens a JSON object (after a
/// byte-order mark and white space): how a JSON network is told by content.
pub fn opens_json(head: &[u8]) -> bool {
    head.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(head).iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// `bytes` as text: a leading byte-order mark dropped, and an error naming
/// where the bytes stop being UTF-8.
pub fn text(mut bytes: Vec<u8>) -> std::io::Result<String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at - before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text: byte 0x{:02x} at line {line}, column {column} (save the file as UTF-8)", bytes[at]),
        )
    })
}

/// An error if `path` is a character or block device.
pub fn refuse_device(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = std::fs::metadata(path)?.file_type();
        if t.is_char_device() || t.is_block_device() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "a device, not a file (its contents may never end)"));
        }
    }
    Ok(())
}

/// Where a whole-file write of `path` goes: `(target, direct)`.
fn destination(path: &Path) -> (PathBuf, bool) {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => (std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()), false),
        Ok(m) if !m.is_dir() => (path.to_path_buf(), true),
        _ => (path.to_path_buf(), false),
    }
}

/// 1 or 2 if `path` names this process's stdout or stderr (`/dev/stdout`,
/// `/dev/fd/2`, `/proc/self/fd/1`, …).
pub fn own_stream(path: &Path) -> Option<u32> {
    match lexical(path).to_str()? {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(1),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(2),
        _ => None,
    }
}

/// `path` with `//`, `.` and `..` taken lexically (`//dev/stdout`,
/// `/dev/../dev/stdout` and `/dev/fd/../fd/1` were not told as streams).
fn lexical(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether `path` names a stream rather than a file: this process's
/// standard streams or an inherited descriptor (`/dev/stdin`, `/dev/fd/63`
/// of `<(…)`, `/proc/self/fd/N`), whatever it is redirected from, or an
/// existing path that is neither a regular file nor a directory (a pipe, a
/// device). Its name says nothing of its contents.
pub fn is_stream(path: &Path) -> bool {
    let named = path
        .to_str()
        .is_some_and(|p| matches!(p, "/dev/stdin" | "/dev/stdout" | "/dev/stderr") || p.starts_with("/dev/fd/") || p.starts_with("/proc/self/fd/"));
    named || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Whether `path` exists and is neither a regular file nor a directory.
pub fn is_special(path: &Path) -> bool {
    destination(path).1
}

/// The temporary files being written now (`write_whole`, and files a
/// caller keeps unfinished for a while, [`Unfinished`]): what a process
/// stopped by a signal removes before it exits ([`remove_unfinished`]).
static UNFINISHED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A temporary file listed as unfinished while this lives.
#[derive(Debug)]
pub struct Unfinished(PathBuf);

impl Unfinished {
    pub fn new(path: &Path) -> Unfinished {
        if let Ok(mut u) = UNFINISHED.lock() {
            u.push(path.to_path_buf());
        }
        Unfinished(path.to_path_buf())
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Ok(mut u) = UNFINISHED.lock() {
            if let Some(i) = u.iter().rposition(|p| *p == self.0) {
                u.swap_remove(i);
            }
        }
    }
}

/// Removes every temporary file being written (for a signal handler, just
/// before the process exits: a kill's default action left them beside
/// their targets).
pub fn remove_unfinished() {
    if let Ok(u) = UNFINISHED.lock() {
        for p in u.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Writes `path` whole: `write` writes the bytes into the path it is given
/// (a temporary file, or `path` itself when it is special; see above).
pub fn write_whole(path: &Path, write: impl FnOnce(&Path) -> std::io::Result<()>) -> std::io::Result<()> {
    let (target, direct) = destination(path);
    if direct {
        return write(&target);
    }
    if let Some(fd) = own_stream(path) {
        // The process's stdout or stderr redirected to a file (`> log`,
        // `>> log`): renaming over it would replace the file the shell
        // opened (its old contents lost with `>>`, and what the process
        // prints after going to the replaced file), and opening it again
        // would write from its start. Written whole, then through the
        // process's own stream, at its offset.
        use std::io::Write;
        let tmp = std::env::temp_dir().join(format!(".nerve-out-{}-{fd}.tmp", std::process::id()));
        let _unfinished = Unfinished::new(&tmp);
        let done = write(&tmp).and_then(|()| {
            let mut f = std::fs::File::open(&tmp)?;
            if fd == 1 {
                let mut out = std::io::stdout().lock();
                std::io::copy(&mut f, &mut out)?;
                out.flush()
            } else {
                let mut err = std::io::stderr().lock();
                std::io::copy(&mut f, &mut err)?;
                err.flush()
            }
        });
        let _ = std::fs::remove_file(&tmp);
        return done;
    }
    let name = target.file_name().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))?;
    // The process's id in the name: processes writing one path at once (a
    // command started by `mpirun -np 5`) renamed each other's away.
    let tmp = target.with_file_name(format!(".{}.{}.nerve-tmp", name.to_string_lossy(), std::process::id()));
    let _unfinished = Unfinished::new(&tmp);
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &target).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The memory available to a new allocation, if known, and what bounds it
/// (Linux): the least of the machine's `MemAvailable`, what the process's
/// address-space limit (`ulimit -v`) leaves and what its cgroup's limit
/// leaves (a 4.7 GB all-to-all under `ulimit -v` of 2 GB passed the check
/// against the machine's 23 GB and died in an allocation).
pub fn available_memory() -> Option<(u64, &'static str)> {
    let kib_field =
        |text: &str, key: &str| -> Option<u64> { text.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse::<u64>().ok().map(|k| k * 1024) };
    let machine = kib_field(&std::fs::read_to_string("/proc/meminfo").ok()?, "MemAvailable:")?;
    let mut best = (machine, "this machine has available");
    let mut consider = |bytes: Option<u64>, what: &'static str| {
        if let Some(b) = bytes.filter(|&b| b < best.0) {
            best = (b, what);
        }
    };
    // "Max address space  <soft>  <hard>  bytes", less what the process maps already.
    let address_space = std::fs::read_to_string("/proc/self/limits").ok().and_then(|t| {
        let soft: u64 = t.lines().find(|l| l.starts_with("Max address space"))?.split_whitespace().nth(3)?.parse().ok()?;
        let mapped = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| kib_field(&s, "VmSize:")).unwrap_or(0);
        Some(soft.saturating_sub(mapped))
    });
    consider(address_space, "the process's address-space limit (ulimit -v) leaves");
    consider(cgroup_left(), "the process's cgroup memory limit leaves");
    Some(best)
}

/// What the process's cgroup memory limit leaves (v2 `memory.max` −
/// `memory.current`, or v1 `memory.limit_in_bytes` − `memory.usage_in_bytes`),
/// if it has one.
fn cgroup_left() -> Option<u64> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let read = |p: String| std::fs::read_to_string(p).ok().and_then(|t| t.trim().parse::<u64>().ok());
    for line in cg.lines() {
        let mut f = line.splitn(3, ':');
        let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
        let (roots, max, cur): (&[&str], _, _) = match controllers {
            // v2, alone or beside v1 (hybrid: under `unified`).
            "" => (&["/sys/fs/cgroup", "/sys/fs/cgroup/unified"], "memory.max", "memory.current"),
            c if c.split(',').any(|c| c == "memory") => (&["/sys/fs/cgroup/memory"], "memory.limit_in_bytes", "memory.usage_in_bytes"),
            _ => continue,
        };
        // The cgroup's own directory, or (in a container whose namespace hides the path) the root.
        for dir in roots.iter().flat_map(|root| [format!("{root}{path}"), root.to_string()]) {
            if let (Some(limit), Some(used)) = (read(format!("{dir}/{max}")), read(format!("{dir}/{cur}"))) {
                // v1 reports "no limit" as a huge number.
                if limit < 1 << 60 {
                    return Some(limit.saturating_sub(used));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_a_device_written_into_a_link_kept() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out.txt");
        std::fs::write(&f, "old").unwrap();
        write_whole(&f, |p| std::fs::write(p, "new")).unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "new");
        // A failed write leaves the old file and no temporary one.
        let e = write_whole(&f, |p| {
            std::fs::write(p, "partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            // A link to a file stays a link; the file it names is replaced.
            let l = dir.path().join("link.txt");
            std::os::unix::fs::symlink(&f, &l).unwrap();
            write_whole(&l, |p| std::fs::write(p, "through")).unwrap();
            assert!(std::fs::symlink_metadata(&l).unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read_to_string(&f).unwrap(), "through");
            // A device is written into, not replaced.
            let null = Path::new("/dev/null");
            if null.exists() {
                assert!(is_special(null));
                write_whole(null, |p| std::fs::write(p, "gone")).unwrap();
                assert!(!std::fs::metadata(null).unwrap().is_file());
            }
        }
        assert!(!is_special(&f) && !is_special(dir.path()) && !is_special(&dir.path().join("absent")));
        // Inputs: files read, devices refused by name of the cause.
        assert_eq!(read_to_string(&f).unwrap(), "through");
        #[cfg(unix)]
        if Path::new("/dev/zero").exists() {
            let e = read(Path::new("/dev/zero")).unwrap_err();
            assert!(e.to_string().contains("a device, not a file"), "{e}");
        }
    }

    #[test]
    fn text_drops_a_byte_order_mark_and_names_where_utf8_ends() {
        assert_eq!(text(b"\xEF\xBB\xBF{}".to_vec()).unwrap(), "{}");
        assert_eq!(text(b"a\xEF\xBB\xBF".to_vec()).unwrap(), "a\u{feff}");
        let e = text(b"ab\ncd\xffe".to_vec()).unwrap_err().to_string();
        assert!(e.contains("byte 0xff at line 2, column 3"), "{e}");
    }
}
