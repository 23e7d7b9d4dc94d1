//! The timing model, per core and per step.
//!
//! A core's step is its send side (kernel instructions and neuron updates,
//! spikes, packets out) and its receive side (packets in, synaptic events):
//! their maximum where the profile overlaps them, else their sum. A step
//! takes its slowest core, plus the network (the longest path latency of
//! the step's packets plus the busiest link's serialisation), plus the
//! barrier; the wall time of a step is stretched to the real-time tick
//! where the profile has one (`TimingSpec::wall_ns`).

use nerve_isa::arch::{Arch, MessageModel};

use crate::machine::Machine;
use crate::mesh::{direct_paths, DirectPaths};

/// Per-core cost constants, ns, and the message model.
pub struct Costs {
    /// Per core: its kernel's instructions per neuron update, ns.
    pub instr: Vec<f64>,
    pub active: f64,
    pub idle: f64,
    pub spike: f64,
    pub syn: f64,
    /// Per synaptic update by a learning rule.
    pub learn: f64,
    pub pk_in: f64,
    pub pk_out: f64,
    pub link_packet: f64,
    pub overlap: bool,
    /// Per-destination messages: per source core, the direct path to each
    /// destination core of its fan-out. `None`: multicast.
    pub direct: Option<Vec<DirectPaths>>,
    /// Barrier time per step, for the tiles in use.
    pub barrier_ns: f64,
    /// The real-time tick, if any.
    pub tick_ns: Option<f64>,
}

impl Costs {
    pub fn of(m: &Machine) -> Costs {
        let a: &Arch = &m.arch;
        let tm = &a.timing;
        Costs {
            instr: m
                .cores
                .iter()
                .map(|c| {
                    c.instr.alu as f64 * tm.instr_alu_ns
                        + c.instr.mul as f64 * tm.instr_mul_ns
                        + c.instr.mem as f64 * tm.instr_mem_ns
                        + c.instr.spike as f64 * tm.instr_spike_ns
                })
                .collect(),
            active: tm.neuron_active_ns,
            idle: tm.neuron_idle_ns,
            spike: tm.neuron_spike_ns,
            syn: tm.synaptic_event_ns,
            learn: tm.synaptic_update_ns,
            pk_in: tm.packet_in_ns,
            pk_out: tm.packet_out_ns,
            link_packet: tm.link_packet_ns,
            overlap: tm.overlap_send_receive,
            direct: match a.router.messages {
                MessageModel::Multicast => None,
                MessageModel::PerDestination => Some(direct_paths(m)),
            },
            barrier_ns: a.barrier_ns(m.footprint.tiles),
            tick_ns: tm.timestep_ns,
        }
    }

    /// A core's update of `n` neurons of which `active` were active, ns.
    #[inline]
    pub fn update_ns(&self, core: usize, n: u64, active: u64) -> f64 {
        float(n) * self.instr[core] + float(active) * self.active + float(n - active) * self.idle
    }

    /// Receiving `packets` packets and applying `events` synapses, ns.
    #[inline]
    pub fn receive_ns(&self, packets: u64, events: u64) -> f64 {
        float(packets) * self.pk_in + float(events) * self.syn
    }

    /// A core's time in a step from its send and receive sides.
    #[inline]
    pub fn core_ns(&self, send: f64, receive: f64) -> f64 {
        if self.overlap {
            send.max(receive)
        } else {
            send + receive
        }
    }

    /// The network's time in a step: the longest path latency plus the
    /// busiest link's serialisation.
    #[inline]
    pub fn net_ns(&self, latency: f64, busiest_link: u32) -> f64 {
        latency + busiest_link as f64 * self.link_packet
    }
}

/// `x as f64`, the same value for every count below 2^63 (both conversions
/// round to nearest), in one instruction: x86-64's only unsigned conversion
/// before AVX-512 is a sequence of six, and these run per core per step.
#[inline]
fn float(x: u64) -> f64 {
    if x < 1 << 63 {
        x as i64 as f64
    } else {
        x as f64
    }
}

#[cfg(test)]
mod tests {
    /// The one-instruction conversion gives `as f64`'s value for every
    /// count, rounding included (2^53 + 1 and 2^63 − 1 round alike).
    #[test]
    fn counts_convert_as_as_f64_does() {
        let mut xs = vec![0, 1, 2, 1 << 52, (1 << 53) + 1, (1 << 53) + 3, (1 << 63) - 1, 1 << 63, (1 << 63) + 1025, u64::MAX];
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            xs.push(r >> (r % 64));
        }
        for x in xs {
            assert_eq!(super::float(x).to_bits(), (x as f64).to_bits(), "{x}");
        }
    }
}
