//! Pictures of a run, drawn with plotters into SVG (text, for the HTML report
//! and files) or PNG (with the bundled DejaVu Sans font, no display needed):
//! spike raster, per-core activity laid out as the chip grid, link loads on the
//! network, energy breakdown, per-step latency.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::summary::Summary;

type R<T> = Result<T, Box<dyn std::error::Error>>;

pub const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the bundled font for bitmap output (SVG output names the family only).
pub fn register_font() -> R<()> {
    plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).map_err(|_| "cannot load the bundled font")?;
    Ok(())
}

/// The pictures: (file stem, title).
pub const PICTURES: &[(&str, &str)] = &[
    ("raster", "Spike raster"),
    ("activity", "Per-core activity on the chip grid"),
    ("links", "Link load on the network"),
    ("energy", "Energy by kind"),
    ("latency", "Latency per timestep"),
];

fn draw<DB: DrawingBackend>(name: &str, area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    match name {
        "raster" => raster(area, s),
        "activity" => activity(area, s),
        "links" => links(area, s),
        "energy" => energy(area, s),
        "latency" => latency(area, s),
        other => Err(format!("no picture `{other}`").into()),
    }
}

/// One picture as SVG text.
pub fn svg(name: &str, s: &Summary) -> crate::Result<String> {
    svg_r(name, s).map_err(|e| crate::Error::Plot(e.to_string()))
}

fn svg_r(name: &str, s: &Summary) -> R<String> {
    // Text is measured with the bundled font in SVG too.
    register_font()?;
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (900, 520)).into_drawing_area();
        draw(name, area.clone(), s)?;
        area.present()?;
    }
    Ok(out)
}

/// Writes every picture as NAME.svg and NAME.png into `dir`.
pub fn write_all(dir: &std::path::Path, s: &Summary) -> crate::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::Write { path: dir.to_path_buf(), source: e })?;
    write_all_r(dir, s).map_err(|e| crate::Error::Plot(e.to_string()))
}

fn write_all_r(dir: &std::path::Path, s: &Summary) -> R<Vec<std::path::PathBuf>> {
    register_font()?;
    let mut files = Vec::new();
    for (name, _) in PICTURES {
        let p = dir.join(format!("{name}.svg"));
        std::fs::write(&p, svg_r(name, s)?)?;
        files.push(p);
        let p = dir.join(format!("{name}.png"));
        {
            let area = BitMapBackend::new(&p, (900, 520)).into_drawing_area();
            draw(name, area.clone(), s)?;
            area.present()?;
        }
        files.push(p);
    }
    Ok(files)
}

fn caption(s: &Summary, what: &str) -> String {
    format!("{what} — {} on {}", s.network, s.arch)
}

fn raster<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let t_max = (s.steps as f64 * s.dt_ms).max(s.dt_ms);
    let total: u32 = s.raster.populations.iter().map(|p| p.size).sum::<u32>().max(1);
    let mut chart = ChartBuilder::on(&area)
        .caption(caption(s, if s.raster.truncated { "Spike raster (first spikes only)" } else { "Spike raster" }), (FONT, 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..t_max, 0u32..total)?;
    chart.configure_mesh().x_desc("time (ms)").y_desc("neuron (stacked by population)").label_style((FONT, 12)).disable_mesh().draw()?;
    let mut base = 0u32;
    for (i, p) in s.raster.populations.iter().enumerate() {
        let col = Palette99::pick(i).to_rgba();
        let dt = s.dt_ms;
        chart
            .draw_series(
                p.spikes
                    .iter()
                    .map(|&(st, n)| Rectangle::new([(st as f64 * dt, base + n), (st as f64 * dt + dt.max(t_max / 900.0), base + n + 1)], col.filled())),
            )?
            .label(if p.recorded { format!("{} ({} spikes)", p.name, p.spikes.len()) } else { format!("{} (not recorded)", p.name) })
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 10, y + 4)], col.filled()));
        base += p.size;
    }
    chart.configure_series_labels().label_font((FONT, 12)).background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    Ok(())
}

/// A colour from white (0) to dark red (1).
fn heat(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    RGBColor((255.0 - 90.0 * v) as u8, (255.0 - 235.0 * v) as u8, (255.0 - 235.0 * v) as u8)
}

fn activity<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    // Tiles at their grid positions, each divided into its cores; colour = busy time share.
    let [gw, gh] = s.machine.grid;
    let used: Vec<&crate::summary::CoreRow> = s.cores.iter().collect();
    let (x0, x1) = (used.iter().map(|c| c.x).min().unwrap_or(0), used.iter().map(|c| c.x).max().unwrap_or(0));
    let (y0, y1) = (used.iter().map(|c| c.y).min().unwrap_or(0), used.iter().map(|c| c.y).max().unwrap_or(0));
    let (x0, y0) = (x0.saturating_sub(1), y0.saturating_sub(1));
    let (x1, y1) = ((x1 + 2).min(gw), (y1 + 2).min(gh));
    let busy_max = used.iter().map(|c| c.busy_ns).fold(0.0f64, f64::max).max(1e-12);
    let mut chart = ChartBuilder::on(&area)
        .caption(caption(s, "Core activity (busy time) on the chip grid"), (FONT, 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x0 as f64..x1 as f64, y0 as f64..y1 as f64)?;
    chart.configure_mesh().x_desc("tile x").y_desc("tile y").label_style((FONT, 12)).disable_mesh().draw()?;
    let cpt = s.machine.cores_per_tile as f64;
    let cols = cpt.sqrt().ceil();
    let rows = (cpt / cols).ceil();
    // Chip boundaries.
    let [tx, ty] = s.machine.tiles_per_chip;
    chart.draw_series(
        (x0..x1)
            .flat_map(|x| (y0..y1).map(move |y| (x, y)))
            .filter(|(x, y)| x % tx == 0 && y % ty == 0)
            .map(|(x, y)| Rectangle::new([(x as f64, y as f64), ((x + tx) as f64, (y + ty) as f64)], ShapeStyle::from(&BLACK.mix(0.3)).stroke_width(1))),
    )?;
    // Used tiles outlined, cores coloured.
    chart.draw_series(used.iter().map(|c| {
        let (cx, cy) = ((c.local as f64 % cols), (c.local as f64 / cols).floor());
        let (w, h) = (0.9 / cols, 0.9 / rows);
        let (ax, ay) = (c.x as f64 + 0.05 + cx * w, c.y as f64 + 0.05 + cy * h);
        Rectangle::new([(ax, ay), (ax + w * 0.95, ay + h * 0.95)], heat(c.busy_ns / busy_max).filled())
    }))?;
    chart.draw_series(used.iter().map(|c| {
        Rectangle::new([(c.x as f64 + 0.03, c.y as f64 + 0.03), (c.x as f64 + 0.97, c.y as f64 + 0.97)], ShapeStyle::from(&BLACK.mix(0.6)).stroke_width(1))
    }))?;
    Ok(())
}

fn links<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let [gw, gh] = s.machine.grid;
    let mut chart = ChartBuilder::on(&area)
        .caption(caption(s, "Packets per directed link"), (FONT, 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(-0.5f64..gw as f64 - 0.5, -0.5f64..gh as f64 - 0.5)?;
    chart.configure_mesh().x_desc("tile x").y_desc("tile y").label_style((FONT, 12)).disable_mesh().draw()?;
    let used: std::collections::BTreeSet<(u32, u32)> = s.cores.iter().map(|c| (c.x, c.y)).collect();
    let max = s.links.iter().map(|l| l.packets).max().unwrap_or(1).max(1) as f64;
    chart.draw_series((0..gw).flat_map(|x| (0..gh).map(move |y| (x, y))).map(|(x, y)| {
        let c = if used.contains(&(x, y)) { BLACK.mix(0.5) } else { BLACK.mix(0.12) };
        Circle::new((x as f64, y as f64), 2, c.filled())
    }))?;
    for l in &s.links {
        let (dx, dy) = match l.dir.as_str() {
            "E" => (1.0, 0.0),
            "NE" => (1.0, 1.0),
            "N" => (0.0, 1.0),
            "W" => (-1.0, 0.0),
            "SW" => (-1.0, -1.0),
            _ => (0.0, -1.0),
        };
        let v = (l.packets as f64 / max).sqrt();
        // Half a hop, offset sideways by direction, so the two directions of a link show apart.
        let (ox, oy) = (-dy * 0.08, dx * 0.08);
        let a = (l.x as f64 + ox, l.y as f64 + oy);
        let b = (l.x as f64 + dx * 0.5 + ox, l.y as f64 + dy * 0.5 + oy);
        chart.draw_series(std::iter::once(PathElement::new(vec![a, b], ShapeStyle::from(&heat(0.15 + 0.85 * v)).stroke_width(1 + (4.0 * v) as u32))))?;
    }
    Ok(())
}

fn energy<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let rows: Vec<&crate::summary::KindRow> = s.energy.by_kind.iter().filter(|r| r.joules > 0.0).collect();
    let max = rows.iter().map(|r| r.joules).fold(0.0f64, f64::max).max(1e-30);
    let (scale, unit) = if max >= 1.0 {
        (1.0, "J")
    } else if max >= 1e-3 {
        (1e3, "mJ")
    } else if max >= 1e-6 {
        (1e6, "µJ")
    } else {
        (1e9, "nJ")
    };
    let n = rows.len().max(1) as u32;
    let mut chart = ChartBuilder::on(&area)
        .caption(caption(s, &format!("Energy by kind — total {:.4} {unit}", s.energy.total_j * scale)), (FONT, 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(200)
        .build_cartesian_2d(0f64..max * scale * 1.15, (0u32..n).into_segmented())?;
    let labels: Vec<String> = rows.iter().map(|r| r.kind.clone()).collect();
    chart
        .configure_mesh()
        .x_desc(format!("energy ({unit})"))
        .y_labels(n as usize)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .label_style((FONT, 12))
        .disable_y_mesh()
        .draw()?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let y0 = SegmentValue::Exact(i as u32);
        let y1 = SegmentValue::Exact(i as u32 + 1);
        let mut b = Rectangle::new([(0.0, y0), (r.joules * scale, y1)], Palette99::pick(i).filled());
        b.set_margin(4, 4, 0, 0);
        b
    }))?;
    Ok(())
}

fn latency<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let v = &s.series.step_ns;
    let bin = s.series.bin.max(1) as f64;
    let t_of = |i: usize| i as f64 * bin * s.dt_ms;
    let ymax = v.iter().copied().fold(0.0f64, f64::max).max(s.timing.real_time_tick_ns.unwrap_or(0.0)).max(1.0) * 1.1;
    let (scale, unit) = if ymax > 1e6 {
        (1e-6, "ms")
    } else if ymax > 1e3 {
        (1e-3, "µs")
    } else {
        (1.0, "ns")
    };
    let mut chart = ChartBuilder::on(&area)
        .caption(
            caption(s, &format!("Time per timestep (mean {:.3} {unit}, p99 {:.3} {unit})", s.timing.step_ns.mean * scale, s.timing.step_ns.p99 * scale)),
            (FONT, 18),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..t_of(v.len()).max(s.dt_ms), 0f64..ymax * scale)?;
    chart
        .configure_mesh()
        .x_desc("biological time (ms)")
        .y_desc(if bin > 1.0 { format!("step time ({unit}), max per {} steps", bin) } else { format!("step time ({unit})") })
        .label_style((FONT, 12))
        .draw()?;
    chart
        .draw_series(LineSeries::new(v.iter().enumerate().map(|(i, &y)| (t_of(i), y * scale)), BLUE.stroke_width(1)))?
        .label("critical path (slowest core + network + barrier)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLUE));
    if let Some(t) = s.timing.real_time_tick_ns {
        chart
            .draw_series(LineSeries::new(vec![(0.0, t * scale), (t_of(v.len()), t * scale)], RED.stroke_width(2)))?
            .label("real-time tick")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
    }
    chart.configure_series_labels().label_font((FONT, 12)).background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    Ok(())
}
