//! The list of files being written, which a signal handler empties
//! (`nerve_isa::files::remove_unfinished`). A test binary of its own: the
//! list is the process's, and removing what is on it would remove the
//! temporaries of other tests writing files in parallel.

use nerve_isa::files;

#[test]
fn files_being_written_are_listed_for_a_signal_to_remove() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    // A signal while the file is half written: its temporary goes.
    files::write_whole(&out, |tmp| {
        std::fs::write(tmp, "half")?;
        files::remove_unfinished();
        assert!(!tmp.exists(), "the temporary being written is removed");
        Ok(())
    })
    .unwrap_err();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left");
    // Once written, nothing is listed: the output stays.
    files::write_whole(&out, |tmp| std::fs::write(tmp, "whole")).unwrap();
    files::remove_unfinished();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "whole");
    // A file kept unfinished for a while is listed as long as its guard lives.
    let kept = dir.path().join(".stage");
    std::fs::write(&kept, "x").unwrap();
    let guard = files::Unfinished::new(&kept);
    files::remove_unfinished();
    assert!(!kept.exists());
    std::fs::write(&kept, "x").unwrap();
    drop(guard);
    files::remove_unfinished();
    assert!(kept.exists(), "unlisted when its guard is dropped");
}
