//! The time functions, each as a table of calls and their expected rendering (or a
//! fragment of the expected error). Expected values were recorded with Terraform 1.11's
//! `terraform console`.

use infra_stdlib::testing::check;

#[test]
fn formatdate() {
    let at = |format: &str, time: &str| format!("formatdate(\"{format}\", \"{time}\")");
    let cases = [
        (at("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"), Ok("\"02 Jan 2018 23:12 UTC\"")),
        (at("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"), Ok("\"Tuesday, 02-Jan-18 23:12:01 UTC\"")),
        (at("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"), Ok("\"Tue, 02 Jan 2018 23:12:01 -0800\"")),
        (at("MMM DD, YYYY", "2018-01-02T23:12:01Z"), Ok("\"Jan 02, 2018\"")),
        (at("HH:mm:ss", "2018-01-02T23:12:01Z"), Ok("\"11:12:01\"")),
        (at("H h hh HH AA aa", "2018-01-02T03:04:05Z"), Ok("\"3 3 03 03 AM am\"")),
        (at("H h hh HH AA aa", "2018-01-02T13:04:05Z"), Ok("\"1 13 13 01 PM pm\"")),
        (at("H h AA", "2018-01-02T00:04:05Z"), Ok("\"12 0 AM\"")),
        (at("H h AA", "2018-01-02T12:04:05Z"), Ok("\"12 12 PM\"")),
        (at("YY YYYY D DD M MM MMM MMMM", "2018-01-02T23:12:01Z"), Ok("\"18 2018 2 02 1 01 Jan January\"")),
        (at("EEE EEEE", "2018-01-07T23:12:01Z"), Ok("\"Sun Sunday\"")),
        (at("m mm s ss", "2018-01-02T23:02:01Z"), Ok("\"2 02 1 01\"")),
        (at("ZZZZ ZZZZZ Z ZZZ", "2018-01-02T23:02:01Z"), Ok("\"+0000 +00:00 Z UTC\"")),
        (at("ZZZZ ZZZZZ ZZZ", "2018-01-02T23:02:01-00:00"), Ok("\"+0000 +00:00 UTC\"")),
        (at("ZZZ Z", "2018-01-02T23:02:01+00:00"), Ok("\"UTC Z\"")),
        (at("Z", "2018-01-02T23:02:01+05:30"), Ok("\"+05:30\"")),
        (at("ZZZZ", "2018-01-02T23:02:01+23:59"), Ok("\"+2359\"")),
        (at("ZZZ", "2018-01-02T23:02:01+01:00"), Ok("\"+0100\"")),
        (at("aa", "2018-01-02T23:02:01+01:00"), Ok("\"pm\"")),
        (at("'it''s' DD", "2018-01-02T23:02:01Z"), Ok("\"it's 02\"")),
        (at("''", "2018-01-02T23:02:01Z"), Ok("\"'\"")),
        (at("", "2018-01-02T23:02:01Z"), Ok("\"\"")),
        (at("ğ YYYY", "2018-01-02T23:02:01Z"), Ok("\"ğ 2018\"")),
        (at("MMMM", "2018-09-02T23:02:01Z"), Ok("\"September\"")),
        (at("ss", "2018-01-02T23:02:01.999Z"), Ok("\"01\"")),
        (at("D", "2018-01-02T23:02:01.1234567891Z"), Ok("\"2\"")),
        (at("YYYY", "0001-01-02T23:02:01Z"), Ok("\"0001\"")),
        (at("YYYY YY", "0099-01-02T23:02:01Z"), Ok("\"0099 99\"")),
        (at("YYYY", "9999-01-02T23:02:01Z"), Ok("\"9999\"")),
        (at("h:mm a", "2018-01-02T23:12:01Z"), Err("invalid date format verb \"a\": must be \"aa\"")),
        (at("A", "2018-01-02T23:02:01Z"), Err("invalid date format verb \"A\": must be \"AA\"")),
        (at("ZZ", "2018-01-02T23:02:01Z"), Err("invalid date format verb \"ZZ\": timezone must be Z, ZZZZ, or ZZZZZ")),
        (at("ZZZZZZ", "2018-01-02T23:02:01Z"), Err("invalid date format verb \"ZZZZZZ\"")),
        (at("'quoted' text", "2018-01-02T23:02:01Z"), Err("invalid date format verb \"t\"")),
        (at("'unterminated", "2018-01-02T23:02:01Z"), Err("unterminated literal '")),
        (
            at("YYY", "2018-01-02T23:02:01Z"),
            Err("invalid date format verb \"YYY\": year must either be \"YY\" or \"YYYY\""),
        ),
        (at("DDD", "2018-01-02T23:02:01Z"), Err("day of month must either be \"D\" or \"DD\"")),
        (at("MMMMM", "2018-01-02T23:02:01Z"), Err("month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"")),
        (at("x y-z/:,", "2018-01-02T23:02:01Z"), Err("invalid date format verb \"x\"")),
        (at("hhh", "2018-01-02T23:02:01Z"), Err("24-hour must either be \"h\" or \"hh\"")),
        (at("HHH", "2018-01-02T23:02:01Z"), Err("12-hour must either be \"H\" or \"HH\"")),
        (at("EE", "2018-01-02T23:02:01Z"), Err("day of week must either be \"EEE\" or \"EEEE\"")),
        (at("mmm", "2018-01-02T23:02:01Z"), Err("minute must either be \"m\" or \"mm\"")),
        (at("sss", "2018-01-02T23:02:01Z"), Err("second must either be \"s\" or \"ss\"")),
        ("formatdate(1, \"2018-01-02T23:02:01Z\")".to_string(), Ok("\"1\"")),
        ("formatdate(\"DD\", [])".to_string(), Err("argument 2 must be a string, found a list")),
    ];
    check(&cases.iter().map(|(src, want)| (src.as_str(), *want)).collect::<Vec<_>>());
}

/// Timestamps are read as strictly as Terraform reads them; the messages name the
/// field at fault as Terraform's do.
#[test]
fn timestamps_are_strict_rfc3339() {
    let at = |time: &str| format!("formatdate(\"D\", \"{time}\")");
    let cases = [
        (at("2018-01-02"), "not a valid RFC 3339 timestamp: missing required time introducer 'T'"),
        (at("2018-01-02T23:02:01"), "end of string before UTC offset"),
        (at("2018-13-02T23:02:01Z"), "cannot use \"-02T23:02:01Z\" as month"),
        (at("2018-00-02T23:02:01Z"), "cannot use \"-02T23:02:01Z\" as month"),
        (at("2018-1-02T23:02:01Z"), "cannot use \"1-02T23:02:01Z\" as month"),
        (at("nope"), "cannot use \"nope\" as year"),
        (at("18-01-02T23:02:01Z"), "cannot use \"18-01-02T23:02:01Z\" as year"),
        (at("+2018-01-02T23:02:01Z"), "cannot use \"+2018-01-02T23:02:01Z\" as year"),
        (at("2018/01/02T23:02:01Z"), "found \"/01/02T23:02:01Z\" where \"-\" is expected"),
        (at("2018-01-02t23:02:01z"), "missing required time introducer 'T'"),
        (at("2018-01-02 23:02:01Z"), "missing required time introducer 'T'"),
        (at("2018-01-02T24:02:01Z"), "hour must be between 0 and 23 inclusive"),
        (at("2018-01-02T2:02:01Z"), "hour must have exactly two digits"),
        (at("2018-01-02T23:2:01Z"), "minute must have exactly two digits"),
        (at("2018-01-02T23:60:01Z"), "minute must have exactly two digits"),
        (at("2016-12-31T23:59:60Z"), "second 60 is out of range"),
        (at("2018-01-02T23:02:01.Z"), "cannot use \".Z\" as UTC offset"),
        (at("2018-01-02T23:02:01+0100"), "cannot use \"+0100\" as UTC offset"),
        (at("2018-01-02T23:02:01+01"), "cannot use \"+01\" as UTC offset"),
        (at("2018-01-02T23:02:01+24:00"), "cannot use \"+24:00\" as UTC offset"),
        (at("2018-01-02T23:02:01+01:60"), "cannot use \"+01:60\" as UTC offset"),
        (at("2018-01-02T23:02:01Zjunk"), "cannot use \"junk\" as timestamp segment"),
        (at("2018-02-30T23:02:01Z"), "day out of range"),
        (at("2018-01-00T23:02:01Z"), "day out of range"),
    ];
    check(&cases.iter().map(|(src, want)| (src.as_str(), Err(*want))).collect::<Vec<_>>());
}

#[test]
fn timeadd() {
    let add = |time: &str, duration: &str| format!("timeadd(\"{time}\", \"{duration}\")");
    let t = "2017-11-22T00:00:00Z";
    let cases = [
        (add(t, "10m"), Ok("\"2017-11-22T00:10:00Z\"")),
        (add(t, "1h30m"), Ok("\"2017-11-22T01:30:00Z\"")),
        (add(t, "-1.5h"), Ok("\"2017-11-21T22:30:00Z\"")),
        (add("2017-11-22T00:00:00+01:00", "1h"), Ok("\"2017-11-22T01:00:00+01:00\"")),
        (add("2017-11-22T00:00:00.5Z", "1s"), Ok("\"2017-11-22T00:00:01Z\"")),
        (add(t, "1.5s"), Ok("\"2017-11-22T00:00:01Z\"")),
        (add(t, "300ms"), Ok("\"2017-11-22T00:00:00Z\"")),
        (add(t, "1us"), Ok("\"2017-11-22T00:00:00Z\"")),
        (add(t, "1µs"), Ok("\"2017-11-22T00:00:00Z\"")),
        (add(t, "1ns"), Ok("\"2017-11-22T00:00:00Z\"")),
        (add(t, "0"), Ok("\"2017-11-22T00:00:00Z\"")),
        (add(t, "+5m"), Ok("\"2017-11-22T00:05:00Z\"")),
        (add(t, ".5h"), Ok("\"2017-11-22T00:30:00Z\"")),
        (add(t, "5.h"), Ok("\"2017-11-22T05:00:00Z\"")),
        (add(t, "2562047h"), Ok("\"2310-03-03T23:00:00Z\"")),
        (add(t, "1d"), Err("unknown unit \"d\" in duration \"1d\"")),
        (add(t, ""), Err("invalid duration \"\"")),
        (add(t, "10"), Err("missing unit in duration \"10\"")),
        (add(t, "1h-5m"), Err("unknown unit \"h-\" in duration \"1h-5m\"")),
        (add(t, "9999999h"), Err("invalid duration \"9999999h\"")),
        (add(t, "-17000000h"), Err("invalid duration \"-17000000h\"")),
        (add(t, "1H"), Err("unknown unit \"H\" in duration \"1H\"")),
        (add(t, "1 h"), Err("unknown unit \" h\" in duration \"1 h\"")),
        (add(t, "."), Err("invalid duration \".\"")),
        (add("nope", "1h"), Err("not a valid RFC 3339 timestamp: cannot use \"nope\" as year")),
        (add("9999-12-31T23:00:00Z", "2h"), Err("the result is outside the years 0 to 9999")),
        (add("0000-01-01T01:00:00Z", "-2h"), Err("the result is outside the years 0 to 9999")),
    ];
    check(&cases.iter().map(|(src, want)| (src.as_str(), *want)).collect::<Vec<_>>());
}

#[test]
fn timecmp() {
    check(&[
        ("timecmp(\"2017-11-22T00:00:00Z\", \"2017-11-22T00:00:00Z\")", Ok("0")),
        ("timecmp(\"2017-11-22T00:00:00Z\", \"2017-11-22T01:00:00Z\")", Ok("-1")),
        ("timecmp(\"2017-11-22T01:00:00Z\", \"2017-11-22T00:00:00Z\")", Ok("1")),
        ("timecmp(\"2017-11-22T01:00:00+01:00\", \"2017-11-22T00:00:00Z\")", Ok("0")),
        ("timecmp(\"2017-11-22T00:00:00.1Z\", \"2017-11-22T00:00:00Z\")", Ok("1")),
        ("timecmp(\"x\", \"2017-11-22T00:00:00Z\")", Err("cannot use \"x\" as year")),
        ("timecmp(\"2017-11-22T00:00:00Z\", \"y\")", Err("cannot use \"y\" as year")),
    ]);
}

/// Outside a plan (here, as in `infra console`) the plan's time is not known yet.
#[test]
fn plantimestamp_is_unknown_outside_a_plan() {
    check(&[("plantimestamp()", Ok("(known after apply)")), ("plantimestamp(1)", Err("called with 1 arguments"))]);
}
