//! Server-rendered SVG charts (askama templates, so every label is escaped): horizontal
//! bars and a line. Each has a `<title>` per mark for hover values and a table for screen
//! readers and print.

use askama::Template;
use crm_core::analytics::Point;

/// A series as chart rows, each label passed through `label`.
pub fn rows(points: &[Point], label: impl Fn(&str) -> String) -> Vec<(String, f64)> {
    points.iter().map(|p| (label(&p.label), p.value)).collect()
}

/// `call` → `Call`.
pub fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub struct Bar {
    pub label: String,
    pub value_text: String,
    pub y: u32,
    pub width: f64,
}

#[derive(Template)]
#[template(path = "web/bar_chart.html")]
pub struct BarChart {
    pub title: String,
    pub bars: Vec<Bar>,
    pub height: u32,
}

impl BarChart {
    /// `rows` are (label, value); `fmt` prints a value.
    pub fn new(title: &str, rows: &[(String, f64)], fmt: impl Fn(f64) -> String) -> Self {
        let max = rows.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let bars = rows
            .iter()
            .enumerate()
            .map(|(i, (label, v))| Bar {
                label: label.clone(),
                value_text: fmt(*v),
                y: 8 + i as u32 * 32,
                width: if max > 0.0 { (v / max) * 240.0 } else { 0.0 },
            })
            .collect();
        BarChart {
            title: title.to_string(),
            bars,
            height: 16 + rows.len() as u32 * 32,
        }
    }
}

#[derive(Template)]
#[template(path = "web/line_chart.html")]
pub struct LineChart {
    pub title: String,
    pub points: String,
    /// The area under the line (the polyline closed along the x axis).
    pub area: String,
    pub marks: Vec<(f64, f64, String, String)>,
    pub first: String,
    pub last: String,
    /// The axis' top value; empty when every point is zero.
    pub max_text: String,
    /// Every point is zero: the chart says there is nothing yet.
    pub empty: bool,
}

impl LineChart {
    pub fn new(title: &str, rows: &[(String, f64)], fmt: impl Fn(f64) -> String) -> Self {
        let top = rows.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let empty = top <= 0.0;
        // the axis ends on a round value above the highest point; a flat zero line says so
        let max = if empty { 1.0 } else { nice_ceiling(top) };
        let n = rows.len().max(2) as f64 - 1.0;
        let marks: Vec<(f64, f64, String, String)> = rows
            .iter()
            .enumerate()
            .map(|(i, (label, v))| {
                (
                    76.0 + i as f64 * 404.0 / n,
                    170.0 - v / max * 150.0,
                    label.clone(),
                    fmt(*v),
                )
            })
            .collect();
        let points = marks
            .iter()
            .map(|(x, y, _, _)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        let area = match (marks.first(), marks.last()) {
            (Some(a), Some(b)) => format!("{:.1},170 {points} {:.1},170", a.0, b.0),
            _ => String::new(),
        };
        LineChart {
            title: title.to_string(),
            area,
            points,
            first: rows.first().map(|r| r.0.clone()).unwrap_or_default(),
            last: rows.last().map(|r| r.0.clone()).unwrap_or_default(),
            max_text: if empty { String::new() } else { fmt(max) },
            empty,
            marks,
        }
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `v` (> 0): a round top for an axis.
pub fn nice_ceiling(v: f64) -> f64 {
    let step = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * step)
        .find(|c| *c >= v)
        .unwrap_or(v)
}

pub struct Slice {
    pub label: String,
    pub value_text: String,
    pub percent: f64,
    /// `stroke-dasharray` and `stroke-dashoffset` on a circle of circumference 100.
    pub dash: String,
    pub offset: f64,
    pub color: usize,
}

/// A donut: shares of a whole, with a legend that names each slice, its value and share.
#[derive(Template)]
#[template(path = "web/donut_chart.html")]
pub struct DonutChart {
    pub title: String,
    pub slices: Vec<Slice>,
    pub total_text: String,
    /// Font size of the centre text, so long totals stay inside the ring.
    pub total_size: f64,
}

impl DonutChart {
    pub fn new(title: &str, rows: &[(String, f64)], fmt: impl Fn(f64) -> String) -> Self {
        let total: f64 = rows.iter().map(|(_, v)| v.max(0.0)).sum();
        let mut start = 0.0;
        let slices = rows
            .iter()
            .enumerate()
            .filter(|(_, (_, v))| *v > 0.0)
            .map(|(i, (label, v))| {
                let percent = v / total * 100.0;
                let s = Slice {
                    label: label.clone(),
                    value_text: fmt(*v),
                    percent: (percent * 10.0).round() / 10.0,
                    dash: format!("{percent:.3} {:.3}", 100.0 - percent),
                    offset: 25.0 - start,
                    color: i % 7,
                };
                start += percent;
                s
            })
            .collect();
        let total_text = fmt(total);
        DonutChart {
            title: title.to_string(),
            slices,
            total_size: (44.0 / total_text.chars().count().max(1) as f64).clamp(2.2, 5.0),
            total_text,
        }
    }
}

/// One row of a stacked bar: a label and its parts, in series order.
pub struct StackRow {
    pub label: String,
    pub parts: Vec<(f64, f64, String)>,
    pub y: u32,
    pub total_text: String,
    /// Where the row's last part ends (the total is written after it).
    pub end_x: f64,
}

/// Horizontal stacked bars: each row split into series (e.g. open / completed).
#[derive(Template)]
#[template(path = "web/stacked_chart.html")]
pub struct StackedChart {
    pub title: String,
    pub series: Vec<String>,
    pub rows: Vec<StackRow>,
    pub height: u32,
}

impl StackedChart {
    /// `rows` are (label, values per series); `fmt` prints a value.
    pub fn new(title: &str, series: &[&str], rows: &[(String, Vec<f64>)], fmt: impl Fn(f64) -> String) -> Self {
        let max = rows.iter().map(|(_, v)| v.iter().sum::<f64>()).fold(0.0, f64::max);
        let rows = rows
            .iter()
            .enumerate()
            .map(|(i, (label, values))| {
                let mut x = 130.0;
                let parts = values
                    .iter()
                    .map(|v| {
                        let w = if max > 0.0 { v / max * 240.0 } else { 0.0 };
                        let part = (x, w, fmt(*v));
                        x += w;
                        part
                    })
                    .collect();
                StackRow {
                    end_x: x,
                    label: label.clone(),
                    parts,
                    y: 8 + i as u32 * 32,
                    total_text: fmt(values.iter().sum()),
                }
            })
            .collect::<Vec<_>>();
        StackedChart {
            title: title.to_string(),
            series: series.iter().map(|s| s.to_string()).collect(),
            height: 16 + rows.len() as u32 * 32,
            rows,
        }
    }
}

/// One stage of a funnel: a centred bar as wide as its share of the first stage.
pub struct FunnelStep {
    pub label: String,
    pub value_text: String,
    pub note: String,
    pub x: f64,
    pub width: f64,
    pub y: u32,
}

#[derive(Template)]
#[template(path = "web/funnel_chart.html")]
pub struct FunnelChart {
    pub title: String,
    pub steps: Vec<FunnelStep>,
    pub height: u32,
}

impl FunnelChart {
    /// `rows` are (label, count, note such as the conversion from the previous stage).
    pub fn new(title: &str, rows: &[(String, f64, String)], fmt: impl Fn(f64) -> String) -> Self {
        let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
        let steps = rows
            .iter()
            .enumerate()
            .map(|(i, (label, v, note))| {
                let width = if max > 0.0 { (v / max * 200.0).max(2.0) } else { 2.0 };
                FunnelStep {
                    label: label.clone(),
                    value_text: fmt(*v),
                    note: note.clone(),
                    x: 250.0 - width / 2.0,
                    width,
                    y: 8 + i as u32 * 40,
                }
            })
            .collect::<Vec<_>>();
        FunnelChart {
            title: title.to_string(),
            height: 16 + steps.len() as u32 * 40,
            steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_values_and_say_when_nothing_happened() {
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(1234.0), 2000.0);
        assert_eq!(nice_ceiling(2100.0), 2500.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
        let flat = LineChart::new("Revenue", &[("a".into(), 0.0), ("b".into(), 0.0)], |v| {
            format!("${v:.2}")
        });
        assert!(flat.empty);
        assert_eq!(flat.max_text, "", "no '$1.00' axis on an empty chart");
        let html = flat.render().unwrap_or_default();
        assert!(html.contains("Nothing recorded in this period"), "{html}");
        assert!(!html.contains("$1.00"));
        let some = LineChart::new("Revenue", &[("a".into(), 0.0), ("b".into(), 740.0)], |v| {
            format!("${v:.0}")
        });
        assert_eq!(some.max_text, "$1000");
    }
}
