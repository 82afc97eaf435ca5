//! Server-rendered SVG charts: a task's best public score per team over
//! time, and a team's own submissions over time. Each series has its own
//! marker shape and dash pattern and is labelled at its end, so the charts
//! read without colour; a `<title>`/`<desc>` describes them to screen readers.

use std::fmt::Write as _;

use super::PageCtx;
use super::tasks::score;
use crate::db::submissions::SubmissionRow;
use crate::db::tasks::TaskRow;
use crate::error::AppError;
use crate::state::AppState;

/// One line of a chart: (time in ms, value) points in time order.
struct Series {
    label: String,
    points: Vec<(i64, f64)>,
    /// Draw as steps (best so far) rather than dots only.
    step: bool,
}

const W: f64 = 720.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;
const DASHES: &[&str] = &["", "6 3", "2 3", "8 3 2 3", "1 5", "12 4"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |d| d.format("%m-%d %H:%M").to_string())
}

/// A marker of shape `i` centred at (x, y).
fn marker(out: &mut String, i: usize, x: f64, y: f64) {
    let _ = match i % 4 {
        0 => write!(out, r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5"/>"#),
        1 => write!(out, r#"<rect x="{:.1}" y="{:.1}" width="7" height="7"/>"#, x - 3.5, y - 3.5),
        2 => write!(
            out,
            r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z"/>"#,
            y - 4.5,
            x + 4.5,
            y + 3.5,
            x - 4.5,
            y + 3.5
        ),
        _ => write!(
            out,
            r#"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z"/>"#,
            y - 4.5,
            x + 4.5,
            y + 4.5,
            x - 4.5
        ),
    };
}

/// Draws the series; `None` when there is nothing to draw.
fn svg(series: &[Series], title: &str, desc: &str) -> Option<String> {
    let all: Vec<(i64, f64)> = series.iter().flat_map(|s| s.points.iter().copied()).collect();
    if all.is_empty() {
        return None;
    }
    let (t0, t1) = all.iter().fold((i64::MAX, i64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (v0, v1) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let span_t = (t1 - t0).max(1) as f64;
    let pad = ((v1 - v0) * 0.08).max(1e-9);
    let (lo, hi) = (v0 - pad, v1 + pad);
    let x = |t: i64| LEFT + (t - t0) as f64 / span_t * (W - LEFT - RIGHT);
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{}</title><desc id="chart-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    let (bx, by) = (H - BOTTOM, W - RIGHT);
    let _ = write!(
        out,
        r##"<g stroke="#5b6470" fill="none"><path d="M{LEFT} {TOP}V{bx}H{by}"/></g><g font-size="11" fill="#1b1f24"><text x="{:.0}" y="{:.1}" text-anchor="end">{}</text><text x="{:.0}" y="{:.1}" text-anchor="end">{}</text><text x="{LEFT}" y="{:.0}">{}</text><text x="{by}" y="{:.0}" text-anchor="end">{}</text></g>"##,
        LEFT - 6.0,
        y(v1) + 4.0,
        score(v1),
        LEFT - 6.0,
        y(v0) + 4.0,
        score(v0),
        H - BOTTOM + 16.0,
        esc(&day(t0)),
        H - BOTTOM + 16.0,
        esc(&format!("{} UTC", day(t1)))
    );
    let mut label_ys: Vec<f64> = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let Some(&(last_t, last_v)) = s.points.last() else { continue };
        let _ = write!(out, r##"<g class="s{}" stroke="#0b57d0" fill="#0b57d0">"##, i % 6);
        if s.step {
            let mut d = String::new();
            for (j, &(t, v)) in s.points.iter().enumerate() {
                let _ =
                    if j == 0 { write!(d, "M{:.1} {:.1}", x(t), y(v)) } else { write!(d, "H{:.1}V{:.1}", x(t), y(v)) };
            }
            let _ = write!(
                out,
                r#"<path d="{d}" fill="none" stroke-width="1.6" stroke-dasharray="{}"/>"#,
                DASHES[i % DASHES.len()]
            );
        }
        for &(t, v) in &s.points {
            marker(&mut out, i, x(t), y(v));
        }
        // End labels, nudged apart so they never overlap.
        let mut ly = y(last_v) + 4.0;
        while label_ys.iter().any(|&o| (o - ly).abs() < 12.0) {
            ly += 12.0;
        }
        label_ys.push(ly);
        let lx = x(last_t) + 8.0;
        marker(&mut out, i, lx, ly - 4.0);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{ly:.1}" font-size="11" stroke="none">{}</text></g>"#,
            lx + 8.0,
            esc(&s.label)
        );
    }
    out.push_str("</svg>");
    Some(out)
}

/// The leaderboard's chart: the best public score of the top teams over
/// the competition.
pub(super) async fn score_over_time(
    state: &AppState,
    task: &TaskRow,
    spec: &crate::bundle::TaskSpec,
    page: &PageCtx,
) -> Result<Option<String>, AppError> {
    let computed = state.boards.computed(task, spec).await?;
    let series: Vec<Series> = computed
        .leaders
        .iter()
        .map(|(label, points)| Series { label: label.clone(), points: points.clone(), step: true })
        .collect();
    let desc = series
        .iter()
        .map(|s| format!("{}: {}", s.label, s.points.last().map(|p| score(p.1)).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ");
    Ok(svg(&series, page.t("chart_over_time"), &desc))
}

/// "My submissions" chart: every scored submission as a dot, with the
/// best-so-far line.
pub(super) fn own_scores(rows: &[SubmissionRow], page: &PageCtx) -> Option<String> {
    let mut scored: Vec<(i64, f64)> = rows
        .iter()
        .filter_map(|s| {
            s.public_score.filter(|_| s.status == crate::status::SubmissionStatus::Scored).map(|v| (s.created_at, v))
        })
        .collect();
    scored.sort_by_key(|p| p.0);
    let desc = format!("{} {}", scored.len(), page.t("chart_points"));
    let series = [Series { label: page.t("chart_you").to_owned(), points: scored, step: false }];
    svg(&series, page.t("chart_mine"), &desc)
}

/// A person's displayed rating after each rated task.
pub(super) fn rating_history(points: Vec<(i64, f64)>, page: &PageCtx) -> Option<String> {
    if points.len() < 2 {
        return None;
    }
    let desc = points.iter().map(|p| format!("{:.0}", p.1)).collect::<Vec<_>>().join(", ");
    let series = [Series { label: page.t("rating").to_owned(), points, step: true }];
    svg(&series, page.t("rating_history"), &desc)
}

#[cfg(test)]
mod tests {
    use super::{Series, svg};

    #[test]
    fn labels_are_escaped_and_empty_charts_are_absent() {
        let s = Series { label: "<script>x</script>".into(), points: vec![(0, 0.5), (1000, 0.7)], step: true };
        let out = svg(&[s], "t", "d").unwrap_or_default();
        assert!(out.contains("&lt;script&gt;") && !out.contains("<script>"), "{out}");
        assert!(svg(&[Series { label: "a".into(), points: vec![], step: true }], "t", "d").is_none());
    }
}
