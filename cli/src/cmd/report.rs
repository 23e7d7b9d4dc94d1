use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::Result;
use crate::summary::Summary;
use crate::table::table;

#[derive(Args)]
pub struct ReportArgs {
    /// A run summary written by `nerve run --report run.json`.
    run: PathBuf,
    /// Write a self-contained HTML report (tables and pictures, no network needed to view it).
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write the pictures as SVG and PNG into this directory.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// How many cores to list (busiest first).
    #[arg(long, default_value_t = 10)]
    top: usize,
}

/// Engineering notation with a unit: 1.23 mJ, 45.6 µs.
pub fn eng(v: f64, unit: &str) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v} {unit}");
    }
    let prefixes = [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")];
    for (s, p) in prefixes {
        if v.abs() >= s {
            return format!("{:.4} {p}{unit}", v / s);
        }
    }
    format!("{:.4e} {unit}", v)
}

pub fn tables(s: &Summary, top: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let t = &s.timing;
    let e = &s.energy;
    let mut head = vec![
        vec!["network".into(), format!("{} ({} neurons, {} synapses)", s.network, s.neurobench.neurons, s.neurobench.synapses)],
        vec!["machine".into(), format!("{}: {} cores on {} tiles, {} chips", s.arch, s.cores_used, s.tiles_used, s.chips_used)],
        vec![
            "run".into(),
            format!("{} steps of {} ms ({} ms biological), engine {}, {} thread(s)", s.steps, s.dt_ms, s.steps as f64 * s.dt_ms, s.engine, s.threads),
        ],
        vec!["time to solution".into(), format!("{} (real-time factor {:.4})", eng(t.time_to_solution_s, "s"), t.real_time_factor)],
        vec!["energy".into(), format!("{} total = {} dynamic + {} static", eng(e.total_j, "J"), eng(e.dynamic_j, "J"), eng(e.static_j, "J"))],
        vec!["power".into(), format!("{} mean ({} static)", eng(e.power_w, "W"), eng(e.static_power_w, "W"))],
        vec!["energy per timestep".into(), eng(e.per_step_j, "J")],
        vec!["energy-delay product".into(), format!("{} ({})", eng(e.edp_js, "J·s"), if e.inference_steps.is_some() { "per inference" } else { "whole run" })],
    ];
    if let (Some(k), Some(j)) = (e.inference_steps, e.per_inference_j) {
        head.push(vec!["energy per inference".into(), format!("{} ({} steps each)", eng(j, "J"), k)]);
    }
    if let Some(j) = e.per_synaptic_event_j {
        head.push(vec!["energy per synaptic event, all included".into(), eng(j, "J")]);
    }
    if let Some(d) = &t.decision {
        head.push(vec![
            format!("decision latency ({})", d.population),
            match d.latency_ns {
                Some(l) => {
                    format!("{} (input at step {}, decision at step {})", eng(l * 1e-9, "s"), d.first_input_step.unwrap_or(0), d.decision_step.unwrap_or(0))
                }
                None => "no decision spike after the first input".into(),
            },
        ]);
    }
    out.push(("Summary".into(), crate::table::plain(head)));
    out.push((
        "Latency per timestep".into(),
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
    out.push((
        "By population".into(),
        table(
            &["population", "model", "neurons", "cores", "spikes", "rate", "synaptic events in", "dynamic energy"],
            s.populations
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.model.clone(),
                        p.size.to_string(),
                        p.cores.to_string(),
                        p.spikes.to_string(),
                        format!("{:.2} Hz", p.rate_hz),
                        p.synaptic_events_in.to_string(),
                        eng(p.dynamic_j, "J"),
                    ]
                })
                .collect(),
        ),
    ));
    let mut cores: Vec<&crate::summary::CoreRow> = s.cores.iter().collect();
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
                s.counts.spikes.to_string(),
                s.counts.packets_in.to_string(),
                s.counts.packets_no_row.to_string(),
            ]],
        ),
    ));
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub fn html(s: &Summary, top: usize) -> Result<String> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nerve report: {}</title>\n<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}pre{{font-size:12px;background:#f6f6f6;padding:8px;overflow-x:auto}}figure{{margin:1em 0}}figcaption{{color:#555}}</style></head><body>\n<h1>nerve run report: {} on {}</h1>\n",
        html_escape(&s.network),
        html_escape(&s.network),
        html_escape(&s.arch)
    );
    // The summary, then the pictures, then the detailed tables.
    let tabs = tables(s, top);
    let (first, rest) = tabs.split_at(1);
    for (title, t) in first {
        let _ = write!(h, "<h2>{}</h2>\n<pre>{}</pre>\n", html_escape(title), html_escape(t));
    }
    h.push_str("<h2>Pictures</h2>\n");
    for (name, title) in crate::plots::PICTURES {
        let svg = crate::plots::svg(name, s)?;
        let _ = write!(h, "<figure id=\"{name}\">{svg}<figcaption>{title}</figcaption></figure>\n");
    }
    for (title, t) in rest {
        let _ = write!(h, "<h2>{}</h2>\n<pre>{}</pre>\n", html_escape(title), html_escape(t));
    }
    h.push_str("</body></html>\n");
    Ok(h)
}

pub fn run(a: ReportArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.run).map_err(|e| format!("cannot read {}: {e}", a.run.display()))?;
    let s: Summary = serde_json::from_str(&text).map_err(|e| format!("{}: not a run summary from `nerve run --report`: {e}", a.run.display()))?;
    for (title, t) in tables(&s, a.top) {
        println!("{title}\n{t}\n");
    }
    if let Some(p) = &a.plots {
        let files = crate::plots::write_all(p, &s)?;
        eprintln!("wrote {} pictures into {}", files.len(), p.display());
    }
    if let Some(p) = &a.html {
        std::fs::write(p, html(&s, a.top)?).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}
