//! `minikafka [server.properties] [--override key=value ...] [--add-scram SPEC ...]
//! [--feature transaction.version=2] [--feature group.version=1]`

use std::process::ExitCode;
use std::time::Instant;

use minikafka::broker::Broker;
use minikafka::config::Config;
use minikafka::security::scram::AddScram;
use minikafka::server::Server;

fn main() -> ExitCode {
    let started = Instant::now();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            use std::io::Write;
            writeln!(
                buf,
                "[{} {:5} {}] {}",
                utc_now(),
                record.level(),
                record.target(),
                record.args()
            )
        })
        .init();
    let usage = "usage: minikafka [server.properties] [--override key=value ...] \
                 [--add-scram 'SCRAM-SHA-256=[name=NAME,password=PASSWORD]' ...] \
                 [--feature transaction.version=2] [--feature group.version=1]";
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let scram_users = match take_add_scram(&mut args) {
        Ok(u) => u,
        Err(e) => {
            log::error!("{e}");
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let features = match take_features(&mut args) {
        Ok(f) => f,
        Err(e) => {
            log::error!("{e}");
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{e}");
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let result = Broker::open(config)
        .and_then(|mut b| b.add_scram_users(&scram_users).map(|()| b))
        .and_then(|mut b| b.finalize_features(&features).map(|()| b))
        .and_then(Server::bind)
        .and_then(|mut server| server.run(started));
    if let Err(e) = result {
        log::error!("{e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Removes every `--add-scram SPEC` from `args`, parsed.
fn take_add_scram(args: &mut Vec<String>) -> Result<Vec<AddScram>, String> {
    let mut users = Vec::new();
    let mut rest = Vec::new();
    let mut it = std::mem::take(args).into_iter();
    while let Some(a) = it.next() {
        if a == "--add-scram" {
            let spec = it.next().ok_or("--add-scram needs a SPEC")?;
            users.push(AddScram::parse(&spec)?);
        } else {
            rest.push(a);
        }
    }
    *args = rest;
    Ok(users)
}

/// Removes every `--feature name=level` from `args`, parsed.
fn take_features(args: &mut Vec<String>) -> Result<Vec<(String, i16)>, String> {
    let mut features = Vec::new();
    let mut rest = Vec::new();
    let mut it = std::mem::take(args).into_iter();
    while let Some(a) = it.next() {
        if a == "--feature" {
            let spec = it.next().ok_or("--feature needs name=level")?;
            features.push(minikafka::broker::parse_feature(&spec)?);
        } else {
            rest.push(a);
        }
    }
    *args = rest;
    Ok(features)
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`, without a date-time dependency.
fn utc_now() -> String {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}
