//! `delay_relay`: a delay-extension neuron. It spikes in the step any input
//! reaches it, so a chain of relays, each fed with the longest on-core delay,
//! extends a source's delays past the core's delay slots as sPyNNaker's
//! delay-extension cores do (`crate::net::delays`). Not in the JSON format:
//! the compiler inserts it.

use nerve_isa::instr::r;
use nerve_isa::kernel::builder::KernelBuilder;

use super::{Cx, NeuronModel, ParamSpec, Params, VarSpec};
use crate::error::Result;
use crate::lower::fixed::{declare_ports, finish, sum_ports_clamped};
use crate::lower::quant::assign_scaled;
use crate::lower::{Body, Incoming, Lowered, ParamVals};
use crate::net::model::*;

pub struct Relay;
pub static RELAY: Relay = Relay;

impl NeuronModel for Relay {
    fn name(&self) -> &'static str {
        nerve_isa::image::RELAY_MODEL
    }
    fn about(&self) -> &'static str {
        "a delay-extension relay: spikes in the step an input (weight 1) reaches it (inserted by the compiler)"
    }
    fn params(&self) -> &'static [ParamSpec] {
        &[]
    }
    fn state(&self) -> &'static [VarSpec] {
        &[]
    }
    fn receptors(&self) -> &'static [Receptor] {
        &[Receptor::Excitatory]
    }
    fn in_json(&self) -> bool {
        false
    }
    fn lower(&self, cx: &Cx, pop: &Population, _p: &Params, incoming: &[Incoming]) -> Result<Lowered> {
        // Inputs are counts of relayed spikes (weight 1 each).
        let (ports, quant) = assign_scaled(cx.arch, pop, incoming, |_| 1.0)?;
        let mut b = KernelBuilder::new("delay_relay");
        let (exps, inputs) = declare_ports(&mut b, &ports, "exc");
        sum_ports_clamped(&mut b, &ports, &exps, &inputs, None, r(0), &[]);
        b.movi(r(1), 0).cmplt(r(2), r(1), r(0)).spike(r(2));
        let kernel = finish(pop, b)?;
        let params = ports.iter().map(|p| ParamVals::Uniform(p.exp as i32)).collect();
        Ok(Lowered { body: Body::Kernel { kernel, params, state: vec![] }, ports, vars: vec![], quant, warnings: vec![] })
    }
}
