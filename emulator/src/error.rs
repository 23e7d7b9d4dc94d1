use thiserror::Error;

/// Why an image cannot be loaded or run. Messages name the culprit and the
/// limit in the emulator's own terms; the CLI adds its option names.
#[derive(Debug, Error)]
pub enum EmuError {
    #[error(transparent)]
    Image(#[from] nerve_isa::image::ImageError),
    #[error("routing: {0}")]
    Route(#[from] nerve_isa::route::RouteError),
    #[error("the image cannot be emulated: {0}")]
    Invalid(String),
    #[error("JIT compilation of kernel `{kernel}` failed: {reason}")]
    Jit { kernel: String, reason: String },
    #[error("{steps} timesteps exceed the emulator's {max}")]
    TooManySteps { steps: u64, max: u64 },
    #[error(transparent)]
    Inject(#[from] InjectError),
    #[error("writing the recording: {0}")]
    Record(std::io::Error),
    /// A `Recording` probe the image has no variable for.
    #[error("probe: {0}")]
    Probe(String),
    /// The caller asked the run to stop (`Machine::stop`): its output is
    /// not returned, and the machine holds the state after `ran` steps.
    #[error("the run was stopped after {ran} of {steps} steps")]
    Stopped { ran: u64, steps: u64 },
    /// A second run of one machine: a run starts from the state as loaded
    /// (ring slots, spike schedules and junctions count from its step 0),
    /// so it would not continue the first.
    #[error("this machine has run already ({before} steps asked): a run of {steps} steps would not continue that one (ring slots, spike schedules and junctions count from a run's step 0); load the image again for another run")]
    RanBefore { before: u64, steps: u64 },
}

/// An external spike that cannot be fed to the machine: which one (its
/// index in the list given), and why.
#[derive(Debug, Error)]
#[error("spike {index} (`{population}` neuron {neuron} at step {step}): {reason}")]
pub struct InjectError {
    pub index: usize,
    pub population: String,
    pub neuron: u32,
    pub step: u32,
    pub reason: InjectReason,
}

#[derive(Debug, Error)]
pub enum InjectReason {
    #[error("no population of that name ({})", inputs_named(.inputs))]
    NoPopulation { inputs: Vec<String> },
    #[error("population index {index} is not one of the image's {pops}")]
    NoPopulationIndex { index: usize, pops: usize },
    #[error("the population has {size} neurons")]
    NoNeuron { size: u32 },
    // `spike_source_poisson` is a spike source in PyNN's terms, but draws its own spikes on the chip.
    #[error("a {model} population; spikes can be fed only to `input` and `spike_source_array` populations")]
    NotASource { model: String },
    // Two spikes of one neuron in one step would run as one.
    #[error("the neuron already spikes at that step (its population's spike array, or spikes given before): a neuron spikes at most once a step")]
    AlreadySpikes,
    #[error("spike {first} gives the neuron the same step: a neuron spikes at most once a step")]
    GivenTwice { first: usize },
}

/// The populations spikes can be fed to, for a message (an empty list read
/// "(input populations: )").
fn inputs_named(inputs: &[String]) -> String {
    if inputs.is_empty() {
        "the network has no input or spike_source_array population to feed".into()
    } else {
        format!("input populations: {}", inputs.join(", "))
    }
}

pub type Result<T> = std::result::Result<T, EmuError>;
