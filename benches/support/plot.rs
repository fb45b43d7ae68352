//! A small SVG line chart, written by hand: time against delta size, one panel per
//! command, regraft's series next to git's, on logarithmic axes so growth can be compared.

use std::fmt::Write;

/// One measured point: the delta size (commits to pick) and both sides' medians in ms.
#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    /// Whether the point belongs to the series of built histories (joined by a line); the
    /// others (real clones) stand alone, drawn hollow.
    pub series: bool,
    pub size: f64,
    pub ours_ms: f64,
    pub git_ms: f64,
}

/// One panel: a command and what git side it is measured against.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub git_name: String,
    pub points: Vec<Point>,
}

const PANEL_W: f64 = 330.0;
const PANEL_H: f64 = 260.0;
const MARGIN_L: f64 = 58.0;
const MARGIN_B: f64 = 46.0;
const MARGIN_T: f64 = 34.0;
const OURS: &str = "#1f77b4";
const GIT: &str = "#d62728";

/// Returns the SVG text of `panels` side by side, with `caption` under them.
pub fn svg(panels: &[Panel], caption: &str) -> String {
    let width = PANEL_W * panels.len() as f64 + 20.0;
    let height = PANEL_H + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (i, panel) in panels.iter().enumerate() {
        draw_panel(&mut out, panel, 10.0 + PANEL_W * i as f64);
    }
    let _ = writeln!(
        out,
        r##"<text x="10" y="{}" fill="#444">{}</text>"##,
        PANEL_H + 28.0,
        escape(caption)
    );
    out.push_str("</svg>\n");
    out
}

fn draw_panel(out: &mut String, panel: &Panel, x0: f64) {
    let mut points = panel.points.clone();
    points.sort_by(|a, b| a.size.total_cmp(&b.size));
    let sizes = points.iter().map(|p| p.size);
    let times = points.iter().flat_map(|p| [p.ours_ms, p.git_ms]);
    let (x_lo, x_hi) = decades(sizes);
    let (y_lo, y_hi) = decades(times);
    let (left, right) = (x0 + MARGIN_L, x0 + PANEL_W - 12.0);
    let (top, bottom) = (MARGIN_T, PANEL_H - MARGIN_B + MARGIN_T - 20.0);
    let x = |v: f64| left + (v.log10() - x_lo) / (x_hi - x_lo) * (right - left);
    let y = |v: f64| bottom - (v.log10() - y_lo) / (y_hi - y_lo) * (bottom - top);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="16" font-size="13" font-weight="bold">{}</text>"#,
        left,
        escape(&panel.title)
    );
    let _ = writeln!(
        out,
        r##"<rect x="{left}" y="{top}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
        right - left,
        bottom - top
    );
    for d in x_lo as i32..=x_hi as i32 {
        let v = 10f64.powi(d);
        let _ = writeln!(
            out,
            r##"<line x1="{0}" y1="{top}" x2="{0}" y2="{bottom}" stroke="#eee"/><text x="{0}" y="{1}" text-anchor="middle">{2}</text>"##,
            x(v),
            bottom + 14.0,
            human(v)
        );
    }
    for d in y_lo as i32..=y_hi as i32 {
        let v = 10f64.powi(d);
        let _ = writeln!(
            out,
            r##"<line x1="{left}" y1="{0}" x2="{right}" y2="{0}" stroke="#eee"/><text x="{1}" y="{2}" text-anchor="end">{3}</text>"##,
            y(v),
            left - 4.0,
            y(v) + 4.0,
            ms_label(v)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">commits to pick (delta size)</text>"#,
        (left + right) / 2.0,
        bottom + 30.0
    );
    for (color, name, pick) in [
        (OURS, "regraft".to_string(), (|p: &Point| p.ours_ms) as fn(&Point) -> f64),
        (GIT, panel.git_name.clone(), |p: &Point| p.git_ms),
    ] {
        let path: Vec<String> = points
            .iter()
            .filter(|p| p.series)
            .map(|p| format!("{:.1},{:.1}", x(p.size), y(pick(p))))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1.5"/>"#,
            path.join(" ")
        );
        for p in &points {
            let fill = if p.series { color } else { "white" };
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{fill}" stroke="{color}" stroke-width="1.5"><title>{}: {} {:.0} ms</title></circle>"#,
                x(p.size),
                y(pick(p)),
                escape(&p.label),
                escape(&name),
                pick(p)
            );
        }
        let row = if color == OURS { 0.0 } else { 1.0 };
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="10" height="3" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            left + 6.0,
            top + 9.0 + 13.0 * row,
            left + 20.0,
            top + 13.0 + 13.0 * row,
            escape(&name)
        );
    }
    for p in &points {
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="9" fill="#666" text-anchor="middle">{}</text>"##,
            x(p.size),
            y(p.ours_ms.max(p.git_ms)) - 6.0,
            escape(&p.label)
        );
    }
}

/// Returns the decades (log10, whole numbers) that hold every value.
fn decades(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| *v > 0.0) {
        lo = lo.min(v.log10());
        hi = hi.max(v.log10());
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let (lo, hi) = (lo.floor(), hi.ceil());
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

fn human(v: f64) -> String {
    if v >= 1000.0 { format!("{}k", v / 1000.0) } else { format!("{v}") }
}

fn ms_label(v: f64) -> String {
    if v >= 1000.0 { format!("{} s", v / 1000.0) } else { format!("{v} ms") }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
