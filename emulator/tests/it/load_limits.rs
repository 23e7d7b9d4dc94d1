//! Images the emulator cannot hold are refused at load with a typed error
//! that names the amount and the limit, before anything that size is allocated.

use nerve_emulator::machine::Machine;
use nerve_isa::ids::{CoreId, KernelId, PopId};
use nerve_isa::image::{CoreImage, CoreKind, PopSymbol, Slice};

/// Every synapse addresses its input in a ring slot with 24 bits: an image
/// whose cores have 2^24 inputs (ports × neurons, padded) in all is refused;
/// one input fewer loads.
#[test]
fn more_inputs_than_offsets_address_is_an_error() {
    let mut img = nerve_isa::sample::sample_image();
    // The sample's own cores' inputs (each core's padded to whole cache lines).
    let sample = Machine::load(img.clone()).unwrap().in_total;
    assert!(sample > 0 && sample % 32 == 0, "{sample}");
    img.arch.core.max_neurons = 65_536;
    img.arch.core.max_input_ports = 16;
    let ports: Vec<String> = (0..16).map(|p| format!("p{p}")).collect();
    let kernel = nerve_isa::kernel::asm::assemble(&format!(".kernel wide\n.state v\n.input {}\n    lds r0, v\n    sts v, r0\n", ports.join(", "))).unwrap();
    img.kernels.push(kernel);
    let wide = KernelId(img.kernels.len() as u32 - 1);
    // 16 cores × 16 ports × 65,536 neurons = 2^24 inputs, besides the sample's.
    let first_free = img.cores.iter().map(|c| c.core.0).max().unwrap() + 1;
    let n_cores = img.arch.num_cores();
    assert!(first_free + 16 <= n_cores, "the profile has {n_cores} cores");
    let pop = PopId(img.populations.len() as u32);
    let mut slices = Vec::new();
    for k in 0..16u32 {
        let core = CoreId(first_free + k);
        img.cores.push(CoreImage {
            core,
            pop,
            n_neurons: 65_536,
            kind: CoreKind::Neuron { kernel: wide, params: vec![], state: vec![vec![0; 65_536]] },
            key_base: None,
            inputs: vec![],
            rows: vec![],
            synapses: vec![],
            conv: vec![],
            plastic: vec![],
            gap: vec![],
        });
        slices.push(Slice { core, first: k * 65_536, count: 65_536 });
    }
    img.populations.push(PopSymbol {
        name: "wide".into(),
        size: 16 * 65_536,
        model: "wide".into(),
        slices,
        record_spikes: false,
        vars: vec![],
        labels: vec![],
    });
    img.validate().unwrap();
    let e = Machine::load(img.clone()).err().expect("refused").to_string();
    assert!(e.contains(&(16 * 16 * 65_536 + sample).to_string()) && e.contains("2^24"), "{e}");
    // A core fewer: 15 × 2^20 inputs and the sample's, which load.
    img.cores.pop();
    img.populations.last_mut().unwrap().slices.pop();
    img.populations.last_mut().unwrap().size -= 65_536;
    let m = Machine::load(img).unwrap();
    assert_eq!(m.in_total, 15 * 16 * 65_536 + sample);
}

/// A row (one source neuron's synapses on one core) holds at most
/// `MAX_ROW` synapses in the emulator: one synapse more is refused at load,
/// naming the row's length and the limit; exactly `MAX_ROW` loads. A profile
/// allowing longer rows is refused with it (it compiled, then failed to run).
#[test]
fn a_row_longer_than_the_emulator_holds_is_an_error() {
    use nerve_emulator::machine::MAX_ROW;
    let base = nerve_isa::sample::sample_image();
    let ci = base.cores.iter().position(|c| !c.rows.is_empty() && !c.synapses.is_empty()).expect("the sample has a core with rows");
    let with_row = |len: usize| {
        let mut img = base.clone();
        img.arch.core.synapse_words = u32::MAX;
        img.arch.core.max_row_length = MAX_ROW as u32;
        let c = &mut img.cores[ci];
        let k = c.rows.len() - 1;
        let s = c.synapses[c.rows[k].start as usize];
        let have = c.row_len(k);
        c.synapses.extend(std::iter::repeat_n(s, len - have));
        assert_eq!(c.row_len(k), len);
        img
    };
    let e = Machine::load(with_row(MAX_ROW + 1)).err().expect("refused").to_string();
    assert!(e.contains(&(MAX_ROW + 1).to_string()) && e.contains(&MAX_ROW.to_string()) && e.contains("row"), "{e}");
    Machine::load(with_row(MAX_ROW)).unwrap();
    let mut img = with_row(MAX_ROW);
    img.arch.core.max_row_length = MAX_ROW as u32 + 1;
    let e = Machine::load(img).err().expect("refused").to_string();
    assert!(e.contains("core.max_row_length = 65536") && e.contains("1..=65535"), "{e}");
}

/// An input entry whose rows end at the last row number, 2^32 − 1, loads
/// every synapse (the end of its range, 2^32, wrapped to 0 in 32 bits and
/// its rows were dropped).
#[test]
fn rows_up_to_the_last_row_number_load() {
    let img = nerve_isa::sample::sample_image();
    let all = Machine::load(img.clone()).unwrap().synapses();
    assert_eq!(all, 12);
    let mut img = img;
    let first = u32::MAX - 2;
    let c = &mut img.cores[1];
    c.inputs[0].row = first;
    for (k, r) in c.rows.iter_mut().enumerate() {
        r.row = first + k as u32;
    }
    assert_eq!(Machine::load(img).unwrap().synapses(), all);
}
