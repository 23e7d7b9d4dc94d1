use clap::Args;
use nerve_isa::ids::CoreId;
use nerve_isa::image::{CoreKind, Image, ParamArray};
use nerve_isa::kernel::asm::disassemble;
use nerve_isa::learning::LearningRule;
use std::path::PathBuf;

use super::Result;

#[derive(Args)]
pub struct DisasmArgs {
    /// The chip image.
    #[arg(value_parser = super::IN)]
    image: PathBuf,
    /// Only the kernel of this core, with its parameter values.
    #[arg(long)]
    core: Option<u32>,
}

pub fn run(a: DisasmArgs) -> Result<()> {
    let img = Image::read(&a.image)?;
    match a.core {
        None => {
            for (ki, k) in img.kernels.iter().enumerate() {
                crate::out::outln!("; kernel {ki}, {} instructions, {}", k.code.len(), kernel_users(&img, ki));
                crate::out::outln!("{}", disassemble(k));
            }
            if img.kernels.is_empty() {
                crate::out::outln!("; the image has no neuron kernels");
            }
        }
        Some(c) => {
            let core = img.core(CoreId(c)).ok_or_else(|| {
                format!("core {c} is not used by this image (used: {})", abbreviate(&img.cores.iter().map(|c| c.core.0.to_string()).collect::<Vec<_>>()))
            })?;
            let pop = &img.populations[core.pop.index()];
            crate::out::outln!("; core {c}: {} neurons of population `{}` ({})", core.n_neurons, pop.name, pop.model);
            match &core.kind {
                CoreKind::Neuron { kernel, params, .. } => {
                    let k = &img.kernels[kernel.index()];
                    for (name, p) in k.params.iter().zip(params) {
                        match p {
                            ParamArray::Uniform(v) => crate::out::outln!(";   param {name} = {v}"),
                            ParamArray::PerNeuron(v) => {
                                let (lo, hi) = (v.iter().min().unwrap_or(&0), v.iter().max().unwrap_or(&0));
                                crate::out::outln!(";   param {name}: per neuron, {lo}..={hi}");
                            }
                        }
                    }
                    crate::out::outln!("{}", disassemble(k));
                }
                CoreKind::SpikeArray { steps } => {
                    crate::out::outln!("; spike array: {} spikes in all, no kernel", steps.iter().map(Vec::len).sum::<usize>())
                }
                CoreKind::External => crate::out::outln!("; external input: spikes are supplied at run time, no kernel"),
            }
        }
    }
    Ok(())
}

/// What runs kernel `ki`: neuron cores, and learning rules (a rule's program
/// runs per plastic synapse, on the cores holding its projections' synapses).
fn kernel_users(img: &Image, ki: usize) -> String {
    let mut parts = Vec::new();
    let cores: Vec<String> = img.cores.iter().filter(|c| c.kernel_id().is_some_and(|id| id.index() == ki)).map(|c| c.core.0.to_string()).collect();
    if !cores.is_empty() {
        parts.push(format!("on cores {}", abbreviate(&cores)));
    }
    for (ri, rule) in img.rules.iter().enumerate().filter(|(_, r)| r.program().index() == ki) {
        let kind = match rule {
            LearningRule::Loihi(_) => "Loihi learning rule",
            LearningRule::Stdp(_) => "STDP rule",
        };
        let (mut projections, mut on) = (Vec::new(), Vec::new());
        for c in &img.cores {
            for set in c.plastic.iter().filter(|s| s.rule as usize == ri) {
                if !projections.contains(&set.projection) {
                    projections.push(set.projection.clone());
                }
                if on.last() != Some(&c.core.0.to_string()) {
                    on.push(c.core.0.to_string());
                }
            }
        }
        let named: Vec<String> = projections.iter().map(|p| format!("`{p}`")).collect();
        let what = if projections.len() == 1 { "projection" } else { "projections" };
        parts.push(format!("{kind} {ri} of {what} {}, synapses on cores {}", named.join(", "), abbreviate(&on)));
    }
    if parts.is_empty() {
        "run by no core".to_string()
    } else {
        parts.join("; ")
    }
}

fn abbreviate(v: &[String]) -> String {
    if v.len() <= 12 {
        v.join(", ")
    } else {
        format!("{}, … {} more, {}", v[..10].join(", "), v.len() - 11, v[v.len() - 1])
    }
}
