//! Spike files: CSV with header `population,neuron,time` (ms; recordings of
//! networks with neuron labels add a `label` column, kept to be checked
//! against the network's labels when the spikes are input), or JSON
//! `{"spikes": [{"population": P, "neuron": N, "time": T}, ...]}`, or NPY
//! (structured: population index u4, neuron u4, time f8). A CSV or JSON
//! recording is a valid input, so runs can be chained; an NPY one is not
//! (it names populations by index, and inputs are read before any image).

use std::io::Write;
use std::path::Path;

/// A spike in physical time.
#[derive(Clone, Debug, PartialEq)]
pub struct Spike {
    pub population: String,
    pub neuron: u32,
    pub time_ms: f64,
}

/// Spikes with their populations named once: `pops[p]` is the name of
/// every spike `(p, neuron, time_ms)`. 16 bytes a spike (a [`Spike`] takes
/// 40 and its name's allocation): millions of input spikes fit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpikeTable {
    pub pops: Vec<String>,
    pub spikes: Vec<(u32, u32, f64)>,
    /// A CSV file's `label` column, if it has one.
    pub labels: Option<SpikeLabels>,
}

/// Each spike's label (`of[i]` indexes `names`; [`SpikeLabels::NONE`]: the
/// field was empty), each label's text once: 4 bytes a spike.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpikeLabels {
    pub names: Vec<String>,
    pub of: Vec<u32>,
}

impl SpikeLabels {
    pub const NONE: u32 = u32::MAX;

    /// Spike `i`'s label, unless its field was empty.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.of.get(i).and_then(|&l| self.names.get(l as usize)).map(String::as_str)
    }
}

impl SpikeTable {
    /// The index of population `name`, added if new; `last` caches the
    /// previous lookup (files list a population's spikes together).
    fn intern(&mut self, index: &mut std::collections::HashMap<String, u32>, last: &mut Option<u32>, name: &str) -> u32 {
        if let Some(l) = *last {
            if self.pops[l as usize] == name {
                return l;
            }
        }
        let i = match index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.pops.len() as u32;
                self.pops.push(name.to_string());
                index.insert(name.to_string(), i);
                i
            }
        };
        *last = Some(i);
        i
    }

    /// The spikes one by one, each with its name.
    pub fn to_spikes(&self) -> Vec<Spike> {
        self.spikes.iter().map(|&(p, neuron, time_ms)| Spike { population: self.pops[p as usize].clone(), neuron, time_ms }).collect()
    }

    pub fn from_spikes(spikes: &[Spike]) -> SpikeTable {
        let mut t = SpikeTable { pops: Vec::new(), spikes: Vec::with_capacity(spikes.len()), labels: None };
        let (mut index, mut last) = (Default::default(), None);
        for s in spikes {
            let p = t.intern(&mut index, &mut last, &s.population);
            t.spikes.push((p, s.neuron, s.time_ms));
        }
        t
    }
}

/// A spike file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Npy,
}

impl Format {
    /// By extension, in any case (`.json`, `.NPY`); else CSV.
    pub fn from_path(p: &Path) -> Format {
        if crate::has_extension(p, "json") {
            Format::Json
        } else if crate::has_extension(p, "npy") {
            Format::Npy
        } else {
            Format::Csv
        }
    }
}

use crate::{Error, Result};
use nerve_compiler::front::dom::shown_key;

/// Reads a spike file (CSV or JSON, by extension or a leading `{`).
pub fn read(path: &Path) -> Result<Vec<Spike>> {
    read_table(path).map(|t| t.to_spikes())
}

/// [`read`], each population named once.
pub fn read_table(path: &Path) -> Result<SpikeTable> {
    let file = path.display().to_string();
    let bytes = nerve_isa::files::read(path).map_err(|e| Error::Read { path: path.to_path_buf(), source: e })?;
    // An NPY recording was refused as "not UTF-8 text … save the file as
    // UTF-8", which sends its author the wrong way.
    if bytes.starts_with(b"\x93NUMPY") {
        return Err(Error::File(format!(
            "{file}: an NPY spike recording cannot be an input (it names populations by index, not by name): \
             give a CSV (`population,neuron,time`) or JSON spike file (`nerve run --record rec.csv` records one)"
        )));
    }
    let text = nerve_isa::files::text(bytes).map_err(|e| Error::Read { path: path.to_path_buf(), source: e })?;
    // JSON by its name or its first character (a pipe or stdin has no name; a CSV
    // starts with its header): `--input -` of JSON was read as a CSV and refused.
    let json = crate::has_extension(path, "json") || text.trim_start_matches('\u{feff}').trim_start().starts_with('{');
    table_of_text(&text, &file, json).map_err(Error::File)
}

/// Parses a spike file's text (JSON or CSV); errors name `file` and the line or JSON path.
pub fn read_text(text: &str, file: &str, json: bool) -> std::result::Result<Vec<Spike>, String> {
    table_of_text(text, file, json).map(|t| t.to_spikes())
}

/// [`read_text`], each population named once.
pub fn table_of_text(text: &str, file: &str, json: bool) -> std::result::Result<SpikeTable, String> {
    let mut t = SpikeTable::default();
    let (mut index, mut last) = (std::collections::HashMap::new(), None);
    if json {
        // A repeated key would hide one of its values (serde_json keeps the
        // last: `{"spikes": [A], "spikes": [B]}` delivered B alone).
        let doc = nerve_compiler::front::dom::Doc::parse(text).map_err(|e| format!("{file}: not valid JSON: {e}"))?;
        if let Some(o) = doc.root().as_object() {
            if let Some(k) = o.repeated() {
                return Err(format!("{file}: key `{}` appears twice", shown_key(k)));
            }
            if let Some(items) = o.get("spikes").and_then(|(_, s)| s.as_array()) {
                for (i, x) in items.enumerate() {
                    if let Some(k) = x.as_object().and_then(|m| m.repeated()) {
                        return Err(format!("{file}: $.spikes[{i}]: key `{}` appears twice", shown_key(k)));
                    }
                }
            }
        }
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("{file}: not valid JSON: {e}"))?;
        // A misspelt or extra key would be ignored, and its spikes with it.
        if let Some(k) = v.as_object().and_then(|o| o.keys().find(|k| *k != "spikes")) {
            return Err(format!("{file}: unknown key `{}` (the file holds `spikes` only)", shown_key(k)));
        }
        let arr = v
            .get("spikes")
            .and_then(|s| s.as_array())
            .ok_or_else(|| format!("{file}: expected {{\"spikes\": [{{\"population\", \"neuron\", \"time\"}}, ...]}}"))?;
        t.spikes.reserve_exact(arr.len());
        for (i, s) in arr.iter().enumerate() {
            let at = format!("{file}: $.spikes[{i}]");
            let o = s.as_object().ok_or_else(|| format!("{at}: expected an object"))?;
            for k in o.keys() {
                if !["population", "neuron", "time"].contains(&k.as_str()) {
                    return Err(format!("{at}: unknown key `{}` (population, neuron, time)", shown_key(k)));
                }
            }
            let population = o.get("population").and_then(|x| x.as_str()).ok_or_else(|| format!("{at}.population: expected a string"))?;
            let neuron = o
                .get("neuron")
                .and_then(|x| x.as_u64())
                .filter(|&n| n <= u32::MAX as u64)
                .ok_or_else(|| format!("{at}.neuron: expected a non-negative integer"))? as u32;
            let time_ms =
                o.get("time").and_then(|x| x.as_f64()).filter(|t| t.is_finite() && *t >= 0.0).ok_or_else(|| format!("{at}.time: expected a time ≥ 0 in ms"))?;
            let p = t.intern(&mut index, &mut last, population);
            t.spikes.push((p, neuron, time_ms));
        }
        return Ok(t);
    }
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let h = rdr.headers().map_err(|e| format!("{file}: {e}"))?.clone();
    // A recording of a labelled network carries a `label` column: kept, to be
    // checked against the network's labels (a label that names another neuron, or none, is an error there).
    let cols = h.iter().collect::<Vec<_>>();
    if cols != ["population", "neuron", "time"] && cols != ["population", "neuron", "time", "label"] {
        return Err(format!(
            "{file}: {}: the header must be `population,neuron,time` (time in ms; a fourth column `label` may follow), found `{}`",
            nerve_compiler::front::csv::header_at(text.as_bytes()),
            cols.join(",")
        ));
    }
    // At most a spike a line: no growth by doubling (a third more memory, on average).
    let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
    t.spikes.reserve_exact(lines);
    let mut label_ix: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    if cols.len() == 4 {
        t.labels = Some(SpikeLabels { names: Vec::new(), of: Vec::with_capacity(lines) });
    }
    let mut r = csv::StringRecord::new();
    let mut line_of = nerve_compiler::front::csv::LineOf::new(text.as_bytes());
    for i in 0u64.. {
        if !rdr.read_record(&mut r).map_err(|e| format!("{file}: line {}: {}", line_of.of(e.position(), i + 2), nerve_compiler::front::csv::reason(&e)))? {
            break;
        }
        let line = line_of.of(r.position(), i + 2);
        let neuron = r[1].parse::<u32>().map_err(|_| format!("{file}: line {line}: neuron `{}` is not a non-negative integer", &r[1]))?;
        let time_ms = r[2]
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| format!("{file}: line {line}: time `{}` is not a time ≥ 0 in ms", &r[2]))?;
        let p = t.intern(&mut index, &mut last, &r[0]);
        t.spikes.push((p, neuron, time_ms));
        if let Some(l) = &mut t.labels {
            let text = r.get(3).unwrap_or("");
            let id = if text.is_empty() {
                SpikeLabels::NONE
            } else if let Some(&id) = label_ix.get(text) {
                id
            } else {
                let id = l.names.len() as u32;
                l.names.push(text.to_string());
                label_ix.insert(text.to_string(), id);
                id
            };
            l.of.push(id);
        }
    }
    Ok(t)
}

/// NPY format 1.0 header, padded so the data starts on a 64-byte boundary.
pub fn write_npy_header(w: &mut impl Write, dict: &str) -> std::io::Result<()> {
    let mut h = dict.to_string();
    let total = 10 + h.len() + 1;
    let pad = (64 - total % 64) % 64;
    h.push_str(&" ".repeat(pad));
    h.push('\n');
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&(h.len() as u16).to_le_bytes())?;
    w.write_all(h.as_bytes())
}

/// A time `t` of a run of step `dt` (ms) as the files print it: to the µs
/// where dt is a whole number of µs (every step exact, and the cheap
/// form: it runs once per recorded step); else to 12 significant digits
/// (dt 0.0015 µs printed step 1 as 0.000002 and step 3 as 0.000005).
pub fn fmt_time(t: f64, dt: f64) -> String {
    let us = dt * 1e6;
    if (us - us.round()).abs() <= 1e-9 * us.max(1.0) {
        let s = format!("{t:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return if s.is_empty() || s == "-0" { "0".into() } else { s.to_string() };
    }
    let x = nerve_isa::significant12(t);
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x}")
    }
}

/// A time of `steps` steps as the CSV and JSON files print it, as a number:
/// NPY files and Python's arrays held 0.30000000000000004 where the CSV said
/// 0.3 (three steps of 0.1 ms), so that `time == 0.3` found nothing.
pub fn steps_ms(steps: u32, dt_ms: f64) -> f64 {
    let t = steps as f64 * dt_ms;
    fmt_time(t, dt_ms).parse().unwrap_or(t)
}

/// `steps_ms` of the last step asked for, kept (a run's spikes come step
/// by step: one formatting per step, not per spike).
#[derive(Clone, Copy)]
pub struct StepsMs {
    dt_ms: f64,
    last: (u32, f64),
}

impl StepsMs {
    pub fn new(dt_ms: f64) -> StepsMs {
        StepsMs { dt_ms, last: (u32::MAX, f64::NAN) }
    }
    pub fn of(&mut self, step: u32) -> f64 {
        if self.last.0 != step {
            self.last = (step, steps_ms(step, self.dt_ms));
        }
        self.last.1
    }
}

/// Writes a run's recorded spikes, in `format` (default: by the extension).
pub fn write_recorded(path: &Path, format: Option<Format>, m: &nerve_emulator::machine::Machine, out: &nerve_emulator::engine::RunOutput) -> Result<()> {
    let fmt = format.unwrap_or_else(|| Format::from_path(path));
    crate::write_with(path, |tmp| write_events(tmp, fmt, m, &out.spikes))
}

/// A run's spike events in any format, with no allocation per spike (a
/// population's name and a step's time are put into words once). The
/// streamed recording writes the same bytes through the same line writers.
fn write_events(path: &Path, format: Format, m: &nerve_emulator::machine::Machine, spikes: &[nerve_emulator::engine::SpikeEvent]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    match format {
        Format::Csv => {
            let mut lines = CsvLines::new(m);
            w.write_all(lines.header())?;
            let names: Vec<&str> = m.pops.iter().map(|p| p.name.as_str()).collect();
            lines.write(&mut w, &names, spikes)?;
        }
        Format::Json => {
            w.write_all(JSON_HEAD.as_bytes())?;
            JsonLines::new(m).write(&mut w, true, spikes)?;
            w.write_all(JSON_TAIL.as_bytes())?;
        }
        Format::Npy => {
            write_npy_header(&mut w, &npy_dict(spikes.len()))?;
            let mut time = StepsMs::new(m.dt_ms);
            for e in spikes {
                npy_record(&mut w, e.pop, e.neuron, time.of(e.step))?;
            }
        }
    }
    w.flush()
}

pub(crate) const CSV_HEADER: &[u8] = b"population,neuron,time\n";
/// The header of a recording of a network with neuron labels: each spike's
/// neuron also by its label (empty for populations without labels).
pub(crate) const CSV_HEADER_LABELS: &[u8] = b"population,neuron,time,label\n";

/// Spike events as CSV lines, chunk after chunk.
pub(crate) struct CsvLines {
    dt_ms: f64,
    /// The last step seen and its time, formatted.
    time: (u32, String),
    /// Per population, its neurons' labels, when any population has them.
    labels: Option<Vec<Vec<String>>>,
}

impl CsvLines {
    pub(crate) fn new(m: &nerve_emulator::machine::Machine) -> CsvLines {
        let labels = m.pops.iter().any(|p| !p.labels.is_empty()).then(|| m.pops.iter().map(|p| p.labels.clone()).collect());
        CsvLines { dt_ms: m.dt_ms, time: (u32::MAX, String::new()), labels }
    }

    pub(crate) fn header(&self) -> &'static [u8] {
        if self.labels.is_some() {
            CSV_HEADER_LABELS
        } else {
            CSV_HEADER
        }
    }

    pub(crate) fn write(&mut self, w: &mut impl Write, names: &[&str], spikes: &[nerve_emulator::engine::SpikeEvent]) -> std::io::Result<()> {
        let mut digits = [0u8; 10];
        for e in spikes {
            if self.time.0 != e.step {
                self.time = (e.step, fmt_time(e.step as f64 * self.dt_ms, self.dt_ms));
            }
            w.write_all(names[e.pop as usize].as_bytes())?;
            w.write_all(b",")?;
            w.write_all(decimal(e.neuron, &mut digits))?;
            w.write_all(b",")?;
            w.write_all(self.time.1.as_bytes())?;
            if let Some(l) = &self.labels {
                w.write_all(b",")?;
                if let Some(x) = l[e.pop as usize].get(e.neuron as usize) {
                    w.write_all(x.as_bytes())?;
                }
            }
            w.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// Spike events as the entries of a JSON spike file, chunk after chunk.
pub(crate) struct JsonLines {
    dt_ms: f64,
    time: (u32, String),
    /// Per population, its name as a JSON string.
    names: Vec<String>,
}

impl JsonLines {
    pub(crate) fn new(m: &nerve_emulator::machine::Machine) -> JsonLines {
        // invariant: serde_json serialises any &str (escaping as needed)
        let names = m.pops.iter().map(|p| serde_json::to_string(&p.name).expect("serde_json serialises every &str")).collect();
        JsonLines { dt_ms: m.dt_ms, time: (u32::MAX, String::new()), names }
    }

    /// `first`: the first spike of the file (no comma before it).
    pub(crate) fn write(&mut self, w: &mut impl Write, first: bool, spikes: &[nerve_emulator::engine::SpikeEvent]) -> std::io::Result<()> {
        let mut digits = [0u8; 10];
        for (k, e) in spikes.iter().enumerate() {
            if self.time.0 != e.step {
                self.time = (e.step, fmt_time(e.step as f64 * self.dt_ms, self.dt_ms));
            }
            w.write_all(if first && k == 0 { b"\n  {\"population\": " } else { b",\n  {\"population\": " })?;
            w.write_all(self.names[e.pop as usize].as_bytes())?;
            w.write_all(b", \"neuron\": ")?;
            w.write_all(decimal(e.neuron, &mut digits))?;
            w.write_all(b", \"time\": ")?;
            w.write_all(self.time.1.as_bytes())?;
            w.write_all(b"}")?;
        }
        Ok(())
    }
}

/// `n` in decimal digits, in `buf`.
pub(crate) fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

pub(crate) const JSON_HEAD: &str = "{\"spikes\": [";
pub(crate) const JSON_TAIL: &str = "\n]}\n";

/// The NPY header of a spike file of `count` spikes.
pub(crate) fn npy_dict(count: usize) -> String {
    format!("{{'descr': [('population', '<u4'), ('neuron', '<u4'), ('time', '<f8')], 'fortran_order': False, 'shape': ({count},), }}")
}

/// One spike's NPY record.
pub(crate) fn npy_record(w: &mut impl Write, pop: u32, neuron: u32, time_ms: f64) -> std::io::Result<()> {
    w.write_all(&pop.to_le_bytes())?;
    w.write_all(&neuron.to_le_bytes())?;
    w.write_all(&time_ms.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON told by its first character where the name says nothing (a pipe).
    #[test]
    fn json_spikes_are_told_by_their_content() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("spikes.txt");
        std::fs::write(&p, "\u{feff} {\"spikes\": [{\"population\": \"in\", \"neuron\": 2, \"time\": 1.5}]}").unwrap();
        let s = read(&p).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].population.as_str(), s[0].neuron, s[0].time_ms), ("in", 2, 1.5));
    }

    /// An error names the record's own line: blank lines count (records
    /// were counted: "line 3" for line 6).
    #[test]
    fn csv_errors_name_the_physical_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("in.csv");
        for (text, line) in [
            ("population,neuron,time\nin,0,1\n\n\nin,1,2\nin,0,x\n", 6),
            ("\npopulation,neuron,time\n\nin,x,1\n", 4),
            // The header after a blank line (it was "line 1").
            ("\npop,neuron,time\nin,0,1\n", 2),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = read_table(&p).unwrap_err().to_string();
            assert!(e.contains(&format!("line {line}:")), "{text:?}: {e}");
        }
    }

    /// Times are t·dt: at a dt that is no whole number of µs they were cut to
    /// the µs (dt 0.0015 µs: step 1 at 0.000002, step 3 at 0.000005 ms); at
    /// one that is, printed as before (0.3, not 0.30000000000000004).
    #[test]
    fn times_keep_the_digits_their_step_needs() {
        assert_eq!([1, 3].map(|k| fmt_time(k as f64 * 1.5e-6, 1.5e-6)), ["0.0000015", "0.0000045"]);
        assert_eq!(steps_ms(3, 1.5e-6), 4.5e-6);
        assert_eq!(fmt_time(3.0 * 0.1, 0.1), "0.3");
        assert_eq!(fmt_time(0.0, 0.1), "0");
        assert_eq!(fmt_time(4294967295.0 * 1e-6, 1e-6), "4294.967295");
        assert_eq!(fmt_time(2.0 / 30.0, 1.0 / 30.0), "0.0666666666667");
    }

    #[test]
    fn an_npy_recording_as_input_says_what_is_accepted() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("rec.npy");
        let mut f = Vec::new();
        write_npy_header(&mut f, &npy_dict(1)).unwrap();
        npy_record(&mut f, 0, 3, 1.5).unwrap();
        std::fs::write(&p, f).unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("rec.npy: an NPY spike recording cannot be an input") && e.contains("CSV") && !e.contains("UTF-8"), "{e}");
    }
}
