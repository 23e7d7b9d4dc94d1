//! A small hand-built image, for tests and examples of the image tools. It is
//! built without the compiler so that the foundation can be tested on its own.

use crate::arch::{Arch, Dir};
use crate::ids::{CoreId, KernelId, PopId, RoutingKey, TileId};
use crate::image::*;
use crate::kernel::asm::assemble;

/// An integrate-and-fire kernel: v += input; spike and reset to 0 above a threshold.
pub const IF_KERNEL: &str = "\
.kernel if_neuron
.state v
.param vth
.input exc
    lds    r0, v
    ldin   r1, exc
    add    r0, r0, r1
    ldp    r2, vth
    cmplt  r3, r2, r0      ; v > vth
    spike  r3
    movi   r4, 0
    sel    r0, r3, r4, r0
    sts    v, r0
";

/// On the `tiny` profile: a 3-neuron spike array on core 0 (tile 0) driving a
/// 4-neuron IF population on core 4 (tile 1, one hop east), all-to-all.
pub fn sample_image() -> Image {
    // invariant: `tiny` is one of the built-in profiles (every test that builds the sample loads it)
    let arch = Arch::builtin("tiny").expect("`tiny` is a built-in profile");
    // invariant: IF_KERNEL is a constant program, assembled by every test that builds the sample
    let kernel = assemble(IF_KERNEL).expect("sample kernel assembles");
    let src = CoreImage {
        core: CoreId(0),
        pop: PopId(0),
        n_neurons: 3,
        kind: CoreKind::SpikeArray { steps: vec![vec![0, 5], vec![1], vec![2, 3, 4]] },
        key_base: Some(RoutingKey(0x100)),
        inputs: vec![],
        rows: vec![],
        synapses: vec![],
        conv: vec![],
        plastic: vec![],
        gap: vec![],
    };
    let mut synapses = Vec::new();
    let mut rows = Vec::new();
    for pre in 0..3u32 {
        rows.push(RowStart { row: pre, start: synapses.len() as u32 });
        for post in 0..4u16 {
            synapses.push(Synapse { weight: 40 + pre as i32, target: post, delay: 1 + (post % 2) as u8, port: 0 });
        }
    }
    let dst = CoreImage {
        core: arch.core_at(TileId(1), 0),
        pop: PopId(1),
        n_neurons: 4,
        kind: CoreKind::Neuron { kernel: KernelId(0), params: vec![ParamArray::Uniform(60)], state: vec![vec![0, 10, 20, 30]] },
        key_base: None,
        inputs: vec![InputEntry { key: RoutingKey(0x100), mask: !3, row: 0, count: 3 }],
        rows,
        synapses,
        conv: vec![],
        plastic: vec![],
        gap: vec![],
    };
    let routers = vec![
        RouterTable { tile: TileId(0), entries: vec![RouteEntry { key: 0x100, mask: !3, links: 1 << Dir::E as u8, cores: CoreMask::EMPTY }] },
        RouterTable { tile: TileId(1), entries: vec![RouteEntry { key: 0x100, mask: !3, links: 0, cores: CoreMask::one(0) }] },
    ];
    let dst_core = dst.core;
    Image {
        arch,
        meta: Meta { network: "sample".into(), dt_ms: 1.0, seed: 0, producer: "nerve-isa sample".into() },
        kernels: vec![kernel],
        cores: vec![src, dst],
        routers,
        populations: vec![
            PopSymbol {
                name: "stim".into(),
                size: 3,
                model: "spike_source_array".into(),
                slices: vec![Slice { core: CoreId(0), first: 0, count: 3 }],
                record_spikes: true,
                vars: vec![],
                labels: vec![],
            },
            PopSymbol {
                name: "if".into(),
                size: 4,
                model: "if".into(),
                slices: vec![Slice { core: dst_core, first: 0, count: 4 }],
                record_spikes: true,
                vars: vec![VarSymbol { name: "v".into(), slot: 0, scale: 1.0, offset: 0.0, unit: "".into() }],
                labels: vec![],
            },
        ],
        rules: vec![],
    }
}
