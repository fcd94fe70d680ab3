//! Server-rendered SVG charts (askama templates, so every label is escaped): horizontal
//! bars and a line. Each has a `<title>` per mark for hover values and a table for screen
//! readers and print.

use askama::Template;
use crm_core::analytics::Point;

/// A series as chart rows, each label passed through `label`.
pub fn rows(points: &[Point], label: impl Fn(&str) -> String) -> Vec<(String, f64)> {
    points.iter().map(|p| (label(&p.label), p.value)).collect()
}

/// A figure where space is short: `950`, `12.5k`, `1.2M`, `3B` (one decimal, none when it
/// is zero; rounding never shows `1000k`). The full value goes in the tooltip and the table.
pub fn compact(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a.round() < 1000.0 {
        return format!("{sign}{}", a.round());
    }
    let units = [(1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T")];
    let mut i = 0;
    // move up a unit when rounding to one decimal would print 1000 of this one
    while i + 1 < units.len() && (a / units[i].0 * 10.0).round() / 10.0 >= 1000.0 {
        i += 1;
    }
    let (div, unit) = units[i];
    let shown = (a / div * 10.0).round() / 10.0;
    let text = format!("{shown:.1}");
    format!("{sign}{}{unit}", text.trim_end_matches(".0"))
}

/// Money where space is short, in the organisation's currency: `$950`, `$12.5k`, `€1.2M`.
pub fn compact_money(v: f64) -> String {
    let settings = crate::web::org::current();
    let (symbol, _) = settings.money_style();
    let c = compact(v);
    match c.strip_prefix('-') {
        Some(rest) => format!("-{symbol}{rest}"),
        None => format!("{symbol}{c}"),
    }
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
    /// A meaning for the bars' colour (`won`), or empty for the accent.
    pub tone: String,
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
            tone: String::new(),
        }
    }

    /// Colour the bars by a meaning: `won` → the success green.
    pub fn tone(mut self, tone: &str) -> Self {
        self.tone = tone.to_string();
        self
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
    /// The axis' bottom value (0 unless the series sits far above zero).
    pub base_text: String,
    /// A meaning for the line's colour (`won`), or empty for the accent.
    pub tone: String,
}

impl LineChart {
    pub fn new(title: &str, rows: &[(String, f64)], fmt: impl Fn(f64) -> String) -> Self {
        let top = rows.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let low = rows.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
        let empty = top <= 0.0;
        // the axis ends on a round value above the highest point; a flat zero line says so
        let max = if empty { 1.0 } else { nice_ceiling(top) };
        // a series that moves little far above zero (a running total) starts its axis at a
        // round value below its lowest point, so the change shows instead of a flat line
        let base = if !empty && low > 0.0 && top - low < top * 0.5 {
            nice_floor(low, top)
        } else {
            0.0
        };
        let max = if base > 0.0 { nice_ceiling_above(top, base) } else { max };
        let n = rows.len().max(2) as f64 - 1.0;
        let marks: Vec<(f64, f64, String, String)> = rows
            .iter()
            .enumerate()
            .map(|(i, (label, v))| {
                (
                    76.0 + i as f64 * 404.0 / n,
                    170.0 - (v - base) / (max - base) * 150.0,
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
            base_text: fmt(base),
            empty,
            marks,
            tone: String::new(),
        }
    }

    /// Colour the line by a meaning: `won` → the success green.
    pub fn tone(mut self, tone: &str) -> Self {
        self.tone = tone.to_string();
        self
    }
}

/// A round value at or below `low`, in steps of the range's order of magnitude: the bottom
/// of an axis for a series between `low` and `top`.
pub fn nice_floor(low: f64, top: f64) -> f64 {
    let step = 10f64.powf((top - low).max(1.0).log10().floor());
    ((low / step).floor() * step).max(0.0)
}

/// A round top above `top` for an axis starting at `base`.
fn nice_ceiling_above(top: f64, base: f64) -> f64 {
    base + nice_ceiling((top - base).max(1.0))
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
    /// The slice's row in the rows given to `DonutChart::new`.
    pub index: usize,
    /// The colour class: `chart-c0`… by position, or a meaning (`chart-won`, `chart-high`).
    pub color: String,
}

/// A donut: shares of a whole, with a legend that names each slice, its value and share.
#[derive(Template)]
#[template(path = "web/donut_chart.html")]
pub struct DonutChart {
    pub title: String,
    pub slices: Vec<Slice>,
    pub total: f64,
    /// The centre figure, compact (`$1.2M`).
    pub total_text: String,
    /// The total in full, for the centre's tooltip and the table.
    pub total_full: String,
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
                    index: i,
                    color: format!("chart-c{}", i % 7),
                };
                start += percent;
                s
            })
            .collect();
        let total_full = fmt(total);
        let mut chart = DonutChart {
            title: title.to_string(),
            slices,
            total,
            total_text: total_full.clone(),
            total_full,
            total_size: 0.0,
        };
        chart.set_centre(chart.total_full.clone());
        chart
    }

    /// The centre figure printed by `short` (e.g. `compact_money`); tooltip and table keep
    /// the full value.
    pub fn short(mut self, short: impl Fn(f64) -> String) -> Self {
        let total = self.total;
        self.set_centre(short(total));
        self
    }

    /// One colour class per row, in the order of the rows given to `new` (rows with no value
    /// have no slice): `won` → `chart-won`.
    pub fn tones(mut self, tones: &[&str]) -> Self {
        for s in &mut self.slices {
            if let Some(t) = tones.get(s.index) {
                s.color = format!("chart-{t}");
            }
        }
        self
    }

    fn set_centre(&mut self, text: String) {
        self.total_size = (44.0 / text.chars().count().max(1) as f64).clamp(2.2, 5.0);
        self.total_text = text;
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
    /// The colour class of each series (`chart-c0`… unless given a meaning with `tones`).
    pub tones: Vec<String>,
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
            tones: (0..series.len()).map(|i| format!("chart-c{}", i % 7)).collect(),
            height: 16 + rows.len() as u32 * 32,
            rows,
        }
    }
}

impl StackedChart {
    /// One colour class per series, by meaning: `open` → `chart-open`.
    pub fn tones(mut self, tones: &[&str]) -> Self {
        for (slot, t) in self.tones.iter_mut().zip(tones) {
            *slot = format!("chart-{t}");
        }
        self
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
        assert_eq!(some.base_text, "$0");
        // a running total from 1,000 to 1,030 shows its climb: the axis starts at 1,000
        let growth = LineChart::new("Contacts", &[("a".into(), 1000.0), ("b".into(), 1030.0)], |v| {
            format!("{v:.0}")
        });
        assert_eq!(growth.base_text, "1000");
        assert_eq!(growth.max_text, "1050");
        let ys: Vec<f64> = growth.marks.iter().map(|m| m.1).collect();
        assert!(ys[0] - ys[1] > 50.0, "the change is drawn visibly: {ys:?}");
    }

    #[test]
    fn compact_figures_fit_a_donut_and_keep_the_full_value_in_the_tooltip() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(999.4), "999");
        assert_eq!(compact(999.6), "1k");
        assert_eq!(compact(1000.0), "1k");
        assert_eq!(compact(12_500.0), "12.5k");
        assert_eq!(compact(12_549.0), "12.5k");
        assert_eq!(compact(999_949.0), "999.9k");
        assert_eq!(compact(999_950.0), "1M", "never 1000k");
        assert_eq!(compact(1_234_567.0), "1.2M");
        assert_eq!(compact(3_000_000_000.0), "3B");
        assert_eq!(compact(-12_500.0), "-12.5k");
        assert_eq!(compact_money(1_234_567.89), "$1.2M");
        assert_eq!(compact_money(740.0), "$740");
        assert_eq!(compact_money(-2_500.0), "-$2.5k");

        let donut = DonutChart::new(
            "Deals by status (value)",
            &[
                ("Open".into(), 1_000_000.0),
                ("Won".into(), 234_567.0),
                ("Lost".into(), 0.0),
            ],
            crate::web::money_whole,
        )
        .tones(&["open", "won", "lost"])
        .short(compact_money);
        assert_eq!(donut.total_text, "$1.2M");
        assert_eq!(donut.total_full, "$1,234,567");
        let colours: Vec<&str> = donut.slices.iter().map(|s| s.color.as_str()).collect();
        assert_eq!(
            colours,
            ["chart-open", "chart-won"],
            "a colour per meaning; no slice for zero"
        );
        let html = donut.render().unwrap_or_default();
        assert!(html.contains(">$1.2M</text>"), "{html}");
        assert!(html.contains("<title>Total: $1,234,567</title>"), "{html}");
        assert!(
            html.contains("<td>$1,234,567</td>"),
            "the table keeps the full total: {html}"
        );
    }
}
