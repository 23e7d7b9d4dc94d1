//! The architecture description: the machine a chip image targets, as data.
//!
//! Everything the compiler must respect and everything the emulator charges
//! time or energy for is a field here, with its unit in the field name or doc
//! and its source in the profile file (isa/profiles/*.toml). Built-in profiles
//! are those files, embedded; users may load their own with [`Arch::from_file`].

use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

use crate::ids::{ChipId, CoreId, TileId};

/// Built-in profiles: (name, TOML source).
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("loihi", include_str!("../profiles/loihi.toml")),
    ("spinnaker", include_str!("../profiles/spinnaker.toml")),
    ("spinnaker2", include_str!("../profiles/spinnaker2.toml")),
    ("tiny", include_str!("../profiles/tiny.toml")),
];

/// A whole architecture profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arch {
    /// Short name (`loihi`, `spinnaker`, `tiny`, or a user's).
    pub name: String,
    /// One paragraph: what machine this models and how closely.
    pub description: String,
    pub topology: Topology,
    pub core: CoreSpec,
    pub router: RouterSpec,
    pub timing: TimingSpec,
    pub energy: EnergySpec,
}

/// How router nodes ("tiles") and chips are connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyKind {
    /// 2-D mesh, no wrap-around; links E, N, W, S (Loihi's NoC).
    Mesh,
    /// Triangular ("hexagonal") torus; links E, NE, N, W, SW, S (SpiNNaker).
    HexTorus,
}

impl TopologyKind {
    /// As a profile spells it (`hex_torus`): `arch list` and run summaries
    /// printed the Rust name, `HexTorus`, which a profile refuses.
    pub fn name(self) -> &'static str {
        match self {
            TopologyKind::Mesh => "mesh",
            TopologyKind::HexTorus => "hex_torus",
        }
    }
}

/// The shape of the system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub kind: TopologyKind,
    /// Router nodes per chip, [x, y]. SpiNNaker: one router per chip, [1, 1];
    /// Loihi: 32 tiles of 4 cores per chip, [4, 8].
    #[serde(deserialize_with = "exactly")]
    pub tiles_per_chip: [u16; 2],
    /// Chips in the system, [x, y].
    #[serde(deserialize_with = "exactly")]
    pub chips: [u16; 2],
    /// Neuromorphic (application) cores per router node.
    pub cores_per_tile: u16,
    /// Chips per board (informational; the SpiNN-5 board has 48).
    pub chips_per_board: u16,
}

/// A fixed-length array, read as a list of exactly `N`: TOML's reader
/// dropped the third number of `chips = [24, 12, 3]` without a word, and
/// JSON's said "trailing characters".
/// Read as a tuple, as it is written: an image's profile (bincode) holds no
/// length, and a text format's list gives every element, counted here.
fn exactly<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>, const N: usize>(d: D) -> Result<[T; N], D::Error> {
    struct Exactly<T, const N: usize>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>, const N: usize> serde::de::Visitor<'de> for Exactly<T, N> {
        type Value = [T; N];
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a list of {N} ([x, y])")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<[T; N], A::Error> {
            let mut v = Vec::with_capacity(N);
            while let Some(x) = a.next_element::<T>()? {
                v.push(x);
            }
            let n = v.len();
            v.try_into().map_err(|_| serde::de::Error::invalid_length(n, &self))
        }
    }
    d.deserialize_tuple(N, Exactly::<T, N>(std::marker::PhantomData))
}

/// A list of [x, y] points, each read as `exactly` is.
fn points<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<[f64; 2]>, D::Error> {
    #[derive(Deserialize)]
    struct Point(#[serde(deserialize_with = "exactly")] [f64; 2]);
    Ok(Vec::<Point>::deserialize(d)?.into_iter().map(|p| p.0).collect())
}

/// A link direction out of a router node. The discriminant is the link's bit
/// in a routing entry's link mask (SpiNNaker's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Dir {
    E = 0,
    NE = 1,
    N = 2,
    W = 3,
    SW = 4,
    S = 5,
}

impl Dir {
    pub const ALL: [Dir; 6] = [Dir::E, Dir::NE, Dir::N, Dir::W, Dir::SW, Dir::S];
    pub fn from_index(i: usize) -> Option<Dir> {
        Dir::ALL.get(i).copied()
    }
    pub fn opposite(self) -> Dir {
        Dir::ALL[(self as usize + 3) % 6]
    }
    /// The (dx, dy) move.
    pub fn delta(self) -> (i32, i32) {
        match self {
            Dir::E => (1, 0),
            Dir::NE => (1, 1),
            Dir::N => (0, 1),
            Dir::W => (-1, 0),
            Dir::SW => (-1, -1),
            Dir::S => (0, -1),
        }
    }
    /// The cost class of a hop along this direction.
    pub fn hop_kind(self) -> HopKind {
        match self {
            Dir::E | Dir::W => HopKind::EastWest,
            Dir::N | Dir::S => HopKind::NorthSouth,
            Dir::NE | Dir::SW => HopKind::Diagonal,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Dir::E => "E",
            Dir::NE => "NE",
            Dir::N => "N",
            Dir::W => "W",
            Dir::SW => "SW",
            Dir::S => "S",
        }
    }
}

/// Hop cost classes (Loihi charges east-west and north-south hops differently).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HopKind {
    EastWest,
    NorthSouth,
    Diagonal,
}

/// Per-core resources. A network that needs more on one core is split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreSpec {
    /// Core clock, MHz. Informational on every profile: nothing reads it
    /// (every time is given in ns in `[timing]`, already at this clock), so
    /// changing it changes no image, time or energy. Checked, in (0, 10⁶].
    pub clock_mhz: f64,
    /// Neurons (compartments) per core.
    pub max_neurons: u32,
    /// Distinct incoming routing keys (input axons) per core; `None`: no limit.
    pub max_input_keys: Option<u32>,
    /// Entries of the core's key → synaptic-row lookup (SpiNNaker's master
    /// population table); one entry covers one source population (its
    /// slices' keys form one aligned run). `None`: no limit.
    pub max_input_table_entries: Option<u32>,
    /// Output axons per core: Σ over its neurons of the number of distinct
    /// destination cores (Loihi's per-core output axon memory). `None`: no limit
    /// (multicast routers fan out in the network, as on SpiNNaker).
    pub max_output_axons: Option<u32>,
    /// Synaptic memory per core, in words.
    pub synapse_words: u32,
    /// Width of one synaptic memory word, bits.
    pub synapse_word_bits: u32,
    /// Bits one synapse occupies (weight, delay, port, target index). Synapses do
    /// not straddle words: a word holds ⌊word bits / synapse bits⌋ of them.
    pub synapse_bits: u32,
    /// Words of header per synaptic row (one row per incoming key).
    pub row_header_words: u32,
    /// Longest synaptic row (synapses from one source neuron to one core).
    pub max_row_length: u32,
    /// Signed weight mantissa width, bits (including the sign).
    pub weight_bits: u8,
    /// Smallest and largest weight exponent (a power-of-two scale per input port).
    pub weight_exp_min: i8,
    pub weight_exp_max: i8,
    /// Longest synaptic delay, timesteps (delays are 1..=max; the ring buffer has max+1 slots),
    /// in 1..=255: a synapse's delay is 8 bits in the image.
    pub max_delay_steps: u16,
    /// Longest delay with delay-extension cores (sPyNNaker's: relays that
    /// re-emit a spike `max_delay_steps` later, chained), timesteps; absent:
    /// the machine has none, and `max_delay_steps` is the limit.
    #[serde(default)]
    pub max_extended_delay_steps: Option<u16>,
    /// Synaptic input ports (synapse types / dendritic accumulators) per core.
    pub max_input_ports: u8,
    /// Per-neuron state words a kernel may use.
    pub max_state_slots: u8,
    /// Per-neuron parameter words a kernel may use.
    pub max_param_slots: u8,
    /// Kernel instruction memory, instructions.
    pub kernel_max_instructions: u32,
    /// Whether a core can generate a convolution's or pooling's synapses from
    /// one shared kernel (sPyNNaker's local-only convolution): such
    /// projections are then stored as the kernel, not one row per source
    /// neuron. `false` (the default): every synapse is stored.
    #[serde(default)]
    pub shared_kernels: bool,
    /// Whether a neuron update without synaptic input and without a change of
    /// state is an idle update, charged `neuron_idle_*` (Loihi's compartments:
    /// SANA-FE charges them the access only). `false`: a core runs every
    /// neuron's whole update every step (sPyNNaker's neuron loop), so every
    /// update is an active one and kernels skip the test. Default `true`.
    #[serde(default = "yes")]
    pub idle_updates: bool,
}

fn yes() -> bool {
    true
}

/// The router of each node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// Multicast routing-table entries per router node.
    pub table_entries: u32,
    /// Whether a packet that matches no entry continues out of the link
    /// opposite the one it came in on (SpiNNaker's default routing).
    pub default_route: bool,
    /// How a spike's packets are counted and timed (delivery is the same
    /// either way): one multicast packet per spike along its routing tree, or
    /// one message per destination core holding a synapse of the neuron, each
    /// on its own dimension-order path (Loihi's output axons; SANA-FE's model).
    pub messages: MessageModel,
}

/// See [`RouterSpec::messages`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageModel {
    /// One packet per spike, replicated by the routers along the multicast
    /// tree the routing tables give it; every core of the tree receives it.
    Multicast,
    /// One message per (spike, destination core with a synapse of that
    /// neuron), each charged `packet_out` at the source, `packet_in` at the
    /// destination and the hops of its own shortest dimension-order path.
    PerDestination,
}

impl MessageModel {
    pub fn name(self) -> &'static str {
        match self {
            MessageModel::Multicast => "multicast",
            MessageModel::PerDestination => "per_destination",
        }
    }
}

/// Time per counted event, nanoseconds, and the timestep structure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingSpec {
    /// Per kernel instruction, by class.
    pub instr_alu_ns: f64,
    pub instr_mul_ns: f64,
    pub instr_mem_ns: f64,
    pub instr_spike_ns: f64,
    /// Fixed cost of one neuron update on top of its instructions, when the
    /// neuron received input or spiked ("active") and when not ("idle").
    pub neuron_active_ns: f64,
    pub neuron_idle_ns: f64,
    /// Extra per spike a neuron emits (soma spike generation).
    pub neuron_spike_ns: f64,
    /// Per synaptic event (one synapse of a row applied).
    pub synaptic_event_ns: f64,
    /// Per synaptic update by a learning rule (a synapse's rule evaluated at an epoch's end).
    #[serde(default)]
    pub synaptic_update_ns: f64,
    /// Per packet arriving at a core (key lookup, row fetch set-up).
    pub packet_in_ns: f64,
    /// Per packet a core sends.
    pub packet_out_ns: f64,
    /// Router latency per hop, by hop kind.
    pub hop_ew_ns: f64,
    pub hop_ns_ns: f64,
    pub hop_diag_ns: f64,
    /// Extra latency of a hop that crosses a chip boundary.
    pub chip_crossing_ns: f64,
    /// Time one packet occupies a link; a link carrying n packets in a step is
    /// busy n times this (contention).
    pub link_packet_ns: f64,
    /// Whether a core receives while it computes and sends: its time in a step
    /// is max(send, receive) instead of send + receive. "Send" is its neuron
    /// updates, spikes and packets out; "receive" its packets in and synaptic
    /// events.
    pub overlap_send_receive: bool,
    /// Barrier synchronisation at the end of a step, by router nodes in use:
    /// points [tiles, ns], linearly interpolated, clamped at the ends.
    #[serde(deserialize_with = "points")]
    pub barrier_ns: Vec<[f64; 2]>,
    /// Real-time tick: a step never takes less wall time than this. `None`:
    /// free-running (the next step starts when the barrier completes).
    pub timestep_ns: Option<f64>,
}

impl TimingSpec {
    /// Network latency of a path: its hops by kind and its chip crossings.
    pub fn path_ns(&self, p: &crate::route::PathCost) -> f64 {
        p.ew as f64 * self.hop_ew_ns + p.ns as f64 * self.hop_ns_ns + p.diag as f64 * self.hop_diag_ns + p.chip_crossings as f64 * self.chip_crossing_ns
    }
    /// The wall time of a step that took `step_ns`: stretched to the real-time tick where there is one.
    pub fn wall_ns(&self, step_ns: f64) -> f64 {
        match self.timestep_ns {
            Some(t) => step_ns.max(t),
            None => step_ns,
        }
    }
}

/// What an image occupies of its machine: router nodes ("tiles") and chips
/// with at least one core in use (static power and the barrier scale with them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub tiles: u32,
    pub chips: u32,
}

/// A figure with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    pub value: f64,
    pub source: String,
    pub status: Status,
}

/// How a figure was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Measured or published by the designers.
    Primary,
    /// Derived from primary figures, or from secondary literature.
    Secondary,
    /// Our estimate; the source says how it was made.
    Estimated,
    /// Nobody has published it: the value is a placeholder, shown but
    /// charged as 0 (`Figure::charged`), so totals leave this part out.
    Unknown,
}

impl Figure {
    /// What a run charges per event (or per second, for power): the value,
    /// or 0 for a figure whose status is `unknown`, which runs list as left out.
    pub fn charged(&self) -> f64 {
        if self.status == Status::Unknown {
            0.0
        } else {
            self.value
        }
    }
}

/// Energy per counted event (picojoules) and static power (watts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergySpec {
    /// Per synaptic event.
    pub synaptic_op_pj: Figure,
    /// Per synaptic weight update by a learning rule.
    pub synaptic_update_pj: Figure,
    /// Per neuron update, active and idle (see `TimingSpec`).
    pub neuron_active_pj: Figure,
    pub neuron_idle_pj: Figure,
    /// Extra per spike a neuron emits (soma spike generation), on top of its update.
    pub neuron_spike_pj: Figure,
    /// Per kernel instruction (software neuron models); 0 where the neuron update cost covers it.
    pub instr_pj: Figure,
    /// Per packet a core sends into the network (one per spike with multicast
    /// messages, one per destination core with per-destination messages).
    pub spike_out_pj: Figure,
    /// Per packet handled by a router (each router a packet passes, including the source's).
    pub router_packet_pj: Figure,
    /// Per hop, by kind.
    pub hop_ew_pj: Figure,
    pub hop_ns_pj: Figure,
    pub hop_diag_pj: Figure,
    /// Extra per hop crossing a chip boundary.
    pub chip_crossing_pj: Figure,
    /// Per barrier synchronisation (per timestep).
    pub barrier_pj: Figure,
    /// Static power per chip in use, W.
    pub static_chip_w: Figure,
    /// Extra power per core in use while the system runs, W.
    pub active_core_w: Figure,
}

impl EnergySpec {
    /// Every figure with its field name.
    pub fn figures(&self) -> [(&'static str, &Figure); 15] {
        let e = self;
        [
            ("energy.synaptic_op_pj", &e.synaptic_op_pj),
            ("energy.synaptic_update_pj", &e.synaptic_update_pj),
            ("energy.neuron_active_pj", &e.neuron_active_pj),
            ("energy.neuron_idle_pj", &e.neuron_idle_pj),
            ("energy.neuron_spike_pj", &e.neuron_spike_pj),
            ("energy.instr_pj", &e.instr_pj),
            ("energy.spike_out_pj", &e.spike_out_pj),
            ("energy.router_packet_pj", &e.router_packet_pj),
            ("energy.hop_ew_pj", &e.hop_ew_pj),
            ("energy.hop_ns_pj", &e.hop_ns_pj),
            ("energy.hop_diag_pj", &e.hop_diag_pj),
            ("energy.chip_crossing_pj", &e.chip_crossing_pj),
            ("energy.barrier_pj", &e.barrier_pj),
            ("energy.static_chip_w", &e.static_chip_w),
            ("energy.active_core_w", &e.active_core_w),
        ]
    }
}

/// Most cores in a machine: 16 times SpiNNaker's million, whose largest
/// machine nerve models; placement orders every tile of the machine in
/// memory, and a profile of 2^31 tiles ran it out of memory.
pub const MAX_CORES: u64 = 1 << 24;

/// Largest time of one counted event, the real-time tick and the barrier, ns
/// (1000 s). Times are multiplied by counts up to 2^64 and summed over a
/// run: beyond a bound, a figure that is finite overflows the run's totals
/// to infinity, which a run summary cannot hold.
pub const MAX_EVENT_NS: f64 = 1e12;
/// Largest energy of one counted event, pJ (1 J), for the same reason.
pub const MAX_EVENT_PJ: f64 = 1e12;
/// Largest static power per chip or core, W.
pub const MAX_POWER_W: f64 = 1e6;
/// Largest core clock, MHz (1 THz).
pub const MAX_CLOCK_MHZ: f64 = 1e6;

/// A figure as people read it: 1e308, not 309 digits.
fn num(x: f64) -> String {
    if x.is_finite() && x.abs() < 1e15 {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

/// Why a profile cannot be loaded or is inconsistent.
#[derive(Debug, Error)]
pub enum ArchError {
    #[error("unknown architecture profile `{name}` (built-in: {known})")]
    UnknownProfile { name: String, known: String },
    #[error("cannot read architecture file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("architecture file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("architecture `{arch}`: {field} = {value} is invalid: {reason}")]
    Invalid { arch: String, field: &'static str, value: String, reason: String },
}

impl Arch {
    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Result<Arch, ArchError> {
        let src = BUILTIN_PROFILES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s).ok_or_else(|| ArchError::UnknownProfile {
            name: name.to_string(),
            known: BUILTIN_PROFILES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        })?;
        Arch::from_toml_str(src, &format!("<built-in {name}>"))
    }

    /// A built-in profile name, or a path to a `.toml` or `.json` profile file.
    pub fn load(name_or_path: &str) -> Result<Arch, ArchError> {
        let p = Path::new(name_or_path);
        if BUILTIN_PROFILES.iter().any(|(n, _)| *n == name_or_path) || !(p.exists() || name_or_path.contains(['.', '/'])) {
            Arch::builtin(name_or_path)
        } else {
            Arch::from_file(p)
        }
    }

    pub fn from_file(path: &Path) -> Result<Arch, ArchError> {
        let ps = path.display().to_string();
        let text = crate::files::read_to_string(path).map_err(|source| ArchError::Io { path: ps.clone(), source })?;
        // Any case: `P.JSON` read as TOML gave a TOML parse error for a JSON file.
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            // Through serde_path_to_error, so that a value of the wrong type
            // names its field (core.max_neurons), as TOML's errors do.
            let mut de = serde_json::Deserializer::from_str(&text);
            let a: Arch = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                let message = if path == "." { e.inner().to_string() } else { format!("{path}: {}", e.inner()) };
                ArchError::Parse { path: ps.clone(), message }
            })?;
            // Text after the profile (a second object) is an error, as serde_json::from_str makes it.
            de.end().map_err(|e| ArchError::Parse { path: ps, message: e.to_string() })?;
            let mut a = a;
            a.positive_zeros();
            a.validate()?;
            Ok(a)
        } else {
            Arch::from_toml_str(&text, &ps)
        }
    }

    pub fn from_toml_str(text: &str, origin: &str) -> Result<Arch, ArchError> {
        let mut a: Arch = toml::from_str(text).map_err(|e| ArchError::Parse { path: origin.to_string(), message: e.to_string() })?;
        a.positive_zeros();
        a.validate()?;
        Ok(a)
    }

    /// Every figure written −0 made 0: −0 is within "0..=max", and reports
    /// of a run printed "-0 J", "-0 W" and "-0.0%" for it.
    fn positive_zeros(&mut self) {
        fn z(x: &mut f64) {
            if *x == 0.0 {
                *x = 0.0;
            }
        }
        let t = &mut self.timing;
        for x in [
            &mut t.instr_alu_ns,
            &mut t.instr_mul_ns,
            &mut t.instr_mem_ns,
            &mut t.instr_spike_ns,
            &mut t.neuron_active_ns,
            &mut t.neuron_idle_ns,
            &mut t.neuron_spike_ns,
            &mut t.synaptic_event_ns,
            &mut t.synaptic_update_ns,
            &mut t.packet_in_ns,
            &mut t.packet_out_ns,
            &mut t.hop_ew_ns,
            &mut t.hop_ns_ns,
            &mut t.hop_diag_ns,
            &mut t.chip_crossing_ns,
            &mut t.link_packet_ns,
        ] {
            z(x);
        }
        t.barrier_ns.iter_mut().flatten().for_each(z);
        t.timestep_ns.iter_mut().for_each(z);
        z(&mut self.core.clock_mhz);
        let e = &mut self.energy;
        for f in [
            &mut e.synaptic_op_pj,
            &mut e.synaptic_update_pj,
            &mut e.neuron_active_pj,
            &mut e.neuron_idle_pj,
            &mut e.neuron_spike_pj,
            &mut e.instr_pj,
            &mut e.spike_out_pj,
            &mut e.router_packet_pj,
            &mut e.hop_ew_pj,
            &mut e.hop_ns_pj,
            &mut e.hop_diag_pj,
            &mut e.chip_crossing_pj,
            &mut e.barrier_pj,
            &mut e.static_chip_w,
            &mut e.active_core_w,
        ] {
            z(&mut f.value);
        }
    }

    pub fn to_toml(&self) -> String {
        // invariant: an Arch is structs of strings, numbers, enums and arrays (Options only as struct fields, left out when None),
        // all TOML-representable; the tests round-trip every built-in profile through to_toml
        toml::to_string_pretty(self).expect("an Arch always serialises to TOML")
    }

    /// Checks that the profile is internally consistent.
    pub fn validate(&self) -> Result<(), ArchError> {
        let bad =
            |field: &'static str, value: String, reason: &str| Err(ArchError::Invalid { arch: self.name.clone(), field, value, reason: reason.to_string() });
        if let Some(why) = crate::names::bad_arch_name(&self.name) {
            // Shown escaped: the name itself is what cannot be printed.
            let shown = format!("\"{}\"", self.name.escape_debug());
            return Err(ArchError::Invalid { arch: shown.clone(), field: "name", value: shown, reason: why });
        }
        let t = &self.topology;
        if t.tiles_per_chip.contains(&0) || t.chips.contains(&0) {
            return bad("topology", format!("{:?}×{:?}", t.tiles_per_chip, t.chips), "every dimension must be ≥ 1");
        }
        // A route entry names a tile's cores in a `CoreMask`.
        if t.cores_per_tile == 0 || t.cores_per_tile as u32 > crate::route::CoreMask::BITS {
            return bad("topology.cores_per_tile", t.cores_per_tile.to_string(), "must be in 1..=256");
        }
        // In u64: `num_tiles` multiplies in u32, which these dimensions (up to 2^16 each) overflow.
        let [tx, ty] = t.tiles_per_chip.map(u64::from);
        let [cx, cy] = t.chips.map(u64::from);
        let cores = tx * cx * ty * cy * t.cores_per_tile as u64;
        if cores > MAX_CORES {
            return bad(
                "topology",
                format!("{} tiles of {} cores", tx * cx * ty * cy, t.cores_per_tile),
                &format!("{cores} cores: at most {MAX_CORES} (the compiler's placement walks every tile of the machine)"),
            );
        }
        let c = &self.core;
        if c.max_neurons == 0 || c.max_neurons > 65_536 {
            return bad("core.max_neurons", c.max_neurons.to_string(), "must be in 1..=65536 (16-bit synapse targets)");
        }
        // A signed mantissa of one bit holds only −1 and 0: every excitatory
        // weight compiled to 0.
        if !(2..=32).contains(&c.weight_bits) {
            return bad(
                "core.weight_bits",
                c.weight_bits.to_string(),
                "must be in 2..=32 (the mantissa is signed: 1 bit holds only -1 and 0, so every excitatory weight would be 0)",
            );
        }
        // A port's exponent is the `shv` of a 32-bit sum: beyond ±31 every
        // weight is 0 (or its sign), which compiled with every weight rounded to 0.
        for (field, e) in [("core.weight_exp_min", c.weight_exp_min), ("core.weight_exp_max", c.weight_exp_max)] {
            if !(-31..=31).contains(&e) {
                return bad(field, e.to_string(), "must be in -31..=31 (a port's exponent shifts a 32-bit word)");
            }
        }
        if c.weight_exp_min > c.weight_exp_max {
            return bad("core.weight_exp_min", c.weight_exp_min.to_string(), "must be ≤ weight_exp_max");
        }
        // A synapse's delay is one byte in the image (`Synapse::delay`, `ConvRows::delay`),
        // and delay extension chains relays every `max_delay_steps`: 256 and
        // more failed as the compiler's own relays' delays overflowed it.
        if c.max_delay_steps == 0 || c.max_delay_steps > 255 {
            return bad("core.max_delay_steps", c.max_delay_steps.to_string(), "must be in 1..=255 (a synapse's delay is 8 bits in the image)");
        }
        if let Some(x) = c.max_extended_delay_steps {
            if x < c.max_delay_steps {
                return bad("core.max_extended_delay_steps", x.to_string(), "must be ≥ max_delay_steps");
            }
        }
        if c.max_input_ports == 0 || c.max_input_ports as usize > crate::instr::MAX_INPUT_PORTS {
            return bad("core.max_input_ports", c.max_input_ports.to_string(), "must be in 1..=16 (the ISA's ports)");
        }
        // Zero kernel resources passed here and failed later, as an image the
        // compiler made and its own check refused ("internal error").
        if c.max_state_slots == 0 || c.max_state_slots as usize > crate::instr::MAX_STATE_SLOTS {
            return bad("core.max_state_slots", c.max_state_slots.to_string(), "must be in 1..=32 (the ISA's slots)");
        }
        if c.max_param_slots == 0 || c.max_param_slots as usize > crate::instr::MAX_PARAM_SLOTS {
            return bad("core.max_param_slots", c.max_param_slots.to_string(), "must be in 1..=64 (the ISA's slots)");
        }
        if c.kernel_max_instructions == 0 {
            return bad("core.kernel_max_instructions", "0".into(), "must be ≥ 1");
        }
        if c.synapse_words == 0 {
            return bad("core.synapse_words", "0".into(), "must be ≥ 1");
        }
        for (f, v) in [
            ("core.max_input_keys", c.max_input_keys),
            ("core.max_input_table_entries", c.max_input_table_entries),
            ("core.max_output_axons", c.max_output_axons),
        ] {
            if v == Some(0) {
                return bad(f, "0".into(), "must be ≥ 1 (leave it out for no limit)");
            }
        }
        if c.synapse_word_bits == 0 {
            return bad("core.synapse_word_bits", "0".into(), "must be ≥ 1 (a word holds at least one synapse)");
        }
        if c.synapse_bits == 0 || c.synapse_bits > c.synapse_word_bits {
            return bad("core.synapse_bits", c.synapse_bits.to_string(), "must be in 1..=synapse_word_bits");
        }
        // Memory is counted in synapses per word: one narrower than its weight
        // packed (say) 32 synapses of 16-bit weights in a 32-bit word. The
        // weight is the least a synapse holds (a dense row, as Loihi's, keeps
        // its target, delay and port implicit), so only it is required.
        if c.synapse_bits < c.weight_bits as u32 {
            return bad(
                "core.synapse_bits",
                c.synapse_bits.to_string(),
                &format!("must be ≥ core.weight_bits ({}): a synapse holds at least its weight", c.weight_bits),
            );
        }
        if !(1..=crate::MAX_ROW_LENGTH).contains(&c.max_row_length) {
            let why = format!("must be in 1..={}: the emulator holds a row's synapses in 16 bits", crate::MAX_ROW_LENGTH);
            return bad("core.max_row_length", c.max_row_length.to_string(), &why);
        }
        if self.router.table_entries == 0 {
            return bad("router.table_entries", "0".into(), "must be ≥ 1");
        }
        if self.timing.barrier_ns.is_empty() {
            return bad("timing.barrier_ns", "[]".into(), "needs at least one [tiles, ns] point");
        }
        let tm = &self.timing;
        let mut last_tiles = 0.0;
        for &[tiles, ns] in &tm.barrier_ns {
            let point = format!("[{}, {}]", num(tiles), num(ns));
            if !(tiles.is_finite() && tiles >= last_tiles) {
                return bad("timing.barrier_ns", point, "tiles must be finite, ≥ 0 and ascending from point to point");
            }
            if !(ns.is_finite() && (0.0..=MAX_EVENT_NS).contains(&ns)) {
                return bad("timing.barrier_ns", point, &format!("ns must be a finite number in 0..={MAX_EVENT_NS:e}"));
            }
            last_tiles = tiles;
        }
        if let Some(t) = tm.timestep_ns {
            if !(t.is_finite() && t > 0.0 && t <= MAX_EVENT_NS) {
                return bad("timing.timestep_ns", num(t), &format!("must be a finite number in (0, {MAX_EVENT_NS:e}] (leave it out to free-run)"));
            }
        }
        for (f, v) in [
            ("timing.instr_alu_ns", tm.instr_alu_ns),
            ("timing.instr_mul_ns", tm.instr_mul_ns),
            ("timing.instr_mem_ns", tm.instr_mem_ns),
            ("timing.instr_spike_ns", tm.instr_spike_ns),
            ("timing.neuron_active_ns", tm.neuron_active_ns),
            ("timing.neuron_idle_ns", tm.neuron_idle_ns),
            ("timing.neuron_spike_ns", tm.neuron_spike_ns),
            ("timing.synaptic_event_ns", tm.synaptic_event_ns),
            ("timing.packet_in_ns", tm.packet_in_ns),
            ("timing.packet_out_ns", tm.packet_out_ns),
            ("timing.hop_ew_ns", tm.hop_ew_ns),
            ("timing.hop_ns_ns", tm.hop_ns_ns),
            ("timing.hop_diag_ns", tm.hop_diag_ns),
            ("timing.chip_crossing_ns", tm.chip_crossing_ns),
            ("timing.link_packet_ns", tm.link_packet_ns),
            ("timing.synaptic_update_ns", tm.synaptic_update_ns),
        ] {
            if !(v.is_finite() && (0.0..=MAX_EVENT_NS).contains(&v)) {
                return bad(f, num(v), &format!("must be a finite number in 0..={MAX_EVENT_NS:e}"));
            }
        }
        if !(c.clock_mhz.is_finite() && c.clock_mhz > 0.0 && c.clock_mhz <= MAX_CLOCK_MHZ) {
            return bad("core.clock_mhz", num(c.clock_mhz), &format!("must be a finite number in (0, {MAX_CLOCK_MHZ:e}]"));
        }
        for (f, fig) in self.energy.figures() {
            let max = if f.ends_with("_w") { MAX_POWER_W } else { MAX_EVENT_PJ };
            if !(fig.value.is_finite() && (0.0..=max).contains(&fig.value)) {
                return bad(f, num(fig.value), &format!("must be a finite number in 0..={max:e}"));
            }
            if fig.source.trim().is_empty() {
                return bad(f, fig.value.to_string(), "every figure needs a source");
            }
        }
        Ok(())
    }

    /// Router nodes in x and y over the whole system.
    pub fn grid(&self) -> (u32, u32) {
        let t = &self.topology;
        (t.tiles_per_chip[0] as u32 * t.chips[0] as u32, t.tiles_per_chip[1] as u32 * t.chips[1] as u32)
    }
    pub fn num_tiles(&self) -> u32 {
        let (w, h) = self.grid();
        w * h
    }
    pub fn num_chips(&self) -> u32 {
        self.topology.chips[0] as u32 * self.topology.chips[1] as u32
    }
    pub fn cores_per_tile(&self) -> u32 {
        self.topology.cores_per_tile as u32
    }
    pub fn num_cores(&self) -> u32 {
        self.num_tiles() * self.cores_per_tile()
    }
    pub fn tile_of(&self, core: CoreId) -> TileId {
        TileId(core.0 / self.cores_per_tile())
    }
    pub fn local_core(&self, core: CoreId) -> u32 {
        core.0 % self.cores_per_tile()
    }
    pub fn core_at(&self, tile: TileId, local: u32) -> CoreId {
        CoreId(tile.0 * self.cores_per_tile() + local)
    }
    pub fn tile_xy(&self, tile: TileId) -> (u32, u32) {
        let (w, _) = self.grid();
        (tile.0 % w, tile.0 / w)
    }
    pub fn tile_at(&self, x: u32, y: u32) -> TileId {
        let (w, _) = self.grid();
        TileId(y * w + x)
    }
    pub fn chip_of(&self, tile: TileId) -> ChipId {
        let (x, y) = self.tile_xy(tile);
        let t = &self.topology;
        let (cx, cy) = (x / t.tiles_per_chip[0] as u32, y / t.tiles_per_chip[1] as u32);
        ChipId(cy * t.chips[0] as u32 + cx)
    }
    /// The links a router node has, in bit order.
    pub fn dirs(&self) -> &'static [Dir] {
        match self.topology.kind {
            TopologyKind::Mesh => &[Dir::E, Dir::N, Dir::W, Dir::S],
            TopologyKind::HexTorus => &Dir::ALL,
        }
    }
    /// The neighbour of `tile` along `dir`, or `None` off the edge of a mesh.
    pub fn neighbour(&self, tile: TileId, dir: Dir) -> Option<TileId> {
        let (w, h) = self.grid();
        let (x, y) = self.tile_xy(tile);
        let (dx, dy) = dir.delta();
        match self.topology.kind {
            TopologyKind::Mesh => {
                if matches!(dir, Dir::NE | Dir::SW) {
                    return None;
                }
                let nx = x as i64 + dx as i64;
                let ny = y as i64 + dy as i64;
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    None
                } else {
                    Some(self.tile_at(nx as u32, ny as u32))
                }
            }
            TopologyKind::HexTorus => {
                let nx = (x as i64 + dx as i64).rem_euclid(w as i64) as u32;
                let ny = (y as i64 + dy as i64).rem_euclid(h as i64) as u32;
                Some(self.tile_at(nx, ny))
            }
        }
    }
    /// The tiles and chips a set of cores occupies.
    pub fn footprint(&self, cores: impl IntoIterator<Item = CoreId>) -> Footprint {
        let mut tiles: Vec<TileId> = cores.into_iter().map(|c| self.tile_of(c)).collect();
        tiles.sort_unstable();
        tiles.dedup();
        let mut chips: Vec<ChipId> = tiles.iter().map(|&t| self.chip_of(t)).collect();
        chips.sort_unstable();
        chips.dedup();
        Footprint { tiles: tiles.len() as u32, chips: chips.len() as u32 }
    }
    /// The energy figures whose status is `unknown`, by field name.
    pub fn unknown_energy_figures(&self) -> Vec<String> {
        self.energy.figures().into_iter().filter(|(_, f)| f.status == Status::Unknown).map(|(n, _)| n.to_string()).collect()
    }

    /// Barrier time for `tiles` router nodes in use.
    pub fn barrier_ns(&self, tiles: u32) -> f64 {
        let pts = &self.timing.barrier_ns;
        let x = tiles as f64;
        if x <= pts[0][0] {
            return pts[0][1];
        }
        for w in pts.windows(2) {
            let ([x0, y0], [x1, y1]) = (w[0], w[1]);
            if x <= x1 {
                return if x1 > x0 { y0 + (y1 - y0) * (x - x0) / (x1 - x0) } else { y1 };
            }
        }
        pts[pts.len() - 1][1]
    }
    /// Synapses one word holds.
    pub fn synapses_per_word(&self) -> u32 {
        (self.core.synapse_word_bits / self.core.synapse_bits).max(1)
    }
    /// Words a row of `n` synapses occupies, header included. An empty row
    /// occupies nothing: the lookup entry already says its length is zero.
    pub fn row_words(&self, n: u32) -> u64 {
        if n == 0 {
            return 0;
        }
        self.core.row_header_words as u64 + (n as u64).div_ceil(self.synapses_per_word() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load_and_validate() {
        for (n, _) in BUILTIN_PROFILES {
            let a = Arch::builtin(n).unwrap();
            assert_eq!(&a.name, n);
            // Round-trip through TOML text.
            let back = Arch::from_toml_str(&a.to_toml(), "roundtrip").unwrap();
            assert_eq!(a, back);
        }
    }

    /// A JSON profile is read as JSON whatever the extension's case (`P.JSON`
    /// was read as TOML: a parse error naming TOML for a valid JSON file).
    #[test]
    fn json_profiles_are_json_in_any_case() {
        let d = tempfile::tempdir().unwrap();
        let json = serde_json::to_string(&Arch::builtin("tiny").unwrap()).unwrap();
        for name in ["p.json", "p.JSON", "p.Json"] {
            let path = d.path().join(name);
            std::fs::write(&path, &json).unwrap();
            assert_eq!(Arch::load(path.to_str().unwrap()).unwrap(), Arch::builtin("tiny").unwrap(), "{name}");
        }
    }

    /// A JSON profile's wrong value names its field, as a TOML one's does
    /// (it was "invalid value: integer `-1`, expected u32 at line 1 column 353").
    #[test]
    fn json_profile_errors_name_the_field() {
        let d = tempfile::tempdir().unwrap();
        let tiny = serde_json::to_value(Arch::builtin("tiny").unwrap()).unwrap();
        type Case = (fn(&mut serde_json::Value), &'static str);
        let cases: &[Case] = &[
            (|v| v["core"]["max_neurons"] = (-1).into(), "core.max_neurons: invalid value: integer `-1`, expected u32"),
            (|v| v["core"]["max_neurons"] = 1000.5.into(), "core.max_neurons: invalid type: floating point"),
            (|v| v["energy"]["synaptic_op_pj"]["status"] = "measured".into(), "energy.synaptic_op_pj.status: unknown variant `measured`"),
            (|v| v["timing"]["barrier_ns"][1] = "x".into(), "timing.barrier_ns[1]: invalid type: string"),
            (|v| v["core"]["max_neuron"] = 16.into(), "core.max_neuron: unknown field `max_neuron`"),
            (|v| v["router"]["default_route"] = 1.into(), "router.default_route: invalid type: integer `1`, expected a boolean"),
        ];
        let path = d.path().join("p.json");
        for (change, want) in cases {
            let mut v = tiny.clone();
            change(&mut v);
            std::fs::write(&path, v.to_string()).unwrap();
            let e = Arch::load(path.to_str().unwrap()).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("p.json"), "{want}: {e}");
        }
        // Syntax errors and trailing text have no field: the position alone.
        for (text, want) in [("{", "EOF while parsing"), (&*format!("{tiny} {{}}"), "trailing characters")] {
            std::fs::write(&path, text).unwrap();
            let e = Arch::load(path.to_str().unwrap()).unwrap_err().to_string();
            assert!(e.contains(want) && !e.contains(": .:"), "{want}: {e}");
        }
    }

    /// An [x, y] of more or fewer than two numbers is refused by its length,
    /// in TOML and JSON: TOML's reader took `chips = [24, 12, 3]` as
    /// [24, 12], and JSON's said "trailing characters".
    #[test]
    fn pairs_of_other_lengths_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let tiny = Arch::builtin("tiny").unwrap();
        // TOML has no null: an absent optional field is left out.
        fn toml_of(v: &serde_json::Value) -> String {
            fn strip(v: &mut serde_json::Value) {
                if let Some(o) = v.as_object_mut() {
                    o.retain(|_, x| !x.is_null());
                    o.values_mut().for_each(strip);
                }
            }
            let mut v = v.clone();
            strip(&mut v);
            toml::to_string(&v).unwrap()
        }
        type Case = (fn(&mut serde_json::Value), &'static str);
        let cases: &[Case] = &[
            (|v| v["topology"]["chips"] = serde_json::json!([2, 2, 3]), "topology.chips: invalid length 3, expected a list of 2 ([x, y])"),
            (|v| v["topology"]["tiles_per_chip"] = serde_json::json!([2]), "topology.tiles_per_chip: invalid length 1, expected a list of 2 ([x, y])"),
            (|v| v["timing"]["barrier_ns"][1] = serde_json::json!([4.0, 10.0, 1.0]), "timing.barrier_ns[1]: invalid length 3, expected a list of 2 ([x, y])"),
        ];
        for (change, want) in cases {
            let mut v = serde_json::to_value(&tiny).unwrap();
            change(&mut v);
            let json = d.path().join("p.json");
            std::fs::write(&json, v.to_string()).unwrap();
            let toml_path = d.path().join("p.toml");
            std::fs::write(&toml_path, toml_of(&v)).unwrap();
            let e = Arch::load(json.to_str().unwrap()).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
            // TOML's errors show the line rather than the field's path.
            let (field, message) = want.split_once(": ").unwrap();
            let e = Arch::load(toml_path.to_str().unwrap()).unwrap_err().to_string();
            let key = field.rsplit('.').next().unwrap().split('[').next().unwrap();
            assert!(e.contains(message) && e.contains(&format!("{key} = ")), "{want}: {e}");
        }
        // Two are read as before, in both.
        let v = serde_json::to_value(&tiny).unwrap();
        let path = d.path().join("same.toml");
        std::fs::write(&path, toml_of(&v)).unwrap();
        assert_eq!(Arch::load(path.to_str().unwrap()).unwrap(), tiny);
    }

    #[test]
    fn loihi_matches_davies_2018() {
        let a = Arch::builtin("loihi").unwrap();
        assert_eq!(a.num_cores() / a.num_chips(), 128);
        assert_eq!(a.core.max_neurons, 1024);
        assert_eq!(a.core.max_input_keys, Some(4096));
        assert_eq!(a.core.max_output_axons, Some(4096));
        assert_eq!(a.core.synapse_words, 16_384);
        assert_eq!(a.core.synapse_word_bits, 64);
        assert_eq!(a.core.max_delay_steps, 63);
        assert_eq!(a.topology.kind, TopologyKind::Mesh);
    }

    #[test]
    fn spinnaker_matches_spec() {
        let a = Arch::builtin("spinnaker").unwrap();
        assert_eq!(a.topology.cores_per_tile, 17);
        assert_eq!(a.core.max_neurons, 256);
        assert_eq!(a.router.table_entries, 1023);
        assert_eq!(a.topology.kind, TopologyKind::HexTorus);
        assert_eq!(a.core.weight_bits, 16);
        assert_eq!(a.core.clock_mhz, 200.0);
        assert!(a.router.default_route);
    }

    #[test]
    fn hex_torus_neighbours_wrap_and_opposites_return() {
        let a = Arch::builtin("spinnaker").unwrap();
        for t in 0..a.num_tiles() {
            for &d in a.dirs() {
                let n = a.neighbour(TileId(t), d).unwrap();
                assert_eq!(a.neighbour(n, d.opposite()), Some(TileId(t)));
            }
        }
    }

    #[test]
    fn unknown_profile_names_the_known_ones() {
        let e = Arch::builtin("truenorth").unwrap_err().to_string();
        assert!(e.contains("truenorth") && e.contains("loihi") && e.contains("tiny"), "{e}");
    }

    /// docs/arch.md's `[core]` table has a row for every field, and says
    /// that `clock_mhz`, which nothing reads, is informational.
    #[test]
    fn arch_doc_lists_every_core_field() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/arch.md")).unwrap();
        let table = doc.split("## Per-core limits").nth(1).unwrap().split("\n## ").next().unwrap();
        let core = serde_json::to_value(&Arch::builtin("tiny").unwrap().core).unwrap();
        for field in core.as_object().unwrap().keys() {
            let named = table.contains(&format!("`{field}`")) || (field.starts_with("weight_exp_") && table.contains("`weight_exp_min/max`"));
            assert!(named, "docs/arch.md: no row for core.{field}");
        }
        let clock = table.lines().find(|l| l.starts_with("| `clock_mhz`")).unwrap();
        assert!(clock.contains("informational on every profile"), "{clock}");
    }

    /// Printed as a profile writes it: what `arch list` and a run summary
    /// show can be pasted into a profile.
    #[test]
    fn topology_kinds_print_as_profiles_spell_them() {
        for k in [TopologyKind::Mesh, TopologyKind::HexTorus] {
            let t: TopologyKind = serde_json::from_str(&format!("\"{}\"", k.name())).unwrap();
            assert_eq!(t, k);
        }
        assert_eq!(TopologyKind::HexTorus.name(), "hex_torus");
    }

    /// A figure written −0 (in TOML or JSON) loads as 0: it passed as within
    /// 0..=max, and a run's report printed "-0 J".
    #[test]
    fn negative_zero_figures_load_as_zero() {
        let mut a = Arch::builtin("tiny").unwrap();
        a.energy.barrier_pj.value = -0.0;
        a.energy.static_chip_w.value = -0.0;
        a.timing.hop_ew_ns = -0.0;
        a.timing.barrier_ns[0] = [-0.0, -0.0];
        let toml = a.to_toml();
        assert!(toml.contains("-0.0"), "{toml}");
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("nz.json");
        std::fs::write(&json, serde_json::to_string(&a).unwrap()).unwrap();
        for b in [Arch::from_toml_str(&toml, "nz.toml").unwrap(), Arch::from_file(&json).unwrap()] {
            let figs = [b.energy.barrier_pj.value, b.energy.static_chip_w.value, b.timing.hop_ew_ns, b.timing.barrier_ns[0][0], b.timing.barrier_ns[0][1]];
            assert!(figs.iter().all(|x| *x == 0.0 && x.is_sign_positive()), "{figs:?}");
        }
    }

    #[test]
    fn invalid_profile_is_a_typed_error() {
        type Case = (fn(&mut Arch), &'static str, &'static str);
        // (change to `tiny`, field, limit named)
        let cases: &[Case] = &[
            (|a| a.core.weight_bits = 0, "core.weight_bits", "2..=32"),
            // Accepted, and every excitatory weight compiled to 0 (a signed bit holds -1 and 0).
            (|a| a.core.weight_bits = 1, "core.weight_bits", "1 bit holds only -1 and 0"),
            // Accepted, and memory under-counted: 32 synapses of 16-bit weights per 32-bit word.
            (|a| (a.core.weight_bits, a.core.synapse_bits) = (16, 1), "core.synapse_bits", "≥ core.weight_bits (16)"),
            (|a| a.core.synapse_bits = 7, "core.synapse_bits", "≥ core.weight_bits (8)"),
            // Zero kernel resources compiled into images the compiler's own check refused.
            (|a| a.core.max_state_slots = 0, "core.max_state_slots", "1..=32"),
            (|a| a.core.max_state_slots = 33, "core.max_state_slots", "1..=32"),
            (|a| a.core.max_param_slots = 0, "core.max_param_slots", "1..=64"),
            (|a| a.core.kernel_max_instructions = 0, "core.kernel_max_instructions", "≥ 1"),
            (|a| a.core.synapse_words = 0, "core.synapse_words", "≥ 1"),
            (|a| a.core.max_input_keys = Some(0), "core.max_input_keys", "≥ 1 (leave it out for no limit)"),
            (|a| a.core.max_input_table_entries = Some(0), "core.max_input_table_entries", "≥ 1"),
            (|a| a.core.max_output_axons = Some(0), "core.max_output_axons", "≥ 1"),
            (|a| a.core.max_neurons = 0, "core.max_neurons", "1..=65536"),
            (|a| a.core.max_row_length = 0, "core.max_row_length", "1..=65535"),
            // Compiled and inspected, then refused by the run: the emulator holds rows of at most 65,535 synapses.
            (|a| a.core.max_row_length = 65536, "core.max_row_length", "1..=65535"),
            (|a| a.core.max_delay_steps = 0, "core.max_delay_steps", "1..=255"),
            // Passed up to 4096, and delays past 255 failed in code generation, even the compiler's own relays'.
            (|a| a.core.max_delay_steps = 256, "core.max_delay_steps", "1..=255"),
            // 100..=120 compiled, every weight rounded to 0 (a shift past the word).
            (|a| a.core.weight_exp_min = 100, "core.weight_exp_min", "-31..=31"),
            (|a| (a.core.weight_exp_min, a.core.weight_exp_max) = (-8, 32), "core.weight_exp_max", "-31..=31"),
            (|a| a.core.weight_exp_min = -32, "core.weight_exp_min", "-31..=31"),
            (|a| a.core.max_input_ports = 0, "core.max_input_ports", "1..=16"),
            (|a| a.core.synapse_bits = 0, "core.synapse_bits", "1..=synapse_word_bits"),
            // Refused as `core.synapse_bits`, the field that was right.
            (|a| a.core.synapse_word_bits = 0, "core.synapse_word_bits", "≥ 1"),
            // Printed raw with every run (an escape sequence cleared the terminal) and into the HTML page.
            (|a| a.name = "x\u{1b}[2J".into(), "name", "control characters"),
            (|a| a.name = String::new(), "name", "cannot be empty"),
            (|a| a.name = "x".repeat(257), "name", "257 characters"),
            (|a| a.core.clock_mhz = 0.0, "core.clock_mhz", "(0, 1e6]"),
            (|a| a.core.clock_mhz = f64::NAN, "core.clock_mhz", "finite"),
            (|a| a.topology.cores_per_tile = 0, "topology.cores_per_tile", "1..=256"),
            (|a| a.topology.chips = [0, 1], "topology", "≥ 1"),
            // 2^33 tiles: their count overflowed u32 (a panic), or, wrapped, passed and ran placement out of memory.
            (|a| (a.topology.tiles_per_chip, a.topology.chips) = ([65535, 65535], [65535, 2]), "topology", "at most 16777216"),
            (|a| (a.topology.chips, a.topology.cores_per_tile) = ([4096, 2048], 4), "topology", "33554432 cores: at most 16777216"),
            (|a| a.router.table_entries = 0, "router.table_entries", "≥ 1"),
            // A negative tick was reported as a negative real-time tick.
            (|a| a.timing.timestep_ns = Some(-5.0), "timing.timestep_ns", "(0, 1e12]"),
            (|a| a.timing.timestep_ns = Some(0.0), "timing.timestep_ns", "leave it out to free-run"),
            (|a| a.timing.timestep_ns = Some(f64::INFINITY), "timing.timestep_ns", "finite"),
            (|a| a.timing.timestep_ns = Some(1e13), "timing.timestep_ns", "1e12"),
            (|a| a.timing.instr_alu_ns = -1.0, "timing.instr_alu_ns", "0..=1e12"),
            (|a| a.timing.packet_in_ns = f64::NAN, "timing.packet_in_ns", "finite"),
            (|a| a.timing.link_packet_ns = 1e300, "timing.link_packet_ns", "0..=1e12"),
            (|a| a.timing.synaptic_update_ns = -2.0, "timing.synaptic_update_ns", "0..=1e12"),
            (|a| a.timing.barrier_ns = vec![], "timing.barrier_ns", "at least one"),
            (|a| a.timing.barrier_ns = vec![[1.0, -64.0]], "timing.barrier_ns", "0..=1e12"),
            (|a| a.timing.barrier_ns = vec![[1.0, f64::NAN]], "timing.barrier_ns", "finite"),
            (|a| a.timing.barrier_ns = vec![[9.0, 1.0], [1.0, 2.0]], "timing.barrier_ns", "ascending"),
            (|a| a.timing.barrier_ns = vec![[-1.0, 1.0]], "timing.barrier_ns", "≥ 0"),
            // Energies of 1e308 pJ made a run's totals infinite, written as null.
            (|a| a.energy.synaptic_op_pj.value = 1e308, "energy.synaptic_op_pj", "0..=1e12"),
            (|a| a.energy.barrier_pj.value = -1.0, "energy.barrier_pj", "0..=1e12"),
            (|a| a.energy.hop_ew_pj.value = f64::NAN, "energy.hop_ew_pj", "finite"),
            (|a| a.energy.static_chip_w.value = 1e7, "energy.static_chip_w", "0..=1e6"),
            (|a| a.energy.active_core_w.value = f64::INFINITY, "energy.active_core_w", "0..=1e6"),
            (|a| a.energy.instr_pj.source = " ".into(), "energy.instr_pj", "needs a source"),
        ];
        for (change, field, limit) in cases {
            let mut a = Arch::builtin("tiny").unwrap();
            change(&mut a);
            let e = a.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("{field} = ")) && e.contains(limit), "{field}: {e}");
        }
        let mut a = Arch::builtin("tiny").unwrap();
        a.name = "x\u{1b}[2J".into();
        let e = a.validate().unwrap_err().to_string();
        assert!(!e.contains('\u{1b}') && e.contains("x\\u{1b}[2J"), "the name shown escaped: {e}");
        let mut a = Arch::builtin("tiny").unwrap();
        a.energy.synaptic_op_pj.value = 1e308;
        let e = a.validate().unwrap_err().to_string();
        assert!(e.contains("energy.synaptic_op_pj = 1e308 is invalid"), "a huge figure shown short: {e}");
        let e = Arch::from_toml_str("name = 3", "x.toml").unwrap_err().to_string();
        assert!(e.contains("x.toml"), "{e}");
    }

    #[test]
    fn barrier_interpolates() {
        // loihi: SANA-FE's step function 0.6 / 1.0 / 1.4 / 1.8 µs at 1 / 2-3 / 4-28 / ≥29
        // tiles, reproduced at every whole tile count by its points.
        let a = Arch::builtin("loihi").unwrap();
        let want = |t: u32| match t {
            0 | 1 => 600.0,
            2 | 3 => 1000.0,
            4..=28 => 1400.0,
            _ => 1800.0,
        };
        for t in 0..=40 {
            assert_eq!(a.barrier_ns(t), want(t), "{t} tiles");
        }
        assert_eq!(a.barrier_ns(1000), 1800.0);
        // Between points: linear.
        let mut b = a.clone();
        b.timing.barrier_ns = vec![[1.0, 100.0], [5.0, 500.0]];
        assert_eq!(b.barrier_ns(3), 300.0);
    }
}
