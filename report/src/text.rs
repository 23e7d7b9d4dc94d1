//! The reports as text: the run report's tables, the lines `nerve run`
//! prints, and the mapping report of `nerve compile`.

use std::fmt::Write as _;

use nerve_compiler::compile::MapReport;
use nerve_isa::arch::Arch;

use crate::format::{eng, plain, table};
use crate::summary::{CoreRow, Summary};

/// `v` to `digits` significant digits: fixed-point from 0.001 to below 10⁶
/// (10.00, 0.001235), scientific outside (1.235e-5, 2.000e7); 0 is "0".
pub fn significant(v: f64, digits: usize) -> String {
    let digits = digits.max(1);
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    // The exponent after rounding to `digits` digits (9.9996 → 10.00, not 9.9996).
    let rounded: f64 = format!("{:.*e}", digits - 1, v).parse().unwrap_or(v);
    let exp = rounded.abs().log10().floor() as i32;
    if (-3..6).contains(&exp) {
        format!("{:.*}", (digits as i32 - 1 - exp).max(0) as usize, v)
    } else {
        format!("{:.*e}", digits - 1, v)
    }
}

/// A computed time (steps × dt) without the product's float noise: 3 steps
/// of 0.1 ms are 0.3 ms, not 0.30000000000000004 (rounded to 12 significant
/// digits, then written as `nerve_isa::num` writes numbers).
pub fn time_ms(v: f64) -> String {
    nerve_isa::num(nerve_isa::significant12(v))
}

/// What a decision latency is known to be, in words.
fn decision_words(d: &crate::summary::Decision) -> String {
    match d.latency_ns {
        Some(l) => format!("{} (input at step {}, decision at step {})", eng(l * 1e-9, "s"), d.first_input_step.unwrap_or(0), d.decision_step.unwrap_or(0)),
        None => match (d.first_input_step, d.decision_step) {
            (None, _) => "no input spike".into(),
            (Some(_), None) => "no decision spike after the first input".into(),
            // Runs longer than the emulator keeps each step's time for.
            (Some(f), Some(s)) => format!(
                "input at step {f}, decision at step {s}; the time between is not known (runs of more than {} steps keep no step's own time)",
                nerve_emulator::engine::STEP_TIMES_CAP
            ),
        },
    }
}

/// The run report: (title, table) in reading order.
pub fn tables(s: &Summary, top: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let t = &s.timing;
    let e = &s.energy;
    let mut head = vec![
        vec!["network".into(), format!("{} ({} neurons, {} synapses)", s.network, s.neurobench.neurons, s.neurobench.synapses)],
        vec!["machine".into(), format!("{}: {} cores on {} tiles, {} chips", s.arch, s.cores_used, s.tiles_used, s.chips_used)],
        vec![
            "run".into(),
            format!("{} steps of {} ms ({} ms biological), engine {}, {} thread(s)", s.steps, s.dt_ms, time_ms(s.steps as f64 * s.dt_ms), s.engine, s.threads),
        ],
        // The run's cost-model choices (--messages, --overlap, --static-power):
        // only the JSON had them, and reports of runs that differ by them looked alike.
        vec![
            "cost model".into(),
            // A summary without it (hand-made or trimmed) does not say.
            if s.model.messages.is_empty() {
                "not recorded in this summary".into()
            } else {
                format!(
                    "{} messages; a core's send and receive {}; static power {}",
                    s.model.messages.replace('_', "-"),
                    if s.model.overlap_send_receive { "overlap" } else { "add up" },
                    if s.model.static_power { "counted" } else { "left out" }
                )
            },
        ],
        vec!["time to solution".into(), format!("{} (real-time factor {})", eng(t.time_to_solution_s, "s"), significant(t.real_time_factor, 4))],
        vec!["energy".into(), format!("{} total = {} dynamic + {} static", eng(e.total_j, "J"), eng(e.dynamic_j, "J"), eng(e.static_j, "J"))],
        vec!["power".into(), format!("{} mean ({} static)", eng(e.power_w, "W"), eng(e.static_power_w, "W"))],
        vec!["energy per timestep".into(), eng(e.per_step_j, "J")],
        vec!["energy-delay product".into(), format!("{} ({})", eng(e.edp_js, "J·s"), if e.per_inference_j.is_some() { "per inference" } else { "whole run" })],
    ];
    if let (Some(k), Some(j)) = (e.inference_steps, e.per_inference_j) {
        head.push(vec!["energy per inference".into(), format!("{} ({} steps each)", eng(j, "J"), k)]);
    }
    if !e.unknown_figures.is_empty() {
        head.push(vec!["energy figures unknown (counted as 0)".into(), e.unknown_figures.join(", ")]);
    }
    if let Some(j) = e.per_synaptic_event_j {
        head.push(vec!["energy per synaptic event, all included".into(), eng(j, "J")]);
    }
    if let Some(d) = &t.decision {
        head.push(vec![format!("decision latency ({})", d.population), decision_words(d)]);
    }
    out.push(("Summary".into(), plain(head)));
    // Beyond the steps kept one by one, the percentiles come from the histograms' bins.
    let latency_title = if t.percentiles_approximate {
        format!(
            "Latency per timestep (p50 and p99 approximate, within about 0.6%: runs of more than {} steps keep no step's own time)",
            nerve_emulator::engine::STEP_TIMES_CAP
        )
    } else {
        "Latency per timestep".to_string()
    };
    out.push((
        latency_title,
        table(
            &["", "mean", "p50", "p99", "max"],
            [("step (critical path)", &t.step_ns), ("slowest core", &t.core_ns), ("network", &t.net_ns)]
                .iter()
                .map(|(n, st)| vec![n.to_string(), eng(st.mean * 1e-9, "s"), eng(st.p50 * 1e-9, "s"), eng(st.p99 * 1e-9, "s"), eng(st.max * 1e-9, "s")])
                .chain(std::iter::once(vec![
                    "barrier".into(),
                    eng(t.barrier_ns * 1e-9, "s"),
                    String::new(),
                    String::new(),
                    match t.real_time_tick_ns {
                        Some(tk) => format!("tick {}, {} overrun steps", eng(tk * 1e-9, "s"), t.overrun_steps),
                        None => "free-running".into(),
                    },
                ]))
                .collect(),
        ),
    ));
    out.push((
        "Energy by kind".into(),
        table(
            &["kind", "events", "per event", "energy", "share"],
            e.by_kind
                .iter()
                .map(|r| {
                    vec![
                        r.kind.clone(),
                        if r.kind == "static power" { String::new() } else { r.count.to_string() },
                        if r.kind == "static power" { eng(s.energy.static_power_w, "W") } else { eng(r.per_event_pj * 1e-12, "J") },
                        eng(r.joules, "J"),
                        format!("{:.1}%", 100.0 * r.share),
                    ]
                })
                .collect(),
        ),
    ));
    // Learning columns only where something learned.
    let learning = s.populations.iter().any(|p| p.synaptic_updates > 0);
    let mut head = vec!["population", "model", "neurons", "cores", "spikes", "rate", "synaptic events in"];
    if learning {
        head.push("learning updates");
    }
    head.push("dynamic energy");
    out.push((
        "By population".into(),
        table(
            &head,
            s.pop_order()
                .iter()
                .filter_map(|&i| s.populations.get(i))
                .map(|p| {
                    let mut row = vec![
                        p.name.clone(),
                        p.model.clone(),
                        p.size.to_string(),
                        p.cores.to_string(),
                        p.spikes.to_string(),
                        format!("{:.2} Hz", p.rate_hz),
                        p.synaptic_events_in.to_string(),
                    ];
                    if learning {
                        row.push(p.synaptic_updates.to_string());
                    }
                    row.push(eng(p.dynamic_j, "J"));
                    row
                })
                .collect(),
        ),
    ));
    let mut cores: Vec<&CoreRow> = s.cores.iter().collect();
    cores.sort_by(|a, b| b.busy_ns.total_cmp(&a.busy_ns).then(a.core.cmp(&b.core)));
    out.push((
        format!("Busiest cores (top {} of {})", top.min(cores.len()), cores.len()),
        table(
            &["core", "tile (x, y)", "chip", "population", "spikes", "packets in", "synaptic events", "busy", "max step", "dynamic energy"],
            cores
                .iter()
                .take(top)
                .map(|c| {
                    vec![
                        c.core.to_string(),
                        format!("{} ({}, {})", c.tile, c.x, c.y),
                        c.chip.to_string(),
                        c.population.clone(),
                        c.spikes.to_string(),
                        c.packets_in.to_string(),
                        c.synaptic_events.to_string(),
                        eng(c.busy_ns * 1e-9, "s"),
                        eng(c.max_step_ns * 1e-9, "s"),
                        eng(c.dynamic_j, "J"),
                    ]
                })
                .collect(),
        ),
    ));
    out.push((
        "By chip".into(),
        table(
            &["chip", "cores", "dynamic", "static", "mean power"],
            s.chips.iter().map(|c| vec![c.chip.to_string(), c.cores.to_string(), eng(c.dynamic_j, "J"), eng(c.static_j, "J"), eng(c.power_w, "W")]).collect(),
        ),
    ));
    let nb = &s.neurobench;
    out.push((
        "Activity (NeuroBench terms)".into(),
        table(
            &["synaptic operations", "activation sparsity", "membrane updates", "spikes", "packets delivered", "packets with no synapse at the core"],
            vec![vec![
                nb.synaptic_ops.to_string(),
                format!("{:.6}", nb.activation_sparsity),
                nb.membrane_updates.to_string(),
                nb.spikes.unwrap_or(s.counts.spikes).to_string(),
                s.counts.packets_in.to_string(),
                s.counts.packets_no_row.to_string(),
            ]],
        ),
    ));
    out
}

/// The few lines `nerve run` prints: what ran, at what cost on the chip.
pub fn run_lines(s: &Summary, wall_seconds: f64) -> String {
    let mut out = String::new();
    let c = &s.counts;
    // The network's own (the delay relays' apart: `NeuroBench`).
    let nb = &s.neurobench;
    let spikes = nb.spikes.unwrap_or(c.spikes);
    let bio_s = s.steps as f64 * s.dt_ms / 1000.0;
    let relays = match (c.spikes.saturating_sub(spikes), c.synaptic_events.saturating_sub(nb.synaptic_ops)) {
        (0, 0) => String::new(),
        (k, e) => format!(" (and the compiler's delay relays: {k} spikes, {e} synaptic events)"),
    };
    let _ = writeln!(
        out,
        "ran `{}` on `{}` for {} steps ({} ms biological) in {:.3} s: {} spikes ({:.2} Hz mean), {} synaptic events{relays}",
        s.network,
        s.arch,
        s.steps,
        time_ms(s.steps as f64 * s.dt_ms),
        wall_seconds,
        spikes,
        spikes as f64 / nb.neurons.max(1) as f64 / bio_s.max(1e-12),
        nb.synaptic_ops
    );
    let t = &s.timing;
    let _ = writeln!(
        out,
        "on the chip: time to solution {} (step mean {}, p99 {}, max {}){}; energy {} ({} per step, mean power {})",
        eng(t.time_to_solution_s, "s"),
        eng(t.step_ns.mean * 1e-9, "s"),
        eng(t.step_ns.p99 * 1e-9, "s"),
        eng(t.step_ns.max * 1e-9, "s"),
        match t.real_time_tick_ns {
            Some(tk) => format!(", real-time tick {}, {} overrun steps", eng(tk * 1e-9, "s"), t.overrun_steps),
            None => String::new(),
        },
        eng(s.energy.total_j, "J"),
        eng(s.energy.per_step_j, "J"),
        eng(s.energy.power_w, "W")
    );
    if !s.energy.unknown_figures.is_empty() {
        let _ = writeln!(out, "energy leaves out what `{}` does not publish ({}): unknown figures count as 0", s.arch, s.energy.unknown_figures.join(", "));
    }
    // What --inference-steps and --decision asked for (they were in the
    // report alone).
    if let (Some(k), Some(j)) = (s.energy.inference_steps, s.energy.per_inference_j) {
        let _ = writeln!(out, "per inference ({k} steps): energy {}, energy-delay product {}", eng(j, "J"), eng(s.energy.edp_js, "J·s"));
    }
    if let Some(d) = &t.decision {
        let _ = writeln!(out, "decision latency ({}): {}", d.population, decision_words(d));
    }
    if !s.ranks.is_empty() {
        let rows = s
            .ranks
            .iter()
            .map(|r| {
                vec![
                    r.rank.to_string(),
                    format!("{}–{} ({})", r.first_core, r.last_core, r.cores),
                    format!("{:.0}", r.bytes_per_step),
                    format!("{:.2}", r.messages_per_step),
                    format!("{:.3}", r.exchange_seconds),
                ]
            })
            .collect();
        let every = s.ranks[0].exchange_every;
        let _ = writeln!(
            out,
            "over {} ranks (MPI), exchanging spikes every {} (the shortest delay between ranks):",
            s.ranks.len(),
            if every == 1 { "step".to_string() } else { format!("{every} steps") }
        );
        let _ = writeln!(out, "{}", crate::format::table(&["rank", "cores (count)", "bytes sent/step", "messages/step", "exchange s"], rows));
    }
    out
}

/// The mapping report as tables; `dest` says where the image went.
pub fn map_report(r: &MapReport, arch: &Arch, dest: &str) -> String {
    let mut out = String::new();
    let s = &r.seconds;
    let gaps = if r.gap_terms > 0 { format!(", {} gap-junction terms", r.gap_terms) } else { String::new() };
    let relays = if r.relay_neurons > 0 {
        format!("; for delays past the profile's slots, {} delay-relay neurons and {} synapses", r.relay_neurons, r.relay_synapses)
    } else {
        String::new()
    };
    let _ = writeln!(out, "compiled `{}` for `{}` → {} ({} neurons, {} synapses{gaps}{relays})", r.network, r.arch, dest, r.neurons, r.synapses);
    let rt = &r.routing;
    let _ = writeln!(
        out,
        "{}",
        table(
            &[
                "cores",
                "tiles",
                "chips",
                "trees",
                "entries (raw)",
                "after default-route elision",
                "compressed",
                "largest table",
                "busiest link (trees / neurons)"
            ],
            vec![vec![
                r.cores_used.to_string(),
                r.tiles_used.to_string(),
                r.chips_used.to_string(),
                rt.trees.to_string(),
                rt.entries_uncompressed.to_string(),
                rt.entries_after_elision.to_string(),
                rt.entries_compressed.to_string(),
                format!("{} / {}", rt.max_table_compressed, arch.router.table_entries),
                format!("{} / {}", rt.max_link_trees, rt.max_link_neurons),
            ]]
        )
    );
    let sh = &rt.sharing;
    if sh.pairs_shared > 0 {
        let _ = writeln!(
            out,
            "shared routes: {} of {} population pairs route every slice alike ({:+.1}% packet deliveries; --shared-routes {})",
            sh.pairs_shared,
            sh.population_pairs,
            100.0 * (sh.deliveries_routed as f64 / sh.deliveries_exact.max(1) as f64 - 1.0),
            sh.max_extra
        );
    }
    let rows: Vec<Vec<String>> =
        r.populations.iter().map(|p| vec![p.name.clone(), p.model.clone(), p.size.to_string(), p.neurons_per_core.to_string(), p.cores.to_string()]).collect();
    let _ = writeln!(out, "{}", table(&["population", "model", "neurons", "per core", "cores"], rows));
    let q: Vec<Vec<String>> = r
        .quantisation
        .iter()
        .map(|q| {
            vec![
                q.projection.clone(),
                q.port.to_string(),
                q.exp.to_string(),
                format!("{:.3}%", 100.0 * q.worst_rel_error),
                q.clipped.to_string(),
                q.underflow.to_string(),
            ]
        })
        .collect();
    if !q.is_empty() {
        let _ = writeln!(out, "{}", table(&["projection", "port", "weight exp", "worst weight error", "clipped", "rounded to 0"], q));
    }
    let _ = writeln!(
        out,
        "time: read {:.3} s; expand {:.3} s, quantise {:.3} s, partition {:.3} s, place {:.3} s, route {:.3} s, codegen {:.3} s, check {:.3} s (stages {:.3} s); write image {:.3} s",
        s.read, s.expand, s.lower, s.partition, s.place, s.route, s.codegen, s.check, s.total, s.write
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `nerve run small.img --steps 3` said "(0.30000000000000004 ms biological)".
    #[test]
    fn biological_time_without_float_noise() {
        let mut s: Summary = serde_json::from_str(include_str!("../tests/data/run_small.json")).unwrap();
        (s.steps, s.dt_ms) = (3, 0.1);
        assert!(run_lines(&s, 1.0).contains("for 3 steps (0.3 ms biological)"), "{}", run_lines(&s, 1.0));
        let run = tables(&s, 10).into_iter().map(|(_, t)| t).find(|t| t.contains("ms biological")).unwrap();
        assert!(run.contains("3 steps of 0.1 ms (0.3 ms biological)"), "{run}");
        for (v, want) in [(3.0 * 0.1, "0.3"), (7.0 * 0.7, "4.9"), (1e100, "1e100"), (200.0, "200"), (4.5e-6, "4.5e-6"), (0.0, "0")] {
            assert_eq!(time_ms(v), want, "{v}");
        }
    }

    #[test]
    fn significant_digits() {
        for (v, want) in [
            (10.0, "10.00"),
            (0.5, "0.5000"),
            (1.0, "1.000"),
            (0.0012346, "0.001235"),
            (0.000123456, "1.235e-4"),
            (3.2e-7, "3.200e-7"),
            (9.99996, "10.00"),
            (123456.0, "123456"),
            (1234567.0, "1.235e6"),
            (-0.25, "-0.2500"),
            (0.0, "0"),
        ] {
            assert_eq!(significant(v, 4), want, "{v}");
        }
        assert_eq!(significant(0.000123456, 2), "1.2e-4");
    }
}
