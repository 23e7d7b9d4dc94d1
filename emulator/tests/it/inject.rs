//! External spikes are refused where they would merge with another spike of
//! the neuron in the step: a neuron spikes at most once a step, and the
//! merge lost a spike without a word.

use nerve_emulator::error::InjectReason;
use nerve_emulator::machine::Machine;

/// The sample's `stim` is a spike array whose neuron 0 spikes at steps 0 and 5.
#[test]
fn a_spike_the_neuron_already_has_in_its_step_is_refused() {
    let mut m = Machine::load(nerve_isa::sample::sample_image()).unwrap();
    let spike = |n: u32, step: u32| ("stim".to_string(), n, step);
    let e = m.inject(&[spike(1, 4), spike(0, 5)]).unwrap_err();
    assert!(matches!(e.reason, InjectReason::AlreadySpikes) && e.index == 1 && e.step == 5, "{e}");
    assert!(e.to_string().contains("`stim` neuron 0 at step 5"), "{e}");
    let e = m.inject(&[spike(0, 6), spike(2, 6), spike(0, 6)]).unwrap_err();
    assert!(matches!(e.reason, InjectReason::GivenTwice { first: 0 }) && e.index == 2, "{e}");
    // Nothing was added by the refused calls; a spike given once is then the neuron's.
    assert!(!m.scheduled("stim", 1, 4) && !m.scheduled("stim", 0, 6));
    m.inject(&[spike(0, 6)]).unwrap();
    assert!(m.scheduled("stim", 0, 6) && m.scheduled("stim", 0, 5));
    let e = m.inject(&[spike(0, 6)]).unwrap_err();
    assert!(matches!(e.reason, InjectReason::AlreadySpikes), "{e}");
}
