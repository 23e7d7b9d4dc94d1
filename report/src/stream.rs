//! Recordings streamed to disk while the run goes, for runs whose spikes
//! and probes would not fit the memory budget (`nerve run --max-memory`).
//!
//! The emulator hands over every chunk of steps ([`RecordSink`]); each
//! output's body goes to a spill file beside it (unlinked: nothing is left
//! behind however the process ends), and when the run ends the file is put
//! together — header, body, tail — through a temporary file
//! renamed into place: the same bytes as an in-memory run writes, and
//! nothing partial if the run or a write fails. The summary keeps a bounded
//! sample of the spikes: the first [`RASTER_CAP`] + 1 (the raster's, and
//! whether it is truncated), each population's first spike and its first at
//! or after the first input spike (the decision latency's).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use nerve_emulator::engine::{RecordSink, SpikeEvent};
use nerve_emulator::machine::Machine;

use crate::spikes::{CsvLines, Format, JsonLines};
use crate::summary::RASTER_CAP;
use crate::{Error, Result};

/// A file being written in chunks: its body in a spill file, put together
/// with its header and tail by [`FileSink::finish`].
struct Spill {
    /// The output whose body it holds (the spill itself has no name).
    path: PathBuf,
    w: BufWriter<File>,
}

impl Spill {
    fn create(path: &Path) -> Result<Spill> {
        // Beside the output, on the file system that is to hold it anyway
        // (the temporary directory may be memory, which --max-memory is
        // there to spare), unless that is a device or FIFO's (`/dev`, no
        // room for files). Unlinked from the start: the system reclaims it
        // however the process ends; a named spill outlived a Ctrl-C or a
        // kill, as large as the recording (GBs on long runs).
        let dir = match path.parent() {
            _ if nerve_isa::files::is_special(path) => std::env::temp_dir(),
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let f = tempfile::tempfile_in(&dir).map_err(|e| Error::Write { path: path.to_path_buf(), source: e })?;
        Ok(Spill { path: path.to_path_buf(), w: BufWriter::with_capacity(1 << 20, f) })
    }

    /// Everything written, read back from the start.
    fn body(&mut self) -> std::io::Result<&mut File> {
        self.w.flush()?;
        let f = self.w.get_mut();
        f.seek(SeekFrom::Start(0))?;
        Ok(f)
    }
}

struct Probe {
    pop: String,
    var: String,
    scale: f64,
    offset: f64,
    size: u32,
    body: Spill,
}

/// A [`RecordSink`] that writes `nerve run`'s outputs as the run goes.
pub struct FileSink {
    names: Vec<String>,
    dt_ms: f64,
    steps: u64,
    spikes: Option<(Format, Spill)>,
    count: u64,
    csv: CsvLines,
    json: JsonLines,
    probes: Vec<Probe>,
    probe_path: Option<PathBuf>,
    /// The spikes the decision latency needs.
    firsts: FirstSpikes,
    /// Per population: whether its spikes go to the file (the others come
    /// only for the decision latency).
    recorded: Vec<bool>,
    /// Spikes of recorded populations kept.
    sampled: usize,
    kept: Vec<SpikeEvent>,
    /// Every recorded spike kept, not a sample (`keep_all_spikes`).
    keep_all: bool,
}

impl FileSink {
    /// A sink for a run of `steps` steps of `m`: the spikes of the
    /// `recorded` populations to `record` (if any; others' are only kept for
    /// the summary), the probes `(population, slot)` to `probe_path`.
    pub fn new(
        m: &Machine,
        steps: u64,
        record: Option<(&Path, Format)>,
        recorded: &[bool],
        probes: &[(u32, u8)],
        probe_path: Option<&Path>,
    ) -> Result<FileSink> {
        let spikes = match record {
            Some((p, f)) => Some((f, Spill::create(p)?)),
            None => None,
        };
        let mut ps = Vec::new();
        for &(pop, slot) in probes {
            let p = &m.pops[pop as usize];
            let v = p.vars.iter().find(|v| v.slot == slot).ok_or_else(|| Error::Request(format!("probe of `{}`: no variable in slot {slot}", p.name)))?;
            let Some(path) = probe_path else { return Err(Error::Request("probes need a file to stream to".into())) };
            ps.push(Probe { pop: p.name.clone(), var: v.name.clone(), scale: v.scale, offset: v.offset, size: p.size, body: Spill::create(path)? });
        }
        Ok(FileSink {
            names: m.pops.iter().map(|p| p.name.clone()).collect(),
            dt_ms: m.dt_ms,
            steps,
            spikes,
            count: 0,
            csv: CsvLines::new(m),
            json: JsonLines::new(m),
            probes: ps,
            probe_path: probe_path.map(Path::to_path_buf),
            firsts: FirstSpikes::new(m),
            recorded: recorded.to_vec(),
            sampled: 0,
            kept: Vec::new(),
            keep_all: false,
        })
    }

    /// Keeps every spike of the recorded populations, not only the
    /// summary's sample: `finish` then returns what a run kept in memory
    /// would have (for a caller that returns the spikes but streams the
    /// probes: the Python bindings).
    pub fn keep_all_spikes(&mut self) {
        self.keep_all = true;
    }

    /// The spikes the summary needs (see the module's comment), sorted.
    pub fn kept(&self) -> &[SpikeEvent] {
        &self.kept
    }

    /// Puts every file together; returns the spikes kept for the summary.
    pub fn finish(self) -> Result<Vec<SpikeEvent>> {
        let header = self.csv.header();
        let FileSink { spikes, count, probes, probe_path, kept, steps, .. } = self;
        if let Some((format, mut s)) = spikes {
            let path = s.path.clone();
            crate::write_with(&path, |tmp| {
                let mut w = BufWriter::with_capacity(1 << 20, File::create(tmp)?);
                match format {
                    Format::Csv => w.write_all(header)?,
                    Format::Json => w.write_all(crate::spikes::JSON_HEAD.as_bytes())?,
                    Format::Npy => crate::spikes::write_npy_header(&mut w, &crate::spikes::npy_dict(count as usize))?,
                }
                std::io::copy(s.body()?, &mut w)?;
                if format == Format::Json {
                    w.write_all(crate::spikes::JSON_TAIL.as_bytes())?;
                }
                w.flush()
            })?;
        }
        if let Some(path) = probe_path.filter(|_| !probes.is_empty()) {
            let mut probes = probes;
            let npy = crate::has_extension(&path, "npy");
            if npy && probes.len() != 1 {
                return Err(Error::Request("a .npy probe file holds one probe; probe one variable or write CSV".into()));
            }
            crate::write_with(&path, |tmp| {
                let mut w = BufWriter::with_capacity(1 << 20, File::create(tmp)?);
                if npy {
                    crate::spikes::write_npy_header(&mut w, &crate::probes::npy_dict(steps, probes[0].size))?;
                } else {
                    w.write_all(crate::probes::CSV_HEADER)?;
                }
                for p in &mut probes {
                    std::io::copy(p.body.body()?, &mut w)?;
                }
                w.flush()
            })?;
        }
        Ok(kept)
    }

    fn keep(&mut self, spikes: &[SpikeEvent]) {
        let (recorded, keep_all, kept, sampled) = (&self.recorded, self.keep_all, &mut self.kept, &mut self.sampled);
        self.firsts.judge(spikes, |s, needed| {
            let p = s.pop as usize;
            // The raster's sample is of recorded populations only (the
            // others are watched for the decision latency, dropped after).
            let sample = recorded[p] && (keep_all || *sampled <= RASTER_CAP);
            if sample || needed {
                kept.push(*s);
                *sampled += recorded[p] as usize;
            }
        });
    }
}

impl RecordSink for FileSink {
    fn chunk(&mut self, first: u64, spikes: &[SpikeEvent], probes: &[Vec<Vec<i32>>]) -> std::io::Result<()> {
        self.keep(spikes);
        let filtered: Vec<SpikeEvent>;
        let spikes = if spikes.iter().all(|s| self.recorded[s.pop as usize]) {
            spikes
        } else {
            filtered = spikes.iter().filter(|s| self.recorded[s.pop as usize]).copied().collect();
            &filtered
        };
        if let Some((format, s)) = &mut self.spikes {
            match format {
                Format::Csv => {
                    let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
                    self.csv.write(&mut s.w, &names, spikes)?;
                }
                Format::Json => self.json.write(&mut s.w, self.count == 0, spikes)?,
                Format::Npy => {
                    let mut time = crate::spikes::StepsMs::new(self.dt_ms);
                    for e in spikes {
                        crate::spikes::npy_record(&mut s.w, e.pop, e.neuron, time.of(e.step))?;
                    }
                }
            }
            self.count += spikes.len() as u64;
        }
        let npy = self.probe_path.as_ref().is_some_and(|p| crate::has_extension(p, "npy"));
        for (p, rows) in self.probes.iter_mut().zip(probes) {
            if npy {
                crate::probes::npy_rows(&mut p.body.w, p.scale, p.offset, rows)?;
            } else {
                crate::probes::csv_rows(&mut p.body.w, &p.pop, &p.var, p.scale, p.offset, self.dt_ms, first, rows)?;
            }
        }
        Ok(())
    }
}

/// Which spikes the decision latency needs, met in step order: each
/// population's first, and its first at or after the first input spike.
pub(crate) struct FirstSpikes {
    /// Per population: an input (its first spike starts the decision latency).
    is_input: Vec<bool>,
    first_input: Option<u32>,
    seen: Vec<bool>,
    seen_after_input: Vec<bool>,
}

impl FirstSpikes {
    pub(crate) fn new(m: &Machine) -> FirstSpikes {
        let n = m.pops.len();
        FirstSpikes { is_input: crate::summary::input_populations(m), first_input: None, seen: vec![false; n], seen_after_input: vec![false; n] }
    }

    /// Calls `judged` with each spike of `spikes` (in step order, no step
    /// split across calls) and whether the latency needs it. A step is
    /// judged whole: within it the spikes come in population order, and a
    /// decision population listed before the input would otherwise be
    /// judged before the input spike of the same step set the start.
    pub(crate) fn judge(&mut self, spikes: &[SpikeEvent], mut judged: impl FnMut(&SpikeEvent, bool)) {
        for step in spikes.chunk_by(|a, b| a.step == b.step) {
            if self.first_input.is_none() && step.iter().any(|s| self.is_input[s.pop as usize]) {
                self.first_input = Some(step[0].step);
            }
            for s in step {
                let p = s.pop as usize;
                let after = self.first_input.is_some_and(|f| s.step >= f);
                let needed = !self.seen[p] || (after && !self.seen_after_input[p]);
                self.seen[p] = true;
                self.seen_after_input[p] |= after;
                judged(s, needed);
            }
        }
    }
}
