//! Time helpers. Timestamps are instants, stored and sent in UTC with millisecond
//! precision; the organisation's time zone (IANA, `org::OrgSettings::time_zone`) decides
//! what a *day* is: "today", due dates given as a date, dashboard and report buckets, the
//! dates pages print. A request runs inside [`in_zone`]; outside one (the CLI, unit tests)
//! the zone is UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, SubsecRound, TimeZone, Utc};
pub use chrono_tz::Tz;

tokio::task_local! {
    static ZONE: Tz;
}

/// Now, truncated to milliseconds (what we store and what we print).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// RFC 3339 UTC with milliseconds: `2026-01-03T18:30:00.000Z`.
pub fn fmt(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn fmt_opt(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(fmt)
}

/// Run `f` with `tz` as the organisation's zone.
pub async fn in_zone<F: std::future::Future>(tz: Tz, f: F) -> F::Output {
    ZONE.scope(tz, f).await
}

/// The organisation's zone of the work being done (UTC outside [`in_zone`]).
pub fn zone() -> Tz {
    ZONE.try_with(|z| *z).unwrap_or(Tz::UTC)
}

/// An IANA zone name (`Europe/Berlin`, `UTC`), or `None`.
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// Every IANA zone name (canonical and linked), sorted.
pub fn zone_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    names.sort_unstable();
    names
}

/// An instant as the organisation's wall clock.
pub fn local(t: &DateTime<Utc>) -> DateTime<Tz> {
    t.with_timezone(&zone())
}

/// Today in the organisation's zone.
pub fn today() -> NaiveDate {
    local(&now()).date_naive()
}

/// The instant a wall-clock time happens in the organisation's zone (in a gap of a clock
/// change, the moment the clock jumps; in an overlap, the earlier).
pub fn from_local(n: NaiveDateTime) -> DateTime<Utc> {
    let tz = zone();
    match tz.from_local_datetime(&n) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // skipped by a clock change: the offset in force just before it
            let before = tz.offset_from_utc_datetime(&n).fix();
            (n - chrono::Duration::seconds(before.local_minus_utc() as i64)).and_utc()
        }
    }
}

/// The instant a day starts in the organisation's zone.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    from_local(d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// A zone's offsets from UTC in minutes, with the instant each takes effect, from 1900 to
/// 2100 (the first entry starts at the beginning of time). The database reads local days
/// from these (`tz_offsets`), so SQLite and PostgreSQL bucket by the same rule.
pub fn offsets(tz: Tz) -> Vec<(DateTime<Utc>, i32)> {
    let minutes = |t: &DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc() / 60;
    let start = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
    let beginning = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
    let mut out = vec![(beginning, minutes(&start))];
    let mut t = start;
    // offsets change at most a few times a year, on the quarter hour: step by day, then
    // find the quarter hour of each change
    while t < end {
        let next = t + chrono::Duration::days(1);
        let now = out.last().map(|o| o.1).unwrap_or(0);
        if minutes(&next) != now {
            let mut q = t;
            while q < next {
                q += chrono::Duration::minutes(15);
                let m = minutes(&q);
                if m != out.last().map(|o| o.1).unwrap_or(0) {
                    out.push((q, m));
                }
            }
        }
        t = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn days_follow_the_zone() {
        let ny: Tz = parse_zone("America/New_York").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 3, 0, 0).unwrap(); // 22:00 on Feb 28 in New York
        assert_eq!(local(&t).date_naive(), NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        in_zone(ny, async {
            assert_eq!(local(&t).date_naive(), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
            assert_eq!(
                day_start(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()),
                Utc.with_ymd_and_hms(2026, 7, 1, 4, 0, 0).unwrap()
            );
            // 02:30 on Mar 8 does not exist in New York: the clock jumps from 02:00 to 03:00
            let gap = NaiveDate::from_ymd_opt(2026, 3, 8)
                .unwrap()
                .and_hms_opt(2, 30, 0)
                .unwrap();
            assert_eq!(from_local(gap), Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap());
        })
        .await;
        assert_eq!(zone(), Tz::UTC);
        assert!(parse_zone("Mars/Olympus").is_none());
    }

    #[test]
    fn offsets_list_every_change() {
        let ny = offsets(parse_zone("America/New_York").unwrap());
        let y2026: Vec<_> = ny
            .iter()
            .filter(|(t, _)| t.format("%Y").to_string() == "2026")
            .collect();
        assert_eq!(y2026.len(), 2);
        assert_eq!(y2026[0].0, Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap());
        assert_eq!(y2026[0].1, -240);
        assert_eq!(y2026[1].1, -300);
        let utc = offsets(Tz::UTC);
        assert_eq!(utc.len(), 1);
        assert_eq!(utc[0].1, 0);
        let kolkata = offsets(parse_zone("Asia/Kolkata").unwrap());
        assert_eq!(kolkata.last().unwrap().1, 330);
    }
}
