//! The NYSE's recurring holiday and early-close rules (NYSE Rule 7.2 and its published
//! schedules), as pure date arithmetic on New York calendar dates.
//!
//! Holidays: New Year's Day, Martin Luther King Jr. Day (3rd Monday of January, from 1998),
//! Washington's Birthday (3rd Monday of February), Good Friday, Memorial Day (last Monday of
//! May), Juneteenth (from 2022), Independence Day, Labor Day (1st Monday of September),
//! Thanksgiving (4th Thursday of November), Christmas. A holiday on a Saturday is observed
//! on the Friday before, on a Sunday on the Monday after — except New Year's Day on a
//! Saturday, which is not observed at all (the Friday is the last day of the accounting
//! year, so the NYSE stays open).
//!
//! Early closes (13:00 New York), from 1995: the Friday after Thanksgiving; Christmas Eve
//! when it is a Monday–Thursday; July 3 when it is a Monday, Tuesday or Thursday, and a
//! Wednesday from 2013. Before 2013, when July 4 was a Thursday, the early close was on
//! Friday July 5 instead (e.g. 2002-07-05) and July 3 was a full day. A July 3 or
//! December 24 that falls on a Friday is the observed holiday itself, so no early close.
//!
//! Years before 1993 had other rules (14:00 closes, no MLK day, Washington's Birthday on
//! February 22 before 1971, ...) that are not modelled: see `VERIFIED_YEARS`.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The name of the rule-based NYSE holiday observed on `date`, if any.
/// Weekends are not holidays here; the caller checks them.
pub fn holiday(date: NaiveDate) -> Option<&'static str> {
    holidays_of_year(date.year())
        .into_iter()
        .flatten()
        .find(|(day, _)| *day == date)
        .map(|(_, name)| name)
}

/// The observed holidays of one year, each with its name. Every observance falls in the
/// same year (New Year's Day on a Saturday is not moved back into December).
fn holidays_of_year(year: i32) -> [Option<(NaiveDate, &'static str)>; 10] {
    let new_year = ymd(year, 1, 1).and_then(|day| match day.weekday() {
        Weekday::Sat => None,
        Weekday::Sun => day.succ_opt(),
        _ => Some(day),
    });
    let juneteenth = if year >= 2022 {
        ymd(year, 6, 19).and_then(observed)
    } else {
        None
    };
    let mlk = if year >= 1998 {
        nth_weekday(year, 1, Weekday::Mon, 3)
    } else {
        None
    };
    [
        new_year.map(|d| (d, "New Year's Day")),
        mlk.map(|d| (d, "Martin Luther King Jr. Day")),
        nth_weekday(year, 2, Weekday::Mon, 3).map(|d| (d, "Washington's Birthday")),
        easter_sunday(year)
            .and_then(|d| d.checked_sub_signed(Duration::days(2)))
            .map(|d| (d, "Good Friday")),
        last_weekday(year, 5, Weekday::Mon).map(|d| (d, "Memorial Day")),
        juneteenth.map(|d| (d, "Juneteenth National Independence Day")),
        ymd(year, 7, 4)
            .and_then(observed)
            .map(|d| (d, "Independence Day")),
        nth_weekday(year, 9, Weekday::Mon, 1).map(|d| (d, "Labor Day")),
        thanksgiving(year).map(|d| (d, "Thanksgiving Day")),
        ymd(year, 12, 25)
            .and_then(observed)
            .map(|d| (d, "Christmas Day")),
    ]
}

/// Whether the rules make `date` a 13:00 early close (assuming it is a trading day).
pub fn is_rule_early_close(date: NaiveDate) -> bool {
    let year = date.year();
    if year < 1993 {
        return false;
    }
    let weekday = date.weekday();
    let day_after_thanksgiving = thanksgiving(year).and_then(|d| d.succ_opt()) == Some(date);
    let christmas_eve = date.month() == 12
        && date.day() == 24
        && matches!(
            weekday,
            Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu
        );
    let july_3 = date.month() == 7
        && date.day() == 3
        && match weekday {
            Weekday::Mon | Weekday::Tue | Weekday::Thu => year >= 1995,
            Weekday::Wed => year >= 2013,
            _ => false,
        };
    let july_5_before_2013 = date.month() == 7
        && date.day() == 5
        && weekday == Weekday::Fri
        && (1995..2013).contains(&year);
    day_after_thanksgiving || christmas_eve || july_3 || july_5_before_2013
}

/// Saturday → the Friday before, Sunday → the Monday after.
fn observed(day: NaiveDate) -> Option<NaiveDate> {
    match day.weekday() {
        Weekday::Sat => day.pred_opt(),
        Weekday::Sun => day.succ_opt(),
        _ => Some(day),
    }
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    nth_weekday(year, month, weekday, 5).or_else(|| nth_weekday(year, month, weekday, 4))
}

fn thanksgiving(year: i32) -> Option<NaiveDate> {
    nth_weekday(year, 11, Weekday::Thu, 4)
}

/// Western (Gregorian) Easter Sunday by the anonymous Gregorian computus
/// (Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    ymd(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn easter_matches_published_dates() {
        for (year, easter) in [
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2035, "2035-03-25"),
            (2038, "2038-04-25"),
        ] {
            assert_eq!(easter_sunday(year), Some(d(easter)), "{year}");
        }
    }

    #[test]
    fn every_holiday_of_2026_by_name() {
        let names: Vec<(NaiveDate, &str)> = holidays_of_year(2026).into_iter().flatten().collect();
        assert_eq!(
            names,
            vec![
                (d("2026-01-01"), "New Year's Day"),
                (d("2026-01-19"), "Martin Luther King Jr. Day"),
                (d("2026-02-16"), "Washington's Birthday"),
                (d("2026-04-03"), "Good Friday"),
                (d("2026-05-25"), "Memorial Day"),
                (d("2026-06-19"), "Juneteenth National Independence Day"),
                (d("2026-07-03"), "Independence Day"),
                (d("2026-09-07"), "Labor Day"),
                (d("2026-11-26"), "Thanksgiving Day"),
                (d("2026-12-25"), "Christmas Day"),
            ]
        );
    }

    #[test]
    fn a_saturday_new_year_is_not_observed_but_a_sunday_one_moves_to_monday() {
        assert_eq!(holiday(d("2021-12-31")), None);
        assert_eq!(holiday(d("2022-01-03")), None);
        assert_eq!(holiday(d("2023-01-02")), Some("New Year's Day"));
        assert_eq!(holidays_of_year(2022)[0], None);
    }

    #[test]
    fn mlk_day_starts_in_1998_and_juneteenth_in_2022() {
        assert_eq!(holiday(d("1997-01-20")), None);
        assert_eq!(holiday(d("1998-01-19")), Some("Martin Luther King Jr. Day"));
        assert_eq!(holiday(d("2021-06-18")), None);
        assert_eq!(
            holiday(d("2022-06-20")),
            Some("Juneteenth National Independence Day")
        );
    }

    #[test]
    fn early_close_rules_by_weekday() {
        // July 3 on Monday, Tuesday, Thursday; Wednesday only from 2013.
        assert!(is_rule_early_close(d("2023-07-03")));
        assert!(is_rule_early_close(d("2018-07-03")));
        assert!(is_rule_early_close(d("2025-07-03")));
        assert!(is_rule_early_close(d("2013-07-03")));
        assert!(!is_rule_early_close(d("2002-07-03")));
        assert!(is_rule_early_close(d("2002-07-05")));
        assert!(!is_rule_early_close(d("2019-07-05")));
        // A Friday July 3 or December 24 is the observed holiday, never an early close.
        assert!(!is_rule_early_close(d("2026-07-03")));
        assert!(!is_rule_early_close(d("2027-12-24")));
        assert!(is_rule_early_close(d("2026-12-24")));
        assert!(is_rule_early_close(d("2026-11-27")));
        assert!(!is_rule_early_close(d("2026-11-26")));
    }
}
