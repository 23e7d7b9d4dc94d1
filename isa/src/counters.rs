//! The counter table: every event the emulator counts, defined once.
//!
//! One row per counter gives its field, its JSON name (rows sharing a
//! `group` form one JSON array, in table order), and, where the event costs
//! energy, its row of the energy breakdown: position, label and the profile's
//! figure. [`Counts`], its JSON form, [`energy_rows`] and the report's energy
//! table all follow from the table, so a new counter is one new row.
//!
//! Every count is an integer, so totals are exact and do not depend on the
//! order they were summed in (threads, ranks).

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::arch::EnergySpec;

/// One row of the counter table.
#[derive(Clone, Copy, Debug)]
pub struct CounterInfo {
    /// The `Counts` field.
    pub field: &'static str,
    /// The JSON key; rows with the same key form one array.
    pub json: &'static str,
    /// Written to JSON only when non-zero (counters that older reports lack
    /// and most runs never use).
    pub sparse: bool,
    /// What is counted.
    pub doc: &'static str,
    /// Position of the counter's energy row, its label and its figure, where
    /// the event costs energy. Rows with the same position are summed.
    pub energy: Option<EnergyOf>,
}

/// A counter's energy row: position, label, and the profile figure (pJ per event).
pub type EnergyOf = (u8, &'static str, fn(&EnergySpec) -> f64);

macro_rules! counters {
    ($( $field:ident : $json:literal $(sparse $sparse:literal)?, $doc:literal $(, energy $pos:literal $label:literal $fig:ident)? ; )*) => {
        /// Event counts. Every one is an integer, so totals are exact.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Counts {
            $( #[doc = $doc] pub $field: u64, )*
        }

        /// The counter table, in JSON order.
        pub const COUNTERS: &[CounterInfo] = &[
            $( CounterInfo {
                field: stringify!($field),
                json: $json,
                sparse: false $(|| $sparse)?,
                doc: $doc,
                energy: counters!(@energy $($pos $label $fig)?),
            }, )*
        ];

        impl Counts {
            /// The values in table order.
            pub fn values(&self) -> [u64; COUNTERS.len()] {
                [$( self.$field, )*]
            }
            /// Counts from values in table order.
            pub fn from_values(v: [u64; COUNTERS.len()]) -> Counts {
                let mut it = v.into_iter();
                Counts { $( $field: it.next().unwrap_or(0), )* }
            }
            pub fn add(&mut self, o: &Counts) {
                $( self.$field += o.$field; )*
            }
            /// Field-wise difference (self ≥ other field by field).
            pub fn minus(&self, o: &Counts) -> Counts {
                Counts { $( $field: self.$field - o.$field, )* }
            }
        }
    };
    (@energy) => { None };
    (@energy $pos:literal $label:literal $fig:ident) => { Some(($pos, $label, |e: &EnergySpec| e.$fig.charged())) };
}

counters! {
    spikes: "spikes", "Spikes emitted by neurons and spike sources.";
    neuron_spikes: "neuron_spikes", "Of those, spikes of neurons (kernel cores).", energy 3 "neuron spikes" neuron_spike_pj;
    packets_out: "packets_out", "Packets sent into the network: multicast, one per spike of a core that has routes; per-destination, one per (spike, core holding a synapse of it).", energy 5 "packets sent" spike_out_pj;
    packets_in: "packets_in", "Packets arriving at cores.";
    packets_no_row: "packets_no_row", "Arrivals whose key selected no row (multicast to a core with no synapse for that neuron; 0 with per-destination messages).";
    synaptic_events: "synaptic_events", "Synapses applied.", energy 0 "synaptic operations" synaptic_op_pj;
    updates_active: "updates_active", "Neuron updates where the neuron received input or spiked.", energy 1 "neuron updates, active" neuron_active_pj;
    updates_idle: "updates_idle", "Neuron updates without input or spike.", energy 2 "neuron updates, idle" neuron_idle_pj;
    instr_alu: "instructions", "Kernel instructions of the ALU class.", energy 4 "kernel instructions" instr_pj;
    instr_mul: "instructions", "Kernel instructions of the multiply class.", energy 4 "kernel instructions" instr_pj;
    instr_mem: "instructions", "Kernel instructions of the memory class.", energy 4 "kernel instructions" instr_pj;
    instr_spike: "instructions", "Kernel instructions of the spike class.", energy 4 "kernel instructions" instr_pj;
    router_passes: "router_passes", "Routers passed, the source's included.", energy 6 "packets routed (per router)" router_packet_pj;
    hops_ew: "hops_ew", "Hops east-west.", energy 7 "hops east-west" hop_ew_pj;
    hops_ns: "hops_ns", "Hops north-south.", energy 8 "hops north-south" hop_ns_pj;
    hops_diag: "hops_diag", "Hops along a diagonal.", energy 9 "hops diagonal" hop_diag_pj;
    chip_crossings: "chip_crossings", "Hops that cross a chip boundary.", energy 10 "chip crossings" chip_crossing_pj;
    barriers: "barriers", "Barrier synchronisations (one per timestep).", energy 11 "barriers" barrier_pj;
    synaptic_updates: "synaptic_updates" sparse true, "Synaptic weights updated by a learning rule.", energy 12 "synaptic updates (learning)" synaptic_update_pj;
}

impl Counts {
    /// Kernel instructions of every class.
    pub fn instructions(&self) -> u64 {
        self.instr_alu + self.instr_mul + self.instr_mem + self.instr_spike
    }
}

/// One line of an energy breakdown by kind of event.
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyRow {
    pub kind: &'static str,
    /// Events counted.
    pub count: u64,
    /// Energy per event, pJ (from the profile).
    pub per_event_pj: f64,
    /// count × per event, pJ.
    pub picojoules: f64,
}

/// The energy rows of a set of counts, in the table's energy order (rows
/// of counters that share a position are one row, their counts summed).
pub fn energy_rows(e: &EnergySpec, c: &Counts) -> Vec<EnergyRow> {
    let vals = c.values();
    let mut rows: Vec<(u8, EnergyRow)> = Vec::new();
    for (info, &v) in COUNTERS.iter().zip(&vals) {
        let Some((pos, kind, fig)) = info.energy else { continue };
        match rows.iter_mut().find(|(p, _)| *p == pos) {
            Some((_, r)) => r.count += v,
            None => rows.push((pos, EnergyRow { kind, count: v, per_event_pj: fig(e), picojoules: 0.0 })),
        }
    }
    rows.sort_by_key(|(p, _)| *p);
    rows.into_iter()
        .map(|(_, mut r)| {
            r.picojoules = r.count as f64 * r.per_event_pj;
            r
        })
        .collect()
}

/// The JSON form: one key per counter in table order, counters that share
/// a key as one array, sparse counters only when non-zero.
impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let vals = self.values();
        let mut m = s.serialize_map(None)?;
        let mut i = 0;
        while i < COUNTERS.len() {
            let key = COUNTERS[i].json;
            let mut j = i + 1;
            while j < COUNTERS.len() && COUNTERS[j].json == key {
                j += 1;
            }
            if j - i > 1 {
                m.serialize_entry(key, &vals[i..j])?;
            } else if !(COUNTERS[i].sparse && vals[i] == 0) {
                m.serialize_entry(key, &vals[i])?;
            }
            i = j;
        }
        m.end()
    }
}

/// Reads what `Serialize` writes: a sparse counter a report lacks is 0 (it
/// is written only when not), any other is an error naming it (`"counts":
/// {}` had read as a run of no spikes and no packets), as is a key the table
/// lacks.
impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(serde::Deserialize)]
        #[serde(untagged, expecting = "a count (a whole number of at least 0) or a list of them")]
        enum V {
            One(u64),
            Many(Vec<u64>),
        }
        let m: std::collections::BTreeMap<String, V> = std::collections::BTreeMap::deserialize(d)?;
        let mut vals = [0u64; COUNTERS.len()];
        if let Some(c) = COUNTERS.iter().find(|c| !c.sparse && !m.contains_key(c.json)) {
            return Err(D::Error::custom(format!("counter `{}` is missing ({})", c.json, c.doc.trim_end_matches('.').to_lowercase())));
        }
        for (k, v) in m {
            let idx: Vec<usize> = COUNTERS.iter().enumerate().filter(|(_, c)| c.json == k).map(|(i, _)| i).collect();
            match (v, idx.len()) {
                (_, 0) => return Err(D::Error::custom(format!("unknown counter `{k}`"))),
                (V::One(x), 1) => vals[idx[0]] = x,
                (V::Many(xs), n) if xs.len() == n && n > 1 => {
                    for (&i, x) in idx.iter().zip(xs) {
                        vals[i] = x;
                    }
                }
                (_, n) => return Err(D::Error::custom(format!("counter `{k}` takes {n} value(s)"))),
            }
        }
        Ok(Counts::from_values(vals))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_drives_fields_and_json() {
        let n = COUNTERS.len();
        let v: Vec<u64> = (1..=n as u64).collect();
        let mut c = Counts::from_values(v.clone().try_into().unwrap());
        assert_eq!(c.values().to_vec(), v);
        let j = serde_json::to_string(&c).unwrap();
        assert!(j.starts_with("{\"spikes\":1,\"neuron_spikes\":2,"), "{j}");
        assert!(j.contains("\"instructions\":[9,10,11,12]"), "{j}");
        let back: Counts = serde_json::from_str(&j).unwrap();
        assert_eq!(back, c);
        // Sparse counters are left out at zero, and read back as zero.
        c.synaptic_updates = 0;
        let j = serde_json::to_string(&c).unwrap();
        assert!(!j.contains("synaptic_updates"), "{j}");
        assert_eq!(serde_json::from_str::<Counts>(&j).unwrap(), c);
        assert!(serde_json::from_str::<Counts>("{\"nonsense\":1}").is_err());
        // Every other counter must be there: `{}` read as a run of nothing.
        let e = serde_json::from_str::<Counts>("{}").unwrap_err().to_string();
        assert!(e.contains("counter `spikes` is missing"), "{e}");
        let with = |key: &str, v: Option<serde_json::Value>| {
            let mut o: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&j).unwrap();
            match v {
                Some(v) => o.insert(key.into(), v),
                None => o.remove(key),
            };
            serde_json::from_value::<Counts>(serde_json::Value::Object(o)).map_err(|e| e.to_string())
        };
        assert!(with("hops_ns", None).unwrap_err().contains("counter `hops_ns` is missing"));
        assert!(with("instructions", Some(serde_json::json!([1, 2]))).unwrap_err().contains("counter `instructions` takes 4 value(s)"));
    }

    #[test]
    fn energy_rows_follow_the_table() {
        let a = crate::arch::Arch::builtin("tiny").unwrap();
        let c = Counts { synaptic_events: 10, instr_alu: 100, instr_mul: 1, barriers: 2, ..Counts::default() };
        let rows = energy_rows(&a.energy, &c);
        assert_eq!(rows.len(), 13);
        assert_eq!(rows[0].kind, "synaptic operations");
        assert_eq!(rows[0].count, 10);
        assert_eq!(rows[4].kind, "kernel instructions");
        assert_eq!(rows[4].count, 101);
        assert_eq!(rows[11].kind, "barriers");
        assert_eq!(rows[12].kind, "synaptic updates (learning)");
    }
}
