//! The summary of a run beside Apache Kafka: each scenario's minikafka and `kafka:` rows side
//! by side with their ratios and the machine's own limit, then start-up and resident memory.

use crate::report::Row;

fn find<'r>(rows: &'r [Row], name: &str) -> Option<&'r Row> {
    rows.iter().find(|r| r.scenario == name && r.error.is_none())
}

fn extra(r: Option<&Row>, key: &str) -> Option<f64> {
    r?.extra.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn cell(v: Option<f64>, width: usize, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:>width$.decimals$}"),
        _ => format!("{:>width$}", "-"),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?).filter(|r| r.is_finite())
}

/// What the scenario's load gets from this machine with no broker (from minikafka's row, or
/// the run's loopback baseline).
fn limit(rows: &[Row], scenario: &str, mk: Option<&Row>) -> String {
    let rtt = find(rows, "loopback_rtt").and_then(|r| r.lat);
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
    match scenario {
        "produce_1" => format!(
            "echo p50 {} us, p99 {} us",
            f(extra(mk, "echo_p50_us")),
            f(extra(mk, "echo_p99_us"))
        ),
        "produce_16k_pipe8" => format!(
            "echo {} MB/s, page-cache append {} MB/s",
            f(extra(mk, "echo_mb_s")),
            f(extra(mk, "disk_mb_s"))
        ),
        "produce_64conn" => format!("one-thread echo {} req/s", f(extra(mk, "echo_req_s"))),
        "api_versions" | "fetch_1" => {
            let (p50, p99) = (f(rtt.map(|l| l.p50)), f(rtt.map(|l| l.p99)));
            format!("loopback_rtt (run's start) p50 {p50} us, p99 {p99} us")
        }
        _ => "-".to_string(),
    }
}

pub fn print(rows: &[Row]) {
    println!(
        "minikafka (mk) vs Apache Kafka {} (each kafka: row measured right after minikafka's):",
        crate::kafka::KAFKA_VERSION
    );
    println!(
        "{:<18} {:>8} {:>9} {:>6} {:>8} {:>9} {:>6} {:>9} {:>9} {:>6} {:<5} {:>7} {:>7}  machine",
        "scenario",
        "p50 mk",
        "p50 kafka",
        "k/mk",
        "p99 mk",
        "p99 kafka",
        "k/mk",
        "thr mk",
        "thr kafka",
        "mk/k",
        "unit",
        "cpu mk",
        "cpu k"
    );
    for scenario in [
        "api_versions",
        "produce_1",
        "produce_16k_pipe8",
        "produce_64conn",
        "fetch_1mib",
        "fetch_1",
        "idempotent_1",
        "txn_commit_1",
        "idempotent_100",
        "txn_100",
    ] {
        let (mk, k) = (find(rows, scenario), find(rows, &format!("kafka:{scenario}")));
        if mk.is_none() && k.is_none() {
            continue;
        }
        let lat = |r: Option<&Row>, p99: bool| r?.lat.map(|l| if p99 { l.p99 } else { l.p50 });
        let by_mb = scenario == "produce_16k_pipe8" || scenario == "fetch_1mib";
        let by_rec = scenario.ends_with("_100");
        let thr = |r: Option<&Row>| match (by_mb, by_rec) {
            (true, _) => r?.mb_s,
            (_, true) => r?.rec_s,
            _ => r?.req_s,
        };
        println!(
            "{:<18} {} {} {} {} {} {} {} {} {} {:<5} {} {}  {}",
            scenario,
            cell(lat(mk, false), 8, 1),
            cell(lat(k, false), 9, 1),
            cell(ratio(lat(k, false), lat(mk, false)), 6, 2),
            cell(lat(mk, true), 8, 1),
            cell(lat(k, true), 9, 1),
            cell(ratio(lat(k, true), lat(mk, true)), 6, 2),
            cell(thr(mk), 9, 0),
            cell(thr(k), 9, 0),
            cell(ratio(thr(mk), thr(k)), 6, 2),
            if by_mb {
                "MB/s"
            } else if by_rec {
                "rec/s"
            } else {
                "req/s"
            },
            cell(extra(mk, "cpu_us_per_req"), 7, 1),
            cell(extra(k, "cpu_us_per_req"), 7, 1),
            limit(rows, scenario, mk)
        );
    }
    println!("(latencies in us; cpu = CPU time per request in us, all the broker's threads)");

    let empty = find(rows, "startup_empty");
    let kstart = find(rows, "kafka:startup");
    let (memory, kmemory) = (find(rows, "memory"), find(rows, "kafka:memory"));
    let (load, kload) = (find(rows, "produce_64conn"), find(rows, "kafka:produce_64conn"));
    let ms = |r: Option<&Row>| r?.lat.map(|l| l.p50 / 1e3);
    let mib = |v: Option<f64>| v.map(|k| k / 1024.0);
    let lines: [(&str, Option<f64>, Option<f64>); 7] = [
        (
            "start-up to listening/first connection, ms",
            extra(empty, "listen_p50_ms"),
            extra(kstart, "connect_ms"),
        ),
        (
            "start-up to first ApiVersions answer, ms",
            ms(empty),
            extra(kstart, "first_api_versions_ms"),
        ),
        (
            "RSS idle after start-up, MiB",
            mib(extra(memory, "rss_idle_kib")),
            mib(extra(kstart, "rss_started_kib")),
        ),
        (
            "RSS idle before the 64-connection load, MiB",
            mib(extra(load, "rss_idle_kib")),
            mib(extra(kload, "rss_idle_kib")),
        ),
        (
            "RSS peak under the 64-connection load, MiB",
            mib(extra(load, "rss_load_kib")),
            mib(extra(kload, "rss_load_kib")),
        ),
        (
            "RSS idle, memory rows (Kafka: at the end), MiB",
            mib(extra(memory, "rss_idle_kib")),
            mib(extra(kmemory, "rss_idle_kib")),
        ),
        (
            "RSS with 1000 connections, MiB",
            mib(extra(memory, "rss_1000conn_kib")),
            mib(extra(kmemory, "rss_1000conn_kib")),
        ),
    ];
    println!();
    println!("{:<48} {:>10} {:>10} {:>8}", "", "minikafka", "Kafka", "k/mk");
    for (what, a, b) in lines {
        println!("{what:<48} {} {} {}", cell(a, 10, 1), cell(b, 10, 1), cell(ratio(b, a), 8, 1));
    }
}
