//! Pictures of a run, drawn with plotters into SVG (text, for the HTML report
//! and files) or PNG (with the bundled DejaVu Sans font, no display needed):
//! spike raster, per-core activity laid out as the chip grid, link loads on the
//! network, energy breakdown, per-step latency.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    checked(s)?;
    svg_r(name, s).map_err(|e| crate::Error::Plot(e.to_string()))
}

/// The axes and loops below come from the summary's values: a summary made
/// in memory (not by [`Summary::read`]) is checked here too.
fn checked(s: &Summary) -> crate::Result<()> {
    s.check().map_err(|b| crate::Error::Plot(format!("run summary field `{}` = {}: {}", b.field, b.value, b.reason)))
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
    // Well-formed XML whatever the summary's names hold (plotters escapes
    // only < > & " '): an edited run summary can hold anything.
    Ok(xml_text(&out).into_owned())
}

/// `s` with each character XML cannot hold (a control character other than
/// tab and line breaks, U+FFFE, U+FFFF) replaced by U+FFFD.
fn xml_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().all(nerve_isa::names::xml_char) {
        s.into()
    } else {
        s.chars().map(|c| if nerve_isa::names::xml_char(c) { c } else { '\u{FFFD}' }).collect::<String>().into()
    }
}

/// The files [`write_all`] writes into `dir`: NAME.svg and NAME.png of every picture.
pub fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    PICTURES.iter().flat_map(|(name, _)| ["svg", "png"].map(|ext| dir.join(format!("{name}.{ext}")))).collect()
}

/// Whether [`write_all`] can write into `dir`, asked before any work (a
/// command's tables are not printed for pictures that then fail): an
/// existing directory, or one that can be made, with the directories before
/// it, in the nearest that exists. The reason, if not.
pub fn check_dir(dir: &std::path::Path) -> Result<(), String> {
    use std::path::Path;
    if !dir.exists() && dir.symlink_metadata().is_ok() {
        return Err("is a symbolic link to a path that does not exist".into());
    }
    if dir.exists() {
        return if dir.is_dir() { Ok(()) } else { Err("is a file, not a directory (the pictures go into a directory)".into()) };
    }
    let mut base = dir.parent();
    while let Some(b) = base.filter(|b| !b.as_os_str().is_empty() && !b.exists()) {
        base = b.parent();
    }
    let base = base.filter(|b| !b.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let probe = base.join(format!(".nerve-plots-check.{}", std::process::id()));
    let made = if base.is_dir() { std::fs::create_dir(&probe).map_err(|e| e.to_string()) } else { Err("it is not a directory".to_string()) };
    let _ = std::fs::remove_dir(&probe);
    made.map_err(|why| format!("cannot make it in {}: {why}", base.display()))
}

/// Writes every picture as NAME.svg and NAME.png into `dir` ([`files`]),
/// all or none: each drawn into a stage first ([`stage_all`]), then put in place.
pub fn write_all(dir: &std::path::Path, s: &Summary) -> crate::Result<Vec<std::path::PathBuf>> {
    let staged = stage_all(dir, s)?;
    let files = files(dir);
    for st in staged {
        st.commit()?;
    }
    Ok(files)
}

/// Draws every picture of [`files`] into its stage beside it (`dir` made
/// if missing), in [`files`]' order; dropping them leaves no picture, so a
/// command's other outputs can fail after them and leave none.
pub fn stage_all(dir: &std::path::Path, s: &Summary) -> crate::Result<Vec<crate::Staged>> {
    checked(s)?;
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::Write { path: dir.to_path_buf(), source: e })?;
    register_font().map_err(|e| crate::Error::Plot(e.to_string()))?;
    let mut staged = Vec::new();
    for p in &files(dir) {
        // invariant: `files` names each picture NAME.EXT, NAME one of PICTURES
        let name = p.file_stem().and_then(|n| n.to_str()).expect("a picture's file is named after it");
        if p.extension().is_some_and(|e| e == "svg") {
            let text = svg_r(name, s).map_err(|e| crate::Error::Plot(e.to_string()))?;
            staged.push(crate::Staged::write(p, |stage| std::fs::write(stage, text.as_bytes()))?);
        } else {
            let mut drawn: Option<Box<dyn std::error::Error>> = None;
            let st = crate::Staged::write(p, |stage| {
                // The backend picks the encoding from the extension, which
                // the stage lacks: drawn into a .png beside it.
                let png = stage.with_file_name(format!("{}.png", stage.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
                let done = png_r(name, &png, s).and_then(|()| std::fs::rename(&png, stage).map_err(Into::into));
                done.map_err(|e| {
                    let _ = std::fs::remove_file(&png);
                    drawn = Some(e);
                    std::io::Error::other("not drawn")
                })
            })
            .map_err(|e| drawn.take().map_or(e, |d| crate::Error::Plot(d.to_string())))?;
            staged.push(st);
        }
    }
    Ok(staged)
}

fn png_r(name: &str, path: &std::path::Path, s: &Summary) -> R<()> {
    let area = BitMapBackend::new(path, (900, 520)).into_drawing_area();
    draw(name, area.clone(), s)?;
    area.present()?;
    Ok(())
}

fn caption(s: &Summary, what: &str) -> String {
    format!("{what} — {} on {}", xml_text(&s.network), xml_text(&s.arch))
}

/// An axis number without needless digits: 20, 0.25, 1.5e-7.
pub fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let t = crate::text::significant(v, 6);
    let (m, e) = match t.split_once('e') {
        Some((m, e)) => (m.to_string(), format!("e{e}")),
        None => (t, String::new()),
    };
    let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.').to_string() } else { m };
    format!("{m}{e}")
}

/// Engineering notation to 3 significant digits, no trailing zeros: 23.5 ms, 0 s, 1.2 µJ.
pub fn short_eng(v: f64, unit: &str) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("0 {unit}");
    }
    let prefixes = [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")];
    let (f, p) = prefixes.iter().copied().find(|(f, _)| v.abs() * (1.0 + 5e-4) >= *f).unwrap_or((1e-15, "f"));
    format!("{} {p}{unit}", tick(crate::text::significant(v / f, 3).parse().unwrap_or(v / f)))
}

/// An integer axis label (tile coordinates), empty between integers.
fn int_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// How to show a time axis of `t_max_ms`: (factor from ms, unit).
pub fn time_unit(t_max_ms: f64) -> (f64, &'static str) {
    if t_max_ms >= 10_000.0 {
        (1e-3, "s")
    } else {
        (1.0, "ms")
    }
}

/// The tiles a picture shows: the bounding box of `tiles` grown by `margin`
/// tiles, within the grid; (x0, x1, y0, y1), inclusive. The whole grid's
/// corner tile when there are none.
pub fn zoom_box(tiles: impl IntoIterator<Item = (u32, u32)>, grid: [u32; 2], margin: u32) -> (u32, u32, u32, u32) {
    let (mut x0, mut x1, mut y0, mut y1) = (u32::MAX, 0, u32::MAX, 0);
    for (x, y) in tiles {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 == u32::MAX {
        return (0, 0, 0, 0);
    }
    let (gx, gy) = (grid[0].max(1) - 1, grid[1].max(1) - 1);
    (x0.saturating_sub(margin), x1.saturating_add(margin).min(gx).max(x1), y0.saturating_sub(margin), y1.saturating_add(margin).min(gy).max(y1))
}

/// Which of the bands centred at `centres` (pixels, in drawing order) get a
/// label, at least `gap` pixels apart: greedily, first come first labelled.
pub fn pick_labels(centres: &[f64], gap: f64) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for (i, &c) in centres.iter().enumerate() {
        if (c - last).abs() >= gap {
            out.push(i);
            last = c;
        }
    }
    out
}

/// `s` cut to at most `n` characters (with an ellipsis).
fn clip(s: &str, n: usize) -> String {
    let s = &xml_text(s);
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n.saturating_sub(1)).collect::<String>())
    }
}

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Lines of text in a side panel, from its top.
fn side_lines<DB: DrawingBackend>(panel: &DrawingArea<DB, Shift>, top: i32, lines: &[(Option<RGBColor>, String)]) -> R<()>
where
    DB::ErrorType: 'static,
{
    let st = text_style(12).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (col, t)) in lines.iter().enumerate() {
        let y = top + 16 * i as i32;
        let x = match col {
            Some(c) => {
                panel.draw(&Rectangle::new([(4, y - 5), (14, y + 5)], c.filled()))?;
                20
            }
            None => 4,
        };
        panel.draw(&Text::new(t.clone(), (x, y), st.clone()))?;
    }
    Ok(())
}

/// A vertical colour scale in `panel`: `colour(f)` for f from 0 (bottom) to 1
/// (top), labelled at the fractions of `ticks`, titled with `title` lines.
fn colour_bar<DB: DrawingBackend>(panel: &DrawingArea<DB, Shift>, title: &[&str], ticks: &[(f64, String)], colour: impl Fn(f64) -> RGBColor) -> R<()>
where
    DB::ErrorType: 'static,
{
    let (_, h) = panel.dim_in_pixel();
    let st = text_style(12);
    for (i, t) in title.iter().enumerate() {
        panel.draw(&Text::new(t.to_string(), (6, 14 + 16 * i as i32), st.clone().pos(Pos::new(HPos::Left, VPos::Center))))?;
    }
    let (top, bottom) = (22 + 16 * title.len() as i32, h as i32 - 45);
    let (x0, x1) = (10, 30);
    let span = (bottom - top).max(1);
    for y in top..bottom {
        let f = (bottom - y) as f64 / span as f64;
        panel.draw(&Rectangle::new([(x0, y), (x1, y + 1)], colour(f).filled()))?;
    }
    panel.draw(&Rectangle::new([(x0, top), (x1, bottom)], BLACK.stroke_width(1)))?;
    for (f, label) in ticks {
        let y = bottom - (f * span as f64).round() as i32;
        panel.draw(&PathElement::new(vec![(x1, y), (x1 + 4, y)], BLACK))?;
        panel.draw(&Text::new(label.clone(), (x1 + 7, y), st.clone().pos(Pos::new(HPos::Left, VPos::Center))))?;
    }
    Ok(())
}

/// Most populations the raster lists one by one beside the picture.
pub const LEGEND_MAX: usize = 24;
/// How many of the most active labelled cells the raster names.
const CELLS_NAMED: usize = 8;

fn raster<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let root = area.clone();
    let order: Vec<&crate::summary::RasterPop> = s.pop_order().iter().filter_map(|&i| s.raster.populations.get(i)).collect();
    // Each population's spikes in the run: beyond the raster's sample
    // (truncated) the table's count, where the table has the population.
    let totals: Vec<u64> = s
        .pop_order()
        .iter()
        .filter(|&&i| i < s.raster.populations.len())
        .map(|&i| {
            let p = &s.raster.populations[i];
            let row = s.populations.get(i).filter(|r| r.name == p.name).map(|r| r.spikes);
            row.filter(|_| s.raster.truncated).unwrap_or(0).max(p.spikes.len() as u64)
        })
        .collect();
    // "N spikes", or "N of M drawn" when the sample holds only some.
    let count = |k: usize| {
        let (drawn, all) = (order[k].spikes.len() as u64, totals[k]);
        if all > drawn {
            format!("{drawn} of {all} drawn")
        } else {
            format!("{all}")
        }
    };
    let n = order.len();
    let t_max = (s.steps as f64 * s.dt_ms).max(s.dt_ms);
    let (tf, tu) = time_unit(t_max);
    let total: u64 = order.iter().map(|p| p.size as u64).sum::<u64>().max(1);
    let title = if s.raster.truncated { "Spike raster (first spikes only)" } else { "Spike raster" };
    let body = area.titled(&caption(s, title), (FONT, 18))?;
    // Beside the picture: each population (few), or a note (many).
    let many = n > LEGEND_MAX;
    let colour = |i: usize| -> RGBColor {
        let c = Palette99::pick(i).to_rgba();
        RGBColor(c.0, c.1, c.2)
    };
    let mut lines: Vec<(Option<RGBColor>, String)> = Vec::new();
    if many {
        let not_rec = order.iter().filter(|p| !p.recorded).count();
        lines.push((None, format!("{n} populations, in network")));
        lines.push((None, "order from the top; names".into()));
        lines.push((None, "on the left where they fit".into()));
        if not_rec > 0 {
            lines.push((None, format!("{not_rec} not recorded (grey)")));
        }
        lines.push((None, String::new()));
        lines.push((None, "most spikes:".into()));
        let mut busiest: Vec<(usize, &crate::summary::RasterPop)> = order.iter().copied().enumerate().filter(|(_, p)| !p.spikes.is_empty()).collect();
        busiest.sort_by(|a, b| totals[b.0].cmp(&totals[a.0]).then(a.0.cmp(&b.0)));
        for (i, p) in busiest.iter().take(10) {
            lines.push((Some(colour(*i)), format!("{} ({})", clip(&p.name, 14), count(*i))));
        }
    } else {
        for (i, p) in order.iter().enumerate() {
            let what = if !p.recorded {
                "not recorded".into()
            } else if totals[i] > p.spikes.len() as u64 {
                count(i)
            } else {
                format!("{} spikes", p.spikes.len())
            };
            lines.push((Some(colour(i)), format!("{} ({what})", clip(&p.name, 16))));
        }
    }
    // Labelled neurons (a connectome's cells): the most active, by name, beside
    // the data and at their rows.
    let mut cells: Vec<(usize, u32, usize)> = Vec::new();
    for (i, p) in order.iter().enumerate().filter(|(_, p)| !p.labels.is_empty()) {
        // As many counters as labels (not `size`, which an edited file may make huge).
        let mut count = vec![0usize; p.labels.len().min(p.size as usize)];
        for &(_, nn) in &p.spikes {
            if let Some(c) = count.get_mut(nn as usize) {
                *c += 1;
            }
        }
        cells.extend(count.iter().enumerate().filter(|(_, &c)| c > 0).map(|(nn, &c)| (i, nn as u32, c)));
    }
    cells.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    cells.truncate(CELLS_NAMED);
    if !cells.is_empty() {
        lines.push((None, String::new()));
        lines.push((None, "most active cells:".into()));
        for &(i, nn, c) in &cells {
            lines.push((Some(colour(i)), format!("{} ({c})", clip(&order[i].labels[nn as usize], 14))));
        }
    }
    let side_w = lines
        .iter()
        .map(|(c, t)| body.estimate_text_size(t, &text_style(12)).map(|(w, _)| w).unwrap_or(100) + if c.is_some() { 26 } else { 10 })
        .max()
        .unwrap_or(100);
    let (plot, side) = body.split_horizontally(body.dim_in_pixel().0 - side_w.clamp(120, 240));
    side_lines(&side, 30, &lines)?;
    // Population names on the y axis, as wide as the widest (within limits).
    let name_w = order.iter().map(|p| body.estimate_text_size(&clip(&p.name, 16), &text_style(12)).map(|(w, _)| w).unwrap_or(60)).max().unwrap_or(40);
    let mut chart = ChartBuilder::on(&plot)
        .margin(10)
        .margin_top(20)
        .x_label_area_size(35)
        .y_label_area_size(name_w.clamp(30, 130) + 34)
        .build_cartesian_2d(0f64..t_max * tf, 0f64..total as f64)?;
    chart
        .configure_mesh()
        .x_desc(format!("time ({tu})"))
        .x_label_formatter(&|v| tick(*v))
        .y_labels(0)
        .y_desc("population (neurons stacked, network order)")
        .label_style((FONT, 12))
        .disable_mesh()
        .draw()?;
    // Bands from the top: population k holds neurons (top - base - size, top - base].
    let mut tops: Vec<u64> = Vec::with_capacity(n);
    let mut base = 0u64;
    for p in &order {
        tops.push(total - base);
        base += p.size as u64;
    }
    let t_end = t_max * tf;
    chart.draw_series(order.iter().zip(&tops).enumerate().filter(|(i, (p, _))| !p.recorded || i % 2 == 1).map(|(_, (p, &top))| {
        let shade = if p.recorded { RGBColor(244, 244, 244) } else { RGBColor(225, 225, 225) };
        Rectangle::new([(0.0, (top - p.size as u64) as f64), (t_end, top as f64)], shade.filled())
    }))?;
    // Each spike one step wide and one neuron high, in pixels and at least
    // one of each: in data units most are under a pixel (a step of a long
    // run, a neuron of a large population), which plotters rounds to an
    // empty rectangle that neither SVG nor PNG shows.
    let dt = s.dt_ms * tf;
    let (left, right) = (chart.backend_coord(&(0.0, 0.0)).0, chart.backend_coord(&(t_end, 0.0)).0);
    for (i, (p, &top)) in order.iter().zip(&tops).enumerate() {
        let col = colour(i).filled();
        for &(st, nn) in p.spikes.iter().filter(|&&(_, nn)| nn < p.size) {
            let (t, y) = (st as f64 * dt, (top - nn as u64 - 1) as f64);
            let (x0, y0) = chart.backend_coord(&(t, y + 1.0));
            let (x1, y1) = chart.backend_coord(&(t + dt, y));
            let x0 = x0.clamp(left, (right - 1).max(left));
            root.draw(&Rectangle::new([(x0, y0), (x1.min(right).max(x0 + 1), y1.max(y0 + 1))], col))?;
        }
    }
    // The most active labelled cells, named at their rows at the right edge.
    let mut rows: Vec<(f64, usize)> =
        cells.iter().enumerate().map(|(k, &(i, nn, _))| (chart.backend_coord(&(t_end, tops[i] as f64 - nn as f64 - 0.5)).1 as f64, k)).collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let right = text_style(10).pos(Pos::new(HPos::Right, VPos::Center));
    for r in pick_labels(&rows.iter().map(|r| r.0).collect::<Vec<f64>>(), 11.0) {
        let (i, nn, _) = cells[rows[r].1];
        let (x, y) = chart.backend_coord(&(t_end, tops[i] as f64 - nn as f64 - 0.5));
        let name = clip(&order[i].labels[nn as usize], 12);
        // On a white tab, so that the name reads over the spikes.
        let w = root.estimate_text_size(&name, &text_style(10)).map(|(w, _)| w as i32).unwrap_or(40);
        root.draw(&Rectangle::new([(x - w - 6, y - 6), (x - 1, y + 6)], WHITE.mix(0.85).filled()))?;
        root.draw(&Text::new(name, (x - 3, y), right.clone()))?;
    }
    // Band labels at their centres where they fit, in the colour of the band.
    let centres: Vec<f64> = order.iter().zip(&tops).map(|(p, &top)| chart.backend_coord(&(0.0, top as f64 - p.size as f64 / 2.0)).1 as f64).collect();
    let st = text_style(12).pos(Pos::new(HPos::Right, VPos::Center));
    for i in pick_labels(&centres, 14.0) {
        let (x, y) = chart.backend_coord(&(0.0, tops[i] as f64 - order[i].size as f64 / 2.0));
        let c = colour(i);
        root.draw(&Rectangle::new([(x - 5, y - 4), (x - 1, y + 4)], c.filled()))?;
        root.draw(&Text::new(clip(&order[i].name, 16), (x - 8, y), st.clone()))?;
    }
    Ok(())
}

/// A colour from white (0) to dark red (1).
fn heat(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    RGBColor((255.0 - 90.0 * v) as u8, (255.0 - 235.0 * v) as u8, (255.0 - 235.0 * v) as u8)
}

/// Most tiles the maps draw one by one (unused ones faintly). Beyond, a
/// tile is under two pixels wide, and a zoom box as large as an edited
/// summary's grid (up to 2^64 tiles) would never be done.
pub const TILES_DRAWN: u64 = 1 << 18;

/// Tiles in the zoom box `(x0, x1, y0, y1)`.
fn tiles_in((x0, x1, y0, y1): (u32, u32, u32, u32)) -> u64 {
    (x1 as u64 - x0 as u64 + 1) * (y1 as u64 - y0 as u64 + 1)
}

/// Width of the colour-scale panel beside the maps.
const BAR_W: u32 = 130;

/// A tile grid chart over the tiles `(x0..=x1, y0..=y1)`: tile (x, y) is centred at (x, y), integer ticks.
fn tile_chart<'a, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    (x0, x1, y0, y1): (u32, u32, u32, u32),
    pad: f64,
) -> R<ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(plot)
        .margin(10)
        .margin_top(20)
        .x_label_area_size(35)
        .y_label_area_size(40)
        .build_cartesian_2d(x0 as f64 - pad..x1 as f64 + pad, y0 as f64 - pad..y1 as f64 + pad)?;
    chart
        .configure_mesh()
        .x_desc("tile x")
        .y_desc("tile y")
        .x_labels(((x1 - x0 + 1) as usize).min(16))
        .y_labels(((y1 - y0 + 1) as usize).min(16))
        .x_label_formatter(&|v| int_tick(*v))
        .y_label_formatter(&|v| int_tick(*v))
        .label_style((FONT, 12))
        .disable_mesh()
        .draw()?;
    Ok(chart)
}

/// Tick labels of a colour scale for values 0..=max shown at fraction `to_f(v / max)`.
fn scale_ticks(max: f64, unit: &str, to_f: impl Fn(f64) -> f64) -> Vec<(f64, String)> {
    [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&q| {
            let v = max * q;
            (to_f(q), if unit.is_empty() { format!("{}", v.round()) } else { short_eng(v, unit) })
        })
        .collect()
}

fn activity<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    // Tiles at their grid positions, each divided into its cores; colour = busy time.
    let body = area.titled(&caption(s, "Core activity (busy time) on the chip grid"), (FONT, 18))?;
    let (plot, side) = body.split_horizontally(body.dim_in_pixel().0 - BAR_W);
    let used = &s.cores;
    let bx = zoom_box(used.iter().map(|c| (c.x, c.y)), s.machine.grid, 1);
    let (x0, x1, y0, y1) = bx;
    let busy_max = used.iter().map(|c| c.busy_ns).fold(0.0f64, f64::max).max(1e-12);
    let mut chart = tile_chart(&plot, bx, 0.5)?;
    let cpt = s.machine.cores_per_tile.max(1) as f64;
    let cols = cpt.sqrt().ceil();
    let rows = (cpt / cols).ceil();
    // Chip edges inside the view, as lines between tiles (when a chip holds more than one tile).
    let [tx, ty] = s.machine.tiles_per_chip;
    let (tx, ty) = (tx.max(1), ty.max(1));
    let few = tiles_in(bx) <= TILES_DRAWN;
    let chip_edges = few && ((x0 + 1..=x1).any(|x| x % tx == 0) || (y0 + 1..=y1).any(|y| y % ty == 0));
    if tx as u64 * ty as u64 > 1 && chip_edges {
        let (fx0, fx1, fy0, fy1) = (x0 as f64 - 0.5, x1 as f64 + 0.5, y0 as f64 - 0.5, y1 as f64 + 0.5);
        let style = ShapeStyle::from(&BLUE.mix(0.5)).stroke_width(2);
        let vx = (x0 + 1..=x1).filter(|x| x % tx == 0).map(|x| vec![(x as f64 - 0.5, fy0), (x as f64 - 0.5, fy1)]);
        let hy = (y0 + 1..=y1).filter(|y| y % ty == 0).map(|y| vec![(fx0, y as f64 - 0.5), (fx1, y as f64 - 0.5)]);
        chart.draw_series(vx.chain(hy).map(|p| PathElement::new(p, style)))?;
    }
    // Every tile in view outlined faintly (when they are few); used tiles' cores coloured, outlined.
    chart.draw_series((x0..=x1).flat_map(|x| (y0..=y1).map(move |y| (x, y))).take_while(|_| few).map(|(x, y)| {
        Rectangle::new([(x as f64 - 0.45, y as f64 - 0.45), (x as f64 + 0.45, y as f64 + 0.45)], ShapeStyle::from(&BLACK.mix(0.15)).stroke_width(1))
    }))?;
    let (w, h) = (0.9 / cols, 0.9 / rows);
    let corner = |c: &crate::summary::CoreRow| {
        let (cx, cy) = ((c.local as f64 % cols), (c.local as f64 / cols).floor());
        (c.x as f64 - 0.45 + cx * w, c.y as f64 + 0.45 - (cy + 1.0) * h)
    };
    chart.draw_series(used.iter().map(|c| {
        let (ax, ay) = corner(c);
        Rectangle::new([(ax + w * 0.05, ay + h * 0.05), (ax + w * 0.95, ay + h * 0.95)], heat(c.busy_ns / busy_max).filled())
    }))?;
    chart.draw_series(used.iter().map(|c| {
        let (ax, ay) = corner(c);
        Rectangle::new([(ax + w * 0.05, ay + h * 0.05), (ax + w * 0.95, ay + h * 0.95)], ShapeStyle::from(&BLACK.mix(0.25)).stroke_width(1))
    }))?;
    let tiles: std::collections::BTreeSet<(u32, u32)> = used.iter().map(|c| (c.x, c.y)).collect();
    chart.draw_series(tiles.iter().map(|&(x, y)| {
        Rectangle::new([(x as f64 - 0.47, y as f64 - 0.47), (x as f64 + 0.47, y as f64 + 0.47)], ShapeStyle::from(&BLACK.mix(0.7)).stroke_width(1))
    }))?;
    colour_bar(&side, &["busy time", "per core"], &scale_ticks(busy_max * 1e-9, "s", |q| q), heat)?;
    if tx as u64 * ty as u64 > 1 && chip_edges {
        let h = side.dim_in_pixel().1 as i32;
        side.draw(&PathElement::new(vec![(10, h - 20), (30, h - 20)], BLUE.mix(0.5).stroke_width(2)))?;
        side.draw(&Text::new("chip edge", (36, h - 20), text_style(12).pos(Pos::new(HPos::Left, VPos::Center))))?;
    }
    Ok(())
}

fn links<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let body = area.titled(&caption(s, "Packets per directed link"), (FONT, 18))?;
    let (plot, side) = body.split_horizontally(body.dim_in_pixel().0 - BAR_W);
    let used: std::collections::BTreeSet<(u32, u32)> = s.cores.iter().map(|c| (c.x, c.y)).collect();
    let busy: Vec<&crate::summary::LinkRow> = s.links.iter().filter(|l| l.packets > 0).collect();
    let bx = zoom_box(used.iter().copied().chain(busy.iter().map(|l| (l.x, l.y))), s.machine.grid, 1);
    let (x0, x1, y0, y1) = bx;
    let mut chart = tile_chart(&plot, bx, 0.7)?;
    let max = busy.iter().map(|l| l.packets).max().unwrap_or(1).max(1) as f64;
    let few = tiles_in(bx) <= TILES_DRAWN;
    chart.draw_series((x0..=x1).flat_map(|x| (y0..=y1).map(move |y| (x, y))).take_while(|_| few).map(|(x, y)| {
        let (c, r) = if used.contains(&(x, y)) { (BLACK.mix(0.6), 4) } else { (BLACK.mix(0.15), 2) };
        Circle::new((x as f64, y as f64), r, c.filled())
    }))?;
    for l in &busy {
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
    if busy.is_empty() {
        let (px, py) = chart.backend_coord(&(x0 as f64 - 0.5, y1 as f64 + 0.5));
        area.draw(&Text::new("no packet crossed a link: all traffic stayed on its tile", (px + 10, py + 10), text_style(13)))?;
    }
    // Colour (and width) go as √(packets ÷ max).
    if busy.is_empty() {
        return Ok(());
    }
    colour_bar(&side, &["packets per link", "(square-root scale)"], &scale_ticks(max, "", |q| q.sqrt()), |f| heat(0.15 + 0.85 * f))?;
    Ok(())
}

/// A share as a percentage with the digits it needs: 42.3%, 0.0059%.
pub fn percent(share: f64) -> String {
    let p = 100.0 * share;
    if p >= 0.1 || p <= 0.0 {
        format!("{p:.1}%")
    } else if p < 1e-6 {
        "< 0.000001%".into()
    } else {
        // Two significant digits: 0.0059%, 0.00025%.
        format!("{:.*}%", (1 - p.log10().floor() as i32) as usize, p)
    }
}

fn energy<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let root = area.clone();
    // Only the kinds that cost something, in the table's order from the top.
    let rows: Vec<&crate::summary::KindRow> = s.energy.by_kind.iter().filter(|r| r.joules > 0.0).collect();
    let n = rows.len();
    let max = rows.iter().map(|r| r.joules).fold(0.0f64, f64::max).max(1e-30);
    let (scale, unit) = if max >= 1.0 {
        (1.0, "J")
    } else if max >= 1e-3 {
        (1e3, "mJ")
    } else if max >= 1e-6 {
        (1e6, "µJ")
    } else if max >= 1e-9 {
        (1e9, "nJ")
    } else {
        (1e12, "pJ")
    };
    let title = format!("Energy by kind — total {}", short_eng(s.energy.total_j, "J"));
    let body = area.titled(&caption(s, &title), (FONT, 18))?;
    let name_w = rows.iter().map(|r| body.estimate_text_size(&r.kind, &text_style(12)).map(|(w, _)| w).unwrap_or(150)).max().unwrap_or(60);
    let mut chart = ChartBuilder::on(&body)
        .margin(10)
        .margin_top(20)
        .margin_right(20)
        .x_label_area_size(35)
        .y_label_area_size(name_w.clamp(40, 260) + 12)
        .build_cartesian_2d(0f64..max * scale * 1.3, 0f64..n.max(1) as f64)?;
    chart.configure_mesh().x_desc(format!("energy ({unit})")).x_label_formatter(&|v| tick(*v)).y_labels(0).label_style((FONT, 12)).disable_y_mesh().draw()?;
    if n == 0 {
        let (px, py) = chart.backend_coord(&(0.0, 1.0));
        root.draw(&Text::new("no energy counted", (px + 10, py + 20), text_style(13)))?;
        return Ok(());
    }
    // Row i from the top spans (n - i - 1, n - i).
    let band = |i: usize| ((n - i - 1) as f64, (n - i) as f64);
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let (lo, hi) = band(i);
        let c = Palette99::pick(i).to_rgba();
        Rectangle::new([(0.0, lo + 0.15), (r.joules * scale, hi - 0.15)], RGBColor(c.0, c.1, c.2).filled())
    }))?;
    let right = text_style(12).pos(Pos::new(HPos::Right, VPos::Center));
    let left = text_style(12).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, r) in rows.iter().enumerate() {
        let (lo, hi) = band(i);
        let (x, y) = chart.backend_coord(&(0.0, (lo + hi) / 2.0));
        root.draw(&Text::new(r.kind.clone(), (x - 6, y), right.clone()))?;
        let (bx, _) = chart.backend_coord(&(r.joules * scale, 0.0));
        root.draw(&Text::new(format!("{} ({})", short_eng(r.joules, "J"), percent(r.share)), (bx + 6, y), left.clone()))?;
    }
    Ok(())
}

fn latency<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, s: &Summary) -> R<()>
where
    DB::ErrorType: 'static,
{
    let v = &s.series.step_ns;
    let bin = s.series.bin.max(1) as f64;
    let (tf, tu) = time_unit((v.len() as f64 * bin * s.dt_ms).max(s.dt_ms));
    let t_of = |i: usize| i as f64 * bin * s.dt_ms * tf;
    let ymax = v.iter().copied().fold(0.0f64, f64::max).max(s.timing.real_time_tick_ns.unwrap_or(0.0)).max(1.0) * 1.1;
    let (scale, unit) = if ymax > 1e6 {
        (1e-6, "ms")
    } else if ymax > 1e3 {
        (1e-3, "µs")
    } else {
        (1.0, "ns")
    };
    let title = format!(
        "Time per timestep (mean {} {unit}, p99 {} {unit})",
        crate::text::significant(s.timing.step_ns.mean * scale, 3),
        crate::text::significant(s.timing.step_ns.p99 * scale, 3)
    );
    let body = area.titled(&caption(s, &title), (FONT, 18))?;
    // The legend in a row of its own above the plot, off the data.
    let (key, plot) = body.split_vertically(24);
    let mut entries: Vec<(RGBColor, &str)> = vec![(BLUE, "critical path (slowest core + network + barrier)")];
    if s.timing.real_time_tick_ns.is_some() {
        entries.push((RED, "real-time tick"));
    }
    let mut x = 80;
    for (c, t) in &entries {
        key.draw(&PathElement::new(vec![(x, 12), (x + 20, 12)], c.stroke_width(2)))?;
        key.draw(&Text::new(t.to_string(), (x + 26, 12), text_style(12).pos(Pos::new(HPos::Left, VPos::Center))))?;
        x += 26 + key.estimate_text_size(t, &text_style(12)).map(|(w, _)| w as i32).unwrap_or(200) + 30;
    }
    let mut chart = ChartBuilder::on(&plot)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..t_of(v.len()).max(s.dt_ms * tf), 0f64..ymax * scale)?;
    chart
        .configure_mesh()
        .x_desc(format!("biological time ({tu})"))
        .y_desc(if bin > 1.0 { format!("step time ({unit}), max per {} steps", bin) } else { format!("step time ({unit})") })
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style((FONT, 12))
        .draw()?;
    // A step function: each bin's value from its start to the next bin's
    // (a line through the starts alone drew nothing for a 1-step run and
    // never held the last bin to its end).
    chart.draw_series(LineSeries::new(v.iter().enumerate().flat_map(|(i, &y)| [(t_of(i), y * scale), (t_of(i + 1), y * scale)]), BLUE.stroke_width(1)))?;
    if let Some(t) = s.timing.real_time_tick_ns {
        chart.draw_series(LineSeries::new(vec![(0.0, t * scale), (t_of(v.len()), t * scale)], RED.stroke_width(2)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Summary {
        serde_json::from_str(include_str!("../tests/data/run_small.json")).unwrap()
    }

    /// (x, y, text) of every text element of an SVG picture.
    fn texts(svg: &str) -> Vec<(f64, f64, String)> {
        let attr = |tag: &str, name: &str| -> f64 {
            let k = format!(" {name}=\"");
            let i = tag.find(&k).unwrap() + k.len();
            tag[i..i + tag[i..].find('"').unwrap()].parse().unwrap()
        };
        svg.split("<text")
            .skip(1)
            .map(|t| {
                let (tag, rest) = t.split_once('>').unwrap();
                let body = rest.split("</text>").next().unwrap().trim().replace("&amp;", "&");
                (attr(tag, "x"), attr(tag, "y"), body)
            })
            .collect()
    }

    #[test]
    fn numbers() {
        for (v, want) in [(20.0, "20"), (0.25, "0.25"), (1000.0, "1000"), (2.5e-7, "2.5e-7"), (0.0, "0"), (-3.0, "-3"), (1234567.0, "1.23457e6")] {
            assert_eq!(tick(v), want, "tick {v}");
        }
        for (v, want) in [(3.0, "3"), (2.9999999, "3"), (2.5, ""), (0.5, "")] {
            assert_eq!(int_tick(v), want, "int_tick {v}");
        }
        for (v, want) in [(0.0235403, "23.5 ms"), (0.0, "0 s"), (2.446e-6, "2.45 µs"), (0.972, "972 ms"), (0.9999999, "1 s")] {
            assert_eq!(short_eng(v, "s"), want, "short_eng {v}");
        }
        for (v, want) in [(1.0, "100.0%"), (0.4234, "42.3%"), (2.5e-6, "0.00025%"), (5.9e-5, "0.0059%"), (0.0, "0.0%")] {
            assert_eq!(percent(v), want, "percent {v}");
        }
        assert_eq!(time_unit(200.0), (1.0, "ms"));
        assert_eq!(time_unit(2_000_000.0), (1e-3, "s"));
    }

    #[test]
    fn zoom_boxes() {
        let g = [32, 32];
        for (tiles, margin, want) in [
            (vec![(3, 4)], 1, (2, 4, 3, 5)),
            (vec![(0, 0)], 1, (0, 1, 0, 1)),
            (vec![(31, 31)], 1, (30, 31, 30, 31)),
            (vec![(2, 9), (5, 1)], 1, (1, 6, 0, 10)),
            (vec![(2, 9), (5, 1)], 0, (2, 5, 1, 9)),
            (vec![], 1, (0, 0, 0, 0)),
        ] {
            assert_eq!(zoom_box(tiles.clone(), g, margin), want, "{tiles:?} margin {margin}");
        }
        assert_eq!(zoom_box([(0, 0)], [1, 1], 2), (0, 0, 0, 0));
    }

    #[test]
    fn labels_keep_their_distance() {
        assert_eq!(pick_labels(&[10.0, 15.0, 24.0, 30.0, 50.0], 14.0), vec![0, 2, 4]);
        assert_eq!(pick_labels(&[10.0, 30.0, 50.0], 14.0), vec![0, 1, 2]);
        assert_eq!(pick_labels(&[], 14.0), Vec::<usize>::new());
    }

    #[test]
    fn maps_zoom_on_the_tiles_in_use_with_integer_ticks_and_a_scale() {
        let mut s = fixture();
        s.machine.grid = [32, 32];
        s.machine.tiles_per_chip = [1, 1];
        for c in &mut s.cores {
            (c.x, c.y) = (10, 7);
        }
        s.links = vec![crate::summary::LinkRow { tile: 0, x: 10, y: 7, dir: "E".into(), packets: 1000 }];
        for name in ["activity", "links"] {
            let t = texts(&svg(name, &s).unwrap());
            let mut nums: Vec<String> = t.iter().filter(|(_, _, b)| b.parse::<f64>().is_ok()).map(|(_, _, b)| b.clone()).collect();
            nums.sort();
            nums.dedup();
            let want =
                if name == "links" { vec!["0", "10", "1000", "11", "250", "500", "6", "7", "750", "8", "9"] } else { vec!["10", "11", "6", "7", "8", "9"] };
            assert_eq!(nums, want, "{name}: tick and scale labels");
            let scale = if name == "links" { "packets per link" } else { "busy time" };
            assert!(t.iter().any(|(_, _, b)| b == scale), "{name}: a colour scale titled {scale}");
        }
    }

    #[test]
    fn raster_in_network_order_names_outside_the_data() {
        let mut s = fixture();
        s.population_order = vec![2, 0, 1];
        let t = texts(&svg("raster", &s).unwrap());
        let y_of = |name: &str| t.iter().find(|(_, _, b)| b == name).unwrap_or_else(|| panic!("no label {name}")).1;
        assert!(y_of("inh") < y_of("stim") && y_of("stim") < y_of("exc"), "bands top-down in population_order: {t:?}");
        // The legend sits right of the plot: every entry right of the last time tick.
        let x_max = t.iter().filter(|(_, _, b)| b.parse::<f64>().is_ok()).map(|(x, _, _)| *x).fold(0.0, f64::max);
        let legend: Vec<_> = t.iter().filter(|(_, _, b)| b.contains("spikes)") || b.contains("not recorded")).collect();
        assert_eq!(legend.len(), 3);
        assert!(legend.iter().all(|(x, _, _)| *x > x_max), "legend right of the data: {legend:?}");
    }

    /// Labelled cells: the most active are named beside the data (with their
    /// spike counts) and at their rows; unlabelled populations name none.
    #[test]
    fn raster_names_the_most_active_labelled_cells() {
        let mut s = fixture();
        let t = texts(&svg("raster", &s).unwrap());
        assert!(!t.iter().any(|(_, _, b)| b.contains("most active cells")), "no labels, no cells named");
        let k = s.raster.populations.iter().position(|p| p.spikes.len() > 2).expect("a population with spikes");
        let p = &mut s.raster.populations[k];
        p.labels = (0..p.size).map(|i| format!("cell{i}")).collect();
        let mut count = std::collections::BTreeMap::new();
        for &(_, nn) in &p.spikes {
            *count.entry(nn).or_insert(0usize) += 1;
        }
        let (&top, &n_top) = count.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).unwrap();
        let t = texts(&svg("raster", &s).unwrap());
        assert!(t.iter().any(|(_, _, b)| b == "most active cells:"), "{t:?}");
        assert!(t.iter().any(|(_, _, b)| *b == format!("cell{top} ({n_top})")), "the busiest cell named with its count: {t:?}");
        assert!(t.iter().any(|(_, _, b)| *b == format!("cell{top}")), "and at its row: {t:?}");
    }

    /// (x, y, width, height, fill) of every rect element of an SVG picture.
    fn rects(svg: &str) -> Vec<(i64, i64, i64, i64, String)> {
        let attr = |tag: &str, name: &str| -> String {
            let k = format!(" {name}=\"");
            let i = tag.find(&k).unwrap() + k.len();
            tag[i..i + tag[i..].find('"').unwrap()].to_string()
        };
        let num = |tag: &str, name: &str| attr(tag, name).parse::<i64>().unwrap();
        svg.split("<rect")
            .skip(1)
            .map(|t| {
                let tag = t.split_once("/>").unwrap().0;
                (num(tag, "x"), num(tag, "y"), num(tag, "width"), num(tag, "height"), attr(tag, "fill"))
            })
            .collect()
    }

    fn svg_colour(i: usize) -> String {
        let c = Palette99::pick(i).to_rgba();
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// A spike under a pixel (a step of a long run, a neuron of a large
    /// population) was an empty rectangle: none of a 10^6-neuron
    /// population's showed, nor the 1-neuron one's beside it.
    #[test]
    fn every_spike_is_at_least_a_pixel() {
        let mut s = fixture();
        s.steps = 100_000;
        let p = s.raster.populations[1].clone();
        s.raster.populations = vec![
            crate::summary::RasterPop { name: "one".into(), size: 1, spikes: (0..10).map(|k| (k * 9_000, 0)).collect(), ..p.clone() },
            crate::summary::RasterPop { name: "big".into(), size: 1_000_000, spikes: (0..10).map(|k| (k * 9_000 + 7, k * 99_999)).collect(), ..p },
        ];
        s.populations.clear();
        s.population_order.clear();
        let r = rects(&svg("raster", &s).unwrap());
        // The plot's extent: the shaded band of the second population.
        let band = r.iter().find(|r| r.4 == "#F4F4F4").unwrap();
        let spikes: Vec<_> = r.iter().filter(|r| (r.4 == svg_colour(0) || r.4 == svg_colour(1)) && r.0 >= band.0 && r.0 < band.0 + band.2).collect();
        assert_eq!(spikes.len(), 20, "{spikes:?}");
        assert!(spikes.iter().all(|r| r.2 >= 1 && r.3 >= 1 && r.0 + r.2 <= band.0 + band.2), "{spikes:?}");
    }

    /// A truncated raster's legend gave the sample's count as the
    /// population's: 990 spikes drawn of 3000 read "990 spikes".
    #[test]
    fn a_truncated_raster_says_how_many_it_draws_of_how_many() {
        let mut s = fixture();
        s.raster.truncated = true;
        let k = s.raster.populations.iter().position(|p| p.name == "exc").unwrap();
        s.raster.populations[k].spikes = (0..990).map(|i| (i, i % 400)).collect();
        s.populations[k].spikes = 3000;
        let t = texts(&svg("raster", &s).unwrap());
        assert!(t.iter().any(|(_, _, b)| b == "exc (990 of 3000 drawn)"), "{t:?}");
        assert!(!t.iter().any(|(_, _, b)| b.contains("990 spikes")));
        // Not truncated, the sample is every spike.
        s.raster.truncated = false;
        let t = texts(&svg("raster", &s).unwrap());
        assert!(t.iter().any(|(_, _, b)| b == "exc (990 spikes)"), "{t:?}");
    }

    /// The points of every polyline of colour `stroke` in an SVG picture.
    fn polylines(svg: &str, stroke: &str) -> Vec<Vec<(f64, f64)>> {
        svg.split("<polyline")
            .skip(1)
            .map(|t| t.split_once("/>").unwrap().0)
            .filter(|t| t.contains(&format!("stroke=\"{stroke}\"")))
            .map(|t| {
                let i = t.find("points=\"").unwrap() + 8;
                let pts = &t[i..i + t[i..].find('"').unwrap()];
                pts.split_whitespace().map(|p| p.split_once(',').map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap())).unwrap()).collect()
            })
            .collect()
    }

    /// The latency of a 1-step run was a line through one point: nothing.
    /// Each bin is drawn from its start to its end.
    #[test]
    fn latency_holds_each_bin_to_its_end() {
        let n = fixture().series.step_ns.len();
        for steps in [1, n] {
            let mut s = fixture();
            s.steps = steps as u64;
            s.series.step_ns.truncate(steps);
            // A shorter run has no spikes past its end (a summary that does is refused).
            for p in &mut s.raster.populations {
                p.spikes.retain(|&(step, _)| (step as u64) < s.steps);
            }
            let lines = polylines(&svg("latency", &s).unwrap(), "#0000FF");
            // The key's sample line is 20 pixels from x = 80, above the plot.
            let data: Vec<_> = lines.iter().filter(|l| !(l.len() == 2 && l[0].0 == 80.0 && l[1].0 == 100.0)).collect();
            assert_eq!(data.len(), 1, "{lines:?}");
            assert_eq!(data[0].len(), 2 * steps, "{steps} steps: {:?}", data[0]);
            let (x0, x1) = (data[0][0].0, data[0][data[0].len() - 1].0);
            assert!(x1 - x0 > 700.0, "{steps} steps: from {x0} to {x1}, the plot's width");
        }
    }

    /// A summary's names went into the SVG as they were: U+0007 or U+FFFF
    /// made a picture that is not XML. Each such character is U+FFFD.
    #[test]
    fn pictures_are_xml_whatever_the_names_hold() {
        let mut s = fixture();
        s.network = "a\u{7}b".into();
        s.arch = "chip\u{FFFE}".into();
        s.raster.populations[1].name = "p\u{FFFF}".into();
        s.raster.populations[1].labels = vec!["c\u{1}".into(); 4];
        s.populations[1].name = "p\u{FFFF}".into();
        s.energy.by_kind[0].kind = "k\u{FFFF}".into();
        for (name, _) in PICTURES {
            let svg = svg(name, &s).unwrap();
            assert!(svg.chars().all(nerve_isa::names::xml_char), "{name}: {:?}", svg.chars().find(|&c| !nerve_isa::names::xml_char(c)));
            assert!(svg.contains("a\u{FFFD}b"), "{name}: the network's name, its bad character replaced");
        }
        assert!(svg("raster", &s).unwrap().contains("p\u{FFFD}"));
    }

    #[test]
    fn raster_of_many_populations_stays_on_the_picture() {
        let mut s = fixture();
        let p = s.raster.populations[1].clone();
        s.raster.populations = (0..474).map(|i| crate::summary::RasterPop { name: format!("p{i}"), size: 4, spikes: vec![(i, 1)], ..p.clone() }).collect();
        s.populations.clear();
        s.population_order.clear();
        let t = texts(&svg("raster", &s).unwrap());
        let names: Vec<&(f64, f64, String)> = t.iter().filter(|(_, _, b)| b.starts_with('p') && b[1..].parse::<u32>().is_ok()).collect();
        assert!(names.len() >= 10 && names.len() <= 40, "{} population labels", names.len());
        assert!(names.iter().all(|(x, y, _)| *x >= 0.0 && *x <= 900.0 && *y >= 0.0 && *y <= 520.0), "labels on the picture: {names:?}");
        let ys: Vec<f64> = names.iter().map(|(_, y, _)| *y).collect();
        assert!(ys.windows(2).all(|w| w[1] - w[0] >= 14.0), "labels apart: {ys:?}");
        assert!(t.iter().any(|(_, _, b)| b.starts_with("474 populations")));
    }

    /// Pictures of a summary made in memory are checked as `read` checks a
    /// file's: an infinite time axis was an endless loop of axis ticks.
    #[test]
    fn pictures_refuse_absurd_values_and_stay_bounded() {
        let mut s = fixture();
        s.dt_ms = 1e307;
        for (name, _) in PICTURES {
            let e = svg(name, &s).unwrap_err().to_string();
            assert!(e.contains("`dt_ms` = 1e307"), "{name}: {e}");
        }
        // A grid of 2^62 tiles with cores at two corners; a labelled
        // population of 4·10^9 neurons with 2 labels: drawn at once.
        let mut s = fixture();
        s.machine.grid = [u32::MAX, u32::MAX];
        s.machine.tiles_per_chip = [u32::MAX, 2];
        (s.cores[0].x, s.cores[0].y) = (u32::MAX - 1, u32::MAX - 1);
        s.links = vec![crate::summary::LinkRow { tile: 0, x: u32::MAX - 1, y: 0, dir: "E".into(), packets: 3 }];
        let k = s.raster.populations.iter().position(|p| !p.spikes.is_empty()).unwrap();
        s.raster.populations[k].size = 4_000_000_000;
        s.raster.populations[k].labels = vec!["a".into(), "b".into()];
        let t = std::time::Instant::now();
        for (name, _) in PICTURES {
            svg(name, &s).unwrap();
        }
        assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    }

    #[test]
    fn energy_rows_are_the_kinds_that_cost_something() {
        let s = fixture();
        let t = texts(&svg("energy", &s).unwrap());
        for r in &s.energy.by_kind {
            let n = t.iter().filter(|(_, _, b)| *b == r.kind).count();
            assert_eq!(n, usize::from(r.joules > 0.0), "{}: {} J", r.kind, r.joules);
        }
        assert!(s.energy.by_kind.iter().any(|r| r.joules == 0.0) && s.energy.by_kind.iter().filter(|r| r.joules > 0.0).count() >= 2);
    }
}
