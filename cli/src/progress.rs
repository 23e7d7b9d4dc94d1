//! A spinner with the current stage on a terminal; nothing when piped or quiet.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(quiet: bool, what: &str) -> Progress {
        if quiet {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        // invariant: the template is a constant in indicatif's syntax (every run that draws progress parses it)
        bar.set_style(ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]").expect("valid template"));
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }
    pub fn stage(&mut self, s: &str) {
        if let Some(b) = &self.bar {
            b.set_message(s.to_string());
        }
    }
    /// A bar with a length, for loops (emulation steps).
    pub fn bar(quiet: bool, len: u64, what: &str) -> Option<ProgressBar> {
        if quiet {
            return None;
        }
        let b = ProgressBar::new(len);
        // invariant: the template is a constant in indicatif's syntax (every run that draws progress parses it)
        b.set_style(ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} steps, {per_sec}, eta {eta}").expect("valid template").progress_chars("=> "));
        b.set_prefix(what.to_string());
        Some(b)
    }
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
