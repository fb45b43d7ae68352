//! Inline SVG charts drawn here: no script, so the page prints as it shows.

use std::fmt::Write;

use super::escape;

/// Returns a timeline: for each week (Monday-based, UTC) from the first to the last, a bar
/// per series (`series` are (name, CSS colour, Unix times of its commits)).
pub fn weekly(series: &[(&str, &str, Vec<i64>)]) -> String {
    const WEEK: i64 = 7 * 86_400;
    // 1970-01-05 was a Monday.
    let week_of = |t: i64| (t - 4 * 86_400).div_euclid(WEEK);
    let all: Vec<i64> = series.iter().flat_map(|s| s.2.iter().map(|t| week_of(*t))).collect();
    let (Some(&first), Some(&last)) = (all.iter().min(), all.iter().max()) else {
        return "<p class=\"muted\">No commits on either side.</p>".to_string();
    };
    let weeks = usize::try_from(last - first + 1).expect("a positive span");
    let mut counts = vec![vec![0usize; weeks]; series.len()];
    for (s, (_, _, times)) in series.iter().enumerate() {
        for t in times {
            counts[s][usize::try_from(week_of(*t) - first).expect("in the span")] += 1;
        }
    }
    let max = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
    let (left, top, plot_h) = (34.0, 14.0 + 14.0 * series.len() as f64, 140.0);
    let slot = (900.0 / weeks as f64).clamp(2.0, 40.0);
    let bar = (slot / series.len() as f64 * 0.9).max(1.0);
    let width = (left + slot * weeks as f64 + 10.0).max(440.0);
    let right = left + slot * weeks as f64;
    let height = top + plot_h + 34.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         role=\"img\" aria-label=\"commits per week\">"
    );
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"12\">{max}</text><text x=\"0\" y=\"{:.0}\">0</text>",
        top + plot_h
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#9aa4ad\"/>",
        top + plot_h,
        right,
        top + plot_h
    );
    for (s, (name, colour, _)) in series.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{left}\" y=\"{:.0}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\">{}</text>",
            2.0 + 14.0 * s as f64,
            left + 14.0,
            11.0 + 14.0 * s as f64,
            escape(name)
        );
        for (w, &n) in counts[s].iter().enumerate() {
            if n == 0 {
                continue;
            }
            let h = plot_h * n as f64 / max as f64;
            let x = left + slot * w as f64 + bar * s as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{colour}\">\
                 <title>week of {}: {n} on {}</title></rect>",
                top + plot_h - h,
                super::date((first + w as i64) * WEEK + 4 * 86_400),
                escape(name)
            );
        }
    }
    // A date under the first, the middle and the last week.
    let mut labelled = vec![0, weeks / 2, weeks - 1];
    labelled.dedup();
    // Labels are 70 pixels wide: no two on top of each other.
    labelled.retain(|w| *w == 0 || slot * *w as f64 >= 75.0);
    for w in labelled {
        let x = left + slot * w as f64;
        let _ = write!(
            svg,
            "<text x=\"{x:.0}\" y=\"{:.0}\">{}</text>",
            top + plot_h + 16.0,
            super::date((first + w as i64) * WEEK + 4 * 86_400)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Returns a horizontal bar chart of `(label, count)`, largest first as given.
pub fn bars(items: &[(String, usize)], colour: &str) -> String {
    if items.is_empty() {
        return "<p class=\"muted\">None predicted.</p>".to_string();
    }
    let max = items.iter().map(|i| i.1).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row) = (150.0, 260.0, 20.0);
    let height = row * items.len() as f64 + 6.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{height:.0}\" \
         role=\"img\" aria-label=\"conflicts by file area\">",
        label_w + bar_w + 50.0
    );
    for (k, (label, n)) in items.iter().enumerate() {
        let y = row * k as f64 + 3.0;
        let w = bar_w * *n as f64 / max as f64;
        let shown: String = label.chars().take(22).collect();
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.0}\">{}</text><rect x=\"{label_w}\" y=\"{y:.0}\" width=\"{w:.1}\" \
             height=\"14\" fill=\"{colour}\"/><text x=\"{:.0}\" y=\"{:.0}\">{n}</text>",
            y + 11.0,
            escape(&shown),
            label_w + w + 4.0,
            y + 11.0
        );
    }
    svg.push_str("</svg>");
    svg
}
